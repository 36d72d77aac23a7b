"""`DataGouv` and `AsyncDataGouv`: one configured httpx client per API, the generated clients bound to
them, one call helper that maps statuses, and one-line conveniences for the catalog.

    from datagouv_sdk import DataGouv

    with DataGouv() as dg:                                   # Config.from_env(): env vars, presets
        for dataset in dg.datasets.list(q="vélo", limit=50):
            print(dataset.id, dataset.title)
        ds = dg.datasets.get("some-slug")                    # typed model, or errors.NotFoundError

    # Every generated function, with statuses mapped to the exception tree:
    from datagouv_main.api.datasets import list_datasets
    page = dg.call(list_datasets.sync_detailed, q="vélo", page_size=5)

Public names:

- `DataGouv(config=None, *, api_key, base_url, metrics_url, tabular_url, timeout, retry,
  transport, sleep)`: `config` wins; otherwise `Config.from_env(**given arguments)`. `transport` is the
  inner httpx transport (the connection pool; tests pass an `httpx.MockTransport`), `sleep` the
  retry sleep (tests turn waiting off).
- `.main`, `.main_v2`, `.metrics`, `.tabular`: the generated `Client` of each API, bound to our httpx
  client (`set_httpx_client`); `.http(api)` the raw configured `httpx.Client` (base URL set).
- `.call(fn, *args, raw=False, **kwargs)`: runs a generated `sync_detailed` (async: `asyncio_detailed`)
  and returns the parsed model; a status >= 400 raises the matching `errors.APIStatusError` subclass;
  a 2xx the spec types nowhere returns the decoded JSON; None only for an empty body (204).
  `raw=True` returns the decoded JSON (dicts) instead of models. String arguments are converted to
  the enum the generated function expects, a single string to a list where a list is expected
  (``tag="velo"``); a value outside an enum or Literal (``sort="bogus"``) is a `UsageError`, raised
  before any request.
- `.datasets`, `.resources`, `.organizations`, `.reuses`, `.dataservices`: `list(...)` → pager
  (iterate items, `.iter_pages()`, `limit`, `prefetch`), `get(id)`, and for datasets and resources
  `create`, `update`, `delete`; `resources.upload(dataset, path, resource=None, chunk_size=None,
  progress=None)` uploads a file (see uploads.py). A payload is a generated model or a plain mapping
  (sent as JSON).
- `.with_options(retry=..., timeout=...)`: a copy with other policies sharing the connection pool;
  closing the copy leaves the pool open (the original owns it).
- `close()` / `with`; the async twin has `aclose()` / `async with`, and the same names with `await`.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import threading
import types
import typing
from collections.abc import Awaitable, Callable, Hashable, Mapping
from contextvars import ContextVar
from enum import Enum
from functools import cache, lru_cache
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import attrs
import httpx

from datagouv_sdk import errors
from datagouv_sdk.config import Config
from datagouv_sdk.pagination import AsyncPager, NumberedPage, Page, PageInfo, SyncPager
from datagouv_sdk.retry import RetryPolicy

if TYPE_CHECKING:
    from types import TracebackType
    from typing import Self

    import datagouv_main
    import datagouv_main_v2
    import datagouv_metrics
    import datagouv_tabular

    from datagouv_sdk.catalog_exports import CatalogExports

__all__ = ["API_NAMES", "ApiName", "AsyncDataGouv", "DataGouv"]

ApiName = Literal["main", "main_v2", "metrics", "tabular"]
API_NAMES: tuple[ApiName, ...] = ("main", "main_v2", "metrics", "tabular")

# The generated package of each API (import name).
_PACKAGES: dict[ApiName, str] = {
    "main": "datagouv_main",
    "main_v2": "datagouv_main_v2",
    "metrics": "datagouv_metrics",
    "tabular": "datagouv_tabular",
}

_MISSING: Any = object()
T = TypeVar("T")

# The responses seen during the current `call` (one per redirect hop), collected by an httpx response
# hook: generated `*_detailed` functions hand back status, headers and content but not the
# `httpx.Response`, which the exception tree needs (request, URL, body). A ContextVar keeps
# concurrent calls apart (threads of a prefetch, asyncio tasks).
_captured: ContextVar[list[httpx.Response] | None] = ContextVar("datagouv_captured", default=None)


def _capture(response: httpx.Response) -> None:
    holder = _captured.get()
    if holder is not None:
        holder.append(response)


async def _acapture(response: httpx.Response) -> None:
    _capture(response)


class _JSONBody:
    """A plain mapping passed where a generated function expects a body model: the generated code
    only calls ``body.to_dict()``, so the mapping is sent as JSON, unchanged."""

    def __init__(self, payload: Mapping[str, Any]) -> None:
        self._payload = dict(payload)

    def to_dict(self) -> dict[str, Any]:
        return self._payload


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


def _make_config(config: Config | None, **given: Any) -> Config:
    overrides = {k: v for k, v in given.items() if v is not _MISSING}
    if config is not None:
        return attrs.evolve(config, **overrides) if overrides else config
    base_url = overrides.get("base_url")
    if isinstance(base_url, str) and base_url in ("prod", "demo"):
        overrides.pop("base_url")
        return Config.from_env(preset=base_url, **overrides)
    return Config.from_env(**overrides)


def _api_url(config: Config, api: ApiName) -> str:
    if api == "main":
        return config.main_api_url
    if api == "main_v2":
        return config.main_v2_api_url
    if api == "metrics":
        return config.require_metrics_url()
    if api == "tabular":
        return config.require_tabular_url()
    raise errors.UsageError(f"unknown API {api!r}: expected one of {', '.join(API_NAMES)}")


def _api_of(fn: Callable[..., Any]) -> ApiName:
    module = getattr(fn, "__module__", "") or ""
    top = module.split(".", 1)[0]
    for api, package in _PACKAGES.items():
        if top == package:
            return api
    raise errors.UsageError(
        f"{module}.{getattr(fn, '__name__', fn)} is not a function of a generated data.gouv.fr client; "
        "pass client= explicitly"
    )


# --- argument coercion: strings to the enums / lists the generated functions expect ----------------


@lru_cache(maxsize=1024)
def _parameter_types(fn: Callable[..., Any]) -> dict[str, tuple[Any, ...]]:
    try:
        hints = typing.get_type_hints(fn)
    except (NameError, TypeError, AttributeError):  # an annotation we cannot resolve: pass arguments through
        return {}
    out: dict[str, tuple[Any, ...]] = {}
    for name, hint in hints.items():
        is_union = typing.get_origin(hint) in (typing.Union, types.UnionType)
        out[name] = typing.get_args(hint) if is_union else (hint,)
    return out


def _coerce(fn: Callable[..., Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    types_ = _parameter_types(fn)
    result: dict[str, Any] = {}
    for name, value in kwargs.items():
        if value is None:
            continue  # None means "not given" here, as in the generated query builders
        options = types_.get(name, ())
        if isinstance(value, Mapping) and name == "body":
            value = _JSONBody(value)
        elif isinstance(value, str):
            enum_cls = next((t for t in options if isinstance(t, type) and issubclass(t, Enum)), None)
            wants_list = any(typing.get_origin(t) is list for t in options)
            if enum_cls is not None and not isinstance(value, enum_cls):
                try:
                    value = enum_cls(value)
                except ValueError:
                    allowed = ", ".join(str(m.value) for m in enum_cls)
                    raise errors.UsageError(
                        f"{name}={value!r} is not accepted; expected one of: {allowed}"
                    ) from None
            elif wants_list and str not in options:
                value = [value]
            else:
                literals = [a for t in options if typing.get_origin(t) is Literal for a in typing.get_args(t)]
                if literals and str not in options and value not in literals:
                    allowed = ", ".join(str(a) for a in literals)
                    raise errors.UsageError(f"{name}={value!r} is not accepted; expected one of: {allowed}")
        result[name] = value
    return result


def _raw_request(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any] | None:
    """The request a generated function would send, built by its module's ``_get_kwargs`` (every
    openapi-python-client endpoint module has one), so raw mode skips model parsing altogether.
    None when the module has no such builder: the function then runs and raw mode decodes its
    response."""
    module = sys.modules.get(getattr(fn, "__module__", ""))
    build = getattr(module, "_get_kwargs", None)
    if build is None:
        return None
    request: dict[str, Any] = build(*args, **{k: v for k, v in kwargs.items() if k != "client"})
    return request


def _final_response(responses: list[httpx.Response]) -> httpx.Response | None:
    return responses[-1] if responses else None


def _raise_for(response: httpx.Response) -> None:
    if response.status_code >= 400:
        errors.raise_for_status(response)


def _cookieless_jar() -> CookieJar:
    """A jar that stores nothing. udata answers API-key calls with a session cookie; kept, it would
    silently authenticate later calls (even ones meant to run without the key)."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def _result(response: httpx.Response, detailed: Any, raw: bool) -> Any:
    _raise_for(response)
    if raw or getattr(detailed, "parsed", None) is None:
        # Empty body (204, a delete) → None; otherwise the JSON the generated code could not type.
        return errors.decode_json(response) if response.content.strip() else None
    return detailed.parsed


