"""`Discovery`: from a catalog search to a checked call of a third-party API.

    from datagouv_sdk import DataGouv
    from datagouv_sdk.discovery import Discovery

    with DataGouv() as dg, Discovery(dg) as disco:
        for service in disco.search("adresse", limit=5):
            print(service.id, service.title, service.access_type)
        api = disco.api("api-adresse")                 # fetched, checked, operations listed
        print(api.base_url.url, api.base_url.source, api.base_url.reason)
        for op in api.operations:
            print(op.method, op.path, op.operation_id)
        result = disco.call("api-adresse", "search", {"q": "8 bd du port"}, headers={"X-Key": "mine"})

The catalog is read through `dg` (the Main API client, with its key). Everything named by the
dataservice — its document, its API — is reached through clients of our own that never hold the
data.gouv.fr key or cookies (see fetch.py and calls.py), and only on public hosts unless the caller
allows private ones (`allow_private_hosts=True`, or `DATAGOUV_DISCOVERY_ALLOW_PRIVATE_HOSTS=1`).

A document shared by many dataservices (a "bouquet": API Entreprise's ~2 MB document serves about
30 catalog entries) is fetched and parsed once per client: the fetcher keeps it (`FetchLimits.max_age`,
then revalidation), and a document whose bytes did not change is not parsed again. A dataservice whose
`base_api_url` names a path below the document's server sees only the operations under it
(`api.operations`; all of them in `api.all_operations`).

`Discovery` and `AsyncDiscovery` share one core (`_DiscoveryCore`): limits, kept documents, the
choice of base URL, narrowing; each keeps only its own I/O.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import httpx

from datagouv_sdk.discovery.base_url import BaseURL, choose_base_url
from datagouv_sdk.discovery.calls import AsyncOperationCaller, CallLimits, CallResult, OperationCaller
from datagouv_sdk.discovery.catalog import DataserviceInfo
from datagouv_sdk.discovery.documents import OpenAPIDocument, load_document
from datagouv_sdk.discovery.fetch import AsyncDocumentFetcher, DocumentFetcher, FetchedDocument, FetchLimits
from datagouv_sdk.discovery.generation import GeneratedClient, generate_package, package_name_for
from datagouv_sdk.discovery.operations import Operation, find_operation, list_operations
from datagouv_sdk.errors import UsageError
from datagouv_sdk.retry import RetryPolicy

if TYPE_CHECKING:
    from typing import Self

    from datagouv_sdk.client import AsyncDataGouv, DataGouv

__all__ = ["ALLOW_PRIVATE_HOSTS_ENV", "AsyncDiscovery", "DiscoveredAPI", "Discovery"]

DataserviceRef = str | DataserviceInfo
ALLOW_PRIVATE_HOSTS_ENV = "DATAGOUV_DISCOVERY_ALLOW_PRIVATE_HOSTS"


@attrs.frozen
class DiscoveredAPI:
    """A dataservice with its document read: where to call it and what it offers."""

    info: DataserviceInfo | None
    document: OpenAPIDocument
    base_url: BaseURL
    operations: tuple[Operation, ...]  # the dataservice's: narrowed to `scope` when there is one
    all_operations: tuple[Operation, ...] = attrs.field(default=(), repr=False)  # the document's
    scope: str | None = None  # path prefix (from base_api_url) the operations were narrowed to

    def operation(self, name: str) -> Operation:
        """By operationId or "METHOD /path", among the dataservice's operations, then the document's."""
        try:
            return find_operation(self.operations, name)
        except UsageError:
            if len(self.all_operations) <= len(self.operations):
                raise
            return find_operation(self.all_operations, name)


# -- the shared core ---------------------------------------------------------------------------------


def _env_allows_private() -> bool:
    return os.environ.get(ALLOW_PRIVATE_HOSTS_ENV, "").strip().lower() in ("1", "true", "yes")


class _DiscoveryCore:
    """What both clients decide without I/O: limits, parsed documents, base URLs, narrowing."""

    def __init__(
        self,
        fetch_limits: FetchLimits | None,
        call_limits: CallLimits | None,
        allow_private_hosts: bool | None,
    ) -> None:
        allow = _env_allows_private() if allow_private_hosts is None else allow_private_hosts
        fetch_limits, call_limits = fetch_limits or FetchLimits(), call_limits or CallLimits()
        if allow:
            fetch_limits = attrs.evolve(fetch_limits, allow_private_hosts=True)
            call_limits = attrs.evolve(call_limits, allow_private_hosts=True)
        self.fetch_limits, self.call_limits = fetch_limits, call_limits
        # parsed documents by URL, with the sha256 of the bytes they were parsed from
        self._parsed: dict[str, tuple[str, OpenAPIDocument]] = {}
        self._parsed_lock = threading.Lock()
        self.parses = 0  # documents parsed (a bouquet shared by 30 dataservices: 1)

    def kept(self, fetched: FetchedDocument) -> tuple[str, OpenAPIDocument | None]:
        """(digest of the fetched bytes, the document parsed from the same bytes, if any)."""
        digest = hashlib.sha256(fetched.content).hexdigest()
        with self._parsed_lock:
            found = self._parsed.get(fetched.url)
        return digest, found[1] if found is not None and found[0] == digest else None

    def parsed(self, fetched: FetchedDocument, digest: str, document: OpenAPIDocument) -> OpenAPIDocument:
        with self._parsed_lock:
            self._parsed[fetched.url] = (digest, document)
            self.parses += 1
        return document

    @staticmethod
    def documentation_url(info: DataserviceInfo) -> str:
        if not info.machine_documentation_url:
            raise UsageError(f"dataservice {info.id} ({info.title}) has no machine_documentation_url")
        return info.machine_documentation_url

    def discovered(
        self,
        info: DataserviceInfo | None,
        document: OpenAPIDocument,
        *,
        base_url: str | None,
        base_api_url: str | None,
        narrow: bool = True,
    ) -> DiscoveredAPI:
        chosen = choose_base_url(
            document.original,
            document.spec,
            document_url=document.url,
            base_api_url=base_api_url,
            override=base_url,
        )
        if not chosen.public and chosen.url and self.call_limits.allow_private_hosts:
            chosen = attrs.evolve(
                chosen, reason=f"{chosen.reason.split(';')[0]}; called: private hosts are allowed"
            )
        everything = tuple(list_operations(document.spec))
        operations, scope = narrowed(everything, chosen, base_api_url) if narrow else (everything, None)
        return DiscoveredAPI(info, document, chosen, operations, everything, scope)

    @staticmethod
    def rebased(api: DiscoveredAPI, base_url: str | None) -> DiscoveredAPI:
        """`api` called at the caller's `base_url` (when given)."""
        if not base_url:
            return api
        return attrs.evolve(api, base_url=BaseURL(base_url, "override", "given by the caller (base_url=)"))

    @staticmethod
    def package(info: DataserviceInfo | None, document: OpenAPIDocument, package: str | None) -> str:
        if package:
            return package
        if info is not None:
            return package_name_for(info.slug or info.title)
        return package_name_for(document.title or "dataservice")


