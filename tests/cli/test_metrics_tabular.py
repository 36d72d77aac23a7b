"""`dgv tabular …` and `dgv metrics …` against the real api_tabular apps (CliRunner), and one real
`dgv` subprocess export."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from datagouv_sdk.cli import cli
from datagouv_sdk.cli.output import EXIT_API, EXIT_USAGE

from tests.peers.tabular_fixtures import MetricsPeer, TabularPeer
from tests.test_tabular import TYPED, rows_of


def run(tabular_peer: TabularPeer, metrics_peer: MetricsPeer, *args: str) -> Any:
    base = ["--tabular-url", tabular_peer.base_url, "--metrics-url", metrics_peer.base_url]
    env = {"DATAGOUV_TABULAR_URL": None, "DATAGOUV_METRICS_URL": None, "DATAGOUV_API_KEY": None}
    return CliRunner().invoke(cli, [*base, *args], env=env, catch_exceptions=False)


def test_profile_table_and_json(tabular_peer: TabularPeer, metrics_peer: MetricsPeer) -> None:
    rid = tabular_peer.resources["typed"]
    table = run(tabular_peer, metrics_peer, "tabular", "profile", rid)
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    assert lines[0].split()[:3] == ["COLUMN", "TYPE", "SORT"]
    assert [line.split()[0] for line in lines[1:]] == ["__id", *TYPED.columns]
    as_json = json.loads(run(tabular_peer, metrics_peer, "--json", "tabular", "profile", rid).stdout)
    assert as_json["columns"]["extra"] == {
        "type": "json",
        "operators": ["isnull", "isnotnull"],
        "sortable": False,
        "aggregates": [],
    }
    assert as_json["aggregation_allowed"] is False


def test_query_filters_columns_sort_limit(tabular_peer: TabularPeer, metrics_peer: MetricsPeer) -> None:
    result = run(
        tabular_peer,
        metrics_peer,
        "--json",
        "tabular",
        "query",
        tabular_peer.resources["typed"],
        "--filter",
        'name__in=Alpha,"Bravo, with comma",Écho accentué',
        "--filter",
        "count__greater=-13",
        "--columns",
        "name,count",
        "--sort",
        "count:desc",
        "--limit",
        "2",
    )
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows == [{"name": "Écho accentué", "count": 8}, {"name": "Bravo, with comma", "count": -13}]


def test_query_aggregation_and_refusal(tabular_peer: TabularPeer, metrics_peer: MetricsPeer) -> None:
    ok = run(
        tabular_peer,
        metrics_peer,
        "--json",
        "tabular",
        "query",
        tabular_peer.resources["aggregatable"],
        "--groupby",
        "category",
        "--agg",
        "amount:count",
    )
    assert sorted(json.loads(line)["amount__count"] for line in ok.stdout.splitlines()) == [10, 10, 10]
    refused = run(
        tabular_peer, metrics_peer, "tabular", "query", tabular_peer.resources["typed"], "--agg", "count:sum"
    )
    assert refused.exit_code == EXIT_USAGE
    assert "aggregations are not allowed" in refused.stderr
    server_refused = run(
        tabular_peer,
        metrics_peer,
        "tabular",
        "query",
        tabular_peer.resources["typed"],
        "--agg",
        "count:sum",
        "--no-validate",
    )
    assert server_refused.exit_code == EXIT_API and "403" in server_refused.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--filter", "count__contains=3"], "'contains' is not allowed on column 'count'"),
        (["--filter", "count__greater"], "only isnull/isnotnull"),
        (["--filter", "or=(name__exact.a,count__bogus.1)"], "an operator"),
        (["--sort", "extra"], "cannot be sorted"),
    ],
)
def test_query_usage_errors(
    tabular_peer: TabularPeer, metrics_peer: MetricsPeer, args: list[str], message: str
) -> None:
    result = run(tabular_peer, metrics_peer, "tabular", "query", tabular_peer.resources["typed"], *args)
    assert result.exit_code == EXIT_USAGE
    assert message in result.stderr and result.stdout == ""


def test_export_cap_then_paging(tabular_peer: TabularPeer, metrics_peer: MetricsPeer, tmp_path: Path) -> None:
    dest = tmp_path / "big.csv"
    capped = run(
        tabular_peer, metrics_peer, "tabular", "export", tabular_peer.resources["big"], "-o", str(dest)
    )
    assert capped.exit_code == EXIT_API and "--via pages" in capped.stderr
    assert list(tmp_path.iterdir()) == []
    paged = run(
        tabular_peer,
        metrics_peer,
        "--json",
        "tabular",
        "export",
        tabular_peer.resources["big"],
        "-o",
        str(dest),
        "--via",
        "auto",
        "--quiet",
    )
    assert paged.exit_code == 0, paged.stderr
    info = json.loads(paged.stdout)
    assert info["rows"] == tabular_peer.rows["big"] and info["via"] == "pages"
    assert sum(1 for _ in csv.DictReader(io.StringIO(dest.read_text()))) == tabular_peer.rows["big"]


def test_metrics_get_and_export(tabular_peer: TabularPeer, metrics_peer: MetricsPeer, tmp_path: Path) -> None:
    got = run(
        tabular_peer,
        metrics_peer,
        "metrics",
        "get",
        "site",
        "--filter",
        "metric_month__greater=2024-10",
        "--sort",
        "metric_month:desc",
    )
    lines = got.stdout.splitlines()
    assert lines[0].split()[:2] == ["__ID", "METRIC_MONTH"]
    assert [line.split()[1] for line in lines[1:]] == ["2024-12", "2024-11", "2024-10"]
    dest = tmp_path / "site.csv"
    exported = run(
        tabular_peer,
        metrics_peer,
        "metrics",
        "export",
        "site",
        "-o",
        str(dest),
        "--filter",
        "metric_month__contains=2023",
    )
    assert exported.exit_code == 0, exported.stderr
    assert "12 rows" in exported.stdout and "exporting site" in exported.stderr  # progress on stderr
    assert [r["metric_month"] for r in csv.DictReader(io.StringIO(dest.read_text()))] == [
        m for m in metrics_peer.months if m.startswith("2023")
    ]
    bad = run(tabular_peer, metrics_peer, "metrics", "get", "site", "--filter", "metric_month__in=2024-01")
    assert bad.exit_code == EXIT_USAGE and "not offered by the Metrics API" in bad.stderr


def test_real_dgv_process_exports(
    tabular_peer: TabularPeer, metrics_peer: MetricsPeer, tmp_path: Path
) -> None:
    dgv = Path(sys.executable).with_name("dgv")
    dest = tmp_path / "typed.csv"
    env = {**os.environ, "DATAGOUV_TABULAR_URL": tabular_peer.base_url}
    proc = subprocess.run(
        [str(dgv), "--json", "tabular", "export", tabular_peer.resources["typed"], "-o", str(dest)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["rows"] == len(rows_of(TYPED))
    assert not (tmp_path / "typed.csv.part").exists()
