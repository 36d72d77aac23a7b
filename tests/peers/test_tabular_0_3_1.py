"""Older deployments: api_tabular 0.3.1 (the newest on PyPI), on a stack of its own with the
package's defaults (PAGE_SIZE_MAX 50 for both apps).

What changed in 0.3.2 to 0.4.1 is pinned here from the old side (the 0.4.1 side is in
test_tabular_peer.py), and the SDK's 0.3.1 dialect (`Dialect.for_version("0.3.1")`) is checked
against SQL: the same filters, sorts, columns and aggregations on every odd column name.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from datagouv_sdk import DataGouv
from datagouv_sdk.errors import UsageError
from datagouv_sdk.query import Dialect, Query, col
from datagouv_sdk.query.schema import AggregationPolicy
from datagouv_sdk.tabular import TabularResource

from tests.peers.tabular import seed
from tests.peers.tabular_fixtures import MetricsPeer, TabularPeer

OLD = Dialect.for_version("0.3.1")
ODD = next(t for t in seed.TABLES if t.name == "odd")


@pytest.fixture(scope="module")
def legacy(legacy_tabular_peer: tuple[TabularPeer, MetricsPeer]) -> TabularPeer:
    return legacy_tabular_peer[0]


@pytest.fixture(scope="module")
def legacy_metrics(legacy_tabular_peer: tuple[TabularPeer, MetricsPeer]) -> MetricsPeer:
    return legacy_tabular_peer[1]


@pytest.fixture(scope="module")
def legacy_dg(legacy: TabularPeer, legacy_metrics: MetricsPeer) -> Iterator[DataGouv]:
    with DataGouv(
        base_url="http://127.0.0.1:9/unused", tabular_url=legacy.base_url, metrics_url=legacy_metrics.base_url
    ) as dg:
        yield dg


def _get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=30)


def _data(peer: TabularPeer, name: str, query: str) -> httpx.Response:
    return _get(f"{peer.base_url}/api/resources/{peer.resources[name]}/data/?{query}")


def test_the_shapes_0_3_2_changed(legacy: TabularPeer, legacy_metrics: MetricsPeer) -> None:
    assert legacy.version == "0.3.1"
    for base_url in (legacy.base_url, legacy_metrics.base_url):
        health = _get(f"{base_url}/health/").json()
        assert set(health) == {"status", "version", "uptime_seconds"} and health["version"] == "0.3.1"
        assert isinstance(health["uptime_seconds"], float)
    exceptions = _get(f"{legacy.base_url}/api/aggregation-exceptions/").json()
    assert exceptions == legacy.aggregation_allowed  # a bare array (0.4.1: {"allowed", "exceptions"})
    assert AggregationPolicy.from_body(exceptions).allows(legacy.resources["odd"])
    # 0.3.1 echoes the Origin (aiohttp_cors) where 0.4.1 answers "*"
    preflight = httpx.options(
        f"{legacy.base_url}/health/",
        headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.headers.get("access-control-allow-origin") == "https://example.org"


def test_package_default_page_size_is_50_for_both_apps(
    legacy: TabularPeer, legacy_metrics: MetricsPeer
) -> None:
    assert (legacy.page_size_max, legacy_metrics.page_size_max) == (50, 50)
    refused = _data(legacy, "paged", "page_size=51")
    assert refused.status_code == 400 and "maximum: 50" in refused.text
    assert _get(f"{legacy_metrics.base_url}/api/site/data/?page_size=51").status_code == 400


def test_no_or_filters_and_columns_forwarded_verbatim(legacy: TabularPeer) -> None:
    # or=(…) is read as a filter on a column "or" without operator: a 400, not a silent answer
    response = _data(legacy, "paged", "or=(n__exact.1,n__exact.2)")
    assert response.status_code == 400 and "could not be parsed" in response.text
    # columns= goes to PostgREST's select as is: our quotes are needed for odd names, and accepted
    assert _data(legacy, "odd", "columns=%22lat%252Clon%22,__id&page_size=1").json()["data"][0].keys() == {
        "lat,lon",
        "__id",
    }


def test_the_sdk_refuses_or_filters_for_0_3_1_before_sending() -> None:
    q = Query().filter((col("n") == 1) | (col("n") == 2))
    with pytest.raises(UsageError, match=r"0\.3\.1\) has no OR filters"):
        q.query_string(dialect=OLD)


@pytest.mark.parametrize("name", list(seed.ODD_COLUMNS))
def test_odd_columns_with_the_0_3_1_dialect_equal_sql(legacy: TabularPeer, name: str) -> None:
    assert legacy.stack is not None
    position = list(ODD.columns).index(name)
    sample = next(row[position] for row in ODD.rows if row[position] is not None)
    table = f"{seed.TABULAR_SCHEMA}.{ODD.parsing_table}"
    ident = '"' + name.replace('"', '""') + '"'
    literal = "'" + str(sample).replace("'", "''") + "'"
    q = Query().filter(col(name) == sample).sort(f"-{name}").columns(name, "__id")
    body = _data(legacy, "odd", q.query_string(page_size=50, dialect=OLD)).json()
    expected = legacy.stack.sql(f"SELECT __id FROM {table} WHERE {ident} = {literal} ORDER BY __id")
    assert sorted(row["__id"] for row in body["data"]) == [int(r[0]) for r in expected]
    assert all(set(row) == {name, "__id"} for row in body["data"])
    grouped_q = Query().groupby(name).aggregate(col("R&D").count())
    grouped = _data(legacy, "odd", grouped_q.query_string(page_size=50, dialect=OLD)).json()
    groups = legacy.stack.sql(f"SELECT count(DISTINCT {ident}) + bool_or({ident} IS NULL)::int FROM {table}")
    assert len(grouped["data"]) == int(groups[0][0])


def test_sdk_reads_0_3_1_shapes(legacy_dg: DataGouv, legacy: TabularPeer) -> None:
    resource = TabularResource(legacy_dg, legacy.resources["aggregatable"])
    assert resource.aggregation_policy().allows(legacy.resources["aggregatable"])
    rows = list(resource.rows(Query().groupby("category").aggregate(col("amount").sum())))
    assert sorted(r["category"] for r in rows) == ["fruit", "grain", "vegetable"]
    assert sum(r["amount__sum"] for r in rows) == sum(range(1, 31))
