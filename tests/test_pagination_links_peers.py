"""links.next pagination against the real api_tabular apps (Metrics and Tabular), sync and async."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from datagouv_sdk import AsyncDataGouv, DataGouv, errors
from datagouv_sdk.pagination import AsyncPager, LinkPage, SyncPager, link_pager
from datagouv_sdk.tabular import AsyncMetricsModel, MetricsModel

from tests.peers.clients import MAIN_UNUSED

Row = dict[str, Any]


def at(path: str, **params: Any) -> Callable[[int], str]:
    """render_url for `link_pager`: `path` with `params` and the page number."""
    return lambda page: str(httpx.URL(path, params={**params, "page": page}))


def row_pager(http: httpx.Client, render_url: Callable[[int], str], **options: Any) -> SyncPager[Row]:
    """`link_pager` without `item`: the rows as the server sent them (typed for mypy)."""
    pager: SyncPager[Row] = link_pager(http, render_url, **options)
    return pager


def arow_pager(http: httpx.AsyncClient, render_url: Callable[[int], str], **options: Any) -> AsyncPager[Row]:
    pager: AsyncPager[Row] = link_pager(http, render_url, **options)
    return pager


def test_tabular_rows_across_pages_each_once(tabular_dg: DataGouv, tabular_peer: Any) -> None:
    rid = tabular_peer.resources["paged"]
    expected = tabular_peer.rows["paged"]
    pages = list(
        row_pager(tabular_dg.http("tabular"), at(f"/api/resources/{rid}/data/", page_size=7)).iter_pages()
    )
    assert all(isinstance(p, LinkPage) for p in pages)
    assert len(pages) == -(-expected // 7)
    last = pages[-1]
    assert isinstance(last, LinkPage) and last.next_url is None and last.next_page_info() is None
    assert all(isinstance(p, LinkPage) and p.next_url is not None for p in pages[:-1])
    ids = [row["__id"] for p in pages for row in p.items]
    assert len(ids) == expected == len(set(ids))


def test_tabular_limit_start_page_and_filters(tabular_dg: DataGouv, tabular_peer: Any) -> None:
    rid = tabular_peer.resources["paged"]
    http = tabular_dg.http("tabular")
    assert len(list(row_pager(http, at(f"/api/resources/{rid}/data/", page_size=5), limit=12))) == 12
    rows = list(row_pager(http, at(f"/api/resources/{rid}/data/", page_size=5), start=2))
    assert len(rows) == tabular_peer.rows["paged"] - 5
    assert rows[0]["__id"] == 6 or rows[0]["__id"] > 5


def test_page_size_above_the_servers_limit_is_named_then_refused_before_any_request(
    tabular_dg: DataGouv, metrics_peer: Any
) -> None:
    sent: list[httpx.Request] = []
    with DataGouv(base_url="http://127.0.0.1:9/unused", metrics_url=metrics_peer.base_url) as dg:
        dg.http("metrics").event_hooks["request"].append(sent.append)
        with pytest.raises(errors.UsageError, match="maximum of 50"):
            list(MetricsModel(dg, "site").rows(page_size=51, validate=False))
        assert len(sent) == 1  # the server's own 400 named the limit (production's Metrics: 50)
        with pytest.raises(errors.UsageError, match="page_size=51"):
            MetricsModel(dg, "site").rows(page_size=51, validate=False)
    with httpx.Client(base_url=metrics_peer.base_url, event_hooks={"request": [sent.append]}) as http:
        # And the server refuses it indeed: the limit is real.
        response = http.get("/api/site/data/", params={"page_size": 51})
    assert response.status_code == 400 and len(sent) == 2


def test_tabular_errors_come_through_typed(tabular_dg: DataGouv, tabular_peer: Any) -> None:
    with pytest.raises(errors.NotFoundError):
        list(
            row_pager(
                tabular_dg.http("tabular"), at(f"/api/resources/{tabular_peer.resources['missing']}/data/")
            )
        )
    with pytest.raises(errors.GoneError):
        list(
            row_pager(
                tabular_dg.http("tabular"), at(f"/api/resources/{tabular_peer.resources['deleted']}/data/")
            )
        )


def test_metrics_rows_across_pages(tabular_dg: DataGouv, metrics_peer: Any) -> None:
    model = "site" if "site" in metrics_peer.rows else next(iter(metrics_peer.rows))
    expected = metrics_peer.rows[model]
    pager = row_pager(
        tabular_dg.http("metrics"), at(f"/api/{model}/data/", page_size=10, metric_month__sort="asc")
    )
    first = pager.first_page()
    assert first.total == expected
    pages = list(pager.iter_pages())
    assert isinstance(pages[-1], LinkPage) and pages[-1].next_url is None
    ids = [row["__id"] for p in pages for row in p.items]
    assert len(ids) == expected == len(set(ids))


async def test_async_links_tabular_and_metrics(tabular_peer: Any, metrics_peer: Any) -> None:
    rid = tabular_peer.resources["paged"]
    async with AsyncDataGouv(
        base_url=MAIN_UNUSED, metrics_url=metrics_peer.base_url, tabular_url=tabular_peer.base_url
    ) as adg:
        rows = await arow_pager(adg.http("tabular"), at(f"/api/resources/{rid}/data/", page_size=9)).to_list()
        assert len(rows) == tabular_peer.rows["paged"] == len({r["__id"] for r in rows})
        model = "site" if "site" in metrics_peer.rows else next(iter(metrics_peer.rows))
        metrics = [r async for r in arow_pager(adg.http("metrics"), at(f"/api/{model}/data/", page_size=50))]
        assert len(metrics) == metrics_peer.rows[model]
        with pytest.raises(errors.UsageError, match="maximum of 50"):  # named by the server's 400
            await AsyncMetricsModel(adg, model).rows(page_size=100).to_list()
        with pytest.raises(errors.UsageError, match="maximum of 50"):  # now known: before sending
            AsyncMetricsModel(adg, model).rows(page_size=100)


def test_prefetch_over_links_keeps_order(tabular_dg: DataGouv, tabular_peer: Any, metrics_peer: Any) -> None:
    rid = tabular_peer.resources["paged"]
    render = at(f"/api/resources/{rid}/data/", page_size=10, __id__sort="asc")
    sequential = [r["__id"] for r in row_pager(tabular_dg.http("tabular"), render)]
    prefetched = [r["__id"] for r in row_pager(tabular_dg.http("tabular"), render, prefetch=4)]
    assert prefetched == sequential and len(prefetched) == tabular_peer.rows["paged"] == len(set(prefetched))
    limited = [r["__id"] for r in row_pager(tabular_dg.http("tabular"), render, prefetch=4, limit=25)]
    assert limited == sequential[:25]


async def test_async_prefetch_over_links(tabular_peer: Any, metrics_peer: Any) -> None:
    async with AsyncDataGouv(
        base_url=MAIN_UNUSED, metrics_url=metrics_peer.base_url, tabular_url=tabular_peer.base_url
    ) as adg:
        render = at("/api/datasets/data/", page_size=5, __id__sort="asc")
        sequential = await arow_pager(adg.http("metrics"), render).to_list()
        prefetched = await arow_pager(adg.http("metrics"), render, prefetch=3).to_list()
    assert [r["__id"] for r in prefetched] == [r["__id"] for r in sequential]
    assert len(prefetched) == metrics_peer.rows["datasets"]
