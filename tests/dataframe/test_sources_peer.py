"""The same query three ways: the Tabular API (api_tabular over PostgreSQL), hydra's Parquet copy
(produced by hydra's own conversion, read by Range requests), and SQL on the same PostgreSQL.

Each case holds a Query and the SQL a person would write for it. Unsorted answers come in ``__id``
order (the API's default order, hydra's file order); sorted cases sort on a column without ties;
aggregations are compared as sets.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest
from datagouv_sdk import DataGouv, errors
from datagouv_sdk.dataframe.pushdown import ParquetPrecisionWarning
from datagouv_sdk.dataframe.sources import to_arrow, to_pandas, to_polars
from datagouv_sdk.dataframe.types import result_columns
from datagouv_sdk.query import Query, all_of, any_of, col
from datagouv_sdk.tabular import TabularResource

from tests.dataframe.sql import run_sql
from tests.peers.tabular import seed

pytestmark = pytest.mark.peer

TYPED_COLUMNS = ("name", "count", "score", "active", "day", "extra")  # seen_at: see the lossy tests


@dataclass(frozen=True)
class Case:
    id: str
    resource: str
    query: Query
    sql: str
    ordered: bool = True
    limit: int | None = None


T = {t.name: t.parsing_table for t in seed.TABLES}
CASES = [
    Case(
        "all-typed-columns",
        "typed",
        Query().columns(*TYPED_COLUMNS),
        f"SELECT name, count, score, active, day, extra FROM {T['typed']} ORDER BY __id",
    ),
    Case(
        "greater-and-contains",
        "typed",
        Query().filter(col("count") >= 0, name__contains="O").columns("name", "count"),
        f"SELECT name, count FROM {T['typed']} WHERE count >= 0 AND name ILIKE '%O%' ORDER BY __id",
    ),
    Case(
        "differs-keeps-nulls",
        "typed",
        Query().filter(col("count") != 1).columns("name", "count"),
        f"SELECT name, count FROM {T['typed']} WHERE count IS DISTINCT FROM 1 ORDER BY __id",
    ),
    Case(
        "isnull-isnotnull-strictly-less",
        "typed",
        Query().filter(col("active") != None, col("score") < 2).columns("name", "score", "active"),  # noqa: E711
        f"SELECT name, score, active FROM {T['typed']} WHERE active IS NOT NULL AND score < 2 ORDER BY __id",
    ),
    Case(
        "name-isnull",
        "typed",
        Query().filter(col("name") == None).columns("count", "day"),  # noqa: E711
        f"SELECT count, day FROM {T['typed']} WHERE name IS NULL ORDER BY __id",
    ),
    Case(
        "notcontains-drops-nulls",
        "typed",
        Query().filter(col("name").notcontains("a")).columns("name"),
        f"SELECT name FROM {T['typed']} WHERE name NOT ILIKE '%a%' ORDER BY __id",
    ),
    Case(
        "in-and-notin",
        "typed",
        Query()
        .filter(col("count").isin([1, 8, 57, 99]), col("name").notin(["Lima", "Golf"]))
        .columns("name", "count"),
        f"SELECT name, count FROM {T['typed']} WHERE count IN (1, 8, 57, 99) AND name NOT IN ('Lima', 'Golf') "
        "ORDER BY __id",
    ),
    Case(
        "date-and-bool",
        "typed",
        Query().filter(col("day") >= dt.date(2020, 6, 1), active=True).columns("name", "day", "active"),
        f"SELECT name, day, active FROM {T['typed']} WHERE day >= '2020-06-01' AND active ORDER BY __id",
    ),
    Case(
        "wildcard-and-literal-percent",
        "typed",
        Query().filter(col("name").contains("l*a")).columns("name"),
        f"SELECT name FROM {T['typed']} WHERE name ILIKE '%l%a%' ORDER BY __id",
    ),
    Case(
        "sort-desc-nulls-first-limit",
        "typed",
        Query().sort("-count").columns("name", "count"),
        f"SELECT name, count FROM {T['typed']} ORDER BY count DESC NULLS FIRST LIMIT 5",
        limit=5,
    ),
    Case(
        "sort-asc-nulls-last",
        "typed",
        Query().sort("score").columns("name", "score"),
        f"SELECT name, score FROM {T['typed']} ORDER BY score ASC NULLS LAST",
    ),
    Case(
        "row-ids",
        "typed",
        Query().filter(col("__id") > 3).columns("__id", "name"),
        f"SELECT __id, name FROM {T['typed']} WHERE __id > 3 ORDER BY __id",
    ),
    Case(
        "column-with-a-space",
        "paged",
        Query().filter(col("Code INSEE") >= "75100", col("n") < 120).columns("n", "Code INSEE"),
        f'SELECT n, "Code INSEE" FROM {T["paged"]} WHERE "Code INSEE" >= \'75100\' AND n < 120 ORDER BY __id',
    ),
    Case(
        "above-the-export-cap",  # 1200 rows > the peer's cap (500): the API pages
        "big",
        Query().filter(col("half") > 100.25, label__contains="9").sort("-n"),
        f"SELECT n, label, half FROM {T['big']} WHERE half > 100.25 AND label ILIKE '%9%' ORDER BY n DESC",
    ),
    Case(
        "or-of-two-filters",
        "typed",
        Query().filter((col("count") < 0) | col("name").contains("o")).columns("name", "count"),
        f"SELECT name, count FROM {T['typed']} WHERE count < 0 OR name ILIKE '%o%' ORDER BY __id",
    ),
    Case(
        "nested-and-inside-or-with-nulls",
        "typed",
        Query()
        .filter(
            any_of(col("active") == True, all_of(col("score") > 2, col("day") == None)),  # noqa: E711, E712
            col("count") != 8,
        )
        .columns("name", "score", "active", "day"),
        f"SELECT name, score, active, day FROM {T['typed']} "
        "WHERE (active = true OR (score > 2 AND day IS NULL)) AND count IS DISTINCT FROM 8 ORDER BY __id",
    ),
    Case(
        "or-of-in-and-notcontains",
        "paged",
        Query()
        .filter(col("n").isin([3, 50, 99]) | col("label").notcontains("1"))
        .filter(col("n") < 40)
        .columns("n", "label"),
        f"SELECT n, label FROM {T['paged']} WHERE (n IN (3, 50, 99) OR label NOT ILIKE '%1%') AND n < 40 ORDER BY __id",
    ),
    Case(
        "odd-column-names-and-values",
        "odd",
        Query()
        .filter((col("a__b") >= 3) | (col("valeur") == "R&D"), col("taux %").isnotnull())
        .columns("#Code_commune_INSEE", "a__b", "valeur", "taux %", "back\\slash"),
        'SELECT "#Code_commune_INSEE", "a__b", "valeur", "taux %", "back\\slash" FROM '
        f'{T["odd"]} WHERE ("a__b" >= 3 OR "valeur" = \'R&D\') AND "taux %" IS NOT NULL ORDER BY __id',
    ),
    Case(
        "aggregations",
        "aggregatable",
        Query().groupby("category").aggregate(amount="sum", ratio="avg").aggregate(col("amount").count()),
        f"SELECT category, sum(amount) AS amount__sum, count(amount) AS amount__count, avg(ratio) AS ratio__avg "
        f"FROM {T['aggregatable']} GROUP BY category",
        ordered=False,
    ),
    Case(
        "filtered-aggregation-min-max",
        "aggregatable",
        Query()
        .filter(col("amount") >= 10)
        .groupby("category")
        .aggregate(amount="min")
        .aggregate(col("ratio").max()),
        f"SELECT category, min(amount) AS amount__min, max(ratio) AS ratio__max FROM {T['aggregatable']} "
        "WHERE amount >= 10 GROUP BY category",
        ordered=False,
    ),
]


def _rounded(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: round(v, 9) if isinstance(v, float) and math.isfinite(v) else v for k, v in r.items()}
        for r in rows
    ]


def _key(row: dict[str, Any]) -> str:
    return repr(sorted(row.items()))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_api_parquet_and_sql_agree(case: Case, dg: DataGouv, pg_gateway: Any) -> None:
    resource = TabularResource(dg, seed.RESOURCES[case.resource])
    api = to_arrow(resource, case.query, source="api", limit=case.limit)
    parquet = to_arrow(resource, case.query, source="parquet", limit=case.limit)
    types = dict(result_columns(resource.schema(), case.query))
    sql = _rounded(run_sql(pg_gateway, case.sql, types))
    assert api.schema.metadata[b"datagouv:source"] == b"api"
    assert parquet.schema.metadata[b"datagouv:source"] == b"parquet"
    assert api.schema.equals(parquet.schema, check_metadata=False)
    got_api, got_parquet = _rounded(api.to_pylist()), _rounded(parquet.to_pylist())
    assert sql, "a case must match rows, or it proves little"
    if case.ordered:
        assert got_api == sql
        assert got_parquet == sql
    else:
        assert sorted(got_api, key=_key) == sorted(sql, key=_key)
        assert sorted(got_parquet, key=_key) == sorted(sql, key=_key)


@pytest.mark.parametrize("case", [c for c in CASES if c.ordered][:4], ids=lambda c: c.id)
def test_pandas_frames_are_the_same_both_ways(case: Case, dg: DataGouv) -> None:
    resource = TabularResource(dg, seed.RESOURCES[case.resource])
    api = to_pandas(resource, case.query, source="api")
    parquet = to_pandas(resource, case.query, source="parquet")
    assert api.attrs["datagouv:source"] == "api" and parquet.attrs["datagouv:source"] == "parquet"
    pd.testing.assert_frame_equal(api, parquet)


def test_pandas_types_come_from_the_profile(dg: DataGouv) -> None:
    resource = TabularResource(dg, seed.RESOURCES["typed"])
    frame = to_pandas(resource, Query().columns(*TYPED_COLUMNS), source="parquet")
    assert {c: str(t) for c, t in frame.dtypes.items()} == {
        "name": "string",
        "count": "Int64",
        "score": "Float64",
        "active": "boolean",
        "day": "object",
        "extra": "string",
    }
    assert frame["count"].isna().sum() == 1 and frame["day"].iloc[0] == dt.date(2020, 1, 1)
    arrow_backed = to_pandas(resource, Query().columns("count", "day"), source="api", dtype_backend="pyarrow")
    assert (
        str(arrow_backed["count"].dtype) == "int64[pyarrow]"
        and str(arrow_backed["day"].dtype) == "date32[day][pyarrow]"
    )


def test_polars_frame(dg: DataGouv) -> None:
    resource = TabularResource(dg, seed.RESOURCES["paged"])
    frame = to_polars(resource, Query().filter(col("n") <= 3).columns("n", "Code INSEE"))
    assert frame.to_dicts() == [{"n": n, "Code INSEE": str(75000 + n)} for n in (1, 2, 3)]
    assert str(frame.schema["n"]) == "Int64"


def test_auto_reads_parquet_when_published_else_the_api(dg: DataGouv, analysis_peer: Any) -> None:
    server = analysis_peer.server
    paged = TabularResource(dg, seed.RESOURCES["paged"])
    server.reset()
    table = to_arrow(paged, Query().columns("n"))
    assert table.schema.metadata[b"datagouv:source"] == b"parquet"
    assert server.bytes_sent(analysis_peer.parquet_name("paged")) > 0
    indexed = TabularResource(dg, seed.RESOURCES["indexed"])  # no Parquet in its extras
    assert to_arrow(indexed).schema.metadata[b"datagouv:source"] == b"api"
    with pytest.raises(errors.UsageError, match="no Parquet copy"):
        to_arrow(indexed, source="parquet")


def test_aggregations_run_locally_on_any_parquet(dg: DataGouv) -> None:
    # The API refuses aggregations on resources outside its exception list; a local file does not.
    resource = TabularResource(dg, seed.RESOURCES["big"])
    query = Query().aggregate(n="sum").aggregate(col("half").max())
    with pytest.raises(errors.UsageError, match="aggregations are not allowed"):
        to_arrow(resource, query, source="api")
    table = to_arrow(resource, query)  # auto: Parquet
    assert table.to_pylist() == [{"n__sum": 1200 * 1201 // 2, "half__max": 600.0}]


def test_datetime_columns_lose_their_time_in_hydras_parquet(dg: DataGouv) -> None:
    """hydra 2.14 writes datetime columns as Arrow date64, stored by Parquet as a DATE."""
    resource = TabularResource(dg, seed.RESOURCES["typed"])
    api = to_arrow(resource, Query().columns("seen_at"), source="api").column("seen_at").to_pylist()
    assert api[0] == dt.datetime(2021, 6, 1, 8, 30)
    with pytest.warns(ParquetPrecisionWarning, match="seen_at"):
        parquet = (
            to_arrow(resource, Query().columns("seen_at"), source="parquet").column("seen_at").to_pylist()
        )
    assert parquet == [None if v is None else v.date() for v in api]
    filtered = Query().filter(col("seen_at") >= dt.datetime(2021, 6, 3, 12)).columns("name")
    with pytest.raises(errors.UsageError, match="stores seen_at as dates"):
        to_arrow(resource, filtered, source="parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        auto = to_arrow(resource, filtered)  # auto: the API, which has the time
    assert auto.schema.metadata[b"datagouv:source"] == b"api"
    assert auto.num_rows == to_arrow(resource, filtered, source="api").num_rows > 0


def test_reads_are_range_requests_and_the_footer_is_fetched_once(dg: DataGouv, analysis_peer: Any) -> None:
    # A file under 64 KiB comes whole with pyarrow's first footer read; later reads (schema
    # discovery, the fragment, the row group) must come from that, not from more requests.
    server = analysis_peer.server
    name = analysis_peer.parquet_name("big")
    size = analysis_peer.hydra.index[seed.RESOURCES["big"]]["parquet_size"]
    resource = TabularResource(dg, seed.RESOURCES["big"])
    server.reset()
    table = to_arrow(resource, Query().filter(col("n") >= 1190).columns("n"), source="parquet")
    assert table.column("n").to_pylist() == list(range(1190, 1201))
    assert server.requests(name) == [("HEAD", None), ("GET", f"bytes=0-{size - 1}")]


def test_limit_stops_reading(dg: DataGouv) -> None:
    resource = TabularResource(dg, seed.RESOURCES["big"])
    for source in ("api", "parquet"):
        table = to_arrow(resource, Query().columns("n"), source=source, limit=7)
        assert table.column("n").to_pylist() == list(range(1, 8))


def test_bad_arguments_are_usage_errors(dg: DataGouv) -> None:
    resource = TabularResource(dg, seed.RESOURCES["typed"])
    with pytest.raises(errors.UsageError, match="source must be"):
        to_arrow(resource, source="s3")  # type: ignore[arg-type]
    with pytest.raises(errors.UsageError, match="unknown column"):
        to_arrow(resource, Query().columns("nope"), source="parquet")
    with pytest.raises(errors.UsageError, match="not a valid int"):
        to_arrow(resource, Query().filter(count="x"), source="parquet")


def test_resource_methods_are_the_module_functions(dg: DataGouv, tmp_path: Any) -> None:
    resource = TabularResource(dg, seed.RESOURCES["paged"])
    query = Query().filter(col("n") >= 135).columns("n", "label")
    assert resource.to_arrow(query).equals(to_arrow(resource, query))
    assert (
        resource.to_polars(query, source="api").to_dicts()
        == to_polars(resource, query, source="api").to_dicts()
    )
    pd.testing.assert_frame_equal(resource.to_pandas(query), to_pandas(resource, query))
    con = resource.to_duckdb(name="paged")
    assert con.execute("SELECT count(*) FROM paged WHERE n > 100").fetchone() == (37,)
    assert resource.export_parquet(tmp_path / "p.parquet", query).rows == 3


async def test_async_twins_read_the_same(analysis_peer: Any, dg: DataGouv) -> None:
    from datagouv_sdk import AsyncDataGouv
    from datagouv_sdk.tabular import AsyncTabularResource

    query = Query().filter(col("count") >= 0).columns("name", "count", "day")
    expected = to_pandas(TabularResource(dg, seed.RESOURCES["typed"]), query, source="parquet")
    async with AsyncDataGouv(base_url=analysis_peer.main_url, tabular_url=analysis_peer.tabular_url) as adg:
        resource = AsyncTabularResource(adg, seed.RESOURCES["typed"])
        pd.testing.assert_frame_equal(await resource.to_pandas(query, source="parquet"), expected)
        api = await resource.to_arrow(query, source="api")
        polars = await resource.to_polars(query)
    assert api.to_pylist() == expected.astype(object).where(expected.notna(), None).to_dict("records")
    assert polars.height == len(expected)
