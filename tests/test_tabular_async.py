"""The async twins (AsyncTabularResource, AsyncMetricsModel) against the real api_tabular apps."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from datagouv_sdk import AsyncDataGouv, DataGouv
from datagouv_sdk.errors import UsageError
from datagouv_sdk.export import ExportTooLargeError
from datagouv_sdk.pagination import AsyncPager
from datagouv_sdk.query import Query, col
from datagouv_sdk.tabular import AsyncMetricsModel, AsyncTabularResource, MetricsModel, TabularResource

from tests.peers.tabular_fixtures import MetricsPeer, TabularPeer
from tests.test_tabular import NAMES_IN, TYPED, ids_where, rows_of


async def test_async_rows_filters_typed_and_validation(tabular_peer: TabularPeer) -> None:
    async with AsyncDataGouv(tabular_url=tabular_peer.base_url) as dg:
        resource = AsyncTabularResource(dg, tabular_peer.resources["typed"])
        got = [
            r["__id"] async for r in resource.rows(Query().filter(col("name").isin(NAMES_IN)), page_size=2)
        ]
        assert got == ids_where(TYPED, lambda r: r["name"] in NAMES_IN)
        assert [r async for r in resource.rows(typed=True)] == rows_of(TYPED)
        assert [r async for r in resource.iter_csv(typed=True)] == rows_of(TYPED)
        with pytest.raises(UsageError, match="aggregations are not allowed"):
            [r async for r in resource.rows(Query().aggregate(count="sum"))]
        assert await resource.count(Query().filter(col("count") >= 8)) == 8


async def test_async_exports(tabular_peer: TabularPeer, tmp_path: Path) -> None:
    async with AsyncDataGouv(tabular_url=tabular_peer.base_url) as dg:
        big = AsyncTabularResource(dg, tabular_peer.resources["big"])
        with pytest.raises(ExportTooLargeError):
            await big.export(tmp_path / "big.csv")
        assert list(tmp_path.iterdir()) == []  # noqa: ASYNC240 (a test's assertion, not I/O under load)
        result = await big.export(tmp_path / "big.csv", via="auto")
        assert (result.via, result.rows) == ("pages", tabular_peer.rows["big"])
        paged = AsyncTabularResource(dg, tabular_peer.resources["paged"])
        streamed = await paged.export(tmp_path / "paged.csv", Query().filter(col("n") > 7), count_rows=True)
        rows = list(csv.DictReader(io.StringIO((tmp_path / "paged.csv").read_text())))
        assert streamed.rows == len(rows) == tabular_peer.rows["paged"] - 7
        assert sorted(p.name for p in tmp_path.iterdir()) == ["big.csv", "paged.csv"]  # noqa: ASYNC240


async def test_async_metrics(metrics_peer: MetricsPeer, tmp_path: Path) -> None:
    async with AsyncDataGouv(metrics_url=metrics_peer.base_url) as dg:
        model = AsyncMetricsModel(dg, "site")
        months = [r["metric_month"] async for r in model.rows(Query().sort("-metric_month"), limit=3)]
        assert months == sorted(metrics_peer.months, reverse=True)[:3]
        result = await model.export(tmp_path / "site.jsonl", format="jsonl", via="pages")
        assert result.rows == metrics_peer.rows["site"]
        with pytest.raises(UsageError, match="not offered by the Metrics API"):
            [r async for r in model.rows(Query().filter(metric_month__in=["2024-01"]))]


async def test_async_twins_answer_what_the_sync_handles_answer(
    tabular_peer: TabularPeer, metrics_peer: MetricsPeer
) -> None:
    # The methods the async side lacked before the shared core (count, iter_csv, schema on Metrics;
    # columns, swagger_schema on Tabular), and rows() as an AsyncPager like the sync SyncPager.
    urls: dict[str, Any] = {"tabular_url": tabular_peer.base_url, "metrics_url": metrics_peer.base_url}
    rid = tabular_peer.resources["typed"]
    q = Query().filter(col("metric_month") >= "2024-02")
    with DataGouv(**urls) as dg:
        model, resource = MetricsModel(dg, "site"), TabularResource(dg, rid)
        expected = (
            model.count(q),
            list(model.iter_csv(q)),
            model.schema(),
            resource.columns,
            resource.swagger_schema(),
            resource.rows(page_size=2).first_page().items,
        )
    async with AsyncDataGouv(**urls) as adg:
        amodel, aresource = AsyncMetricsModel(adg, "site"), AsyncTabularResource(adg, rid)
        pager = aresource.rows(page_size=2)
        assert isinstance(pager, AsyncPager)
        got = (
            await amodel.count(q),
            [row async for row in amodel.iter_csv(q)],
            await amodel.schema(),
            await aresource.columns(),
            await aresource.swagger_schema(),
            (await pager.first_page()).items,
        )
    assert got == expected
    assert expected[0] == len(expected[1]) > 0
