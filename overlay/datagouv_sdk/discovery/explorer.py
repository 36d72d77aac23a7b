"""`Discovery`: from a catalog search to a checked call of a third-party API.

    from datagouv_sdk import DataGouv
    from datagouv_sdk.discovery import Discovery

    with DataGouv() as dg, Discovery(dg) as disco:
        for service in disco.search("adresse", limit=5):
            print(service.id, service.title, service.access_type)
        api = disco.api("api-adresse")                 # fetched, checked, operations listed
        print(api.base_url.url, api.base_url.source)
        for op in api.operations:
            print(op.method, op.path, op.operation_id)
        result = disco.call("api-adresse", "search", {"q": "8 bd du port"}, headers={"X-Key": "mine"})

The catalog is read through `dg` (the Main API client, with its key). Everything named by the
dataservice — its document, its API — is reached through clients of our own that never hold the
data.gouv.fr key or cookies (see fetch.py and calls.py).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import httpx

from datagouv_sdk.discovery.calls import AsyncOperationCaller, CallLimits, CallResult, OperationCaller
from datagouv_sdk.discovery.catalog import DataserviceInfo
from datagouv_sdk.discovery.documents import OpenAPIDocument, load_document
from datagouv_sdk.discovery.fetch import AsyncDocumentFetcher, DocumentFetcher, FetchLimits
from datagouv_sdk.discovery.generation import GeneratedClient, generate_package, package_name_for
from datagouv_sdk.discovery.operations import (
    BaseURL,
    Operation,
    choose_base_url,
    find_operation,
    list_operations,
)
from datagouv_sdk.errors import UsageError
from datagouv_sdk.retry import RetryPolicy

if TYPE_CHECKING:
    from typing import Self

    from datagouv_sdk.client import AsyncDataGouv, DataGouv

__all__ = ["DiscoveredAPI", "Discovery"]

DataserviceRef = str | DataserviceInfo


@attrs.frozen
class DiscoveredAPI:
    """A dataservice with its document read: where to call it and what it offers."""

    info: DataserviceInfo | None
    document: OpenAPIDocument
    base_url: BaseURL
    operations: tuple[Operation, ...]

    def operation(self, name: str) -> Operation:
        return find_operation(self.operations, name)


class Discovery:
    def __init__(
        self,
        dg: DataGouv | None = None,
        *,
        fetch_limits: FetchLimits | None = None,
        call_limits: CallLimits | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """`dg` reads the catalog (not needed to work from a document URL). `transport` replaces the
        connection pool used for third-party hosts (tests); `retry` their retry policy."""
        self._dg = dg
        self._fetcher = DocumentFetcher(limits=fetch_limits, transport=transport, retry=retry)
        self._caller = OperationCaller(limits=call_limits, transport=transport, retry=retry)
        # parsed documents by (url, etag, last-modified): a 304 skips parsing too
        self._parsed: dict[tuple[str, str | None, str | None], OpenAPIDocument] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._fetcher.close()
        self._caller.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the catalog --------------------------------------------------------------------------------

    def search(
        self,
        q: str | None = None,
        *,
        organization: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
        page_size: int | None = None,
        **filters: Any,
    ) -> Iterator[DataserviceInfo]:
        """Dataservices matching a text, an organization (id), a tag… (Main API v1 listing, paged)."""
        pager = self._catalog().dataservices.list(
            q=q, organization=organization, tag=tag, limit=limit, page_size=page_size, raw=True, **filters
        )
        return (DataserviceInfo.from_api(item) for item in pager)

    def get(self, dataservice: DataserviceRef) -> DataserviceInfo:
        """One dataservice by id or slug (a DataserviceInfo is returned as is)."""
        if isinstance(dataservice, DataserviceInfo):
            return dataservice
        return DataserviceInfo.from_api(self._catalog().dataservices.get(dataservice, raw=True))

    def datasets(self, dataservice: DataserviceRef, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """The datasets the dataservice serves (Main API datasets listing filtered by dataservice)."""
        ident = dataservice.id if isinstance(dataservice, DataserviceInfo) else dataservice
        return iter(self._catalog().datasets.list(dataservice=ident, limit=limit, raw=True))

    # -- its document -------------------------------------------------------------------------------

    def document(self, dataservice: DataserviceRef) -> OpenAPIDocument:
        info = self.get(dataservice)
        if not info.machine_documentation_url:
            raise UsageError(f"dataservice {info.id} ({info.title}) has no machine_documentation_url")
        return self.document_at(info.machine_documentation_url)

    def document_at(self, url: str) -> OpenAPIDocument:
        """Fetch (size cap, total deadline, no key), parse (guarded YAML) and check one document."""
        fetched = self._fetcher.fetch(url)
        key = (url, fetched.etag, fetched.last_modified)
        with self._lock:
            cached = self._parsed.get(key)
        if cached is not None and fetched.from_cache:
            return cached
        document = load_document(fetched.content, url=fetched.final_url, content_type=fetched.content_type)
        if fetched.etag or fetched.last_modified:
            with self._lock:
                self._parsed[key] = document
        return document

    def api(self, dataservice: DataserviceRef, *, base_url: str | None = None) -> DiscoveredAPI:
        """The dataservice's document, its operations, and the base URL to call (`base_url` overrides)."""
        info = self.get(dataservice)
        document = self.document(info)
        return _discovered(info, document, base_url=base_url, base_api_url=info.base_api_url)

    def api_at(
        self, document_url: str, *, base_url: str | None = None, base_api_url: str | None = None
    ) -> DiscoveredAPI:
        """The same from a document URL alone (no catalog)."""
        return _discovered(None, self.document_at(document_url), base_url=base_url, base_api_url=base_api_url)

    def operations(self, dataservice: DataserviceRef) -> tuple[Operation, ...]:
        return self.api(dataservice).operations

    # -- calling it -----------------------------------------------------------------------------------

    def call(
        self,
        dataservice: DataserviceRef | DiscoveredAPI,
        operation: str,
        params: Mapping[str, Any] | None = None,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        base_url: str | None = None,
        from_strings: bool = False,
    ) -> CallResult:
        """Call `operation` (operationId or "METHOD /path") with `params` checked against the document.

        `headers` / `auth` are *your* credentials for that API; they go to its origin only.
        Raises UsageError (bad arguments, listed), the APIStatusError subclass of a >= 400 answer,
        APIConnectionError / APITimeoutError.
        """
        api = (
            dataservice
            if isinstance(dataservice, DiscoveredAPI)
            else self.api(dataservice, base_url=base_url)
        )
        op = api.operation(operation)
        return self._caller.call(
            api.document.spec,
            api.base_url,
            op,
            params,
            body=body,
            headers=headers,
            auth=auth,
            from_strings=from_strings,
        )

    # -- generating a client --------------------------------------------------------------------------

    def generate(
        self, dataservice: DataserviceRef, output_dir: str | Path, *, package: str | None = None
    ) -> GeneratedClient:
        """A typed client package (openapi-python-client) in `output_dir/<package>`, imported before it
        is returned; the result lists the operations skipped (with why) and the repairs made."""
        api = self.api(dataservice)
        assert api.info is not None
        name = package or package_name_for(api.info.slug or api.info.title)
        return generate_package(api.document, Path(output_dir), package=name, base_url=api.base_url.url)

    def _catalog(self) -> DataGouv:
        if self._dg is None:
            raise UsageError("this Discovery has no DataGouv client: pass one to read the catalog")
        return self._dg


