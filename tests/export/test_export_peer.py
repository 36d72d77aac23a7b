"""Exports against the real api_tabular apps: streamed CSV/JSON, the export cap, the paging fallback,
lazy CSV rows. Expected rows come from the seed, not from the server."""

from __future__ import annotations

import csv
import json
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from datagouv_sdk import DataGouv
from datagouv_sdk.export import ExportTooLargeError
from datagouv_sdk.query import Query, col
from datagouv_sdk.tabular import MetricsModel, TabularResource

from tests.peers.tabular import seed
from tests.peers.tabular_fixtures import MetricsPeer, TabularPeer
from tests.test_tabular import TYPED, rows_of

PAGED = next(t for t in seed.TABLES if t.name == "paged")


@pytest.fixture(scope="module")
def dg(tabular_peer: TabularPeer, metrics_peer: MetricsPeer) -> Iterator[DataGouv]:
    with DataGouv(tabular_url=tabular_peer.base_url, metrics_url=metrics_peer.base_url) as client:
        yield client


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return [row for row in csv.DictReader(f)]


def no_leftovers(dest: Path) -> bool:
    return list(dest.parent.iterdir()) == ([dest] if dest.exists() else [])


def test_streamed_csv_larger_than_a_page_has_the_filtered_total(
    dg: DataGouv, tabular_peer: TabularPeer, tmp_path: Path
) -> None:
    resource = TabularResource(dg, tabular_peer.resources["paged"])
    q = Query().filter(col("n") >= 10).sort("-n")
    dest = tmp_path / "paged.csv"
    seen: list[tuple[int, int | None]] = []
    result = resource.export(dest, q, progress=lambda b, r: seen.append((b, r)))
    rows = read_csv(dest)
    expected = sorted((r["n"] for r in rows_of(PAGED) if r["n"] >= 10), reverse=True)
    assert [int(r["n"]) for r in rows] == expected
    assert result.rows == len(rows) == resource.count(q) == 128 > 50  # more than one Metrics-size page
    assert result.bytes == dest.stat().st_size and result.via == "stream"
    assert list(rows[0]) == ["__id", "n", "label", "Code INSEE"]
    assert seen and seen[-1] == (result.bytes, 128)
    assert no_leftovers(dest)


def test_streamed_json(dg: DataGouv, tabular_peer: TabularPeer, tmp_path: Path) -> None:
    resource = TabularResource(dg, tabular_peer.resources["paged"])
    dest = tmp_path / "paged.json"
    result = resource.export(
        dest, Query().filter(col("Code INSEE").contains("751")).columns("Code INSEE"), format="json"
    )
    data = json.loads(dest.read_text(encoding="utf-8"))
    assert data == [{"Code INSEE": r["Code INSEE"]} for r in rows_of(PAGED) if "751" in r["Code INSEE"]]
    assert result.rows == len(data) and result.bytes == dest.stat().st_size


@pytest.mark.parametrize("name", ["odd", "typed"])
def test_streamed_json_counts_rows_with_odd_values(
    dg: DataGouv, tabular_peer: TabularPeer, tmp_path: Path, name: str
) -> None:
    # Quotes, backslashes, parentheses, nulls, accents in values and names, as the server renders them.
    dest = tmp_path / f"{name}.json"
    result = TabularResource(dg, tabular_peer.resources[name]).export(dest, format="json")
    table = next(t for t in seed.TABLES if t.name == name)
    assert result.rows == len(json.loads(dest.read_bytes())) == len(table.rows)


def test_csv_export_cap_is_explained_and_leaves_nothing(
    dg: DataGouv, tabular_peer: TabularPeer, tmp_path: Path
) -> None:
    resource = TabularResource(dg, tabular_peer.resources["big"])
    dest = tmp_path / "big.csv"
    with pytest.raises(ExportTooLargeError, match=r"Output is too long.*via='pages'") as info:
        resource.export(dest)
    assert info.value.status_code == 403
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("via", ["pages", "auto"])
def test_paging_fallback_exports_every_row(
    dg: DataGouv, tabular_peer: TabularPeer, tmp_path: Path, via: str
) -> None:
    resource = TabularResource(dg, tabular_peer.resources["big"])
    dest = tmp_path / "big.csv"
    result = resource.export(dest, Query().filter(col("n") > 99), via=via)  # type: ignore[arg-type]
    rows = read_csv(dest)
    assert result.via == "pages"
    assert [int(r["n"]) for r in rows] == list(range(100, tabular_peer.rows["big"] + 1))
    matching = resource.count(Query().filter(col("n") > 99))
    assert matching is not None and result.rows == len(rows) == matching > tabular_peer.csv_export_cap
    assert list(rows[0]) == ["__id", "n", "label", "half"]
    assert no_leftovers(dest)


def test_jsonl_through_pages(dg: DataGouv, tabular_peer: TabularPeer, tmp_path: Path) -> None:
    resource = TabularResource(dg, tabular_peer.resources["typed"])
    dest = tmp_path / "typed.jsonl"
    result = resource.export(dest, format="jsonl")
    lines = [json.loads(line) for line in dest.read_text(encoding="utf-8").splitlines()]
    assert result.rows == len(lines) == tabular_peer.rows["typed"]
    assert [line["name"] for line in lines] == [r["name"] for r in rows_of(TYPED)]


def test_lazy_csv_rows_are_typed_like_the_seed(dg: DataGouv, tabular_peer: TabularPeer) -> None:
    # The CSV form differs from JSON (t/f booleans, "2021-06-01 08:30:00", NULL as empty, quoted
    # commas and quotes): typed rows must still equal the seeded values.
    rows = list(TabularResource(dg, tabular_peer.resources["typed"]).iter_csv(typed=True))
    assert rows == rows_of(TYPED)


def test_lazy_csv_rows_can_stop_early(dg: DataGouv, tabular_peer: TabularPeer) -> None:
    it = TabularResource(dg, tabular_peer.resources["paged"]).iter_csv(Query().sort("-n"))
    first = next(it)
    assert isinstance(it, Generator)  # a generator: close() releases the connection
    it.close()
    assert first["n"] == "137"


def test_metrics_export_stream_and_pages(dg: DataGouv, metrics_peer: MetricsPeer, tmp_path: Path) -> None:
    model = MetricsModel(dg, "datasets")
    q = Query().filter(dataset_id="5d0b7a5e8b4c41597a1b2c02").sort("-metric_month")
    streamed = model.export(tmp_path / "m.csv", q, count_rows=True)
    paged = model.export(tmp_path / "m.jsonl", q, format="jsonl", via="pages")
    rows = read_csv(tmp_path / "m.csv")
    assert streamed.rows == paged.rows == len(rows) == model.count(q) == len(metrics_peer.months)
    assert [r["metric_month"] for r in rows] == sorted(metrics_peer.months, reverse=True)
    jsonl = [json.loads(x) for x in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert [str(x["monthly_visit"]) for x in jsonl] == [r["monthly_visit"] for r in rows]


def test_metrics_json_stream_is_refused(dg: DataGouv, tmp_path: Path) -> None:
    from datagouv_sdk.errors import UsageError

    with pytest.raises(UsageError, match="CSV only"):
        MetricsModel(dg, "site").export(tmp_path / "x.json", format="json")
