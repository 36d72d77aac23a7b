"""One Page protocol, the page kinds data.gouv.fr uses, and sync/async pagers over them.

The three APIs page in two ways:

- Main API (udata): ``page``/``page_size``/``total``/``next_page``. We page by *number* through the
  generated functions (typed items) and use ``next_page`` only as "is there more". A page past the end
  answers 404: while paging that just means the end; a page the caller asked for explicitly (the start
  page) raises ``NotFoundError``.
- Metrics and Tabular (api_tabular): ``data``, ``links.next`` and
  ``meta.page``/``page_size``/``total`` (Tabular drops ``total`` for aggregations). `link_pager`
  takes only the page number from ``links.next`` and renders the rest itself (``render_url(n)``,
  relative to the client's base URL): the servers write their links from the decoded query, which
  does not round-trip every value, and from their configured ``SERVER_NAME``, so a misconfigured (or
  hostile) server can neither alter the query nor send the pager to another host. The page size
  limit is the caller's (`tabular.max_page_size`).

A pager (``SyncPager`` / ``AsyncPager``) takes a ``fetch(PageInfo) -> Page`` function and gives
item iteration, ``iter_pages()``, ``first_page()``, a ``limit`` on items, and opt-in bounded
``prefetch`` of listings with a known total (threads for sync, tasks for async), yielding pages in
order and each item once. Prefetched pages are asked for by number (``page=N``, which both styles
accept); the links are followed again once past the total (the listing grew).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Hashable,
    Iterator,
    Mapping,
    Sequence,
)
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, Protocol, TypedDict, TypeVar, Unpack, overload

import attrs
import httpx

from datagouv_sdk import errors
from datagouv_sdk.errors import _int_or_none
from datagouv_sdk.generated_types import unset_type

__all__ = [
    "AsyncPager",
    "LinkPage",
    "LinkPagerOptions",
    "NumberedPage",
    "Page",
    "PageInfo",
    "SyncPager",
    "link_fetch",
    "link_pager",
    "page_number",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
F = TypeVar("F")


def _identity(value: Any) -> Any:
    return value


@attrs.frozen
class PageInfo:
    """Where the next page is: a page number (Main API) or a link to follow (Metrics/Tabular)."""

    page: int | None = None
    url: str | None = None


class Page(Protocol[T_co]):
    """What every page kind offers; pagers need nothing else."""

    @property
    def items(self) -> Sequence[T_co]: ...

    @property
    def total(self) -> int | None: ...

    @property
    def page(self) -> int: ...

    @property
    def page_size(self) -> int: ...

    @property
    def last_page(self) -> int | None: ...

    def next_page_info(self) -> PageInfo | None: ...


@attrs.frozen
class _Counted(Generic[T]):
    """What every page holds: its items, where it stands, and the listing's total when known."""

    items: Sequence[T]
    page: int
    page_size: int
    total: int | None

    @property
    def last_page(self) -> int | None:
        """The last page number implied by ``total`` (None when unknown, e.g. aggregations)."""
        if self.total is None or self.page_size <= 0:
            return None
        return max(1, math.ceil(self.total / self.page_size))


def _counted(data: Any, get: Callable[[str], Any], item: Callable[[Any], Any]) -> dict[str, Any]:
    """The `_Counted` fields of a page body: its items (`data`), and ``page``, ``page_size`` and
    ``total`` read with `get`."""
    data = _items(data)
    return {
        "items": [item(d) for d in data],
        "page": _int_or_none(get("page")) or 1,
        "page_size": _int_or_none(get("page_size")) or len(data),
        "total": _int_or_none(get("total")),
    }


@attrs.frozen
class NumberedPage(_Counted[T]):
    """A Main API (udata) page: ``page``, ``page_size``, ``total``, ``next_page``."""

    next_page: str | None

    def next_page_info(self) -> PageInfo | None:
        # udata sets next_page to null on the last page; an empty page also ends the listing.
        if self.next_page is None or not self.items:
            return None
        return PageInfo(page=self.page + 1)

    @classmethod
    def from_body(cls, body: Any, item: Callable[[Any], T] = _identity) -> NumberedPage[T]:
        """Build from a decoded udata page body (dict) or a generated ``*Page`` model."""
        get = _getter(body)
        return cls(**_counted(get("data"), get, item), next_page=_str_or_none(get("next_page")))


