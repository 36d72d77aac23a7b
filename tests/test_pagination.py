"""The pager algorithms, over in-memory listings (the real servers are in test_pagination_*peer*.py)."""

from __future__ import annotations

import asyncio
import threading
import time
import types
from typing import Any

import httpx
import pytest
from datagouv_sdk import errors
from datagouv_sdk.pagination import (
    AsyncPager,
    LinkPage,
    NumberedPage,
    PageInfo,
    SyncPager,
    link_pager,
    page_number,
)


class Listing:
    """A udata-like numbered listing of `n` items: 404 past the last page, like the real server."""

    def __init__(self, n: int, page_size: int, delay: float = 0.0) -> None:
        self.items = [{"id": f"id-{i}"} for i in range(n)]
        self.page_size = page_size
        self.delay = delay
        self.calls: list[int] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()

    def body(self, page: int) -> dict[str, Any]:
        start = (page - 1) * self.page_size
        if page > 1 and start >= len(self.items):
            raise errors.NotFoundError("past the end", response=_response(404))
        data = self.items[start : start + self.page_size]
        more = start + self.page_size < len(self.items)
        return {
            "data": data,
            "page": page,
            "page_size": self.page_size,
            "total": len(self.items),
            "next_page": f"http://x/?page={page + 1}" if more else None,
        }

    def fetch(self, info: PageInfo) -> NumberedPage[Any]:
        assert info.page is not None
        with self._lock:
            self.calls.append(info.page)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                time.sleep(self.delay)
            return NumberedPage.from_body(self.body(info.page))
        finally:
            with self._lock:
                self.in_flight -= 1

    async def afetch(self, info: PageInfo) -> NumberedPage[Any]:
        assert info.page is not None
        self.calls.append(info.page)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            return NumberedPage.from_body(self.body(info.page))
        finally:
            self.in_flight -= 1


def _response(status: int) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("GET", "http://x/"))


def ids(items: Any) -> list[str]:
    return [i["id"] for i in items]


def test_items_across_pages_in_order() -> None:
    listing = Listing(23, 5)
    assert ids(SyncPager(listing.fetch)) == [f"id-{i}" for i in range(23)]
    assert listing.calls == [1, 2, 3, 4, 5]  # next_page null on page 5: no 6th request


def test_limit_stops_fetching() -> None:
    listing = Listing(23, 5)
    assert ids(SyncPager(listing.fetch, limit=7)) == [f"id-{i}" for i in range(7)]
    assert listing.calls == [1, 2]
    assert list(SyncPager(listing.fetch, limit=0)) == []


def test_start_page() -> None:
    listing = Listing(23, 5)
    assert ids(SyncPager(listing.fetch, start=PageInfo(page=5))) == [f"id-{i}" for i in range(20, 23)]


def test_explicit_page_past_the_end_raises_but_paging_past_the_end_ends() -> None:
    listing = Listing(10, 5)
    with pytest.raises(errors.NotFoundError):
        list(SyncPager(listing.fetch, start=PageInfo(page=3)))

    # A listing that shrank while paging: page 2 announced, then gone (404) → the end, not an error.
    def shrinking(info: PageInfo) -> NumberedPage[Any]:
        if info.page == 1:
            return NumberedPage.from_body(listing.body(1))
        raise errors.NotFoundError("gone", response=_response(404))

    assert len(list(SyncPager(shrinking))) == 5


def test_key_drops_an_item_seen_on_an_earlier_page() -> None:
    pages = {1: [{"id": "a"}, {"id": "b"}], 2: [{"id": "b"}, {"id": "c"}]}

    def fetch(info: PageInfo) -> NumberedPage[Any]:
        assert info.page is not None
        nxt = "more" if info.page == 1 else None
        return NumberedPage(items=pages[info.page], page=info.page, page_size=2, total=4, next_page=nxt)

    assert ids(SyncPager(fetch)) == ["a", "b", "b", "c"]
    assert ids(SyncPager(fetch, key=lambda d: d["id"])) == ["a", "b", "c"]


