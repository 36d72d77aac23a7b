"""`ParquetQuery` on files shaped like hydra's (a row group per batch), without the peers: row-group
pruning, byte savings over Range requests, and random queries checked against a plain-Python
reading of the API's SQL semantics (a second, randomised seed: inputs nobody picked by hand)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datagouv_sdk.dataframe.http_file import RangeFile
from datagouv_sdk.dataframe.pushdown import ParquetQuery
from datagouv_sdk.query import Query, col
from datagouv_sdk.query.schema import ResourceSchema

from tests.peers.range_server import RangeServer

TYPES = {"n": "int", "word": "string", "amount": "float", "day": "date", "flag": "bool", "note": "string"}
WORDS = ["alpha", "Bravo", "charlie", "delta", "écho", "fox_trot", "golf%", None]
GROUP = 2_000  # rows per row group (hydra: 50,000)
GROUPS = 10


def _rows(seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for n in range(1, GROUP * GROUPS + 1):
        rows.append(
            {
                "n": n,
                "word": rng.choice(WORDS),
                "amount": None if rng.random() < 0.1 else round(rng.uniform(-50, 50), 2),
                "day": None
                if rng.random() < 0.1
                else dt.date(2020, 1, 1) + dt.timedelta(days=rng.randrange(900)),
                "flag": None if rng.random() < 0.1 else rng.random() < 0.5,
                "note": f"note {rng.getrandbits(64):x} {n}",
            }
        )
    return rows


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    schema = pa.schema(
        [
            ("n", pa.int64()),
            ("word", pa.string()),
            ("amount", pa.float64()),
            ("day", pa.date32()),
            ("flag", pa.bool_()),
            ("note", pa.string()),
        ]
    )
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:  # as hydra: one group per batch
        for start in range(0, len(rows), GROUP):
            writer.write_table(pa.Table.from_pylist(rows[start : start + GROUP], schema=schema))


SCHEMA = ResourceSchema.from_profile(
    "r",
    {"profile": {"header": list(TYPES), "columns": {c: {"python_type": t} for c, t in TYPES.items()}}},
    aggregation_allowed=True,
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RangeServer, list[dict[str, Any]]]]:
    folder = tmp_path_factory.mktemp("pushdown")
    rows = _rows(20261130)
    _write(folder / "t.parquet", rows)
    with RangeServer(folder) as server:
        yield server, rows


def _query(server: RangeServer, http: httpx.Client, query: Query) -> ParquetQuery:
    remote = RangeFile(http, server.url_for("t.parquet"))
    return ParquetQuery(pq.ParquetFile(pa.PythonFile(remote, mode="r"), pre_buffer=True), SCHEMA, query)


def test_only_the_row_groups_and_columns_needed_are_fetched(served: Any) -> None:
    server, rows = served
    size = (server.folder / "t.parquet").stat().st_size
    assert size > 4 * 65536  # more than pyarrow's first footer read, or nothing could be saved
    with httpx.Client() as http:
        server.reset()
        runner = _query(server, http, Query().filter(col("n") >= 4001, col("n") <= 4100).columns("note"))
        assert [i for i, _ in runner._row_groups()] == [2]
        table = runner.read()
    assert table.column("note").to_pylist() == [r["note"] for r in rows[4000:4100]]
    assert server.bytes_sent("t.parquet") < 0.25 * size


def test_row_ids_are_positions_across_row_groups(served: Any) -> None:
    server, _ = served
    with httpx.Client() as http:
        runner = _query(server, http, Query().filter(col("__id").isin([1, 2001, 19999])).columns("__id", "n"))
        assert [i for i, _ in runner._row_groups()] == [0, 1, 9]
        assert runner.read().to_pylist() == [{"__id": i, "n": i} for i in (1, 2001, 19999)]


def test_limit_stops_after_the_first_row_group(served: Any) -> None:
    server, _ = served
    with httpx.Client() as http:
        server.reset()
        assert _query(server, http, Query().columns("n")).read(limit=5).column("n").to_pylist() == [
            1,
            2,
            3,
            4,
            5,
        ]
        first = server.bytes_sent("t.parquet")
        server.reset()
        _query(server, http, Query().columns("n")).read()
        assert first < server.bytes_sent("t.parquet")


# --- random queries against a plain-Python reading of the SQL the API runs -----------------------------


def _like(value: str, needle: str) -> bool:
    return needle.lower() in value.lower()


def _sql(row: dict[str, Any], column: str, op: str, value: Any) -> bool:
    """True when PostgreSQL's WHERE keeps the row (NULL counts as not kept)."""
    v = row[column]
    if op == "isnull":
        return v is None
    if op == "isnotnull":
        return v is not None
    if op == "differs":
        return v is None or v != value
    if v is None:
        return False
    if op == "exact":
        return bool(v == value)
    if op == "in":
        return v in value
    if op == "notin":
        return v not in value
    if op == "contains":
        return _like(v, value)
    if op == "notcontains":
        return not _like(v, value)
    return bool(
        {
            "less": v <= value,
            "greater": v >= value,
            "strictly_less": v < value,
            "strictly_greater": v > value,
        }[op]
    )


def _random_filter(rng: random.Random, rows: list[dict[str, Any]]) -> tuple[Any, str, str, Any]:
    column = rng.choice(["n", "word", "amount", "day", "flag"])
    present = [r[column] for r in rows if r[column] is not None]
    ops = {
        "n": [
            "exact",
            "differs",
            "in",
            "notin",
            "less",
            "greater",
            "strictly_less",
            "strictly_greater",
            "isnull",
        ],
        "word": ["exact", "differs", "in", "notin", "contains", "notcontains", "isnull", "isnotnull", "less"],
        "amount": [
            "exact",
            "less",
            "greater",
            "strictly_less",
            "strictly_greater",
            "isnull",
            "isnotnull",
            "differs",
        ],
        "day": ["exact", "less", "greater", "strictly_greater", "isnull", "in"],
        "flag": ["exact", "differs", "isnull", "isnotnull"],
    }[column]
    op = rng.choice(ops)
    if op in ("isnull", "isnotnull"):
        return getattr(col(column), op)(), column, op, None
    if op in ("in", "notin"):
        values = rng.sample(present, 3)
        return getattr(col(column), "isin" if op == "in" else "notin")(values), column, op, values
    if op in ("contains", "notcontains"):
        needle = rng.choice(["a", "ho", "B", "_", "%", "Cha"])
        return getattr(col(column), op)(needle), column, op, needle
    value = rng.choice(present)
    if column == "n":
        value = rng.randrange(-5, GROUP * GROUPS + 5)
    from datagouv_sdk.query.builder import Filter

    return Filter.make(column, op, value), column, op, value


@pytest.mark.parametrize("seed", range(40))
def test_random_queries_match_the_sql_semantics(served: Any, seed: int) -> None:
    server, rows = served
    rng = random.Random(seed * 7919)
    picked = [_random_filter(rng, rows) for _ in range(rng.choice([1, 1, 2, 3]))]
    query = Query().filter(*(f for f, *_ in picked)).columns("n", "word")
    expected = [
        {"n": r["n"], "word": r["word"]} for r in rows if all(_sql(r, c, op, v) for _, c, op, v in picked)
    ]
    with httpx.Client() as http:
        got = _query(server, http, query).read().to_pylist()
    assert got == expected, [f.key + "=" + str(f.value) for f, *_ in picked]