def _decode_failure(
    response: httpx.Response | None, exc: Exception, fn: Callable[..., Any]
) -> errors.DataGouvError:
    if response is not None and response.status_code >= 400:
        try:
            errors.raise_for_status(response)
        except errors.APIStatusError as status_error:
            return status_error
    name = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__name__', '')}"
    if response is None:  # nothing was sent: the arguments were wrong (unknown keyword, wrong body type)
        return errors.UsageError(f"{name}: {exc}")
    return errors.ResponseDecodeError(
        f"the response of {name} does not match the model the spec declares: {exc!r}", response=response
    )


# --- the sync client ------------------------------------------------------------------------------


class DataGouv:
    """The synchronous client. See the module docstring."""

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
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.config = _make_config(
            config,
            api_key=api_key,
            base_url=base_url,
            metrics_url=metrics_url,
            tabular_url=tabular_url,
            timeout=timeout,
            retry=retry,
        )
        self._owns_pool = True
        self._closed = False
        # The connection pool; httpx builds a TLS context for it (~50 ms), so only on first use.
        self._pool: httpx.BaseTransport | None = transport
        self._sleep = sleep
        self._http: dict[ApiName, httpx.Client] = {}
        self._generated: dict[ApiName, Any] = {}
        self._lock = threading.RLock()  # lazy creation from several threads (prefetch, user threads)
        self.datasets = Datasets(self)
        self.resources = Resources(self)
        self.organizations = _ListGet(self, "organizations", "list_organizations", "get_organization")
        self.reuses = _ListGet(self, "reuses", "list_reuses", "get_reuse")
        self.dataservices = _ListGet(self, "dataservices", "list_dataservices", "get_dataservice")

    # lifecycle
    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close every client opened so far, and the connection pool if this instance owns it.
        Idempotent; using the client afterwards raises `UsageError`."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for client in self._http.values():
                client.close()
            self._http.clear()
            self._generated.clear()
            if self._owns_pool and self._pool is not None:
                self._pool.close()

    def with_options(
        self, *, retry: RetryPolicy | None = None, timeout: httpx.Timeout | float | None = None
    ) -> DataGouv:
        """A copy using other retry/timeout policies over the same connection pool."""
        changes: dict[str, Any] = {}
        if retry is not None:
            changes["retry"] = retry
        if timeout is not None:
            changes["timeout"] = timeout
        copy = DataGouv(
            attrs.evolve(self.config, **changes), transport=self._shared_pool(), sleep=self._sleep
        )
        copy._owns_pool = False
        return copy

    def _shared_pool(self) -> httpx.BaseTransport:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = httpx.HTTPTransport()
        return self._pool

    # raw and generated clients
    def http(self, api: ApiName = "main") -> httpx.Client:
        """The configured httpx client of an API (base URL set, retries, auth scoped to the Main API)."""
        client = self._http.get(api)
        if client is not None:
            return client
        with self._lock:
            if self._closed:
                raise errors.UsageError("this DataGouv client is closed")
            return self._http.get(api) or self._new_http(api)

    def _new_http(self, api: ApiName) -> httpx.Client:
        from datagouv_sdk.transport import DataGouvTransport

        transport = DataGouvTransport.from_config(
            self.config, inner=_SharedTransport(self._shared_pool()), sleep=self._sleep
        )
        client = httpx.Client(
            base_url=_api_url(self.config, api),
            transport=transport,
            timeout=self.config.timeout,
            follow_redirects=True,
            cookies=_cookieless_jar(),
            event_hooks={"response": [_capture]},
        )
        self._http[api] = client
        return client

    def _generated_client(self, api: ApiName) -> Any:
        client = self._generated.get(api)
        if client is None:
            package = importlib.import_module(_PACKAGES[api])
            http = self.http(api)
            with self._lock:
                client = self._generated.get(api)
                if client is None:
                    client = package.Client(base_url=str(http.base_url)).set_httpx_client(http)
                    self._generated[api] = client
        return client

    @property
    def catalog(self) -> CatalogExports:
        """The daily catalog exports as files and a local DuckDB/Parquet store (`catalog_exports`)."""
        from datagouv_sdk.catalog_exports import CatalogExports

        return CatalogExports(self)

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

    # the one call helper
    def call(self, fn: Callable[..., Any], /, *args: Any, raw: bool = False, **kwargs: Any) -> Any:
        """Run a generated ``sync_detailed`` function; map the status; return the parsed result."""
        if inspect.iscoroutinefunction(fn):
            raise errors.UsageError(
                f"{fn.__qualname__} is async: use AsyncDataGouv.call, or pass sync_detailed"
            )
        kwargs = _coerce(fn, kwargs)
        if "client" not in kwargs:
            kwargs["client"] = self._generated_client(_api_of(fn))
        responses: list[httpx.Response] = []
        token = _captured.set(responses)
        try:
            request = _raw_request(fn, args, kwargs) if raw else None
            if request is not None:
                detailed = kwargs["client"].get_httpx_client().request(**request)
            else:
                detailed = fn(*args, **kwargs)
        except errors.DataGouvError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise _decode_failure(_final_response(responses), exc, fn) from exc
        finally:
            _captured.reset(token)
        response = _final_response(responses)
        if response is None:
            raise errors.UsageError(f"{fn!r} sent no request through this client's httpx client")
        return _result(response, detailed, raw)

    def _op(self, tag: str, op: str, api: ApiName = "main") -> Callable[..., Any]:
        return _operation(_PACKAGES[api], tag, op).sync_detailed  # type: ignore[no-any-return]

    def _numbered_pager(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        params: dict[str, Any],
        *,
        page: int,
        limit: int | None,
        prefetch: int,
        raw: bool,
    ) -> SyncPager[Any]:
        def fetch(info: PageInfo) -> Page[Any]:
            body = self.call(fn, *args, raw=raw, page=info.page, **params)
            return NumberedPage.from_body(body, _identity)

        return SyncPager(fetch, start=PageInfo(page=page), limit=limit, prefetch=prefetch, key=_item_id)