@pytest.mark.parametrize("prefetch", [2, 4, 8])
def test_prefetch_keeps_order_yields_each_item_once_and_bounds_concurrency(prefetch: int) -> None:
    listing = Listing(53, 5, delay=0.02)
    got = ids(SyncPager(listing.fetch, prefetch=prefetch))
    assert got == [f"id-{i}" for i in range(53)]
    assert sorted(listing.calls) == list(range(1, 12))  # every page fetched exactly once
    assert 2 <= listing.max_in_flight <= prefetch


def test_prefetch_is_faster_than_sequential() -> None:
    seq, pre = Listing(40, 5, delay=0.03), Listing(40, 5, delay=0.03)
    t0 = time.perf_counter()
    list(SyncPager(seq.fetch))
    t_seq = time.perf_counter() - t0
    t0 = time.perf_counter()
    list(SyncPager(pre.fetch, prefetch=4))
    t_pre = time.perf_counter() - t0
    assert t_pre < t_seq * 0.7, (t_seq, t_pre)


def test_prefetch_with_limit_fetches_only_the_pages_needed() -> None:
    listing = Listing(100, 5, delay=0.01)
    assert len(list(SyncPager(listing.fetch, prefetch=4, limit=12))) == 12
    assert sorted(listing.calls) == [1, 2, 3]  # 12 items = 3 pages of 5, however wide the window


def test_prefetch_with_limit_and_duplicates_goes_on_past_the_estimate() -> None:
    listing = Listing(30, 5)
    listing.items[5] = listing.items[4]  # page 2 repeats the last item of page 1: dropped by the key
    got = ids(SyncPager(listing.fetch, prefetch=4, limit=10, key=lambda d: d["id"]))
    assert len(got) == 10 == len(set(got)) and sorted(listing.calls) == [1, 2, 3]


def test_bad_arguments_are_usage_errors() -> None:
    with pytest.raises(errors.UsageError):
        SyncPager(Listing(1, 1).fetch, limit=-1)
    with pytest.raises(errors.UsageError):
        SyncPager(Listing(1, 1).fetch, prefetch=-2)


async def test_async_pager_items_limit_and_prefetch() -> None:
    listing = Listing(23, 5, delay=0.01)
    assert [i["id"] async for i in AsyncPager(listing.afetch)] == [f"id-{i}" for i in range(23)]
    assert len(await AsyncPager(listing.afetch, limit=6).to_list()) == 6

    pre = Listing(53, 5, delay=0.02)
    got = [i["id"] async for i in AsyncPager(pre.afetch, prefetch=4)]
    assert got == [f"id-{i}" for i in range(53)]
    assert sorted(pre.calls) == list(range(1, 12))
    assert 2 <= pre.max_in_flight <= 4

    with pytest.raises(errors.NotFoundError):
        await AsyncPager(Listing(5, 5).afetch, start=PageInfo(page=2)).to_list()


def test_link_page_from_body_and_rebased_next_link() -> None:
    page = LinkPage.from_body(
        {
            "data": [{"a": 1}],
            "links": {"next": "http://elsewhere.example/api/x/?page=2&page_size=1", "prev": None},
            "meta": {"page": 1, "page_size": 1, "total": 2},
        },
        lambda d: d,
    )
    assert page.total == 2 and page.next_page_info() == PageInfo(
        url="http://elsewhere.example/api/x/?page=2&page_size=1"
    )
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        # Only loopback is ever contacted, even though the server's link names another host.
        seen.append(str(request.url))
        n = int(request.url.params.get("page", "1"))
        nxt = f"http://elsewhere.example/api/x/?page={n + 1}&page_size=1" if n < 3 else None
        return httpx.Response(200, json={"data": [{"n": n}], "links": {"next": nxt}, "meta": {"page": n}})

    with httpx.Client(base_url="http://127.0.0.1:9", transport=httpx.MockTransport(handler)) as http:
        pager: SyncPager[dict[str, Any]] = link_pager(http, lambda n: f"/api/x/?page={n}&page_size=1")
        assert [row["n"] for row in pager] == [1, 2, 3]
    assert all(url.startswith("http://127.0.0.1:9/api/x/") for url in seen), seen


