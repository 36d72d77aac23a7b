"""The one seam every request goes through: retries, the API key header, the user agent, logging.

`DataGouvTransport` wraps `inner` (default `httpx.HTTPTransport()`, the connection pool);
`AsyncDataGouvTransport` is its async twin. Request extensions: `RETRY_EXTENSION` carries a
`RetryPolicy` overriding the transport's for one request
(``client.get(url, extensions={RETRY_EXTENSION: RetryPolicy.none()})``); `STREAM_EXTENSION` true
hands the body over unread.

Rules:

- Auth: `X-API-KEY` is set only when the request's "host[:port]" is in `auth_hosts` (the Main API
  host), and removed from any request to another host, whoever set it. httpx re-sends every
  redirect through the transport, so a redirect to another host never carries the key.
  Consequence: a third-party API wanting its own X-API-KEY needs its own client, not this transport.
- User agent: ours replaces httpx's default; a User-Agent the caller set is kept.
- Bodies: a response is read to the end inside the transport (so a body that breaks off — reset,
  truncated — is retried like any read error) unless the request has `STREAM_EXTENSION` true; a
  streamed body is handed over unread and errors while iterating it are raised as our exceptions.
  Request bodies other than plain bytes (generators, multipart files) are only re-sent after a
  connection error, when nothing of them was consumed.
- Outcome after the last attempt: a response of any status is RETURNED (map it with
  `errors.raise_for_status`); a Retry-After above the policy ceiling returns the response at once
  without sleeping. Transport failures raise `APITimeoutError` (timeouts), `ResponseDecodeError`
  (the status line arrived, the body broke off) or `APIConnectionError` (everything else), chained
  from the httpx error.
- Logging: logger "datagouv_sdk", DEBUG: one line per attempt (method, URL, attempt, status or
  error) and per retry (wait, reason). Headers are never logged and the key is masked everywhere.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any, Generic, Self, TypeVar

import httpx

from datagouv_sdk.config import DEFAULT_USER_AGENT, Config, host_key
from datagouv_sdk.errors import (
    APIConnectionError,
    APITimeoutError,
    DataGouvError,
    ResponseDecodeError,
    UsageError,
)
from datagouv_sdk.retry import NEVER_SENT, RetryDecision, RetryPolicy

__all__ = [
    "API_KEY_HEADER",
    "LOGGER_NAME",
    "RETRY_EXTENSION",
    "STREAM_EXTENSION",
    "AsyncDataGouvTransport",
    "DataGouvTransport",
]

API_KEY_HEADER = "X-API-KEY"
RETRY_EXTENSION = "datagouv_retry"
STREAM_EXTENSION = "datagouv_stream"
LOGGER_NAME = "datagouv_sdk"

logger = logging.getLogger(LOGGER_NAME)

_Inner = TypeVar("_Inner", httpx.BaseTransport, httpx.AsyncBaseTransport)
_Sleep = TypeVar("_Sleep", Callable[[float], None], Callable[[float], Awaitable[None]])

_TIMEOUT_KIND: dict[type[httpx.TimeoutException], str] = {
    httpx.ConnectTimeout: "connect",
    httpx.ReadTimeout: "read",
    httpx.WriteTimeout: "write",
    httpx.PoolTimeout: "pool",
}


class _TransportCore(Generic[_Inner, _Sleep]):
    """What the sync and async transports share: everything but the I/O and the sleeping. `_Inner`
    is the wrapped transport's type, `_Sleep` the retry sleep's."""

    def __init__(
        self,
        inner: _Inner | None = None,
        *,
        retry: RetryPolicy | None = None,
        api_key: str | None = None,
        auth_hosts: Iterable[str] = (),
        user_agent: str = DEFAULT_USER_AGENT,
        sleep: _Sleep | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._retry = retry if retry is not None else RetryPolicy()
        self._api_key = api_key or None
        self._auth_hosts = frozenset(
            h.lower() for h in ([auth_hosts] if isinstance(auth_hosts, str) else auth_hosts)
        )
        bad = sorted(h for h in self._auth_hosts if "/" in h or not h)
        if bad:  # a URL here would silently never match, and the key would never be sent
            raise UsageError(
                f"auth_hosts takes 'host' or 'host:port' entries (see config.host_key), got {bad}"
            )
        self._user_agent = user_agent
        self._clock = clock if clock is not None else time.time
        # after the checks: a refused configuration opens no connection pool
        self._inner: _Inner = inner if inner is not None else self._default_inner()
        self._sleep: _Sleep = sleep if sleep is not None else self._default_sleep()

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        inner: _Inner | None = None,
        sleep: _Sleep | None = None,
        clock: Callable[[], float] | None = None,
    ) -> Self:
        return cls(
            inner,
            retry=config.retry,
            api_key=config.api_key,
            auth_hosts=config.auth_hosts,
            user_agent=config.user_agent,
            sleep=sleep,
            clock=clock,
        )

    # what each flavour builds its own way
    def _default_inner(self) -> _Inner:
        raise NotImplementedError

    def _default_sleep(self) -> _Sleep:
        raise NotImplementedError

    def __repr__(self) -> str:
        key = "'***'" if self._api_key else "None"
        return f"{type(self).__name__}(auth_hosts={sorted(self._auth_hosts)}, api_key={key}, retry={self._retry!r})"

    def _prepare(self, request: httpx.Request) -> RetryPolicy:
        """Set the auth and user-agent headers; return the retry policy for this request."""
        if host_key(request.url) in self._auth_hosts:
            if self._api_key is not None:
                request.headers[API_KEY_HEADER] = self._api_key
        elif API_KEY_HEADER in request.headers:
            del request.headers[API_KEY_HEADER]
        agent = request.headers.get("user-agent")
        if agent is None or agent.startswith("python-httpx/"):
            request.headers["User-Agent"] = self._user_agent
        override = request.extensions.get(RETRY_EXTENSION)
        if override is None:
            return self._retry
        if not isinstance(override, RetryPolicy):
            raise UsageError(
                f"request extension {RETRY_EXTENSION!r} must be a RetryPolicy, got {type(override).__name__}"
            )
        return override

    def _decide(
        self,
        policy: RetryPolicy,
        request: httpx.Request,
        attempt: int,
        outcome: httpx.Response | httpx.TransportError,
        in_body: bool = False,
    ) -> RetryDecision:
        decision = policy.decide(request.method, attempt, outcome, self._clock())
        if decision.retry and not isinstance(outcome, NEVER_SENT) and not _replayable(request):
            decision = RetryDecision(
                False, reason="the request body cannot be sent twice", retry_after=decision.retry_after
            )
        if logger.isEnabledFor(logging.DEBUG):
            result = outcome.status_code if isinstance(outcome, httpx.Response) else type(outcome).__name__
            if in_body:
                result = f"body broke off ({result})"
            logger.debug(
                "%s %s attempt %d/%d: %s",
                request.method,
                self._redact(str(request.url)),
                attempt,
                policy.max_attempts,
                result,
            )
            if decision.retry:
                logger.debug(
                    "retrying %s %s in %.2fs: %s",
                    request.method,
                    self._redact(str(request.url)),
                    decision.wait,
                    decision.reason,
                )
            elif not isinstance(outcome, httpx.Response) or outcome.status_code >= 400:
                logger.debug(
                    "not retrying %s %s: %s",
                    request.method,
                    self._redact(str(request.url)),
                    self._redact(decision.reason),
                )
        return decision

    def _final_error(
        self, request: httpx.Request, exc: httpx.TransportError, attempt: int, in_body: bool
    ) -> DataGouvError:
        where = f"{request.method} {self._redact(str(request.url))}"
        detail = self._redact(str(exc) or type(exc).__name__)
        tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
        if isinstance(exc, httpx.TimeoutException):
            kind = _TIMEOUT_KIND.get(type(exc), "")
            return APITimeoutError(
                f"{kind + ' ' if kind else ''}timeout on {where} ({tries})", request=request
            )
        if in_body:
            return ResponseDecodeError(f"the response body of {where} broke off: {detail} ({tries})")
        return APIConnectionError(f"could not get a response to {where}: {detail} ({tries})", request=request)

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text


def _replayable(request: httpx.Request) -> bool:
    # Bytes, JSON, form and empty bodies are ByteStream; generators and multipart files are not.
    return isinstance(request.stream, httpx.ByteStream)


def _rebuilt(
    response: httpx.Response, request: httpx.Request, stream: httpx.SyncByteStream | httpx.AsyncByteStream
) -> httpx.Response:
    # Same status/headers/extensions over a new stream; raw bytes, so Content-Encoding stays valid.
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        stream=stream,
        extensions=response.extensions,
        request=request,
    )


class _GuardedStream(httpx.SyncByteStream):
    """A streamed body whose transport errors surface as our exceptions."""

    def __init__(
        self, inner: httpx.SyncByteStream, core: _TransportCore[Any, Any], request: httpx.Request
    ) -> None:
        self._inner, self._core, self._request = inner, core, request

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._inner
        except httpx.TransportError as exc:
            raise self._core._final_error(self._request, exc, 1, in_body=True) from exc

    def close(self) -> None:
        self._inner.close()


class _AsyncGuardedStream(httpx.AsyncByteStream):
    def __init__(
        self, inner: httpx.AsyncByteStream, core: _TransportCore[Any, Any], request: httpx.Request
    ) -> None:
        self._inner, self._core, self._request = inner, core, request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except httpx.TransportError as exc:
            raise self._core._final_error(self._request, exc, 1, in_body=True) from exc

    async def aclose(self) -> None:
        await self._inner.aclose()


class DataGouvTransport(_TransportCore[httpx.BaseTransport, Callable[[float], None]], httpx.BaseTransport):
    """Sync transport: retries, host-scoped API key, user agent and logging around `inner`."""

    def _default_inner(self) -> httpx.BaseTransport:
        return httpx.HTTPTransport()

    def _default_sleep(self) -> Callable[[float], None]:
        return time.sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        policy = self._prepare(request)
        streamed = bool(request.extensions.get(STREAM_EXTENSION))
        attempt = 0
        while True:
            attempt += 1
            in_body = False
            try:
                response = self._inner.handle_request(request)
                decision = self._decide(policy, request, attempt, response)
                if decision.retry:
                    response.close()
                    self._sleep(decision.wait)
                    continue
                assert isinstance(response.stream, httpx.SyncByteStream)
                if streamed:
                    return _rebuilt(response, request, _GuardedStream(response.stream, self, request))
                in_body = True
                try:
                    raw = b"".join(response.stream)  # the raw stream: iter_raw() refuses an already-read body
                finally:
                    response.close()
                return _rebuilt(response, request, httpx.ByteStream(raw))
            except httpx.TransportError as exc:
                decision = self._decide(policy, request, attempt, exc, in_body)
                if not decision.retry:
                    raise self._final_error(request, exc, attempt, in_body) from exc
                self._sleep(decision.wait)

    def close(self) -> None:
        self._inner.close()


class AsyncDataGouvTransport(
    _TransportCore[httpx.AsyncBaseTransport, Callable[[float], Awaitable[None]]], httpx.AsyncBaseTransport
):
    """Async twin of DataGouvTransport; `sleep` is awaited."""

    def _default_inner(self) -> httpx.AsyncBaseTransport:
        return httpx.AsyncHTTPTransport()

    def _default_sleep(self) -> Callable[[float], Awaitable[None]]:
        import asyncio  # here, not at module level: `import asyncio` is ~10 ms of a sync first call

        return asyncio.sleep

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        policy = self._prepare(request)
        streamed = bool(request.extensions.get(STREAM_EXTENSION))
        attempt = 0
        while True:
            attempt += 1
            in_body = False
            try:
                response = await self._inner.handle_async_request(request)
                decision = self._decide(policy, request, attempt, response)
                if decision.retry:
                    await response.aclose()
                    await self._sleep(decision.wait)
                    continue
                assert isinstance(response.stream, httpx.AsyncByteStream)
                if streamed:
                    return _rebuilt(response, request, _AsyncGuardedStream(response.stream, self, request))
                in_body = True
                try:
                    raw = b"".join([chunk async for chunk in response.stream])
                finally:
                    await response.aclose()
                return _rebuilt(response, request, httpx.ByteStream(raw))
            except httpx.TransportError as exc:
                decision = self._decide(policy, request, attempt, exc, in_body)
                if not decision.retry:
                    raise self._final_error(request, exc, attempt, in_body) from exc
                await self._sleep(decision.wait)

    async def aclose(self) -> None:
        await self._inner.aclose()
