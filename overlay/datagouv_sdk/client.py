"""`DataGouv` and `AsyncDataGouv`: one configured httpx client per API, the generated clients bound to
them, one call helper that maps statuses, and the catalog collections (`catalog.py`).

    from datagouv_sdk import DataGouv

    with DataGouv() as dg:                                   # Config.from_env(): env vars, presets
        for dataset in dg.datasets.list(q="vélo", limit=50):
            print(dataset.id, dataset.title)
        ds = dg.datasets.get("some-slug")                    # typed model, or errors.NotFoundError

    # Every generated function, with statuses mapped to the exception tree:
    from datagouv_main.api.datasets import list_datasets
    page = dg.call(list_datasets.sync_detailed, q="vélo", page_size=5)

- `DataGouv(config=None, *, api_key, base_url, metrics_url, tabular_url, timeout, retry, strict,
  transport, sleep)`: `config` wins; otherwise `Config.from_env(**given arguments)`. `transport` is the inner
  httpx transport (the connection pool; tests pass an `httpx.MockTransport`), `sleep` the retry sleep.
- `.main`, `.main_v2`, `.metrics`, `.tabular`: the generated `Client` of each API, bound to our httpx
  client; `.http(api)` the raw configured httpx client (base URL set).
- `.call(fn, *args, raw=False, **kwargs)`: runs a generated `sync_detailed` (async: `asyncio_detailed`)
  and returns the parsed model; a status >= 400 raises the matching `errors.APIStatusError`; a 2xx the
  spec types nowhere returns the decoded JSON; None only for an empty body (204). `raw=True` returns
  the decoded JSON (dicts). String arguments become the enum the function expects, a single string a
  list where a list is expected (``tag="velo"``); a value outside an enum or Literal is a
  `UsageError`, raised before any request. A body that differs from the spec is kept as sent and
  recorded on the model (`model.deviations`); with `strict=True` (or DATAGOUV_STRICT=1) it raises
  `errors.ResponseValidationError` instead.
- `.with_options(retry=..., timeout=..., strict=...)`: a copy with other policies sharing the connection pool;
  closing the copy leaves the pool open (the original owns it).

The two clients share `_DataGouvBase` (configuration, the API table, pool ownership, lazy clients,
the pure halves of `call`); each keeps only its I/O: `call`, `close`/`aclose` and building its httpx
client.
"""

from __future__ import annotations

import importlib
import threading
import typing
from collections.abc import Awaitable, Callable, Hashable, Mapping
from functools import cache
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

import attrs
import httpx

from datagouv_sdk import errors
from datagouv_sdk._call import APIResponse, Call, prepare
from datagouv_sdk.catalog import AsyncMe, AsyncResources, Me, Resources, collection
from datagouv_sdk.config import Config
from datagouv_sdk.connections import AsyncConnections, Connections
from datagouv_sdk.retry import RetryPolicy

if TYPE_CHECKING:
    from types import TracebackType
    from typing import Self

    import datagouv_main
    import datagouv_main_v2
    import datagouv_metrics
    import datagouv_tabular

    from datagouv_sdk.catalog_exports import CatalogExports
    from datagouv_sdk.masks import Fields

__all__ = [
    "API_NAMES",
    "APIResponse",
    "ApiName",
    "AsyncDataGouv",
    "AsyncResponseView",
    "DataGouv",
    "ResponseView",
]

ApiName = Literal["main", "main_v2", "metrics", "tabular"]

# Each API: its generated package (import name) and where its base URL comes from.
_APIS: dict[ApiName, tuple[str, Callable[[Config], str]]] = {
    "main": ("datagouv_main", lambda config: config.main_api_url),
    "main_v2": ("datagouv_main_v2", lambda config: config.main_v2_api_url),
    "metrics": ("datagouv_metrics", Config.require_metrics_url),
    "tabular": ("datagouv_tabular", Config.require_tabular_url),
}
API_NAMES: tuple[ApiName, ...] = tuple(_APIS)

_MISSING: Any = object()
_H = TypeVar("_H", httpx.Client, httpx.AsyncClient)
_P = TypeVar("_P", httpx.BaseTransport, httpx.AsyncBaseTransport)
_S = TypeVar("_S")