class AsyncDiscovery:
    """The asyncio twin of `Discovery`: same names, `await`, `async with`, `aclose()`.

    `search` and `datasets` are async iterators; client generation runs in a worker thread.
    """

    def __init__(
        self,
        dg: AsyncDataGouv | None = None,
        *,
        fetch_limits: FetchLimits | None = None,
        call_limits: CallLimits | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._dg = dg
        self._fetcher = AsyncDocumentFetcher(limits=fetch_limits, transport=transport, retry=retry)
        self._caller = AsyncOperationCaller(limits=call_limits, transport=transport, retry=retry)
        self._parsed: dict[tuple[str, str | None, str | None], OpenAPIDocument] = {}

    async def aclose(self) -> None:
        await self._fetcher.aclose()
        await self._caller.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def search(
        self,
        q: str | None = None,
        *,
        organization: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
        page_size: int | None = None,
        **filters: Any,
    ) -> AsyncIterator[DataserviceInfo]:
        pager = self._catalog().dataservices.list(
            q=q, organization=organization, tag=tag, limit=limit, page_size=page_size, raw=True, **filters
        )
        async for item in pager:
            yield DataserviceInfo.from_api(item)

    async def get(self, dataservice: DataserviceRef) -> DataserviceInfo:
        if isinstance(dataservice, DataserviceInfo):
            return dataservice
        return DataserviceInfo.from_api(await self._catalog().dataservices.get(dataservice, raw=True))

    async def datasets(
        self, dataservice: DataserviceRef, *, limit: int | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        ident = dataservice.id if isinstance(dataservice, DataserviceInfo) else dataservice
        async for item in self._catalog().datasets.list(dataservice=ident, limit=limit, raw=True):
            yield item

    async def document(self, dataservice: DataserviceRef) -> OpenAPIDocument:
        info = await self.get(dataservice)
        if not info.machine_documentation_url:
            raise UsageError(f"dataservice {info.id} ({info.title}) has no machine_documentation_url")
        return await self.document_at(info.machine_documentation_url)

    async def document_at(self, url: str) -> OpenAPIDocument:
        fetched = await self._fetcher.fetch(url)
        key = (url, fetched.etag, fetched.last_modified)
        cached = self._parsed.get(key)
        if cached is not None and fetched.from_cache:
            return cached
        # Parsing a large YAML document takes seconds of CPU: off the event loop.
        document = await asyncio.to_thread(
            load_document, fetched.content, url=fetched.final_url, content_type=fetched.content_type
        )
        if fetched.etag or fetched.last_modified:
            self._parsed[key] = document
        return document

    async def api(self, dataservice: DataserviceRef, *, base_url: str | None = None) -> DiscoveredAPI:
        info = await self.get(dataservice)
        document = await self.document(info)
        return _discovered(info, document, base_url=base_url, base_api_url=info.base_api_url)

    async def api_at(
        self, document_url: str, *, base_url: str | None = None, base_api_url: str | None = None
    ) -> DiscoveredAPI:
        return _discovered(
            None, await self.document_at(document_url), base_url=base_url, base_api_url=base_api_url
        )

    async def operations(self, dataservice: DataserviceRef) -> tuple[Operation, ...]:
        return (await self.api(dataservice)).operations

    async def call(
        self,
        dataservice: DataserviceRef | DiscoveredAPI,
        operation: str,
        params: Mapping[str, Any] | None = None,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        base_url: str | None = None,
        from_strings: bool = False,
    ) -> CallResult:
        api = (
            dataservice
            if isinstance(dataservice, DiscoveredAPI)
            else await self.api(dataservice, base_url=base_url)
        )
        op = api.operation(operation)
        return await self._caller.call(
            api.document.spec,
            api.base_url,
            op,
            params,
            body=body,
            headers=headers,
            auth=auth,
            from_strings=from_strings,
        )

    async def generate(
        self, dataservice: DataserviceRef, output_dir: str | Path, *, package: str | None = None
    ) -> GeneratedClient:
        api = await self.api(dataservice)
        assert api.info is not None
        name = package or package_name_for(api.info.slug or api.info.title)
        return await asyncio.to_thread(
            generate_package, api.document, Path(output_dir), package=name, base_url=api.base_url.url
        )

    def _catalog(self) -> AsyncDataGouv:
        if self._dg is None:
            raise UsageError("this AsyncDiscovery has no AsyncDataGouv client: pass one to read the catalog")
        return self._dg


def _discovered(
    info: DataserviceInfo | None, document: OpenAPIDocument, *, base_url: str | None, base_api_url: str | None
) -> DiscoveredAPI:
    if base_url:
        chosen = BaseURL(base_url, "override")
    else:
        chosen = choose_base_url(
            document.original, document.spec, document_url=document.url, base_api_url=base_api_url
        )
    return DiscoveredAPI(info, document, chosen, tuple(list_operations(document.spec)))