# --- the async client -----------------------------------------------------------------------------


class AsyncDataGouv:
    """The asynchronous twin of `DataGouv`: same names, `await`, `async with`, `aclose()`."""

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
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.config = _make_config(
            config,
            api_key=api_key,
            base_url=base_url,
            metrics_url=metrics_url,
            tabular_url=tabular_url,
            timeout=timeout,
            retry=retry,
        )
        self._owns_pool = True
        self._closed = False
        self._pool: httpx.AsyncBaseTransport | None = transport  # created on first use, as in DataGouv
        self._sleep = sleep
        self._http: dict[ApiName, httpx.AsyncClient] = {}
        self._generated: dict[ApiName, Any] = {}
        self.datasets = AsyncDatasets(self)
        self.resources = AsyncResources(self)
        self.organizations = _AsyncListGet(self, "organizations", "list_organizations", "get_organization")
        self.reuses = _AsyncListGet(self, "reuses", "list_reuses", "get_reuse")
        self.dataservices = _AsyncListGet(self, "dataservices", "list_dataservices", "get_dataservice")

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """The async `close`: idempotent, using the client afterwards raises `UsageError`."""
        if self._closed:
            return
        self._closed = True
        for client in self._http.values():
            await client.aclose()
        self._http.clear()
        self._generated.clear()
        if self._owns_pool and self._pool is not None:
            await self._pool.aclose()

    def with_options(
        self, *, retry: RetryPolicy | None = None, timeout: httpx.Timeout | float | None = None
    ) -> AsyncDataGouv:
        changes: dict[str, Any] = {}
        if retry is not None:
            changes["retry"] = retry
        if timeout is not None:
            changes["timeout"] = timeout
        copy = AsyncDataGouv(
            attrs.evolve(self.config, **changes), transport=self._shared_pool(), sleep=self._sleep
        )
        copy._owns_pool = False
        return copy

    def _shared_pool(self) -> httpx.AsyncBaseTransport:
        if self._pool is None:
            self._pool = httpx.AsyncHTTPTransport()  # one event loop thread: no lock needed
        return self._pool

    def http(self, api: ApiName = "main") -> httpx.AsyncClient:
        client = self._http.get(api)
        if client is None:
            if self._closed:
                raise errors.UsageError("this AsyncDataGouv client is closed")
            from datagouv_sdk.transport import AsyncDataGouvTransport

            base = _api_url(self.config, api)
            transport = AsyncDataGouvTransport.from_config(
                self.config, inner=_AsyncSharedTransport(self._shared_pool()), sleep=self._sleep
            )
            client = httpx.AsyncClient(
                base_url=base,
                transport=transport,
                timeout=self.config.timeout,
                follow_redirects=True,
                cookies=_cookieless_jar(),
                event_hooks={"response": [_acapture]},
            )
            self._http[api] = client
        return client

    def _generated_client(self, api: ApiName) -> Any:
        client = self._generated.get(api)
        if client is None:
            package = importlib.import_module(_PACKAGES[api])
            http = self.http(api)
            client = package.Client(base_url=str(http.base_url)).set_async_httpx_client(http)
            self._generated[api] = client
        return client

    @property
    def main(self) -> datagouv_main.Client:
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

    async def call(
        self, fn: Callable[..., Awaitable[Any]], /, *args: Any, raw: bool = False, **kwargs: Any
    ) -> Any:
        """Run a generated ``asyncio_detailed`` function; map the status; return the parsed result."""
        if not inspect.iscoroutinefunction(fn):
            raise errors.UsageError(
                f"{fn.__qualname__} is not async: use DataGouv.call, or pass asyncio_detailed"
            )
        kwargs = _coerce(fn, kwargs)
        if "client" not in kwargs:
            kwargs["client"] = self._generated_client(_api_of(fn))
        responses: list[httpx.Response] = []
        token = _captured.set(responses)
        try:
            request = _raw_request(fn, args, kwargs) if raw else None
            if request is not None:
                detailed = await kwargs["client"].get_async_httpx_client().request(**request)
            else:
                detailed = await fn(*args, **kwargs)
        except errors.DataGouvError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise _decode_failure(_final_response(responses), exc, fn) from exc
        finally:
            _captured.reset(token)
        response = _final_response(responses)
        if response is None:
            raise errors.UsageError(f"{fn!r} sent no request through this client's httpx client")
        return _result(response, detailed, raw)

    def _op(self, tag: str, op: str, api: ApiName = "main") -> Callable[..., Awaitable[Any]]:
        return _operation(_PACKAGES[api], tag, op).asyncio_detailed  # type: ignore[no-any-return]

    def _numbered_pager(
        self,
        fn: Callable[..., Awaitable[Any]],
        args: tuple[Any, ...],
        params: dict[str, Any],
        *,
        page: int,
        limit: int | None,
        prefetch: int,
        raw: bool,
    ) -> AsyncPager[Any]:
        async def fetch(info: PageInfo) -> Page[Any]:
            body = await self.call(fn, *args, raw=raw, page=info.page, **params)
            return NumberedPage.from_body(body, _identity)

        return AsyncPager(fetch, start=PageInfo(page=page), limit=limit, prefetch=prefetch, key=_item_id)


