"""The catalog conveniences of `DataGouv`/`AsyncDataGouv` (``dg.datasets``, ``dg.reuses`` …), one
row of `COLLECTIONS` per collection.

A row (`Ops`) names the generated operations behind a collection and the path ids that name one
item. `dg.<name>` then offers, for each operation the row names:

- ``list(*parent_ids, page=1, page_size=None, limit=None, prefetch=0, raw=False, **filters)``: a
  pager (iterate items, ``.iter_pages()``, ``limit``, ``prefetch``) over the exact listing (v1,
  MongoDB); ``filters`` are the generated function's query parameters (``q``, ``organization``,
  ``tag``, ``sort`` …);
- ``search(q=None, *, page=1, page_size=None, limit=None, prefetch=0, raw=False, **filters)``: a
  `search.SearchPager` over the v2 search (ranked, stemmed; facets; the 10,000-result window);
- ``get(*ids)``, ``create(*parent_ids, payload)``, ``update(*ids, payload)``, ``delete(*ids)``; a
  payload is a generated model or a plain mapping (sent as JSON). ``raw=True`` returns the decoded
  JSON instead of models.

Every method also takes ``fields=`` (a field mask, `datagouv_sdk.masks`: on ``list``/``search`` it
names the items' fields; partial objects come back), ``extra_query=`` and ``extra_headers=`` (added to
the request as they are, for what the spec does not know yet). On ``dg.with_response`` each method
answers the `APIResponse` of its one request (``list``/``search``: the start page).

The ids are checked against the row before any request (``dg.resources.get("only-one")`` is a
`UsageError`), and an operation the row does not name is a `UsageError` too.

Adding a collection: a row in `COLLECTIONS` (``_standard(item)`` when its operations follow the
usual names; the exceptions are written out) and one line ``name = collection()`` in
`client._DataGouvBase` (a special class, like `Resources` with its ``upload``, goes in
``collection(SyncClass, AsyncClass)``). `uncovered()` lists the operations no row names.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypedDict, TypeVar, Unpack, cast, overload

import attrs

from datagouv_sdk import errors
from datagouv_sdk.pagination import AsyncPager, NumberedPage, Page, PageInfo, SyncPager
from datagouv_sdk.search import AsyncSearchPager, SearchPage, SearchPager, check_start

if TYPE_CHECKING:
    from typing import Self

    from datagouv_sdk.client import AsyncDataGouv, DataGouv
    from datagouv_sdk.masks import Fields
    from datagouv_sdk.uploads import UploadOptions

__all__ = ["COLLECTIONS", "Ops", "collection", "uncovered"]

OpName = str  # "list", "search", "get", "create", "update", "delete"
L = TypeVar("L")  # the pager `list` answers
R = TypeVar("R")  # the pager `search` answers
V = TypeVar("V")  # what get/create/update/delete answer: the result, or an awaitable of it


@attrs.frozen
class Ops:
    """The generated operations of one collection, each ``"tag.module"`` of the Main API v1 or
    ``"api:tag.module"`` of another API (None: the API has no such operation). ``ids``: the path
    ids naming one item, in order; ``list`` and ``create`` take all of them but the last."""

    ids: tuple[str, ...]
    list: str | None = None
    search: str | None = None  # a v2 search ("main_v2:tag.search_x"): ranked, facets, 10,000 window
    get: str | None = None
    create: str | None = None
    update: str | None = None
    delete: str | None = None


def _standard(item: str, *, api: str | None = None, search: bool = True) -> Ops:
    """The row of a collection named by the usual convention: tag ``<item>s``, one path id ``<item>``,
    operations ``list_<item>s``, ``get_<item>``, ``create_<item>``, ``update_<item>``,
    ``delete_<item>`` (of `api`; None: the Main API v1), and the v2 search ``search_<item>s``."""
    tag = f"{api}:{item}s" if api else f"{item}s"
    return Ops(
        (item,),
        list=f"{tag}.list_{item}s",
        search=f"main_v2:{item}s.search_{item}s" if search else None,
        get=f"{tag}.get_{item}",
        create=f"{tag}.create_{item}",
        update=f"{tag}.update_{item}",
        delete=f"{tag}.delete_{item}",
    )


COLLECTIONS: dict[str, Ops] = {
    "datasets": _standard("dataset"),
    "resources": Ops(
        ("dataset", "resource"),
        list="main_v2:datasets.list_resources",  # v1 has no paginated resource listing
        get="datasets.get_resource",
        create="datasets.create_resource",
        update="datasets.update_resource",
        delete="datasets.delete_resource",
    ),
    "organizations": _standard("organization"),
    "reuses": _standard("reuse"),
    "dataservices": _standard("dataservice"),
    "discussions": _standard("discussion"),
    "users": _standard("user", search=False),  # no v2 search of users
    # topics live in the v2 API only, their listing under another name
    "topics": attrs.evolve(_standard("topic", api="main_v2"), list="main_v2:topics.get_topics_api"),
    "posts": _standard("post"),
    # The account the key belongs to: no id names it.
    "me": Ops((), get="me.get_me", update="me.update_me"),  # no delete: one typo from losing the account
}


def uncovered() -> list[str]:
    """The operations (``api:id``) of the generated clients that no row of `COLLECTIONS` names, nor
    `dg.me.tokens` or `dg.resources.upload`: reachable with ``dg.call`` / ``dgv api``."""
    from datagouv_sdk.operations import catalogue

    named: set[str] = set()
    for ops in COLLECTIONS.values():
        for op in ("list", "search", "get", "create", "update", "delete"):
            spec: str | None = getattr(ops, op)
            if spec is not None:
                api, _, rest = spec.rpartition(":")
                named.add(f"{api or 'main'}:{rest.split('.', 1)[1]}")
    named |= {"main:list_api_tokens", "main:create_api_token", "main:revoke_api_token"}
    named |= {"main:upload_new_dataset_resource", "main:upload_dataset_resource"}  # dg.resources.upload
    return [op.ref for op in catalogue() if op.ref not in named]


class _Collection(Generic[L, R, V]):
    """What the sync and async collections share: resolving an operation, checking its ids, and the
    methods themselves. A flavour says how one page is fetched (`_fetcher`) and which pagers it
    answers (`_pagers`: the listing's `L`, the search's `R`); `V` is what a single call answers (the
    result, or an awaitable of it)."""

    _pagers: ClassVar[tuple[type[Any], type[Any]]]

    def __init__(self, dg: DataGouv | AsyncDataGouv, name: str, ops: Ops) -> None:
        self._dg = dg
        self._name = name
        self._ops = ops

    def __repr__(self) -> str:
        return f"<dg.{self._name}>"

    def _fn(self, op: OpName, ids: tuple[Any, ...]) -> Callable[..., Any]:
        spec: str | None = getattr(self._ops, op)
        if spec is None:
            raise errors.UsageError(f"dg.{self._name} has no {op}: the API offers no such operation")
        if op == "search":
            wanted: tuple[str, ...] = ()
        else:
            wanted = self._ops.ids if op in ("get", "update", "delete") else self._ops.ids[:-1]
        if len(ids) != len(wanted):
            raise errors.UsageError(
                f"dg.{self._name}.{op} takes {len(wanted)} id(s) ({', '.join(wanted) or 'none'}), "
                f"got {len(ids)}: {ids!r}"
            )
        return self._dg._operation(spec)

    def _call(
        self, op: OpName, args: tuple[Any, ...], raw: bool, options: Mapping[str, Any], *, body: bool = False
    ) -> Any:
        """``dg.call`` of the operation (a coroutine on the async client); with ``body`` the last
        positional argument is the payload. `options`: fields, extra_query, extra_headers."""
        if body and not args:
            raise errors.UsageError(f"dg.{self._name}.{op} needs a payload")
        ids, payload = (args[:-1], {"body": args[-1]}) if body else (args, {})
        return self._dg.call(self._fn(op, ids), *ids, raw=raw, **_options(options), **payload)

    def _pages(
        self,
        op: OpName,
        ids: tuple[Any, ...],
        page: int,
        page_size: int | None,
        limit: int | None,
        raw: bool,
        options: Mapping[str, Any],
        filters: Mapping[str, Any],
    ) -> Callable[[int], Any]:
        """``number -> dg.call(...)`` of page `number` of a listing or search (a coroutine on the
        async client); arguments checked here, before any request."""
        params = {k: v for k, v in filters.items() if v is not None}
        if page_size is None and limit is not None and 0 < limit < 20:
            page_size = limit  # fewer items wanted than a page holds: fetch just those
        if page_size is not None:
            params["page_size"] = page_size
        fn = self._fn(op, ids)
        if op == "search":
            check_start(page, page_size)
        extras = _options(options)
        return lambda number: self._dg.call(fn, *ids, raw=raw, page=number, **extras, **params)

    @staticmethod
    def _fetcher(call: Callable[[int], Any], parse: Callable[[Any], Page[Any]]) -> Callable[[PageInfo], Any]:
        """``PageInfo -> page``, from ``number -> dg.call(...)`` (`_pages`) and the page parser."""
        raise NotImplementedError

    def _pager(
        self,
        which: int,
        call: Callable[[int], Any],
        parse: Callable[[Any], Page[Any]],
        page: int,
        limit: int | None,
        prefetch: int,
    ) -> Any:
        """The listing's (`which` 0) or the search's (1) pager; with_response: the start page's
        `APIResponse` (async: an awaitable of it)."""
        if self._dg._respond:
            return call(page)
        fetch = self._fetcher(call, parse)
        pager = self._pagers[which]
        return pager(fetch, start=PageInfo(page=page), limit=limit, prefetch=prefetch, key=_item_id)

    def list(
        self,
        *ids: str,
        page: int = 1,
        page_size: int | None = None,
        limit: int | None = None,
        prefetch: int = 0,
        raw: bool = False,
        fields: Fields | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        **filters: Any,
    ) -> L:
        options = {"fields": fields, "extra_query": extra_query, "extra_headers": extra_headers}
        call = self._pages("list", ids, page, page_size, limit, raw, options, filters)
        return cast(L, self._pager(0, call, NumberedPage.from_body, page, limit, prefetch))

    def search(
        self,
        q: str | None = None,
        *,
        page: int = 1,
        page_size: int | None = None,
        limit: int | None = None,
        prefetch: int = 0,
        raw: bool = False,
        fields: Fields | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        **filters: Any,
    ) -> R:
        """The v2 search (ranked, facets, at most the first 10,000 results): see `datagouv_sdk.search`."""
        options = {"fields": fields, "extra_query": extra_query, "extra_headers": extra_headers}
        call = self._pages("search", (), page, page_size, limit, raw, options, {"q": q, **filters})
        return cast(R, self._pager(1, call, SearchPage.from_search_body, page, limit, prefetch))

    def get(self, *ids: str, raw: bool = False, **options: Unpack[CallOptions]) -> V:
        return cast(V, self._call("get", ids, raw, options))

    def create(self, *ids_and_payload: Any, raw: bool = False, **options: Unpack[CallOptions]) -> V:
        return cast(V, self._call("create", ids_and_payload, raw, options, body=True))

    def update(self, *ids_and_payload: Any, raw: bool = False, **options: Unpack[CallOptions]) -> V:
        """Fields absent from a mapping payload keep their value."""
        return cast(V, self._call("update", ids_and_payload, raw, options, body=True))

    def delete(self, *ids: str, **options: Unpack[CallOptions]) -> V:
        """None; on ``dg.with_response``, the `APIResponse`."""
        return cast(V, self._call("delete", ids, False, options))


class CallOptions(TypedDict, total=False):
    """What every collection method takes besides its own arguments (see the module docstring)."""

    fields: Fields | None
    extra_query: Mapping[str, Any] | None
    extra_headers: Mapping[str, str] | None


def _options(options: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(options) - set(CallOptions.__annotations__)
    if unknown:
        raise errors.UsageError(f"unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    return {k: v for k, v in options.items() if v is not None}


def _item_id(item: Any) -> Hashable | None:
    # An item moving across a page boundary while paging (the listing changed) comes out once.
    value = item.get("id") if isinstance(item, Mapping) else getattr(item, "id", None)
    return value if isinstance(value, str) else None


class _SyncCollection(_Collection[SyncPager[Any], SearchPager[Any], Any]):
    """``dg.<collection>`` on `DataGouv` (see the module docstring)."""

    _dg: DataGouv
    _pagers = (SyncPager, SearchPager)

    @staticmethod
    def _fetcher(call: Callable[[int], Any], parse: Callable[[Any], Page[Any]]) -> Callable[[PageInfo], Any]:
        return lambda info: parse(call(info.page or 1))


class _AsyncCollection(_Collection[AsyncPager[Any], AsyncSearchPager[Any], Awaitable[Any]]):
    """``dg.<collection>`` on `AsyncDataGouv`: the same names, awaited; ``list`` gives an `AsyncPager`."""

    _dg: AsyncDataGouv
    _pagers = (AsyncPager, AsyncSearchPager)

    @staticmethod
    def _fetcher(call: Callable[[int], Any], parse: Callable[[Any], Page[Any]]) -> Callable[[PageInfo], Any]:
        async def fetch(info: PageInfo) -> Page[Any]:
            return parse(await call(info.page or 1))

        return fetch

    async def _call(
        self, op: OpName, args: tuple[Any, ...], raw: bool, options: Mapping[str, Any], *, body: bool = False
    ) -> Any:
        # a coroutine function, so that every check runs when the call is awaited, as the request does
        return await super()._call(op, args, raw, options, body=body)


class Resources(_SyncCollection):
    """``dg.resources``: the resources (files, links) of a dataset; ``create`` adds a remote one (a
    URL: ``{"title", "url", "filetype": "remote", "type", "format"}``), ``upload`` a file."""

    def upload(
        self, dataset: str, path: str | os.PathLike[str], **options: Unpack[UploadOptions]
    ) -> dict[str, Any]:
        """Upload a file as a new resource of ``dataset`` (or as the new file of ``resource``); big
        files in parts, resumable (``resume=True``), checked against the file; see
        `datagouv_sdk.uploads.upload_resource` (the keywords: `datagouv_sdk.uploads.UploadOptions`)."""
        from datagouv_sdk.uploads import upload_resource

        return upload_resource(self._dg, dataset, path, **options)


class AsyncResources(_AsyncCollection):
    """The async `Resources`."""

    async def upload(
        self, dataset: str, path: str | os.PathLike[str], **options: Unpack[UploadOptions]
    ) -> dict[str, Any]:
        from datagouv_sdk.uploads import aupload_resource

        return await aupload_resource(self._dg, dataset, path, **options)


class Me(_SyncCollection):
    """``dg.me``: the account the API key belongs to (``get``, ``update``) and its API tokens
    (``dg.me.tokens``: `datagouv_sdk.tokens.Tokens`)."""

    def __init__(self, dg: DataGouv, name: str, ops: Ops) -> None:
        from datagouv_sdk.tokens import Tokens

        super().__init__(dg, name, ops)
        self.tokens = Tokens(dg)


class AsyncMe(_AsyncCollection):
    """The async `Me` (``adg.me.tokens``: `datagouv_sdk.tokens.AsyncTokens`)."""

    def __init__(self, dg: AsyncDataGouv, name: str, ops: Ops) -> None:
        from datagouv_sdk.tokens import AsyncTokens

        super().__init__(dg, name, ops)
        self.tokens = AsyncTokens(dg)


S = TypeVar("S", bound=_SyncCollection)
A = TypeVar("A", bound=_AsyncCollection)


class _Accessor(Generic[S, A]):
    """``dg.<name>``: the collection of the `COLLECTIONS` row of the same name, built on first use
    and kept on the client (a non-data descriptor, as `functools.cached_property`)."""

    def __init__(self, sync: type[S], async_: type[A]) -> None:
        self._types = (sync, async_)
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        if name not in COLLECTIONS:
            raise TypeError(f"{owner.__name__}.{name}: no row {name!r} in catalog.COLLECTIONS")
        self._name = name

    @overload
    def __get__(self, dg: None, owner: type) -> Self: ...
    @overload
    def __get__(self, dg: DataGouv, owner: type) -> S: ...
    @overload
    def __get__(self, dg: AsyncDataGouv, owner: type) -> A: ...
    def __get__(self, dg: Any, owner: type) -> Any:
        if dg is None:
            return self
        value = self._types[dg._is_async](dg, self._name, COLLECTIONS[self._name])
        dg.__dict__[self._name] = value
        return value


@overload
def collection() -> _Accessor[_SyncCollection, _AsyncCollection]: ...
@overload
def collection(sync: type[S], async_: type[A]) -> _Accessor[S, A]: ...
def collection(sync: Any = _SyncCollection, async_: Any = _AsyncCollection) -> Any:
    """A client attribute giving the collection of the `COLLECTIONS` row named like the attribute."""
    return _Accessor(sync, async_)