@attrs.frozen
class LinkPage(_Counted[T]):
    """A Metrics or Tabular page: ``data``, ``links.next``, ``meta.page``/``page_size``/``total``."""

    next_url: str | None

    def next_page_info(self) -> PageInfo | None:
        if self.next_url is None or not self.items:
            return None
        return PageInfo(url=self.next_url)

    @classmethod
    def from_body(cls, body: Any, item: Callable[[Any], T] = _identity) -> LinkPage[T]:
        if not isinstance(body, Mapping):
            raise errors.DataGouvError(f"expected a paginated JSON object, got {type(body).__name__}")
        links = body.get("links") or {}
        meta = body.get("meta") or {}
        return cls(**_counted(body.get("data"), meta.get, item), next_url=_str_or_none(links.get("next")))


class _PagerCore(Generic[T, F]):
    """What both pagers share: the arguments, which pages to prefetch, which items to yield."""

    def __init__(
        self,
        fetch: F,
        *,
        start: PageInfo | None = None,
        limit: int | None = None,
        prefetch: int = 0,
        key: Callable[[T], Hashable | None] | None = None,
    ) -> None:
        if limit is not None and limit < 0:
            raise errors.UsageError(f"limit must be >= 0, got {limit}")
        if prefetch < 0:
            raise errors.UsageError(f"prefetch must be >= 0, got {prefetch}")
        self._fetch = fetch
        self._start = start or PageInfo(page=1)
        self.limit = limit
        self.prefetch = prefetch
        self._key = key

    def _window(self, first: Page[T]) -> Iterator[int] | None:
        """The page numbers to prefetch after `first` (None: page one at a time). Up to the listing's
        last page, or fewer when ``limit`` is reached sooner (later pages, if still needed, come one
        at a time)."""
        if self.prefetch < 2 or first.last_page is None or first.next_page_info() is None:
            return None
        last = first.last_page
        if self.limit is not None and first.page_size > 0:
            missing = max(0, self.limit - len(first.items))
            last = min(last, first.page + math.ceil(missing / first.page_size))
        return iter(range(first.page + 1, last + 1))

    def _selection(self) -> _Selection[T]:
        return _Selection(self.limit, self._key)


class _Selection(Generic[T]):
    """Which items a pager yields: each key once (an item that moves across a page boundary while
    paging comes out once; items without a key are never dropped), and no more than ``limit``."""

    def __init__(self, limit: int | None, key: Callable[[T], Hashable | None] | None) -> None:
        self._limit, self._key = limit, key
        self._seen: set[Hashable] = set()
        self._count = 0

    def fresh(self, item: T) -> bool:
        k = self._key(item) if self._key is not None else None
        if k is None:
            return True
        if k in self._seen:
            return False
        self._seen.add(k)
        return True

    def full_after_one_more(self) -> bool:
        """Count an item yielded; True when it was the last one ``limit`` allows."""
        self._count += 1
        return self._limit is not None and self._count >= self._limit