# --- conveniences ---------------------------------------------------------------------------------


@cache
def _operation(package: str, tag: str, op: str) -> Any:
    try:
        return importlib.import_module(f"{package}.api.{tag}.{op}")
    except ImportError as exc:
        raise errors.UsageError(
            f"{package}.api.{tag}.{op} is missing: regenerate the clients (make generate)"
        ) from exc


def _identity(value: Any) -> Any:
    return value


def _item_id(item: Any) -> Hashable | None:
    value = item.get("id") if isinstance(item, Mapping) else getattr(item, "id", None)
    return value if isinstance(value, str) else None


def _page_size(page_size: int | None, limit: int | None) -> int | None:
    # Asking for fewer items than a page holds: fetch just those.
    if page_size is None and limit is not None and 0 < limit < 20:
        return limit
    return page_size


def _list_params(page_size: int | None, limit: int | None, filters: Mapping[str, Any]) -> dict[str, Any]:
    params = {k: v for k, v in filters.items() if v is not None}
    size = _page_size(page_size, limit)
    if size is not None:
        params["page_size"] = size
    return params


class _ListGet:
    """``list`` and ``get`` over the generated functions of one tag of the Main API."""

    def __init__(self, dg: DataGouv, tag: str, list_op: str, get_op: str) -> None:
        self._dg = dg
        self._tag = tag
        self._list_op = list_op
        self._get_op = get_op

    def list(
        self,
        *,
        page: int = 1,
        page_size: int | None = None,
        limit: int | None = None,
        prefetch: int = 0,
        raw: bool = False,
        **filters: Any,
    ) -> SyncPager[Any]:
        """A pager over the listing; ``filters`` are the generated function's query parameters
        (``q``, ``organization``, ``tag``, ``sort`` …)."""
        fn = self._dg._op(self._tag, self._list_op)
        params = _list_params(page_size, limit, filters)
        return self._dg._numbered_pager(fn, (), params, page=page, limit=limit, prefetch=prefetch, raw=raw)

    def get(self, ident: str, *, raw: bool = False) -> Any:
        return self._dg.call(self._dg._op(self._tag, self._get_op), ident, raw=raw)