def _api_of(fn: Callable[..., Any]) -> ApiName:
    top = (getattr(fn, "__module__", "") or "").split(".", 1)[0]
    for api, (package, _url) in _APIS.items():
        if top == package:
            return api
    raise errors.UsageError(
        f"{fn.__module__}.{getattr(fn, '__name__', fn)} is not a function of a generated data.gouv.fr "
        "client; pass client= explicitly"
    )


@cache
def _operation_module(spec: str) -> Any:
    """``"tag.module"`` (Main API v1) or ``"api:tag.module"``: the generated endpoint module."""
    api, _, path = spec.rpartition(":")
    package = _APIS[typing.cast(ApiName, api or "main")][0]
    try:
        return importlib.import_module(f"{package}.api.{path}")
    except ImportError as exc:
        raise errors.UsageError(
            f"{package}.api.{path} is missing: regenerate the clients (make generate)"
        ) from exc


def _cookieless_jar() -> CookieJar:
    """A jar that stores nothing. udata answers API-key calls with a session cookie; kept, it would
    silently authenticate later calls (even ones meant to run without the key)."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def _make_config(config: Config | None, **given: Any) -> Config:
    overrides = {k: v for k, v in given.items() if v is not _MISSING}
    if config is not None:
        return attrs.evolve(config, **overrides) if overrides else config
    return Config.from_env(**overrides)  # base_url may be a preset name: Config accepts both


class _SharedTransport(httpx.BaseTransport):
    """The connection pool as seen by one client: closing the client does not close a pool that
    `with_options` copies share; the `DataGouv` that created it closes it."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)

    def close(self) -> None:
        pass


class _AsyncSharedTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        pass


# --- what both clients share -----------------------------------------------------------------------