class SyncPager(_PagerCore[T, Callable[[PageInfo], Page[T]]]):
    """Iterate the items (or pages) of a listing. Pages are fetched lazily, as iteration needs them.

    ``fetch`` gets a ``PageInfo`` and returns a page; ``start`` is the first page asked for.
    ``limit`` caps the number of items yielded. ``prefetch=N`` (N >= 2) fetches up to N pages of a
    listing with a known total concurrently, in threads, yielding them in order; ``fetch`` must then
    accept ``PageInfo(page=N)``.
    ``key`` (e.g. the item id; None for "no key") drops an item already yielded: an item that moves
    across a page boundary while paging (the collection changed) then comes out once.
    """

    def first_page(self) -> Page[T]:
        """The start page (errors, including 404, are raised: it was asked for explicitly)."""
        return self._fetch(self._start)

    def iter_pages(self) -> Iterator[Page[T]]:
        """Every page from the start page on; a 404 past the start page ends the listing."""
        page = self.first_page()
        yield page
        numbers = self._window(page)
        yield from self._sequential(page) if numbers is None else self._prefetched(page, numbers)

    def __iter__(self) -> Iterator[T]:
        if self.limit == 0:
            return
        selection = self._selection()
        for page in self.iter_pages():
            for item in page.items:
                if selection.fresh(item):
                    yield item
                    if selection.full_after_one_more():
                        return

    def _next(self, info: PageInfo) -> Page[T] | None:
        try:
            return self._fetch(info)
        except errors.NotFoundError:
            return None  # past the end: udata answers 404 for a page beyond the last one

    def _sequential(self, page: Page[T]) -> Iterator[Page[T]]:
        info = page.next_page_info()
        while info is not None:
            nxt = self._next(info)
            if nxt is None:
                return
            yield nxt
            info = nxt.next_page_info()

    def _prefetched(self, first: Page[T], numbers: Iterator[int]) -> Iterator[Page[T]]:
        pending: deque[Future[Page[T] | None]] = deque()
        current: Page[T] = first
        pool = ThreadPoolExecutor(max_workers=self.prefetch, thread_name_prefix="datagouv-prefetch")
        try:
            for n in numbers:
                pending.append(pool.submit(self._next, PageInfo(page=n)))
                if len(pending) >= self.prefetch:
                    break
            while pending:
                result = pending.popleft().result()
                if result is None:
                    return
                current = result
                yield result
                if result.next_page_info() is None:
                    return
                for n in numbers:
                    pending.append(pool.submit(self._next, PageInfo(page=n)))
                    break
        finally:
            # Stopped early (limit, break, error): drop queued pages, do not wait for running ones.
            pool.shutdown(wait=False, cancel_futures=True)
        # The collection grew after the first page: go on one page at a time.
        yield from self._sequential(current)


class AsyncPager(_PagerCore[T, Callable[[PageInfo], Awaitable[Page[T]]]]):
    """The async twin of ``SyncPager``: ``async for item in pager``, ``pager.iter_pages()``;
    prefetch runs up to N fetches as tasks."""

    async def first_page(self) -> Page[T]:
        return await self._fetch(self._start)

    async def iter_pages(self) -> AsyncGenerator[Page[T], None]:
        page = await self.first_page()
        yield page
        numbers = self._window(page)
        async for p in self._sequential(page) if numbers is None else self._prefetched(page, numbers):
            yield p

    async def __aiter__(self) -> AsyncIterator[T]:
        if self.limit == 0:
            return
        selection = self._selection()
        pages = self.iter_pages()
        try:
            async for page in pages:
                for item in page.items:
                    if selection.fresh(item):
                        yield item
                        if selection.full_after_one_more():
                            return
        finally:
            await pages.aclose()

    async def to_list(self) -> list[T]:
        """All items (up to ``limit``) in a list."""
        return [item async for item in self]

    async def _next(self, info: PageInfo) -> Page[T] | None:
        try:
            return await self._fetch(info)
        except errors.NotFoundError:
            return None

    async def _sequential(self, page: Page[T]) -> AsyncIterator[Page[T]]:
        info = page.next_page_info()
        while info is not None:
            nxt = await self._next(info)
            if nxt is None:
                return
            yield nxt
            info = nxt.next_page_info()

    async def _prefetched(self, first: Page[T], numbers: Iterator[int]) -> AsyncIterator[Page[T]]:
        import asyncio  # only async prefetch needs it: sync users do not pay its import

        pending: deque[asyncio.Task[Page[T] | None]] = deque()
        current: Page[T] = first
        try:
            for n in numbers:
                pending.append(asyncio.ensure_future(self._next(PageInfo(page=n))))
                if len(pending) >= self.prefetch:
                    break
            while pending:
                result = await pending.popleft()
                if result is None:
                    return
                current = result
                yield result
                if result.next_page_info() is None:
                    return
                for n in numbers:
                    pending.append(asyncio.ensure_future(self._next(PageInfo(page=n))))
                    break
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        async for p in self._sequential(current):
            yield p