def narrowed(
    operations: tuple[Operation, ...], base: BaseURL, base_api_url: str | None
) -> tuple[tuple[Operation, ...], str | None]:
    """The operations under the path `base_api_url` adds to the document's own server (a bouquet's
    dataservice), and that path; all of them when it adds none, or when no operation is under it."""
    if not base_api_url or base.source not in ("servers", "host") or not base.url:
        return operations, None
    try:
        server, catalog = httpx.URL(base.url), httpx.URL(base_api_url)
    except (httpx.InvalidURL, TypeError):
        return operations, None
    root, path = server.path.rstrip("/"), catalog.path.rstrip("/")
    if server.host != catalog.host or not path.startswith(root + "/"):
        return operations, None
    prefix = path[len(root) :]
    under = tuple(op for op in operations if _under(op.path, prefix))
    return (under, prefix) if under else (operations, None)


def _under(path: str, prefix: str) -> bool:
    """`prefix`'s segments start `path`'s; a `{template}` segment on either side matches any one."""
    parts, wanted = path.strip("/").split("/"), prefix.strip("/").split("/")
    if len(parts) < len(wanted):
        return False
    return all(a == b or a.startswith("{") or b.startswith("{") for a, b in zip(parts, wanted, strict=False))


# -- the sync client ---------------------------------------------------------------------------------


