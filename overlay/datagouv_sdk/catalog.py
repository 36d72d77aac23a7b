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

Adding a collection: a row in `COLLECTIONS` and one line ``name = collection()`` in
`client._DataGouvBase` (a special class, like `Resources` with its ``upload``, goes in
``collection(SyncClass, AsyncClass)``). `uncovered()` lists the operations no row names.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypedDict, TypeVar, Unpack, cast, overload

import attrs

from datagouv_sdk import errors
from datagouv_sdk.pagination import AsyncPager, NumberedPage, Page, PageInfo, SyncPager
from datagouv_sdk.search import AsyncSearchPager, SearchPage, SearchPager, check_start

if TYPE_CHECKING:
    from typing import Self

    from datagouv_sdk.client import AsyncDataGouv, DataGouv
    from datagouv_sdk.masks import Fields
    from datagouv_sdk.uploads import UploadEvent, UploadProgress

__all__ = ["COLLECTIONS", "Ops", "collection", "uncovered"]

OpName = str  # "list", "search", "get", "create", "update", "delete"


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


COLLECTIONS: dict[str, Ops] = {
    "datasets": Ops(
        ("dataset",),
        list="datasets.list_datasets",
        search="main_v2:datasets.search_datasets",
        get="datasets.get_dataset",
        create="datasets.create_dataset",
        update="datasets.update_dataset",
        delete="datasets.delete_dataset",
    ),
    "resources": Ops(
        ("dataset", "resource"),
        list="main_v2:datasets.list_resources",  # v1 has no paginated resource listing
        get="datasets.get_resource",
        create="datasets.create_resource",
        update="datasets.update_resource",
        delete="datasets.delete_resource",
    ),
    "organizations": Ops(
        ("organization",),
        list="organizations.list_organizations",
        search="main_v2:organizations.search_organizations",
        get="organizations.get_organization",
        create="organizations.create_organization",
        update="organizations.update_organization",
        delete="organizations.delete_organization",
    ),
    "reuses": Ops(
        ("reuse",),
        list="reuses.list_reuses",
        search="main_v2:reuses.search_reuses",
        get="reuses.get_reuse",
        create="reuses.create_reuse",
        update="reuses.update_reuse",
        delete="reuses.delete_reuse",
    ),
    "dataservices": Ops(
        ("dataservice",),
        list="dataservices.list_dataservices",
        search="main_v2:dataservices.search_dataservices",
        get="dataservices.get_dataservice",
        create="dataservices.create_dataservice",
        update="dataservices.update_dataservice",
        delete="dataservices.delete_dataservice",
    ),
    "discussions": Ops(
        ("discussion",),
        list="discussions.list_discussions",
        search="main_v2:discussions.search_discussions",
        get="discussions.get_discussion",
        create="discussions.create_discussion",
        update="discussions.update_discussion",
        delete="discussions.delete_discussion",
    ),
    "users": Ops(
        ("user",),
        list="users.list_users",
        get="users.get_user",
        create="users.create_user",
        update="users.update_user",
        delete="users.delete_user",
    ),
    "topics": Ops(  # topics live in the v2 API only
        ("topic",),
        list="main_v2:topics.get_topics_api",
        search="main_v2:topics.search_topics",
        get="main_v2:topics.get_topic",
        create="main_v2:topics.create_topic",
        update="main_v2:topics.update_topic",
        delete="main_v2:topics.delete_topic",
    ),
    "posts": Ops(
        ("post",),
        list="posts.list_posts",
        search="main_v2:posts.search_posts",
        get="posts.get_post",
        create="posts.create_post",
        update="posts.update_post",
        delete="posts.delete_post",
    ),
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


class _Collection:
    """What the sync and async collections share: resolving an operation and checking its ids."""

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


class _SyncCollection(_Collection):
    """``dg.<collection>`` on `DataGouv` (see the module docstring)."""

    _dg: DataGouv

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
    ) -> SyncPager[Any]:
        options = {"fields": fields, "extra_query": extra_query, "extra_headers": extra_headers}
        call = self._pages("list", ids, page, page_size, limit, raw, options, filters)
        if self._dg._respond:
            return cast(SyncPager[Any], call(page))  # with_response: the start page's APIResponse
        return SyncPager(
            lambda info: NumberedPage.from_body(call(info.page or 1)),
            start=PageInfo(page=page),
            limit=limit,
            prefetch=prefetch,
            key=_item_id,
        )

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
    ) -> SearchPager[Any]:
        """The v2 search (ranked, facets, at most the first 10,000 results): see `datagouv_sdk.search`."""
        options = {"fields": fields, "extra_query": extra_query, "extra_headers": extra_headers}
        call = self._pages("search", (), page, page_size, limit, raw, options, {"q": q, **filters})
        if self._dg._respond:
            return cast(SearchPager[Any], call(page))
        return SearchPager(
            lambda info: SearchPage.from_search_body(call(info.page or 1)),
            start=PageInfo(page=page),
            limit=limit,
            prefetch=prefetch,
            key=_item_id,
        )

    def get(self, *ids: str, raw: bool = False, **options: Unpack[CallOptions]) -> Any:
        return self._call("get", ids, raw, options)

    def create(self, *ids_and_payload: Any, raw: bool = False, **options: Unpack[CallOptions]) -> Any:
        return self._call("create", ids_and_payload, raw, options, body=True)

    def update(self, *ids_and_payload: Any, raw: bool = False, **options: Unpack[CallOptions]) -> Any:
        """Fields absent from a mapping payload keep their value."""
        return self._call("update", ids_and_payload, raw, options, body=True)

    def delete(self, *ids: str, **options: Unpack[CallOptions]) -> Any:
        """None; on ``dg.with_response``, the `APIResponse`."""
        return self._call("delete", ids, False, options)