# --- Metrics / Tabular: links-paginated listings ----------------------------------------------------


def link_fetch(
    http: httpx.Client | httpx.AsyncClient, render_url: Callable[[int], str], item: Any = None
) -> Callable[[PageInfo], Any]:
    """The page fetcher of a Metrics/Tabular listing: GET ``render_url(n)`` (relative to
    ``http.base_url``) for page n, map the status, decode; a coroutine function for an AsyncClient.
    Items are plain dicts unless ``item`` converts them."""
    convert: Callable[[Any], Any] = item or _identity
    if isinstance(http, httpx.AsyncClient):
        ahttp = http

        async def afetch(info: PageInfo) -> Page[Any]:
            response = await ahttp.get(render_url(page_number(info)))
            await errors.araise_for_status(response)
            return LinkPage.from_body(errors.decode_json(response), convert)

        return afetch

    def fetch(info: PageInfo) -> Page[Any]:
        response = http.get(render_url(page_number(info)))
        errors.raise_for_status(response)
        return LinkPage.from_body(errors.decode_json(response), convert)

    return fetch


class LinkPagerOptions(TypedDict, total=False):
    """The keywords of `link_pager`: ``start`` page (1), ``limit``, ``prefetch`` (0), ``item`` (a
    converter of each item; default: plain dicts)."""

    start: int
    limit: int | None
    prefetch: int
    item: Callable[[Any], Any] | None


@overload
def link_pager(
    http: httpx.Client, render_url: Callable[[int], str], **options: Unpack[LinkPagerOptions]
) -> SyncPager[Any]: ...
@overload
def link_pager(
    http: httpx.AsyncClient, render_url: Callable[[int], str], **options: Unpack[LinkPagerOptions]
) -> AsyncPager[Any]: ...
def link_pager(
    http: httpx.Client | httpx.AsyncClient,
    render_url: Callable[[int], str],
    *,
    start: int = 1,
    limit: int | None = None,
    prefetch: int = 0,
    item: Any = None,
) -> Any:
    """A pager over a Metrics/Tabular listing (a `SyncPager`, or an `AsyncPager` for an AsyncClient):
    ``render_url(n)`` is the path and query of page n, e.g.
    ``lambda n: f"api/site/data/?{query.query_string(page=n, page_size=50)}"``."""
    pager: type[Any] = AsyncPager if isinstance(http, httpx.AsyncClient) else SyncPager
    return pager(
        link_fetch(http, render_url, item), start=PageInfo(page=start), limit=limit, prefetch=prefetch
    )


def page_number(info: PageInfo) -> int:
    """The page a `PageInfo` asks for: its number, or the ``page`` parameter of its link."""
    if info.page is not None:
        return info.page
    value = httpx.URL(info.url or "").params.get("page")
    try:
        return int(value) if value is not None else 1
    except ValueError as exc:
        raise errors.ResponseDecodeError(f"links.next has no usable page number: {info.url}") from exc


def _items(data: Any) -> list[Any]:
    """A page's items. Lenient models keep a `data` that is not a list as sent; a listing cannot go
    on from there, so that one case is an error (the rest of a page's metadata is read leniently)."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise errors.ResponseDecodeError(
            f"a page whose `data` is {type(data).__name__} {data!r:.80}, not a list of items"
        )
    return data


def _getter(body: Any) -> Callable[[str], Any]:
    if isinstance(body, Mapping):
        return body.get
    unset = unset_type(type(body).__module__.partition(".")[0])

    def get(name: str) -> Any:
        value = getattr(body, name, None)
        # Generated models use their package's UNSET sentinel for absent fields.
        return None if unset is not None and isinstance(value, unset) else value

    return get


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)
