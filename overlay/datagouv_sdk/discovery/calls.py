"""Call one operation of a third-party API: arguments checked against its document first, nothing
of data.gouv.fr's sent, the user's own credentials only to the API's own origin.

Each call goes through our transport (retries, user agent) built with no data.gouv.fr key; its only
"auth host" is the third-party API's own host, so an X-API-KEY header the *user* passes for that API
reaches it, and is stripped from a redirect to anywhere else. Redirects are followed here, one hop at
a time: each target is checked like any third-party URL, and on a change of origin every header the
user gave is dropped.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import attrs
import httpx

from datagouv_sdk.config import DEFAULT_USER_AGENT, host_key
from datagouv_sdk.discovery.deadline import DeadlineTransport, deadline_passed, deadline_sleep, total_deadline
from datagouv_sdk.discovery.errors import UnsafeURLError
from datagouv_sdk.discovery.fetch import (
    acapped_error_response,
    aread_capped,
    capped_error_response,
    read_capped,
)
from datagouv_sdk.discovery.operations import BaseURL, Operation, check_arguments
from datagouv_sdk.discovery.urls import check_url, same_origin
from datagouv_sdk.errors import (
    APIConnectionError,
    APITimeoutError,
    DataGouvError,
    ResponseDecodeError,
    decode_json,
    raise_for_status,
)
from datagouv_sdk.retry import RetryPolicy
from datagouv_sdk.transport import STREAM_EXTENSION, AsyncDataGouvTransport, DataGouvTransport

__all__ = ["AsyncOperationCaller", "CallLimits", "CallResult", "OperationCaller", "build_url"]

_ERROR_BODY_CAP = 64 * 1024


@attrs.frozen
class CallLimits:
    max_bytes: int = 100 * 1024 * 1024  # response body cap
    deadline: float = 60.0  # seconds for the whole call: retries and redirects included
    max_redirects: int = 5
    allow_insecure_http: bool = False


@attrs.frozen
class CallResult:
    status_code: int
    url: str  # the URL that answered (after redirects)
    headers: httpx.Headers = attrs.field(repr=False)
    content_type: str | None
    data: Any  # parsed JSON, or the text


def build_url(base: BaseURL | str, operation: Operation, path_values: Mapping[str, Any]) -> str:
    """Base URL + the operation's path, each path parameter percent-encoded (a "/" included)."""
    root = (base.url if isinstance(base, BaseURL) else base).rstrip("/")
    path = operation.path
    for name, value in path_values.items():
        path = path.replace("{" + name + "}", quote(_text(value), safe=""))
    return root + (path if path.startswith("/") else "/" + path)


class OperationCaller:
    """Sends checked calls. One per discovery client; thread-safe (the connection pool is shared)."""

    def __init__(
        self,
        *,
        limits: CallLimits | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | float = 30.0,
    ) -> None:
        self.limits = limits or CallLimits()
        self._inner = transport if transport is not None else DeadlineTransport()
        self._retry = retry
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)

    def close(self) -> None:
        self._inner.close()

    def call(
        self,
        spec: Mapping[str, Any],
        base: BaseURL,
        operation: Operation,
        arguments: Mapping[str, Any] | None = None,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        from_strings: bool = False,
    ) -> CallResult:
        """Check `arguments` (UsageError listing every problem), send, map errors, parse the body."""
        checked = check_arguments(spec, operation, arguments or {}, body=body, from_strings=from_strings)
        request = _build_request(self.limits, self._timeout, base, operation, checked, body, headers, auth)
        started = time.monotonic()
        with total_deadline(self.limits.deadline):
            try:
                return self._send(request)
            except (httpx.HTTPError, APIConnectionError, ResponseDecodeError) as exc:
                timed_out = deadline_passed() or time.monotonic() - started >= self.limits.deadline
                raise _call_error(exc, request, self.limits, timed_out) from exc

    def _send(self, request: httpx.Request) -> CallResult:
        origin = request.url
        for _hop in range(self.limits.max_redirects + 1):
            # Retries and the user agent; no data.gouv.fr key, and the user's X-API-KEY only to `origin`.
            seam = DataGouvTransport(
                self._inner,
                retry=self._retry,
                api_key=None,
                auth_hosts=(host_key(origin),),
                sleep=deadline_sleep,
            )
            response = seam.handle_request(request)
            response.request = request
            try:
                location = response.headers.get("location")
                if response.is_redirect and location:
                    request = _redirected(
                        self.limits, request, origin, request.url.join(location), response.status_code
                    )
                    continue
                if response.status_code >= 400:
                    raise_for_status(capped_error_response(response, _ERROR_BODY_CAP))
                content = read_capped(response, self.limits.max_bytes, url=str(request.url))
            finally:
                response.close()
            return _result(request, response, content)
        raise APIConnectionError(
            f"more than {self.limits.max_redirects} redirects from {origin}", request=request
        )


