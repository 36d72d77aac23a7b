"""DuckDB views over the peer's resources, `dgv tabular sql`, and Parquet exports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from datagouv_sdk import DataGouv, errors
from datagouv_sdk.cli import cli
from datagouv_sdk.dataframe.duck import httpfs_available, register
from datagouv_sdk.dataframe.parquet_export import export_parquet, query_metadata
from datagouv_sdk.dataframe.sources import to_arrow
from datagouv_sdk.query import Query, col
from datagouv_sdk.tabular import TabularResource

from tests.peers.tabular import seed

pytestmark = pytest.mark.peer


def test_duckdb_reads_hydras_parquet_in_place(dg: DataGouv, analysis_peer: Any) -> None:
    resource = TabularResource(dg, seed.RESOURCES["big"])
    view = register(resource, name="big", via="arrow")
    assert view.via == "arrow" and view.url is not None
    rows = view.connection.execute("SELECT n, label FROM big WHERE half > 590 ORDER BY n").fetchall()
    expected = to_arrow(resource, Query().filter(col("half") > 590).columns("n", "label"), source="api")
    assert rows == [(r["n"], r["label"]) for r in expected.to_pylist()]
    assert view.connection.execute("SELECT count(*) FROM big").fetchone() == (1200,)
    assert [d[0] for d in view.connection.execute("SELECT * FROM big LIMIT 1").description] == [
        "n",
        "label",
        "half",
    ]


def test_duckdb_auto_falls_back_to_the_api_without_parquet(dg: DataGouv) -> None:
    view = register(TabularResource(dg, seed.RESOURCES["indexed"]), name="t")
    assert view.via == "api"
    assert view.connection.execute("SELECT sum(value) FROM t").fetchone() == (150,)
    with pytest.raises(errors.UsageError, match="no Parquet copy"):
        register(TabularResource(dg, seed.RESOURCES["indexed"]), via="arrow")


def test_duckdb_auto_uses_httpfs_only_when_it_loads(dg: DataGouv) -> None:
    import duckdb

    view = register(TabularResource(dg, seed.RESOURCES["paged"]), name="p")
    assert view.via == ("httpfs" if httpfs_available(duckdb.connect()) else "arrow")
    assert view.connection.execute('SELECT max("Code INSEE") FROM p').fetchone() == ("75137",)


def test_cli_sql_prints_and_writes(cli_env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    rid = seed.RESOURCES["aggregatable"]
    query = "SELECT category, sum(amount) AS total FROM resource GROUP BY category ORDER BY category"
    shown = runner.invoke(cli, ["--json", "tabular", "sql", rid, query], env=cli_env)
    assert shown.exit_code == 0, shown.output
    assert [json.loads(line) for line in shown.output.splitlines()] == [
        {"category": "fruit", "total": 165},
        {"category": "grain", "total": 155},
        {"category": "vegetable", "total": 145},
    ]
    out = tmp_path / "totals.parquet"
    written = runner.invoke(cli, ["tabular", "sql", rid, query, "-o", str(out)], env=cli_env)
    assert written.exit_code == 0, written.output
    assert pq.read_table(out).to_pylist()[0] == {"category": "fruit", "total": 165}
    bad = runner.invoke(cli, ["tabular", "sql", rid, "SELECT nope FROM resource"], env=cli_env)
    assert bad.exit_code == 2 and "nope" in bad.output


def test_parquet_export_from_hydras_parquet_and_from_the_api(dg: DataGouv, tmp_path: Path) -> None:
    resource = TabularResource(dg, seed.RESOURCES["big"])
    query = Query().filter(col("n") > 1000).columns("n", "half")
    from_parquet = export_parquet(resource, tmp_path / "a.parquet", query)
    from_api = export_parquet(resource, tmp_path / "b.parquet", query, source="api")  # 200 rows: JSON export
    assert (from_parquet.via, from_api.via) == ("parquet", "api")
    assert from_parquet.rows == from_api.rows == 200
    a, b = pq.read_table(tmp_path / "a.parquet"), pq.read_table(tmp_path / "b.parquet")
    assert a.equals(b, check_metadata=False)
    assert query_metadata(tmp_path / "a.parquet") == {
        "datagouv:resource_id": seed.RESOURCES["big"],
        "datagouv:query": query.query_string(),
        "datagouv:source": "parquet",
    }
    assert not list(tmp_path.glob("*.part"))


def test_parquet_export_pages_above_the_export_cap(dg: DataGouv, tmp_path: Path) -> None:
    resource = TabularResource(dg, seed.RESOURCES["big"])  # 1200 rows > cap 500
    done = export_parquet(resource, tmp_path / "all.parquet", source="api")
    assert done.rows == 1200 and pq.read_table(tmp_path / "all.parquet").column("n").to_pylist() == list(
        range(1, 1201)
    )


def test_cli_export_parquet_by_suffix(cli_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "typed.parquet"
    rid = seed.RESOURCES["typed"]
    result = CliRunner().invoke(
        cli,
        ["tabular", "export", rid, "-o", str(out), "--columns", "name,count", "--sort", "count:desc"],
        env=cli_env,
    )
    assert result.exit_code == 0, result.output
    assert "12 rows" in result.output and "from parquet" in result.output
    table = pq.read_table(out)
    assert table.column_names == ["name", "count"] and table.column("count").to_pylist()[:2] == [None, 57]


def test_a_failed_export_leaves_no_file(dg: DataGouv, tmp_path: Path) -> None:
    resource = TabularResource(dg, seed.RESOURCES["typed"])
    with pytest.raises(errors.UsageError):
        export_parquet(
            resource, tmp_path / "x.parquet", Query().filter(count="not a number"), source="parquet"
        )
    assert list(tmp_path.iterdir()) == []