class Datasets(_ListGet):
    """``dg.datasets``: list, get, create, update, delete."""

    def __init__(self, dg: DataGouv) -> None:
        super().__init__(dg, "datasets", "list_datasets", "get_dataset")

    def create(self, payload: Any, *, raw: bool = False) -> Any:
        """Create a dataset (needs an API key). ``payload``: a mapping (``title``, ``description`` …)
        or a generated model."""
        return self._dg.call(self._dg._op("datasets", "create_dataset"), body=payload, raw=raw)

    def update(self, dataset: str, payload: Any, *, raw: bool = False) -> Any:
        """Update a dataset; fields absent from a mapping payload keep their value."""
        return self._dg.call(self._dg._op("datasets", "update_dataset"), dataset, body=payload, raw=raw)

    def delete(self, dataset: str) -> None:
        self._dg.call(self._dg._op("datasets", "delete_dataset"), dataset)


class Resources:
    """``dg.resources``: the resources (files, links) of a dataset."""

    def __init__(self, dg: DataGouv) -> None:
        self._dg = dg

    def list(
        self,
        dataset: str,
        *,
        page: int = 1,
        page_size: int | None = None,
        limit: int | None = None,
        prefetch: int = 0,
        raw: bool = False,
        **filters: Any,
    ) -> SyncPager[Any]:
        """The resources of a dataset, paginated (Main API v2)."""
        fn = self._dg._op("datasets", "list_resources", api="main_v2")
        params = _list_params(page_size, limit, filters)
        return self._dg._numbered_pager(
            fn, (dataset,), params, page=page, limit=limit, prefetch=prefetch, raw=raw
        )

    def get(self, dataset: str, resource: str, *, raw: bool = False) -> Any:
        return self._dg.call(self._dg._op("datasets", "get_resource"), dataset, resource, raw=raw)

    def create(self, dataset: str, payload: Any, *, raw: bool = False) -> Any:
        """Add a remote resource (a URL: ``{"title", "url", "filetype": "remote", "type", "format"}``).
        Uploading a file is `datagouv_sdk.uploads.upload_resource`."""
        return self._dg.call(self._dg._op("datasets", "create_resource"), dataset, body=payload, raw=raw)

    def update(self, dataset: str, resource: str, payload: Any, *, raw: bool = False) -> Any:
        return self._dg.call(
            self._dg._op("datasets", "update_resource"), dataset, resource, body=payload, raw=raw
        )

    def delete(self, dataset: str, resource: str) -> None:
        self._dg.call(self._dg._op("datasets", "delete_resource"), dataset, resource)

    def upload(
        self,
        dataset: str,
        path: str | os.PathLike[str],
        *,
        resource: str | None = None,
        chunk_size: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, Any]:
        """Upload a file as a new resource of ``dataset`` (or as the new file of ``resource``);
        see `datagouv_sdk.uploads.upload_resource`."""
        from datagouv_sdk.uploads import upload_resource

        return upload_resource(
            self._dg, dataset, path, resource=resource, chunk_size=chunk_size, progress=progress
        )


