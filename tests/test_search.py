"""datagouv_sdk.search over a scripted v2 search (MockTransport): facets, the 10,000-result window
(stop with a warning, never a 400 mid-iteration, prefetch included), start pages past the window."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from urllib.parse import parse_qs

import httpx
import pytest
from datagouv_sdk import AsyncDataGouv, DataGouv, RetryPolicy, errors
from datagouv_sdk.search import SEARCH_WINDOW, Facet, SearchPage, SearchWindowWarning

FACETS = {"tag": [{"name": "all", "count": 25000}, {"name": "velo", "count": 12}], "license": []}


class Search:
    """A v2 /datasets/search/ with `total` results; like udata, a 400 past the window."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.pages: list[tuple[int, int]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/2/datasets/search/", request.url
        query = parse_qs(request.url.query.decode())
        page, size = int(query.get("page", ["1"])[0]), int(query.get("page_size", ["20"])[0])
        self.pages.append((page, size))
        if page * size > SEARCH_WINDOW:
            return httpx.Response(400, json={"message": "Result window is too large"})
        start = (page - 1) * size
        data = [
            {"id": f"d{i:05d}", "title": f"Dataset {i}"} for i in range(start, min(start + size, self.total))
        ]
        more = start + size < self.total
        nxt = f"http://main.test/api/2/datasets/search/?page={page + 1}&page_size={size}" if more else None
        body = {
            "data": data,
            "page": page,
            "page_size": size,
            "total": self.total,
            "next_page": nxt,
            "facets": FACETS,
        }
        return httpx.Response(200, json=body)


@pytest.fixture
def dg() -> Iterator[DataGouv]:
    with DataGouv(base_url="http://main.test", retry=RetryPolicy.none()) as client:
        yield client


def _client(search: Search) -> DataGouv:
    return DataGouv(
        base_url="http://main.test", retry=RetryPolicy.none(), transport=httpx.MockTransport(search)
    )


def test_a_search_stops_at_the_window_with_a_warning_saying_how_to_narrow() -> None:
    search = Search(total=25_000)
    with _client(search) as dg, pytest.warns(SearchWindowWarning, match=r"25,000 results matched.*narrow"):
        ids = [d["id"] for d in dg.datasets.search("velo", page_size=1000, raw=True)]
    assert len(ids) == SEARCH_WINDOW == len(set(ids))
    assert search.pages == [(n, 1000) for n in range(1, 11)]  # page 11 (a 400) never asked for


def test_prefetch_stays_inside_the_window() -> None:
    search = Search(total=25_000)
    with _client(search) as dg, pytest.warns(SearchWindowWarning):
        count = sum(1 for _ in dg.datasets.search(page_size=2000, prefetch=4, raw=True))
    assert count == SEARCH_WINDOW
    assert sorted(page for page, _ in search.pages) == [1, 2, 3, 4, 5]


def test_no_warning_when_everything_fits_or_a_limit_stops_first() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with _client(Search(total=45)) as dg:
            assert len(list(dg.datasets.search(page_size=20, raw=True))) == 45
        with _client(Search(total=25_000)) as dg:
            assert len(list(dg.datasets.search(page_size=100, limit=250, raw=True))) == 250
        with _client(Search(total=SEARCH_WINDOW)) as dg:  # exactly the window: complete, nothing to say
            assert len(list(dg.datasets.search(page_size=2500, raw=True))) == SEARCH_WINDOW


def test_a_start_page_past_the_window_is_refused_before_any_request() -> None:
    search = Search(total=25_000)
    with _client(search) as dg:
        with pytest.raises(errors.UsageError, match="last page of 20 is 500"):
            dg.datasets.search(page=501)
        with pytest.raises(errors.UsageError, match="last page of 100 is 100"):
            dg.datasets.search(page=101, page_size=100)
        with pytest.warns(SearchWindowWarning):
            assert len(list(dg.datasets.search(page=500, raw=True))) == 20  # the last page there is
    assert search.pages == [(500, 20)]


def test_facets_and_total_read_the_start_page_once() -> None:
    search = Search(total=25_000)
    with _client(search) as dg:
        pager = dg.datasets.search("velo", raw=True)
        assert pager.total() == 25_000
        assert pager.facets() == {"tag": [Facet("all", 25000), Facet("velo", 12)], "license": []}
        first = pager.first_page()
        assert isinstance(first, SearchPage) and first.facets["tag"][1].count == 12
    assert search.pages == [(1, 20)]


def test_search_page_window_arithmetic() -> None:
    page = SearchPage(items=[1], page=499, page_size=20, total=25_000, next_page="x", facets={})
    assert page.last_page == 500 and not page.window_reached and page.next_page_info() is not None
    last = SearchPage(items=[1], page=500, page_size=20, total=25_000, next_page="x", facets={})
    assert last.window_reached and last.next_page_info() is None
    small = SearchPage(items=[1], page=1, page_size=20, total=30, next_page="x", facets={})
    assert small.last_page == 2


async def test_async_search_stops_at_the_window_too() -> None:
    search = Search(total=12_345)
    async with AsyncDataGouv(
        base_url="http://main.test", retry=RetryPolicy.none(), transport=httpx.MockTransport(search)
    ) as adg:
        pager = adg.datasets.search("velo", page_size=5000, raw=True)
        assert await pager.total() == 12_345
        assert (await pager.facets())["tag"][0] == Facet("all", 25000)
        with pytest.warns(SearchWindowWarning, match="12,345 results matched"):
            ids = [d["id"] async for d in pager]
    assert len(ids) == SEARCH_WINDOW
    assert [page for page, _ in search.pages] == [1, 2]  # the start page was fetched once


def test_collections_without_a_search_say_so(dg: DataGouv) -> None:
    with pytest.raises(errors.UsageError, match=r"dg\.users has no search"):
        dg.users.search("x")