class Discovery:
    def __init__(
        self,
        dg: DataGouv | None = None,
        *,
        fetch_limits: FetchLimits | None = None,
        call_limits: CallLimits | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        allow_private_hosts: bool | None = None,
    ) -> None:
        """`dg` reads the catalog (not needed to work from a document URL). `transport` replaces the
        connection pool used for third-party hosts (tests); `retry` their retry policy.
        `allow_private_hosts`: documents and APIs on loopback, private or placeholder hosts may be
        reached (default: the DATAGOUV_DISCOVERY_ALLOW_PRIVATE_HOSTS environment variable, else no)."""
        self._dg = dg
        self._core = _DiscoveryCore(fetch_limits, call_limits, allow_private_hosts)
        self._fetcher = DocumentFetcher(limits=self._core.fetch_limits, transport=transport, retry=retry)
        self._caller = OperationCaller(limits=self._core.call_limits, transport=transport, retry=retry)
        self._url_locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def close(self) -> None:
        self._fetcher.close()
        self._caller.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def stats(self) -> dict[str, int]:
        """How often documents were asked for over the network, and parsed."""
        return {"document_requests": self._fetcher.requests, "document_parses": self._core.parses}

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
        return self.document_at(self._core.documentation_url(self.get(dataservice)))

    def document_at(self, url: str) -> OpenAPIDocument:
        """Fetch (size cap, total deadline, no key), parse (guarded YAML) and check one document;
        kept per URL: many dataservices sharing it cost one fetch and one parse."""
        with self._url_lock(url):
            fetched = self._fetcher.fetch(url)
            digest, document = self._core.kept(fetched)
            if document is None:
                parsed = load_document(
                    fetched.content, url=fetched.final_url, content_type=fetched.content_type
                )
                document = self._core.parsed(fetched, digest, parsed)
            return document

    def api(
        self, dataservice: DataserviceRef, *, base_url: str | None = None, narrow: bool = True
    ) -> DiscoveredAPI:
        """The dataservice's document, its operations, and the base URL to call (`base_url` overrides).
        `narrow=False`: every operation of a shared document, not only those under base_api_url."""
        info = self.get(dataservice)
        document = self.document(info)
        return self._core.discovered(
            info, document, base_url=base_url, base_api_url=info.base_api_url, narrow=narrow
        )

    def api_at(
        self, document_url: str, *, base_url: str | None = None, base_api_url: str | None = None
    ) -> DiscoveredAPI:
        """The same from a document URL alone (no catalog)."""
        document = self.document_at(document_url)
        return self._core.discovered(None, document, base_url=base_url, base_api_url=base_api_url)

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
        `base_url` calls it there instead (any host: you chose it).
        Raises UsageError (bad arguments, listed; UnsafeURLError: a host you did not allow), the
        APIStatusError subclass of a >= 400 answer, APIConnectionError / APITimeoutError.
        """
        api = self._api_for(dataservice, base_url)
        return self._caller.call(
            api.document.spec,
            api.base_url,
            api.operation(operation),
            params,
            body=body,
            headers=headers,
            auth=auth,
            from_strings=from_strings,
        )

    def _api_for(self, dataservice: DataserviceRef | DiscoveredAPI, base_url: str | None) -> DiscoveredAPI:
        if isinstance(dataservice, DiscoveredAPI):
            return self._core.rebased(dataservice, base_url)
        return self.api(dataservice, base_url=base_url)

    # -- generating a client --------------------------------------------------------------------------

    def generate(
        self,
        dataservice: DataserviceRef | DiscoveredAPI,
        output_dir: str | Path,
        *,
        package: str | None = None,
    ) -> GeneratedClient:
        """A typed client package (openapi-python-client) in `output_dir/<package>`, imported before it
        is returned; the result lists the operations skipped (with why) and the repairs made."""
        api = dataservice if isinstance(dataservice, DiscoveredAPI) else self.api(dataservice)
        name = self._core.package(api.info, api.document, package)
        return generate_package(
            api.document, Path(output_dir), package=name, base_url=api.base_url.url or None
        )

    def _catalog(self) -> DataGouv:
        if self._dg is None:
            raise UsageError("this Discovery has no DataGouv client: pass one to read the catalog")
        return self._dg

    def _url_lock(self, url: str) -> threading.Lock:
        with self._locks_lock:
            return self._url_locks.setdefault(url, threading.Lock())


# -- the async client --------------------------------------------------------------------------------


class AsyncDiscovery:
    """The asyncio twin of `Discovery`: same names, `await`, `async with`, `aclose()`.

    `search` and `datasets` are async iterators; parsing and client generation run in a worker thread.
    """

    def __init__(
        self,
        dg: AsyncDataGouv | None = None,
        *,
        fetch_limits: FetchLimits | None = None,
        call_limits: CallLimits | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        allow_private_hosts: bool | None = None,
    ) -> None:
        self._dg = dg
        self._core = _DiscoveryCore(fetch_limits, call_limits, allow_private_hosts)
        self._fetcher = AsyncDocumentFetcher(limits=self._core.fetch_limits, transport=transport, retry=retry)
        self._caller = AsyncOperationCaller(limits=self._core.call_limits, transport=transport, retry=retry)
        self._url_locks: dict[str, asyncio.Lock] = {}

    async def aclose(self) -> None:
        await self._fetcher.aclose()
        await self._caller.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def stats(self) -> dict[str, int]:
        return {"document_requests": self._fetcher.requests, "document_parses": self._core.parses}

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
        return await self.document_at(self._core.documentation_url(await self.get(dataservice)))

    async def document_at(self, url: str) -> OpenAPIDocument:
        async with self._url_locks.setdefault(url, asyncio.Lock()):
            fetched = await self._fetcher.fetch(url)
            digest, document = self._core.kept(fetched)
            if document is None:
                # Parsing a large YAML document takes seconds of CPU: off the event loop.
                parsed = await asyncio.to_thread(
                    load_document, fetched.content, url=fetched.final_url, content_type=fetched.content_type
                )
                document = self._core.parsed(fetched, digest, parsed)
            return document

    async def api(
        self, dataservice: DataserviceRef, *, base_url: str | None = None, narrow: bool = True
    ) -> DiscoveredAPI:
        info = await self.get(dataservice)
        document = await self.document(info)
        return self._core.discovered(
            info, document, base_url=base_url, base_api_url=info.base_api_url, narrow=narrow
        )

    async def api_at(
        self, document_url: str, *, base_url: str | None = None, base_api_url: str | None = None
    ) -> DiscoveredAPI:
        document = await self.document_at(document_url)
        return self._core.discovered(None, document, base_url=base_url, base_api_url=base_api_url)

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
        if isinstance(dataservice, DiscoveredAPI):
            api = self._core.rebased(dataservice, base_url)
        else:
            api = await self.api(dataservice, base_url=base_url)
        return await self._caller.call(
            api.document.spec,
            api.base_url,
            api.operation(operation),
            params,
            body=body,
            headers=headers,
            auth=auth,
            from_strings=from_strings,
        )

    async def generate(
        self,
        dataservice: DataserviceRef | DiscoveredAPI,
        output_dir: str | Path,
        *,
        package: str | None = None,
    ) -> GeneratedClient:
        api = dataservice if isinstance(dataservice, DiscoveredAPI) else await self.api(dataservice)
        name = self._core.package(api.info, api.document, package)
        return await asyncio.to_thread(
            generate_package, api.document, Path(output_dir), package=name, base_url=api.base_url.url or None
        )

    def _catalog(self) -> AsyncDataGouv:
        if self._dg is None:
            raise UsageError("this AsyncDiscovery has no AsyncDataGouv client: pass one to read the catalog")
        return self._dg