class AsyncOperationCaller:
    """The asyncio twin of OperationCaller; the total deadline is an `asyncio.timeout`."""

    def __init__(
        self,
        *,
        limits: CallLimits | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | float = 30.0,
    ) -> None:
        self.limits = limits or CallLimits()
        self._inner = transport if transport is not None else httpx.AsyncHTTPTransport()
        self._retry = retry
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def call(
        self,
        spec: Mapping[str, Any],
        base: BaseURL,
        operation: Operation,
        arguments: Mapping[str, Any] | None = None,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        from_strings: bool = False,
    ) -> CallResult:
        checked = check_arguments(spec, operation, arguments or {}, body=body, from_strings=from_strings)
        request = _build_request(self.limits, self._timeout, base, operation, checked, body, headers, auth)
        try:
            async with asyncio.timeout(self.limits.deadline):
                return await self._send(request)
        except TimeoutError as exc:
            raise _call_error(exc, request, self.limits, True) from exc
        except (httpx.HTTPError, APIConnectionError, ResponseDecodeError) as exc:
            raise _call_error(exc, request, self.limits, False) from exc

    async def _send(self, request: httpx.Request) -> CallResult:
        origin = request.url
        for _hop in range(self.limits.max_redirects + 1):
            seam = AsyncDataGouvTransport(
                self._inner, retry=self._retry, api_key=None, auth_hosts=(host_key(origin),)
            )
            response = await seam.handle_async_request(request)
            response.request = request
            try:
                location = response.headers.get("location")
                if response.is_redirect and location:
                    request = _redirected(
                        self.limits, request, origin, request.url.join(location), response.status_code
                    )
                    continue
                if response.status_code >= 400:
                    raise_for_status(await acapped_error_response(response, _ERROR_BODY_CAP))
                content = await aread_capped(response, self.limits.max_bytes, url=str(request.url))
            finally:
                await response.aclose()
            return _result(request, response, content)
        raise APIConnectionError(
            f"more than {self.limits.max_redirects} redirects from {origin}", request=request
        )


def _build_request(
    limits: CallLimits,
    timeout: httpx.Timeout,
    base: BaseURL,
    operation: Operation,
    checked: Mapping[str, Any],
    body: Any,
    headers: Mapping[str, str] | None,
    auth: tuple[str, str] | None,
) -> httpx.Request:
    by_name = {p.name: p for p in reversed(operation.parameters)}
    path_values: dict[str, Any] = {}
    query: list[tuple[str, str]] = []
    header_values: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in checked.items():
        location = by_name[name].location
        if location == "path":
            path_values[name] = value
        elif location == "query":
            values = value if isinstance(value, list) else [value]
            query.extend((name, _text(v)) for v in values)
        elif location == "header":
            header_values[name] = ",".join(map(_text, value)) if isinstance(value, list) else _text(value)
        else:
            cookies.append(f"{name}={quote(_text(value), safe='')}")
    url = check_url(build_url(base, operation, path_values), allow_insecure_http=limits.allow_insecure_http)
    all_headers = httpx.Headers({"User-Agent": DEFAULT_USER_AGENT, "Accept": "application/json, */*;q=0.5"})
    all_headers.update(header_values)
    if cookies:
        all_headers["Cookie"] = "; ".join(cookies)
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
        all_headers["Authorization"] = f"Basic {token}"
    all_headers.update(dict(headers or {}))
    content: bytes | None = None
    if body is not None:
        types = operation.request_body.content_types if operation.request_body else ()
        if isinstance(body, (bytes, str)) and types and not any("json" in t for t in types):
            content = body.encode() if isinstance(body, str) else body
            all_headers.setdefault("Content-Type", types[0])
        else:
            content = json.dumps(body, ensure_ascii=False).encode()
            all_headers.setdefault("Content-Type", "application/json")
    return httpx.Request(
        operation.method,
        url.copy_merge_params(tuple(query)) if query else url,
        headers=all_headers,
        content=content,
        extensions={"timeout": timeout.as_dict(), STREAM_EXTENSION: True},
    )


def _redirected(
    limits: CallLimits, request: httpx.Request, origin: httpx.URL, target: httpx.URL, status: int
) -> httpx.Request:
    try:
        target = check_url(target, allow_insecure_http=limits.allow_insecure_http)
    except UnsafeURLError as exc:
        raise UnsafeURLError(
            f"{request.url} redirected to a URL that is refused ({exc})", url=str(target)
        ) from exc
    method, content = request.method, request.content
    if status == 303 or (status in (301, 302) and method not in ("GET", "HEAD")):
        method, content = "GET", b""
    headers = httpx.Headers(request.headers)
    headers.pop("host", None)
    headers.pop("content-length", None)
    if not content:
        headers.pop("content-type", None)
    if not same_origin(origin, target):
        # Every header the caller gave may carry their credentials for `origin`: keep only ours.
        headers = httpx.Headers({k: v for k, v in headers.items() if k.lower() in ("user-agent", "accept")})
    return httpx.Request(
        method, target, headers=headers, content=content or None, extensions=request.extensions
    )


def _call_error(exc: Exception, request: httpx.Request, limits: CallLimits, timed_out: bool) -> DataGouvError:
    if timed_out:
        return APITimeoutError(
            f"{request.method} {request.url} took longer than its {limits.deadline:g} s deadline",
            request=request,
        )
    if isinstance(exc, DataGouvError):
        return exc
    return APIConnectionError(f"{request.method} {request.url} failed: {exc}", request=request)


def _result(request: httpx.Request, response: httpx.Response, content: bytes) -> CallResult:
    content_type = response.headers.get("content-type")
    data: Any
    if content_type and ("json" in content_type.lower()):
        plain = httpx.Response(response.status_code, content=content, request=request)
        data = decode_json(plain) if content else None
    else:
        try:
            data = content.decode(_charset(content_type))
        except (UnicodeDecodeError, LookupError):
            data = content.decode("utf-8", "replace")
    return CallResult(response.status_code, str(request.url), response.headers, content_type, data)


def _charset(content_type: str | None) -> str:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip('"')
    return "utf-8"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)