class _AsyncCollection(_Collection):
    """``dg.<collection>`` on `AsyncDataGouv`: the same names, awaited; ``list`` gives an `AsyncPager`."""

    _dg: AsyncDataGouv

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
    ) -> AsyncPager[Any]:
        options = {"fields": fields, "extra_query": extra_query, "extra_headers": extra_headers}
        call = self._pages("list", ids, page, page_size, limit, raw, options, filters)
        if self._dg._respond:
            return cast(AsyncPager[Any], call(page))  # awaitable: the start page's APIResponse

        async def fetch(info: PageInfo) -> Page[Any]:
            return NumberedPage.from_body(await call(info.page or 1))

        return AsyncPager(fetch, start=PageInfo(page=page), limit=limit, prefetch=prefetch, key=_item_id)

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
    ) -> AsyncSearchPager[Any]:
        options = {"fields": fields, "extra_query": extra_query, "extra_headers": extra_headers}
        call = self._pages("search", (), page, page_size, limit, raw, options, {"q": q, **filters})
        if self._dg._respond:
            return cast(AsyncSearchPager[Any], call(page))

        async def fetch(info: PageInfo) -> Page[Any]:
            return SearchPage.from_search_body(await call(info.page or 1))

        return AsyncSearchPager(
            fetch, start=PageInfo(page=page), limit=limit, prefetch=prefetch, key=_item_id
        )

    async def get(self, *ids: str, raw: bool = False, **options: Unpack[CallOptions]) -> Any:
        return await self._call("get", ids, raw, options)

    async def create(self, *ids_and_payload: Any, raw: bool = False, **options: Unpack[CallOptions]) -> Any:
        return await self._call("create", ids_and_payload, raw, options, body=True)

    async def update(self, *ids_and_payload: Any, raw: bool = False, **options: Unpack[CallOptions]) -> Any:
        return await self._call("update", ids_and_payload, raw, options, body=True)

    async def delete(self, *ids: str, **options: Unpack[CallOptions]) -> Any:
        return await self._call("delete", ids, False, options)


class Resources(_SyncCollection):
    """``dg.resources``: the resources (files, links) of a dataset; ``create`` adds a remote one (a
    URL: ``{"title", "url", "filetype": "remote", "type", "format"}``), ``upload`` a file."""

    def upload(
        self,
        dataset: str,
        path: str | os.PathLike[str],
        *,
        resource: str | None = None,
        filename: str | None = None,
        chunk_size: int | None = None,
        progress: UploadProgress | None = None,
        resume: bool = False,
        state_dir: str | os.PathLike[str] | None = None,
        on_event: Callable[[UploadEvent], None] | None = None,
    ) -> dict[str, Any]:
        """Upload a file as a new resource of ``dataset`` (or as the new file of ``resource``); big
        files in parts, resumable (``resume=True``), checked against the file; see
        `datagouv_sdk.uploads.upload_resource`."""
        from datagouv_sdk.uploads import upload_resource

        return upload_resource(
            self._dg,
            dataset,
            path,
            resource=resource,
            filename=filename,
            chunk_size=chunk_size,
            progress=progress,
            resume=resume,
            state_dir=state_dir,
            on_event=on_event,
        )


class AsyncResources(_AsyncCollection):
    """The async `Resources`."""

    async def upload(
        self,
        dataset: str,
        path: str | os.PathLike[str],
        *,
        resource: str | None = None,
        filename: str | None = None,
        chunk_size: int | None = None,
        progress: UploadProgress | None = None,
        resume: bool = False,
        state_dir: str | os.PathLike[str] | None = None,
        on_event: Callable[[UploadEvent], None] | None = None,
    ) -> dict[str, Any]:
        from datagouv_sdk.uploads import aupload_resource

        return await aupload_resource(
            self._dg,
            dataset,
            path,
            resource=resource,
            filename=filename,
            chunk_size=chunk_size,
            progress=progress,
            resume=resume,
            state_dir=state_dir,
            on_event=on_event,
        )


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
