"""The catalog conveniences of `DataGouv`/`AsyncDataGouv` (``dg.datasets``, ``dg.resources`` …), one
row of `COLLECTIONS` per collection.

A row (`Ops`) names the generated operations behind a collection and the path ids that name one
item. `dg.<name>` then offers, for each operation the row names:

- ``list(*parent_ids, page=1, page_size=None, limit=None, prefetch=0, raw=False, **filters)``: a
  pager (iterate items, ``.iter_pages()``, ``limit``, ``prefetch``); ``filters`` are the generated
  function's query parameters (``q``, ``organization``, ``tag``, ``sort`` …);
- ``get(*ids)``, ``create(*parent_ids, payload)``, ``update(*ids, payload)``, ``delete(*ids)``; a
  payload is a generated model or a plain mapping (sent as JSON). ``raw=True`` returns the decoded
  JSON instead of models.

The ids are checked against the row before any request (``dg.resources.get("only-one")`` is a
`UsageError`), and an operation the row does not name is a `UsageError` too.

Adding a collection: a row in `COLLECTIONS` and one line ``name = collection()`` in
`client._DataGouvBase` (a special class, like `Resources` with its ``upload``, goes in
``collection(SyncClass, AsyncClass)``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import attrs

from datagouv_sdk import errors
from datagouv_sdk.pagination import AsyncPager, NumberedPage, Page, PageInfo, SyncPager

if TYPE_CHECKING:
    from typing import Self

    from datagouv_sdk.client import AsyncDataGouv, DataGouv
    from datagouv_sdk.uploads import UploadEvent, UploadProgress

__all__ = ["COLLECTIONS", "Ops", "collection"]

OpName = str  # "list", "get", "create", "update", "delete"


@attrs.frozen
class Ops:
    """The generated operations of one collection, each ``"tag.module"`` of the Main API v1 or
    ``"api:tag.module"`` of another API (None: the API has no such operation). ``ids``: the path
    ids naming one item, in order; ``list`` and ``create`` take all of them but the last."""

    ids: tuple[str, ...]
    list: str | None = None
    get: str | None = None
    create: str | None = None
    update: str | None = None
    delete: str | None = None


COLLECTIONS: dict[str, Ops] = {
    "datasets": Ops(
        ("dataset",),
        list="datasets.list_datasets",
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
        ("organization",), list="organizations.list_organizations", get="organizations.get_organization"
    ),
    "reuses": Ops(("reuse",), list="reuses.list_reuses", get="reuses.get_reuse"),
    "dataservices": Ops(
        ("dataservice",), list="dataservices.list_dataservices", get="dataservices.get_dataservice"
    ),
}


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
        wanted = self._ops.ids if op in ("get", "update", "delete") else self._ops.ids[:-1]
        if len(ids) != len(wanted):
            raise errors.UsageError(
                f"dg.{self._name}.{op} takes {len(wanted)} id(s) ({', '.join(wanted) or 'none'}), "
                f"got {len(ids)}: {ids!r}"
            )
        return self._dg._operation(spec)

    def _call(self, op: OpName, args: tuple[Any, ...], raw: bool, *, body: bool = False) -> Any:
        """``dg.call`` of the operation (a coroutine on the async client); with ``body`` the last
        positional argument is the payload."""
        if body and not args:
            raise errors.UsageError(f"dg.{self._name}.{op} needs a payload")
        ids, payload = (args[:-1], {"body": args[-1]}) if body else (args, {})
        return self._dg.call(self._fn(op, ids), *ids, raw=raw, **payload)

    def _listing(
        self, ids: tuple[Any, ...], page_size: int | None, limit: int | None, filters: Mapping[str, Any]
    ) -> tuple[Callable[..., Any], dict[str, Any]]:
        params = {k: v for k, v in filters.items() if v is not None}
        if page_size is None and limit is not None and 0 < limit < 20:
            page_size = limit  # fewer items wanted than a page holds: fetch just those
        if page_size is not None:
            params["page_size"] = page_size
        return self._fn("list", ids), params


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
        **filters: Any,
    ) -> SyncPager[Any]:
        fn, params = self._listing(ids, page_size, limit, filters)

        def fetch(info: PageInfo) -> Page[Any]:
            return NumberedPage.from_body(self._dg.call(fn, *ids, raw=raw, page=info.page, **params))

        return SyncPager(fetch, start=PageInfo(page=page), limit=limit, prefetch=prefetch, key=_item_id)

    def get(self, *ids: str, raw: bool = False) -> Any:
        return self._call("get", ids, raw)

    def create(self, *ids_and_payload: Any, raw: bool = False) -> Any:
        return self._call("create", ids_and_payload, raw, body=True)

    def update(self, *ids_and_payload: Any, raw: bool = False) -> Any:
        """Fields absent from a mapping payload keep their value."""
        return self._call("update", ids_and_payload, raw, body=True)

    def delete(self, *ids: str) -> None:
        self._call("delete", ids, False)


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
        **filters: Any,
    ) -> AsyncPager[Any]:
        fn, params = self._listing(ids, page_size, limit, filters)

        async def fetch(info: PageInfo) -> Page[Any]:
            return NumberedPage.from_body(await self._dg.call(fn, *ids, raw=raw, page=info.page, **params))

        return AsyncPager(fetch, start=PageInfo(page=page), limit=limit, prefetch=prefetch, key=_item_id)

    async def get(self, *ids: str, raw: bool = False) -> Any:
        return await self._call("get", ids, raw)

    async def create(self, *ids_and_payload: Any, raw: bool = False) -> Any:
        return await self._call("create", ids_and_payload, raw, body=True)

    async def update(self, *ids_and_payload: Any, raw: bool = False) -> Any:
        return await self._call("update", ids_and_payload, raw, body=True)

    async def delete(self, *ids: str) -> None:
        await self._call("delete", ids, False)


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