class _AsyncListGet:
    def __init__(self, dg: AsyncDataGouv, tag: str, list_op: str, get_op: str) -> None:
        self._dg = dg
        self._tag = tag
        self._list_op = list_op
        self._get_op = get_op

    def list(
        self,
        *,
        page: int = 1,
        page_size: int | None = None,
        limit: int | None = None,
        prefetch: int = 0,
        raw: bool = False,
        **filters: Any,
    ) -> AsyncPager[Any]:
        fn = self._dg._op(self._tag, self._list_op)
        params = _list_params(page_size, limit, filters)
        return self._dg._numbered_pager(fn, (), params, page=page, limit=limit, prefetch=prefetch, raw=raw)

    async def get(self, ident: str, *, raw: bool = False) -> Any:
        return await self._dg.call(self._dg._op(self._tag, self._get_op), ident, raw=raw)


class AsyncDatasets(_AsyncListGet):
    def __init__(self, dg: AsyncDataGouv) -> None:
        super().__init__(dg, "datasets", "list_datasets", "get_dataset")

    async def create(self, payload: Any, *, raw: bool = False) -> Any:
        return await self._dg.call(self._dg._op("datasets", "create_dataset"), body=payload, raw=raw)

    async def update(self, dataset: str, payload: Any, *, raw: bool = False) -> Any:
        return await self._dg.call(self._dg._op("datasets", "update_dataset"), dataset, body=payload, raw=raw)

    async def delete(self, dataset: str) -> None:
        await self._dg.call(self._dg._op("datasets", "delete_dataset"), dataset)


