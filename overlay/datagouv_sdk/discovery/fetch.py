"""Fetch a document named by a third party, safely.

- Only URLs `check_url` accepts, at every redirect hop (followed here, not by httpx, so each hop is
  checked); at most `max_redirects` hops.
- Nothing identifying the user is sent: the client has no API key, no cookie jar carried between
  requests, and credential headers are stripped from every request as a last line of defence.
- A size cap enforced while streaming (Content-Length is checked first, then decoded bytes are
  counted, which also stops compression bombs).
- A total deadline for the whole fetch, redirects included (see deadline.py).
- Conditional requests: a document fetched with an ETag or Last-Modified is kept, and fetching it
  again sends If-None-Match / If-Modified-Since; a 304 returns the kept copy.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Self

import attrs
import httpx

from datagouv_sdk.config import DEFAULT_USER_AGENT
from datagouv_sdk.discovery.deadline import DeadlineTransport, deadline_passed, deadline_sleep, total_deadline
from datagouv_sdk.discovery.errors import (
    DocumentDeadlineError,
    DocumentError,
    DocumentTooLargeError,
    ResponseTooLargeError,
    UnsafeURLError,
)
from datagouv_sdk.discovery.urls import check_url
from datagouv_sdk.errors import (
    APIConnectionError,
    APITimeoutError,
    DataGouvError,
    ResponseDecodeError,
    raise_for_status,
)
from datagouv_sdk.retry import RetryPolicy
from datagouv_sdk.transport import STREAM_EXTENSION, AsyncDataGouvTransport, DataGouvTransport

__all__ = [
    "CREDENTIAL_HEADERS",
    "AsyncDocumentFetcher",
    "DocumentFetcher",
    "FetchLimits",
    "FetchedDocument",
    "acapped_error_response",
    "aread_capped",
    "capped_error_response",
    "read_capped",
]

# Never sent to a third-party host by the SDK itself (the user may pass their own for `call`).
CREDENTIAL_HEADERS = ("x-api-key", "authorization", "cookie", "proxy-authorization")

_ACCEPT = "application/json, application/yaml;q=0.9, text/yaml;q=0.9, application/x-yaml;q=0.9, */*;q=0.1"
_ERROR_BODY_CAP = 64 * 1024


@attrs.frozen
class FetchLimits:
    max_bytes: int = 10 * 1024 * 1024
    deadline: float = 30.0  # seconds for the whole fetch, redirects included
    max_redirects: int = 5
    allow_insecure_http: bool = False  # plain http to non-loopback hosts


@attrs.frozen
class FetchedDocument:
    url: str  # as asked
    final_url: str  # after redirects
    content: bytes = attrs.field(repr=False)
    content_type: str | None
    etag: str | None = None
    last_modified: str | None = None
    redirects: tuple[str, ...] = ()
    from_cache: bool = False


class DocumentFetcher:
    """One client for third-party documents, with its own cache. Thread-safe."""

    def __init__(
        self,
        *,
        limits: FetchLimits | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | float = 10.0,
    ) -> None:
        self.limits = limits or FetchLimits()
        # Our transport for retries, with no key and no auth host: it also strips any X-API-KEY.
        seam = DataGouvTransport(
            transport if transport is not None else DeadlineTransport(),
            retry=retry,
            api_key=None,
            auth_hosts=(),
            user_agent=f"{DEFAULT_USER_AGENT} (dataservice discovery)",
            sleep=deadline_sleep,
        )
        self._client = httpx.Client(
            transport=seam,
            follow_redirects=False,
            timeout=timeout,
            headers={"Accept": _ACCEPT},
            trust_env=False,
        )
        self._cache: dict[str, FetchedDocument] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, url: str) -> FetchedDocument:
        limits = self.limits
        with self._lock:
            cached = self._cache.get(url)
        started = time.monotonic()
        with total_deadline(limits.deadline):
            try:
                document = self._fetch(url, cached, started)
            except (httpx.HTTPError, APIConnectionError, ResponseDecodeError) as exc:
                timed_out = deadline_passed() or time.monotonic() - started >= limits.deadline
                raise _fetch_error(exc, url, limits, timed_out) from exc
        if not document.from_cache and (document.etag or document.last_modified):
            with self._lock:
                self._cache[url] = document
        return document

    def _fetch(self, url: str, cached: FetchedDocument | None, started: float) -> FetchedDocument:
        limits = self.limits
        current = check_url(url, allow_insecure_http=limits.allow_insecure_http)
        redirects: list[str] = []
        for _hop in range(limits.max_redirects + 1):
            request = _document_request(self._client, current, cached)
            response = self._client.send(request, stream=True)
            try:
                target = _redirect_target(response, current, url, limits)
                if target is not None:
                    current = target
                    redirects.append(str(current))
                    continue
                if response.status_code == 304 and cached is not None:
                    return attrs.evolve(cached, from_cache=True, redirects=tuple(redirects))
                if response.status_code >= 400:
                    raise_for_status(capped_error_response(response, _ERROR_BODY_CAP))
                _check_ok(response, url)
                content = read_capped(
                    response, limits.max_bytes, url=url, deadline=started + limits.deadline, what="document"
                )
            finally:
                response.close()
            return _fetched(url, current, response, content, redirects)
        raise DocumentError(f"more than {limits.max_redirects} redirects", url=url)


class AsyncDocumentFetcher:
    """The asyncio twin of DocumentFetcher: same rules; the total deadline is an `asyncio.timeout`."""

    def __init__(
        self,
        *,
        limits: FetchLimits | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | float = 10.0,
    ) -> None:
        self.limits = limits or FetchLimits()
        seam = AsyncDataGouvTransport(
            transport if transport is not None else httpx.AsyncHTTPTransport(),
            retry=retry,
            api_key=None,
            auth_hosts=(),
            user_agent=f"{DEFAULT_USER_AGENT} (dataservice discovery)",
        )
        self._client = httpx.AsyncClient(
            transport=seam,
            follow_redirects=False,
            timeout=timeout,
            headers={"Accept": _ACCEPT},
            trust_env=False,
        )
        self._cache: dict[str, FetchedDocument] = {}

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def fetch(self, url: str) -> FetchedDocument:
        limits = self.limits
        cached = self._cache.get(url)
        try:
            async with asyncio.timeout(limits.deadline):
                document = await self._fetch(url, cached)
        except TimeoutError as exc:
            raise _fetch_error(exc, url, limits, True) from exc
        except (httpx.HTTPError, APIConnectionError, ResponseDecodeError) as exc:
            raise _fetch_error(exc, url, limits, False) from exc
        if not document.from_cache and (document.etag or document.last_modified):
            self._cache[url] = document
        return document

    async def _fetch(self, url: str, cached: FetchedDocument | None) -> FetchedDocument:
        limits = self.limits
        current = check_url(url, allow_insecure_http=limits.allow_insecure_http)
        redirects: list[str] = []
        for _hop in range(limits.max_redirects + 1):
            request = _document_request(self._client, current, cached)
            response = await self._client.send(request, stream=True)
            try:
                target = _redirect_target(response, current, url, limits)
                if target is not None:
                    current = target
                    redirects.append(str(current))
                    continue
                if response.status_code == 304 and cached is not None:
                    return attrs.evolve(cached, from_cache=True, redirects=tuple(redirects))
                if response.status_code >= 400:
                    raise_for_status(await acapped_error_response(response, _ERROR_BODY_CAP))
                _check_ok(response, url)
                content = await aread_capped(response, limits.max_bytes, url=url, what="document")
            finally:
                await response.aclose()
            return _fetched(url, current, response, content, redirects)
        raise DocumentError(f"more than {limits.max_redirects} redirects", url=url)


# -- one hop, shared by both fetchers ----------------------------------------------------------------


def _document_request(
    client: httpx.Client | httpx.AsyncClient, url: httpx.URL, cached: FetchedDocument | None
) -> httpx.Request:
    headers: dict[str, str] = {}
    if cached is not None and cached.etag:
        headers["If-None-Match"] = cached.etag
    if cached is not None and cached.last_modified:
        headers["If-Modified-Since"] = cached.last_modified
    client.cookies.clear()  # nothing set by one host is replayed to the next
    request = client.build_request("GET", url, headers=headers)
    for name in CREDENTIAL_HEADERS:
        request.headers.pop(name, None)
    request.extensions[STREAM_EXTENSION] = True  # we read it ourselves, capped
    return request


def _redirect_target(
    response: httpx.Response, current: httpx.URL, url: str, limits: FetchLimits
) -> httpx.URL | None:
    location = response.headers.get("location")
    if not (response.is_redirect and location):
        return None
    target = current.join(location)
    try:
        return check_url(target, allow_insecure_http=limits.allow_insecure_http)
    except UnsafeURLError as exc:
        raise UnsafeURLError(f"{url} redirected to a URL that is refused ({exc})", url=str(target)) from exc


def _check_ok(response: httpx.Response, url: str) -> None:
    if response.status_code != 200:
        raise DocumentError(f"unexpected HTTP {response.status_code} for the document", url=url)


def _fetched(
    url: str, current: httpx.URL, response: httpx.Response, content: bytes, redirects: list[str]
) -> FetchedDocument:
    return FetchedDocument(
        url=url,
        final_url=str(current),
        content=content,
        content_type=response.headers.get("content-type"),
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
        redirects=tuple(redirects),
    )


def _fetch_error(exc: Exception, url: str, limits: FetchLimits, timed_out: bool) -> DataGouvError:
    if timed_out:
        return DocumentDeadlineError(
            f"fetching the document took longer than its {limits.deadline:g} s deadline",
            url=url,
            deadline=limits.deadline,
        )
    if isinstance(exc, DataGouvError):
        return exc
    request = _request_of(exc) if isinstance(exc, httpx.HTTPError) else None
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"timed out fetching {url}: {exc}", request=request)
    return APIConnectionError(f"could not fetch {url}: {exc}", request=request)


def read_capped(
    response: httpx.Response, limit: int, *, url: str, deadline: float | None = None, what: str = "response"
) -> bytes:
    """The body of a streamed response, refusing it as soon as it passes `limit` bytes.

    Content-Length is trusted only to refuse early; the decoded bytes are what is counted.
    `deadline` (monotonic) is also checked between chunks, for transports that are not DeadlineTransport.
    """
    too_large = DocumentTooLargeError if what == "document" else ResponseTooLargeError
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(
            f"the {what} is {int(declared):,} bytes, more than the {limit:,}-byte cap", url=url, limit=limit
        )
    chunks: list[bytes] = []
    size = 0
    for chunk in _chunks(response):
        size += len(chunk)
        if size > limit:
            raise too_large(f"the {what} is larger than the {limit:,}-byte cap", url=url, limit=limit)
        if deadline is not None and time.monotonic() > deadline:
            raise httpx.ReadTimeout("total deadline passed", request=response.request)
        chunks.append(chunk)
    return b"".join(chunks)


async def aread_capped(response: httpx.Response, limit: int, *, url: str, what: str = "response") -> bytes:
    """`read_capped` for async responses (the deadline is the caller's `asyncio.timeout`)."""
    too_large = DocumentTooLargeError if what == "document" else ResponseTooLargeError
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(
            f"the {what} is {int(declared):,} bytes, more than the {limit:,}-byte cap", url=url, limit=limit
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes(chunk_size=64 * 1024):
        size += len(chunk)
        if size > limit:
            raise too_large(f"the {what} is larger than the {limit:,}-byte cap", url=url, limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def acapped_error_response(response: httpx.Response, limit: int) -> httpx.Response:
    body = bytearray()
    async for chunk in response.aiter_bytes(chunk_size=64 * 1024):
        body += chunk[: limit - len(body)]
        if len(body) >= limit:
            break
    return _error_copy(response, bytes(body))


def _chunks(response: httpx.Response) -> Iterator[bytes]:
    yield from response.iter_bytes(chunk_size=64 * 1024)


def capped_error_response(response: httpx.Response, limit: int) -> httpx.Response:
    """A fully read copy of an error response, its body cut at `limit` bytes (for error messages)."""
    body = bytearray()
    for chunk in _chunks(response):
        body += chunk[: limit - len(body)]
        if len(body) >= limit:
            break
    return _error_copy(response, bytes(body))


def _error_copy(response: httpx.Response, body: bytes) -> httpx.Response:
    headers = [
        (k, v)
        for k, v in response.headers.multi_items()
        if k.lower() not in ("content-encoding", "content-length")
    ]
    return httpx.Response(response.status_code, headers=headers, content=body, request=response.request)


def _request_of(exc: httpx.HTTPError) -> httpx.Request | None:
    try:
        return exc.request
    except RuntimeError:
        return None
