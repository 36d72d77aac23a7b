"""The Main API v2 search (udata's Elasticsearch): its pages, their facets, and its 10,000-result window.

`dg.datasets.search(q, **filters)` (and reuses, dataservices, organizations, topics, discussions,
posts) returns a `SearchPager`: items in relevance order (or ``sort=``), `facets()` (the counts per
filter value udata computes for the query: ``{"organization_id_with_name": [Facet("…", 12), …]}``,
each list starting with the ``all`` bucket), `total()`. Unlike ``list`` (an exact MongoDB listing,
every object, stable order), search ranks, stems and folds accents, but only ever returns the first
10,000 results of a query: udata answers 400 past that window. The pager knows it: it stops at the
window, says so once with a `SearchWindowWarning` (how many results the query had, and how to narrow
it), and never asks for a page it would refuse (a start page past the window is a `UsageError`).
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncGenerator, Iterator, Mapping
from typing import Any, TypeVar

import attrs

from datagouv_sdk import errors
from datagouv_sdk.pagination import AsyncPager, NumberedPage, Page, PageInfo, SyncPager

__all__ = [
    "SEARCH_WINDOW",
    "AsyncSearchPager",
    "Facet",
    "SearchPage",
    "SearchPager",
    "SearchWindowWarning",
    "check_start",
]

# udata's ES_MAX_RESULT_WINDOW (Elasticsearch's index.max_result_window): page * page_size beyond it
# is refused with a 400.
SEARCH_WINDOW = 10_000
DEFAULT_PAGE_SIZE = 20  # udata's search default

T = TypeVar("T")


class SearchWindowWarning(UserWarning):
    """A search stopped at the 10,000-result window: more results matched than it can return."""


@attrs.frozen
class Facet:
    """One bucket of a facet: a filter value and how many results of the query have it."""

    name: str
    count: int


def _facets(raw: Any) -> dict[str, list[Facet]]:
    if raw is None:
        return {}
    to_dict = getattr(raw, "to_dict", None)
    data = to_dict() if callable(to_dict) and not isinstance(raw, Mapping) else raw
    if not isinstance(data, Mapping):
        return {}
    out: dict[str, list[Facet]] = {}
    for name, buckets in data.items():
        if isinstance(buckets, list):
            out[str(name)] = [
                Facet(str(b.get("name")), int(b.get("count") or 0)) for b in buckets if isinstance(b, Mapping)
            ]
    return out


def window_message(total: int | None, kind: str = "results") -> str:
    matched = f"{total:,} {kind} matched" if total is not None else "more results matched"
    return (
        f"search stopped at its {SEARCH_WINDOW:,}-result window ({matched}): narrow the query (more words, "
        "or filters such as organization=, tag=, badge=) to reach the rest, or use list() for an exact, "
        "complete listing"
    )


@attrs.frozen
class SearchPage(NumberedPage[T]):
    """A v2 search page: a `NumberedPage` with its facets, whose paging stops at the window."""

    facets: dict[str, list[Facet]] = attrs.field(factory=dict)

    @property
    def window_reached(self) -> bool:
        """True when there are more results but the next page is past the 10,000-result window."""
        return (
            self.next_page is not None
            and bool(self.items)
            and (self.page + 1) * self.page_size > SEARCH_WINDOW
        )

    def next_page_info(self) -> PageInfo | None:
        if self.window_reached:
            return None
        return super().next_page_info()

    @property
    def last_page(self) -> int | None:
        """The last page the search will serve: the total's, within the window (prefetch stops there)."""
        last = super().last_page
        if last is None or self.page_size <= 0:
            return last
        return min(last, max(1, SEARCH_WINDOW // self.page_size))

    @classmethod
    def from_search_body(cls, body: Any) -> SearchPage[Any]:
        page: NumberedPage[Any] = NumberedPage.from_body(body)
        raw = body.get("facets") if isinstance(body, Mapping) else getattr(body, "facets", None)
        return SearchPage(**attrs.asdict(page, recurse=False), facets=_facets(raw))


def check_start(page: int, page_size: int | None) -> None:
    """Refuse, before any request, a start page udata would refuse (past the window)."""
    size = page_size or DEFAULT_PAGE_SIZE
    if page < 1:
        raise errors.UsageError(f"page must be >= 1, got {page}")
    if page * size > SEARCH_WINDOW:
        last = SEARCH_WINDOW // size
        raise errors.UsageError(
            f"page {page} of {size} results is past the search's {SEARCH_WINDOW:,}-result window (the last "
            f"page of {size} is {last}): narrow the query, or use list() for a complete listing"
        )


def _warn_if_stopped(page: Page[Any]) -> None:
    if isinstance(page, SearchPage) and page.window_reached:
        warnings.warn(
            window_message(page.total), SearchWindowWarning, stacklevel=4
        )  # the caller iterating the items


class SearchPager(SyncPager[T]):
    """A `SyncPager` over a v2 search; `facets()` and `total()` read the start page (fetched once)."""

    _first: Page[T] | None = None

    def first_page(self) -> Page[T]:
        if self._first is None:
            self._first = super().first_page()
        return self._first

    def facets(self) -> dict[str, list[Facet]]:
        page = self.first_page()
        return page.facets if isinstance(page, SearchPage) else {}

    def total(self) -> int | None:
        """How many results matched (the search returns at most the first 10,000 of them)."""
        return self.first_page().total

    def iter_pages(self) -> Iterator[Page[T]]:
        last: Page[T] | None = None
        for page in super().iter_pages():
            last = page
            yield page
        if last is not None:
            _warn_if_stopped(last)


class AsyncSearchPager(AsyncPager[T]):
    """The async `SearchPager`: ``await pager.facets()``, ``await pager.total()``."""

    _first: Page[T] | None = None

    async def first_page(self) -> Page[T]:
        if self._first is None:
            self._first = await super().first_page()
        return self._first

    async def facets(self) -> dict[str, list[Facet]]:
        page = await self.first_page()
        return page.facets if isinstance(page, SearchPage) else {}

    async def total(self) -> int | None:
        return (await self.first_page()).total

    async def iter_pages(self) -> AsyncGenerator[Page[T], None]:
        last: Page[T] | None = None
        async for page in super().iter_pages():
            last = page
            yield page
        if last is not None:
            _warn_if_stopped(last)