class AsyncResources:
    def __init__(self, dg: AsyncDataGouv) -> None:
        self._dg = dg

    def list(
        self,
        dataset: str,
        *,
        page: int = 1,
        page_size: int | None = None,
        limit: int | None = None,
        prefetch: int = 0,
        raw: bool = False,
        **filters: Any,
    ) -> AsyncPager[Any]:
        fn = self._dg._op("datasets", "list_resources", api="main_v2")
        params = _list_params(page_size, limit, filters)
        return self._dg._numbered_pager(
            fn, (dataset,), params, page=page, limit=limit, prefetch=prefetch, raw=raw
        )

    async def get(self, dataset: str, resource: str, *, raw: bool = False) -> Any:
        return await self._dg.call(self._dg._op("datasets", "get_resource"), dataset, resource, raw=raw)

    async def create(self, dataset: str, payload: Any, *, raw: bool = False) -> Any:
        return await self._dg.call(
            self._dg._op("datasets", "create_resource"), dataset, body=payload, raw=raw
        )

    async def update(self, dataset: str, resource: str, payload: Any, *, raw: bool = False) -> Any:
        return await self._dg.call(
            self._dg._op("datasets", "update_resource"), dataset, resource, body=payload, raw=raw
        )

    async def delete(self, dataset: str, resource: str) -> None:
        await self._dg.call(self._dg._op("datasets", "delete_resource"), dataset, resource)

    async def upload(
        self,
        dataset: str,
        path: str | os.PathLike[str],
        *,
        resource: str | None = None,
        chunk_size: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, Any]:
        """The async `Resources.upload`."""
        from datagouv_sdk.uploads import aupload_resource

        return await aupload_resource(
            self._dg, dataset, path, resource=resource, chunk_size=chunk_size, progress=progress
        )