class _DataGouvBase(Generic[_H, _P, _S]):
    """Configuration, the API table, pool ownership, lazily built clients and the pure halves of
    `call`. `_H` is the httpx client type, `_P` the pool's transport type, `_S` the retry sleep."""

    _is_async: ClassVar[bool]
    _detailed: ClassVar[str]  # the flavour of generated function `call` runs

    datasets = collection()
    resources = collection(Resources, AsyncResources)
    organizations = collection()
    reuses = collection()
    dataservices = collection()
    discussions = collection()
    users = collection()
    topics = collection()
    posts = collection()
    me = collection(Me, AsyncMe)

    def __init__(
        self,
        config: Config | None = None,
        *,
        api_key: str | None = _MISSING,
        base_url: str | None = _MISSING,
        metrics_url: str | None = _MISSING,
        tabular_url: str | None = _MISSING,
        timeout: httpx.Timeout | float | None = _MISSING,
        retry: RetryPolicy | None = _MISSING,
        strict: bool | None = _MISSING,
        transport: _P | None = None,
        sleep: _S | None = None,
    ) -> None:
        self.config = _make_config(
            config,
            api_key=api_key,
            base_url=base_url,
            metrics_url=metrics_url,
            tabular_url=tabular_url,
            timeout=timeout,
            retry=retry,
            strict=strict,
        )
        self._owns_connections = True
        self._closed = False
        # The connection pools, built on first use (`connections.py`: TLS only for https, one context).
        self._connections: _P | None = transport
        self._sleep = sleep
        self._http: dict[ApiName, _H] = {}
        self._generated: dict[ApiName, Any] = {}
        self._lock = threading.RLock()  # lazy creation from several threads (prefetch, user threads)
        self._respond = False  # `with_response`: calls answer APIResponse objects
        # Slow-changing answers kept for this client's life (Tabular profiles, Metrics columns…).
        self._cache: dict[Hashable, Any] = {}

    # what each client builds its own way
    def _new_connections(self) -> _P:
        raise NotImplementedError

    def _new_http(self, base_url: str, pool: _P) -> _H:
        raise NotImplementedError

    def _bind(self, generated: Any, http: _H) -> Any:
        raise NotImplementedError

    def with_options(
        self,
        *,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | float | None = None,
        strict: bool | None = None,
    ) -> Self:
        """A copy using other retry/timeout policies (or strictness) over the same connection pool."""
        options = (("retry", retry), ("timeout", timeout), ("strict", strict))
        changes: dict[str, Any] = {k: v for k, v in options if v is not None}
        copy = type(self)(
            attrs.evolve(self.config, **changes), transport=self._shared_connections(), sleep=self._sleep
        )
        copy._owns_connections = False
        return copy

    def _shared_connections(self) -> _P:
        if self._connections is None:
            with self._lock:
                if self._connections is None:
                    self._connections = self._new_connections()
        return self._connections

    def _release(self) -> list[Any]:
        """Mark the client closed; what the caller must close: every client opened so far, and the
        pool if this instance owns it. Empty when already closed (closing is idempotent)."""
        with self._lock:
            if self._closed:
                return []
            self._closed = True
            opened: list[Any] = list(self._http.values())
            self._http.clear()
            self._generated.clear()
            if self._owns_connections and self._connections is not None:
                opened.append(self._connections)
            return opened

    def http(self, api: ApiName = "main") -> _H:
        """The configured httpx client of an API (base URL set, retries, auth scoped to the Main API)."""
        client = self._http.get(api)
        if client is not None:
            return client
        entry = _APIS.get(api)
        if entry is None:
            raise errors.UsageError(f"unknown API {api!r}: expected one of {', '.join(API_NAMES)}")
        with self._lock:
            if self._closed:
                raise errors.UsageError(f"this {type(self).__name__} client is closed")
            client = self._http.get(api)
            if client is None:
                client = self._http[api] = self._new_http(entry[1](self.config), self._shared_connections())
            return client

    def _client_options(self) -> dict[str, Any]:
        return {"timeout": self.config.timeout, "follow_redirects": True, "cookies": _cookieless_jar()}

    def _generated_client(self, api: ApiName) -> Any:
        client = self._generated.get(api)
        if client is None:
            package = importlib.import_module(_APIS[api][0])
            http = self.http(api)
            with self._lock:
                client = self._generated.get(api)
                if client is None:
                    generated = package.Client(base_url=str(http.base_url), strict=self.config.strict)
                    client = self._bind(generated, http)
                    self._generated[api] = client
        return client

    @property
    def main(self) -> datagouv_main.Client:
        """`datagouv_main.Client` bound to the Main API (v1) httpx client."""
        client: datagouv_main.Client = self._generated_client("main")
        return client

    @property
    def main_v2(self) -> datagouv_main_v2.Client:
        client: datagouv_main_v2.Client = self._generated_client("main_v2")
        return client

    @property
    def metrics(self) -> datagouv_metrics.Client:
        client: datagouv_metrics.Client = self._generated_client("metrics")
        return client

    @property
    def tabular(self) -> datagouv_tabular.Client:
        client: datagouv_tabular.Client = self._generated_client("tabular")
        return client

    def _operation(self, spec: str) -> Callable[..., Any]:
        """The generated function of this client's flavour for an operation ("api:tag.module")."""
        fn: Callable[..., Any] = getattr(_operation_module(spec), self._detailed)
        return fn

    def _prepare(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        raw: bool,
        fields: Fields | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Call:
        return prepare(
            fn,
            args,
            kwargs,
            raw=raw,
            is_async=self._is_async,
            generated_client=lambda f: self._generated_client(_api_of(f)),
            fields=fields,
            extra_query=extra_query,
            extra_headers=extra_headers,
        )

    def _responding(self) -> Self:
        """A copy over the same connections whose calls answer `APIResponse`s."""
        copy = self.with_options()
        copy._respond = True
        return copy


# --- the two clients: their I/O --------------------------------------------------------------------


class DataGouv(_DataGouvBase[httpx.Client, httpx.BaseTransport, Callable[[float], None]]):
    """The synchronous client. See the module docstring."""

    _is_async = False
    _detailed = "sync_detailed"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close every client opened so far, and the connection pool if this instance owns it.
        Idempotent; using the client afterwards raises `UsageError`."""
        for opened in self._release():
            opened.close()

    def call(
        self,
        fn: Callable[..., Any],
        /,
        *args: Any,
        raw: bool = False,
        fields: Fields | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run a generated ``sync_detailed`` function; map the status; return the parsed result."""
        call = self._prepare(fn, args, kwargs, raw, fields, extra_query, extra_headers)
        response = call.client.get_httpx_client().request(**call.request)
        return call.respond(response) if self._respond else call.finish(response)

    @property
    def with_response(self) -> ResponseView:
        """This client answering every call with an `APIResponse` (status, headers, URL, elapsed;
        `parse()` on demand) instead of the parsed result; see `ResponseView`."""
        return ResponseView(self._responding())

    def _new_connections(self) -> httpx.BaseTransport:
        return Connections()

    def _new_http(self, base_url: str, pool: httpx.BaseTransport) -> httpx.Client:
        from datagouv_sdk.transport import DataGouvTransport  # on first use: import stays cheap

        transport = DataGouvTransport.from_config(
            self.config, inner=_SharedTransport(pool), sleep=self._sleep
        )
        return httpx.Client(base_url=base_url, transport=transport, **self._client_options())

    def _bind(self, generated: Any, http: httpx.Client) -> Any:
        return generated.set_httpx_client(http)

    @property
    def catalog(self) -> CatalogExports:
        """The daily catalog exports as files and a local DuckDB/Parquet store (`catalog_exports`)."""
        from datagouv_sdk.catalog_exports import CatalogExports

        return CatalogExports(self)


class AsyncDataGouv(
    _DataGouvBase[httpx.AsyncClient, httpx.AsyncBaseTransport, Callable[[float], Awaitable[None]]]
):
    """The asynchronous twin of `DataGouv`: same names, `await`, `async with`, `aclose()`."""

    _is_async = True
    _detailed = "asyncio_detailed"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """The async `close`: idempotent, using the client afterwards raises `UsageError`."""
        for opened in self._release():
            await opened.aclose()

    async def call(
        self,
        fn: Callable[..., Awaitable[Any]],
        /,
        *args: Any,
        raw: bool = False,
        fields: Fields | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run a generated ``asyncio_detailed`` function; map the status; return the parsed result."""
        call = self._prepare(fn, args, kwargs, raw, fields, extra_query, extra_headers)
        response = await call.client.get_async_httpx_client().request(**call.request)
        return call.respond(response) if self._respond else call.finish(response)

    @property
    def with_response(self) -> AsyncResponseView:
        """The async `DataGouv.with_response`."""
        return AsyncResponseView(self._responding())

    def _new_connections(self) -> httpx.AsyncBaseTransport:
        return AsyncConnections()

    def _new_http(self, base_url: str, pool: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
        from datagouv_sdk.transport import AsyncDataGouvTransport

        transport = AsyncDataGouvTransport.from_config(
            self.config, inner=_AsyncSharedTransport(pool), sleep=self._sleep
        )
        return httpx.AsyncClient(base_url=base_url, transport=transport, **self._client_options())

    def _bind(self, generated: Any, http: httpx.AsyncClient) -> Any:
        return generated.set_async_httpx_client(http)


# --- the response form ------------------------------------------------------------------------------


class ResponseView:
    """``dg.with_response``: the client's names, each call answering an `APIResponse` (the status is
    still mapped to the exception tree first). ``call``, and the collections' ``get``, ``create``,
    ``update``, ``delete`` make one request each; listings (``list``, ``search``) make one too, for
    the start page, whose `APIResponse` they return (``parse()`` gives the page). Shares the client's
    connections; closing is the client's business."""

    def __init__(self, dg: DataGouv) -> None:
        self._dg = dg

    def call(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> APIResponse:
        response: APIResponse = self._dg.call(fn, *args, **kwargs)
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dg, name)


class AsyncResponseView:
    """The async `ResponseView` (``await adg.with_response.datasets.get(...)``)."""

    def __init__(self, dg: AsyncDataGouv) -> None:
        self._dg = dg

    async def call(self, fn: Callable[..., Awaitable[Any]], /, *args: Any, **kwargs: Any) -> APIResponse:
        response: APIResponse = await self._dg.call(fn, *args, **kwargs)
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dg, name)