def test_link_pager_takes_only_the_page_number_from_the_link() -> None:
    # api_tabular writes links.next from the decoded query: a value with "&" or "+" would come back
    # altered. The pager keeps the query it was given and follows the page number only.
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.query.decode())
        n = int(request.url.params["page"])
        nxt = f"http://127.0.0.1:9/api/x/?name__exact=a b&page={n + 1}" if n < 2 else None
        return httpx.Response(200, json={"data": [{"n": n}], "links": {"next": nxt}, "meta": {"page": n}})

    def render(n: int) -> str:
        return f"/api/x/?name__exact=a%26b%2Bc&page={n}"

    with httpx.Client(base_url="http://127.0.0.1:9", transport=httpx.MockTransport(handler)) as http:
        pager: SyncPager[dict[str, Any]] = link_pager(http, render, start=1)
        assert [row["n"] for row in pager] == [1, 2]
    assert seen == ["name__exact=a%26b%2Bc&page=1", "name__exact=a%26b%2Bc&page=2"]
    assert page_number(PageInfo(url="http://h/x?page=7")) == 7 and page_number(PageInfo(page=3)) == 3
    with pytest.raises(errors.ResponseDecodeError, match="no usable page number"):
        page_number(PageInfo(url="http://h/x?page=last"))


async def test_async_link_pager_is_the_same_function() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params["page"])
        nxt = f"/api/x/?page={n + 1}" if n < 3 else None
        return httpx.Response(200, json={"data": [{"n": n}], "links": {"next": nxt}, "meta": {"page": n}})

    async with httpx.AsyncClient(
        base_url="http://127.0.0.1:9", transport=httpx.MockTransport(handler)
    ) as http:
        pager = link_pager(http, lambda n: f"/api/x/?page={n}", start=2, item=lambda row: row["n"])
        assert isinstance(pager, AsyncPager) and await pager.to_list() == [2, 3]


def test_items_without_a_key_are_never_dropped() -> None:
    page = NumberedPage(items=[{"v": 1}, {"v": 1}], page=1, page_size=2, total=2, next_page=None)
    assert len(list(SyncPager(lambda info: page, key=lambda d: d.get("id")))) == 2


def test_stopping_early_does_not_wait_for_pages_in_flight() -> None:
    listing = Listing(100, 5)

    def fetch(info: PageInfo) -> NumberedPage[Any]:
        time.sleep(0.05 if (info.page or 0) <= 2 else 1.0)  # pages 3+ are slow
        return listing.fetch(info)

    started = time.perf_counter()
    assert len(list(SyncPager(fetch, prefetch=4, limit=7))) == 7  # needs pages 1 and 2 only
    assert time.perf_counter() - started < 0.6  # pages 3-5 (in flight) were not waited for


def test_numbered_page_reads_each_generated_package_unset_as_absent() -> None:
    # Each generated package has its own types.Unset; the pager knows them by package, not by name.
    from datagouv_main.models.dataset_page import DatasetPage
    from datagouv_main_v2.models.dataset_page import DatasetPage as DatasetPageV2

    for model in (DatasetPage(page=2, page_size=10, total=0), DatasetPageV2(page=2, page_size=10, total=0)):
        page: NumberedPage[object] = NumberedPage.from_body(model)
        assert (page.page, page.items, page.next_page) == (2, [], None)
        assert page.next_page_info() is None


def test_a_value_of_a_class_named_unset_elsewhere_is_a_value() -> None:
    class Unset:  # not a generated package's sentinel
        def __str__(self) -> str:
            return "http://x.test/?page=3"

    body = types.SimpleNamespace(data=[{"id": "a"}], page=2, page_size=1, total=5, next_page=Unset())
    page = NumberedPage.from_body(body, lambda d: d)
    assert page.next_page == "http://x.test/?page=3" and page.next_page_info() == PageInfo(page=3)
