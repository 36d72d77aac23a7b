"""Call one operation of a third-party API: arguments checked against its document first, parameters
written as the document says, nothing of data.gouv.fr's sent, the user's own credentials only to the
API's own origin, and no host the user did not allow.

Each call goes through our transport (retries, user agent) built with no data.gouv.fr key; its only
"auth host" is the third-party API's own host, so an X-API-KEY header the *user* passes for that API
reaches it, and is stripped from a redirect to anywhere else. Redirects are followed here, one hop at
a time: each target is checked like any third-party URL, and on a change of origin every header the
user gave is dropped.

Hosts: the base URL's host must be public (discovery.urls) unless the caller chose it (`base_url=`,
source "override") or allowed private hosts (`CallLimits.allow_private_hosts`); a redirect's target
must be public unless private hosts are allowed (a chosen base URL does not extend to where a
redirect leads, except its own origin).

The sync and async callers share one core (`_Call`: the request, what each response means, the
result); their own code is the loop that does the I/O.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Mapping
from typing import Any

import attrs
import httpx

from datagouv_sdk.codegen.parameters import cookie_pairs, header_value, request_target
from datagouv_sdk.config import DEFAULT_USER_AGENT, host_key
from datagouv_sdk.discovery.base_url import BaseURL
from datagouv_sdk.discovery.bodies import (
    CappedBody,
    acapped_error_response,
    achunks,
    capped_error_response,
    chunks,
)
from datagouv_sdk.discovery.deadline import DeadlineTransport, deadline_passed, deadline_sleep, total_deadline
from datagouv_sdk.discovery.errors import UnsafeURLError
from datagouv_sdk.discovery.operations import Operation, check_arguments
from datagouv_sdk.discovery.urls import check_url, same_origin
from datagouv_sdk.errors import (
    APIConnectionError,
    APITimeoutError,
    DataGouvError,
    ResponseDecodeError,
    UsageError,
    decode_json,
    raise_for_status,
)
from datagouv_sdk.retry import RetryPolicy
from datagouv_sdk.transport import STREAM_EXTENSION, AsyncDataGouvTransport, DataGouvTransport

__all__ = ["AsyncOperationCaller", "CallLimits", "CallResult", "OperationCaller", "build_url"]

_ERROR_BODY_CAP = 64 * 1024
_CALL_ERRORS = (httpx.HTTPError, APIConnectionError, ResponseDecodeError)


@attrs.frozen
class CallLimits:
    max_bytes: int = 100 * 1024 * 1024  # response body cap
    deadline: float = 60.0  # seconds for the whole call: retries and redirects included
    max_redirects: int = 5
    allow_insecure_http: bool = False  # plain http to hosts other than allowed loopback ones
    allow_private_hosts: bool = False  # loopback, private, placeholder hosts (documents' or redirects')


@attrs.frozen
class CallResult:
    status_code: int
    url: str  # the URL that answered (after redirects)
    headers: httpx.Headers = attrs.field(repr=False)
    content_type: str | None
    data: Any  # parsed JSON, or the text


def build_url(
    base: BaseURL | str,
    operation: Operation,
    path_values: Mapping[str, Any],
    query: Mapping[str, Any] | None = None,
) -> str:
    """Base URL + the operation's path and query string, each parameter written as the document
    says (style, explode; percent-encoded, a "/" in a path value included)."""
    root = (base.url if isinstance(base, BaseURL) else base).rstrip("/")
    styles = {(p.location, p.name): p.serialisation for p in operation.parameters}
    target = request_target(operation.path, styles, path_params=path_values, query=query)
    return root + (target if target.startswith("/") else "/" + target)


# -- the shared core ---------------------------------------------------------------------------------


class _Call:
    """One call's request and decisions, without I/O."""

    def __init__(
        self,
        limits: CallLimits,
        timeout: httpx.Timeout,
        spec: Mapping[str, Any],
        base: BaseURL,
        operation: Operation,
        arguments: Mapping[str, Any] | None,
        *,
        body: Any,
        headers: Mapping[str, str] | None,
        auth: tuple[str, str] | None,
        from_strings: bool,
    ) -> None:
        self.limits = limits
        if not base.url:
            raise UsageError(f"no base URL to call {operation.describe()}: {base.reason}")
        checked = check_arguments(spec, operation, arguments or {}, body=body, from_strings=from_strings)
        url = build_url(base, operation, *_split(operation, checked))
        # The caller's own base_url= may be private (their staging server...): its origin is theirs.
        chosen = httpx.URL(base.url) if base.source == "override" else None
        try:
            checked_url = check_url(
                url,
                allow_insecure_http=limits.allow_insecure_http,
                allow_private=limits.allow_private_hosts or chosen is not None,
            )
        except UnsafeURLError as exc:
            why = f" ({base.reason})" if base.reason else ""
            raise UnsafeURLError(f"the base URL was not chosen by you{why}: {exc}", url=url) from exc
        self.origin = checked_url
        self.chosen = chosen
        self.request = _request(operation, checked, checked_url, body, headers, auth, timeout)
        self.hops = 0
        self.started = time.monotonic()

    def seam_hosts(self) -> tuple[str, ...]:
        return (host_key(self.origin),)

    def redirect(self, response: httpx.Response) -> bool:
        """Follow a redirect: True with `self.request` the next hop's, False when it is not one."""
        location = response.headers.get("location")
        if not (response.is_redirect and location):
            return False
        self.hops += 1
        if self.hops > self.limits.max_redirects:
            raise APIConnectionError(
                f"more than {self.limits.max_redirects} redirects from {self.origin}", request=self.request
            )
        self.request = _redirected(self.limits, self.request, self.origin, self.chosen, response)
        return True

    def body(self) -> CappedBody:
        return CappedBody(self.limits.max_bytes, url=str(self.request.url))

    def result(self, response: httpx.Response, content: bytes) -> CallResult:
        content_type = response.headers.get("content-type")
        data: Any
        if content_type and ("json" in content_type.lower()):
            plain = httpx.Response(response.status_code, content=content, request=self.request)
            data = decode_json(plain) if content else None
        else:
            try:
                data = content.decode(_charset(content_type))
            except (UnicodeDecodeError, LookupError):
                data = content.decode("utf-8", "replace")
        return CallResult(response.status_code, str(self.request.url), response.headers, content_type, data)

    def error(self, exc: Exception, timed_out: bool) -> DataGouvError:
        request = self.request
        if timed_out or time.monotonic() - self.started >= self.limits.deadline:
            return APITimeoutError(
                f"{request.method} {request.url} took longer than its {self.limits.deadline:g} s deadline",
                request=request,
            )
        if isinstance(exc, DataGouvError):
            return exc
        return APIConnectionError(f"{request.method} {request.url} failed: {exc}", request=request)


