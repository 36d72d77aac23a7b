"""Fixtures for the real api_tabular peers (Tabular + Metrics apps over PostgreSQL).

    pg_gateway          session: PostgreSQL 15 (seeded) + the PostgREST-compatible gateway
    tabular_peer        session: api_tabular's Tabular app on top      → TabularPeer
    metrics_peer        session: api_tabular's Metrics app on top      → MetricsPeer
    legacy_tabular_peer session: a second stack running api_tabular 0.3.1 → (TabularPeer, MetricsPeer)

The apps are udata-hydra-csvapi 0.4.1 (the 0.4 line production runs; `make peers` installs it into
.peers/tabular/ from ../shared/peers), configured as production: Tabular pages up to 200 rows,
Metrics up to 50. The legacy stack runs 0.3.1 from PyPI (.peers/tabular_0_3_1/) with the package's
defaults (50 for both), so older deployments stay covered. See tests/peers/tabular/README.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.peers.tabular import seed
from tests.peers.tabular.launcher import PRODUCTION_PAGE_SIZE_MAX, PeerStartError, TabularStack, peer_version

PAGE_SIZE_DEFAULT = 20
PACKAGE_PAGE_SIZE_MAX = 50  # api_tabular's own default PAGE_SIZE_MAX


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
    version: str = ""
    page_size_max: int = PRODUCTION_PAGE_SIZE_MAX["tabular"]  # a larger page_size is a 400
    page_size_default: int = PAGE_SIZE_DEFAULT
    startup_seconds: float = 0.0
    stack: TabularStack | None = None


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
    version: str = ""
    page_size_max: int = PRODUCTION_PAGE_SIZE_MAX["metrics"]
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


def _tabular(stack: TabularStack) -> TabularPeer:
    base_url = _start(stack, "tabular")
    return TabularPeer(
        base_url=base_url,
        resources=dict(seed.RESOURCES),
        rows={name: n for name, n in seed.ROWS.items() if not name.startswith("metrics.")},
        csv_export_cap=stack.csv_export_cap,
        aggregation_allowed=list(seed.AGGREGATION_ALLOWED),
        indexes={name: list(indexes) for name, indexes in seed.INDEXES.items()},
        columns={table.name: dict(table.columns) for table in seed.TABLES},
        version=stack.version,
        page_size_max=stack.page_size_max.get("tabular", PACKAGE_PAGE_SIZE_MAX),
        startup_seconds=stack.timings["postgres"] + stack.timings["gateway"] + stack.timings["tabular"],
        stack=stack,
    )


def _metrics(stack: TabularStack) -> MetricsPeer:
    base_url = _start(stack, "metrics")
    return MetricsPeer(
        base_url=base_url,
        models=list(seed.METRIC_TABLES),
        rows={
            name.removeprefix("metrics."): n for name, n in seed.ROWS.items() if name.startswith("metrics.")
        },
        columns={name: ["__id", *columns] for name, (columns, _) in seed.METRIC_TABLES.items()},
        csv_export_cap=stack.csv_export_cap,
        version=stack.version,
        page_size_max=stack.page_size_max.get("metrics", PACKAGE_PAGE_SIZE_MAX),
        startup_seconds=stack.timings["metrics"],
    )


@pytest.fixture(scope="session")
def tabular_peer(pg_gateway: TabularStack) -> TabularPeer:
    return _tabular(pg_gateway)


@pytest.fixture(scope="session")
def metrics_peer(pg_gateway: TabularStack) -> MetricsPeer:
    return _metrics(pg_gateway)


@pytest.fixture(scope="session")
def legacy_tabular_peer() -> Iterator[tuple[TabularPeer, MetricsPeer]]:
    """api_tabular 0.3.1 (the newest on PyPI) with its package defaults, on a stack of its own."""
    stack = TabularStack(peer="tabular_0_3_1", page_size_max={})
    try:
        try:
            stack.start_database()
        except PeerStartError as e:
            pytest.fail(f"tabular 0.3.1 peer: {e}", pytrace=False)
        assert peer_version(stack.peer) == "0.3.1"
        yield _tabular(stack), _metrics(stack)
    finally:
        stack.stop()
