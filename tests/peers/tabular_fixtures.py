"""Fixtures for the real api_tabular peers (Tabular + Metrics apps over PostgreSQL).

    pg_gateway     session: PostgreSQL 15 (seeded) + the PostgREST-compatible gateway
    tabular_peer   session: api_tabular's Tabular app on top       → TabularPeer
    metrics_peer   session: api_tabular's Metrics app on top       → MetricsPeer

Both apps are udata-hydra-csvapi 0.3.1 from PyPI, installed by `make peers` into .peers/tabular/.
See tests/peers/tabular/README.md for what is seeded and what 0.3.1 really answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.peers.tabular import seed
from tests.peers.tabular.launcher import PeerStartError, TabularStack

API_TABULAR_VERSION = "0.3.1"
PAGE_SIZE_MAX = 50  # api_tabular's PAGE_SIZE_MAX: a larger page_size is a 400
PAGE_SIZE_DEFAULT = 20


@dataclass(frozen=True)
class TabularPeer:
    """The Tabular app. `resources`: name → resource id ("typed", "paged", "big", "aggregatable",
    "indexed", "deleted" (410), "missing" (404)); `rows`: name → row count; `csv_export_cap`: the most
    rows /data/csv/ and /data/json/ export before answering 403; `aggregation_allowed`: the ids in
    ALLOW_AGGREGATION; `indexes`: name → indexed columns (resources_exceptions); `columns`: name →
    {column: csv_detective python_type} (every table also has the integer `__id`)."""

    base_url: str
    resources: dict[str, str]
    rows: dict[str, int]
    csv_export_cap: int
    aggregation_allowed: list[str]
    indexes: dict[str, list[str]]
    columns: dict[str, dict[str, str]]
    deleted_dataset_id: str = seed.DELETED_DATASET_ID
    version: str = API_TABULAR_VERSION
    page_size_max: int = PAGE_SIZE_MAX
    page_size_default: int = PAGE_SIZE_DEFAULT
    startup_seconds: float = 0.0


@dataclass(frozen=True)
class MetricsPeer:
    """The Metrics app. `models`: the tables served (site, datasets, organizations, reuses, resources,
    dataservices), each with `__id`, `metric_month` ("YYYY-MM", 2023-01 … 2024-12) and monthly
    counters; `rows`: model → row count; `columns`: model → column names; `months`: seeded months."""

    base_url: str
    models: list[str]
    rows: dict[str, int]
    columns: dict[str, list[str]]
    csv_export_cap: int
    months: list[str] = field(default_factory=lambda: list(seed.METRIC_MONTHS))
    version: str = API_TABULAR_VERSION
    page_size_max: int = PAGE_SIZE_MAX
    page_size_default: int = PAGE_SIZE_DEFAULT
    startup_seconds: float = 0.0


@pytest.fixture(scope="session")
def pg_gateway() -> Iterator[TabularStack]:
    """PostgreSQL 15 + the gateway; the apps started on it are stopped with it."""
    stack = TabularStack()
    try:
        try:
            stack.start_database()
        except PeerStartError as e:
            pytest.fail(f"tabular peer: {e}", pytrace=False)
        yield stack
    finally:
        stack.stop()


def _start(stack: TabularStack, app: str) -> str:
    try:
        return stack.start_app(app)
    except PeerStartError as e:
        pytest.fail(f"tabular peer: {e}", pytrace=False)


@pytest.fixture(scope="session")
def tabular_peer(pg_gateway: TabularStack) -> TabularPeer:
    base_url = _start(pg_gateway, "tabular")
    return TabularPeer(
        base_url=base_url,
        resources=dict(seed.RESOURCES),
        rows={name: n for name, n in seed.ROWS.items() if not name.startswith("metrics.")},
        csv_export_cap=pg_gateway.csv_export_cap,
        aggregation_allowed=list(seed.AGGREGATION_ALLOWED),
        indexes={name: list(indexes) for name, indexes in seed.INDEXES.items()},
        columns={table.name: dict(table.columns) for table in seed.TABLES},
        startup_seconds=pg_gateway.timings["postgres"]
        + pg_gateway.timings["gateway"]
        + pg_gateway.timings["tabular"],
    )


@pytest.fixture(scope="session")
def metrics_peer(pg_gateway: TabularStack) -> MetricsPeer:
    base_url = _start(pg_gateway, "metrics")
    return MetricsPeer(
        base_url=base_url,
        models=list(seed.METRIC_TABLES),
        rows={
            name.removeprefix("metrics."): n for name, n in seed.ROWS.items() if name.startswith("metrics.")
        },
        columns={name: ["__id", *columns] for name, (columns, _) in seed.METRIC_TABLES.items()},
        csv_export_cap=pg_gateway.csv_export_cap,
        startup_seconds=pg_gateway.timings["metrics"],
    )