def _split(operation: Operation, checked: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(path values, query values) of the checked arguments."""
    by_name = {p.name: p for p in reversed(operation.parameters)}
    path = {n: v for n, v in checked.items() if by_name[n].location == "path"}
    query = {n: v for n, v in checked.items() if by_name[n].location == "query"}
    return path, query


def _request(
    operation: Operation,
    checked: Mapping[str, Any],
    url: httpx.URL,
    body: Any,
    headers: Mapping[str, str] | None,
    auth: tuple[str, str] | None,
    timeout: httpx.Timeout,
) -> httpx.Request:
    by_name = {p.name: p for p in reversed(operation.parameters)}
    all_headers = httpx.Headers({"User-Agent": DEFAULT_USER_AGENT, "Accept": "application/json, */*;q=0.5"})
    cookies: list[str] = []
    for name, value in checked.items():
        param = by_name[name]
        explode = param.serialisation[1]
        if param.location == "header":
            all_headers[name] = header_value(value, explode)
        elif param.location == "cookie":
            cookies += cookie_pairs(name, value, explode)
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
        url,
        headers=all_headers,
        content=content,
        extensions={"timeout": timeout.as_dict(), STREAM_EXTENSION: True},
    )


def _redirected(
    limits: CallLimits,
    request: httpx.Request,
    origin: httpx.URL,
    chosen: httpx.URL | None,
    response: httpx.Response,
) -> httpx.Request:
    target = request.url.join(response.headers["location"])
    try:
        target = check_url(
            target,
            allow_insecure_http=limits.allow_insecure_http,
            allow_private=limits.allow_private_hosts or (chosen is not None and same_origin(chosen, target)),
        )
    except UnsafeURLError as exc:
        raise UnsafeURLError(
            f"{request.url} redirected to a URL that is refused ({exc})", url=str(target)
        ) from exc
    method, content = request.method, request.content
    if response.status_code == 303 or (response.status_code in (301, 302) and method not in ("GET", "HEAD")):
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


def _charset(content_type: str | None) -> str:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip('"')
    return "utf-8"


# -- the two callers: their I/O loops ----------------------------------------------------------------


class _Caller:
    """What both callers hold: limits, retry policy, timeout, and the preparation of a call."""

    def __init__(
        self, limits: CallLimits | None, retry: RetryPolicy | None, timeout: httpx.Timeout | float
    ) -> None:
        self.limits = limits or CallLimits()
        self._retry = retry
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)

    def prepare(
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
    ) -> _Call:
        """The checked call (UsageError listing every problem with the arguments, or the host)."""
        return _Call(
            self.limits,
            self._timeout,
            spec,
            base,
            operation,
            arguments,
            body=body,
            headers=headers,
            auth=auth,
            from_strings=from_strings,
        )


class OperationCaller(_Caller):
    """Sends checked calls. One per discovery client; thread-safe (the connection pool is shared)."""

    def __init__(
        self,
        *,
        limits: CallLimits | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | float = 30.0,
    ) -> None:
        super().__init__(limits, retry, timeout)
        self._inner = transport if transport is not None else DeadlineTransport()

    def close(self) -> None:
        self._inner.close()

    def call(
        self,
        spec: Mapping[str, Any],
        base: BaseURL,
        operation: Operation,
        arguments: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> CallResult:
        """Check `arguments` (UsageError listing every problem), send, map errors, parse the body.
        `options`: body, headers, auth, from_strings (see `prepare`)."""
        call = self.prepare(spec, base, operation, arguments, **options)
        with total_deadline(self.limits.deadline):
            try:
                return self._send(call)
            except _CALL_ERRORS as exc:
                raise call.error(exc, deadline_passed()) from exc

    def _send(self, call: _Call) -> CallResult:
        # Retries and the user agent; no data.gouv.fr key, and the user's X-API-KEY only to the origin.
        seam = DataGouvTransport(
            self._inner, retry=self._retry, api_key=None, auth_hosts=call.seam_hosts(), sleep=deadline_sleep
        )
        while True:
            response = seam.handle_request(call.request)
            response.request = call.request
            try:
                if call.redirect(response):
                    continue
                if response.status_code >= 400:
                    raise_for_status(capped_error_response(response, _ERROR_BODY_CAP))
                return call.result(response, call.body().read(chunks(response)))
            finally:
                response.close()


class AsyncOperationCaller(_Caller):
    """The asyncio twin of OperationCaller; the total deadline is an `asyncio.timeout`."""

    def __init__(
        self,
        *,
        limits: CallLimits | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | float = 30.0,
    ) -> None:
        super().__init__(limits, retry, timeout)
        self._inner = transport if transport is not None else httpx.AsyncHTTPTransport()

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def call(
        self,
        spec: Mapping[str, Any],
        base: BaseURL,
        operation: Operation,
        arguments: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> CallResult:
        call = self.prepare(spec, base, operation, arguments, **options)
        try:
            async with asyncio.timeout(self.limits.deadline):
                return await self._send(call)
        except TimeoutError as exc:
            raise call.error(exc, True) from exc
        except _CALL_ERRORS as exc:
            raise call.error(exc, False) from exc

    async def _send(self, call: _Call) -> CallResult:
        seam = AsyncDataGouvTransport(
            self._inner, retry=self._retry, api_key=None, auth_hosts=call.seam_hosts()
        )
        while True:
            response = await seam.handle_async_request(call.request)
            response.request = call.request
            try:
                if call.redirect(response):
                    continue
                if response.status_code >= 400:
                    raise_for_status(await acapped_error_response(response, _ERROR_BODY_CAP))
                return call.result(response, await call.body().aread(achunks(response)))
            finally:
                await response.aclose()
