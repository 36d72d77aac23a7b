"""Fetch a document named by a third party, safely.

- Only URLs `check_url` accepts, at every redirect hop (followed here, not by httpx, so each hop is
  checked); at most `max_redirects` hops. Documents on loopback, private or placeholder hosts are
  refused unless `allow_private_hosts`.
- Nothing identifying the user is sent: the client has no API key, no cookie jar carried between
  requests, and credential headers are stripped from every request as a last line of defence.
- A size cap enforced while streaming (Content-Length is checked first, then decoded bytes are
  counted, which also stops compression bombs).
- A total deadline for the whole fetch, redirects included (see deadline.py).
- Kept documents: one fetched less than `max_age` seconds ago is returned without a request (a
  document shared by many dataservices — API Entreprise's, ~30 of them — is fetched once); an older
  one with an ETag or Last-Modified is revalidated (If-None-Match / If-Modified-Since; a 304 returns
  the kept copy).

The sync and async fetchers share one core (`_Fetch`, one fetch's decisions, no I/O; `_Kept`, the
kept documents; `CappedBody`, the size cap): their own code is the loop that does the I/O.
"""

from __future__ import annotations

import asyncio
import enum
import threading
import time
from typing import Self

import attrs
import httpx

from datagouv_sdk.config import DEFAULT_USER_AGENT
from datagouv_sdk.discovery.bodies import (
    CappedBody,
    acapped_error_response,
    achunks,
    aread_capped,
    capped_error_response,
    chunks,
    read_capped,
)
from datagouv_sdk.discovery.deadline import DeadlineTransport, deadline_passed, deadline_sleep, total_deadline
from datagouv_sdk.discovery.errors import (
    DocumentDeadlineError,
    DocumentError,
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
    allow_insecure_http: bool = False  # plain http to hosts other than allowed loopback ones
    allow_private_hosts: bool = False  # documents on loopback, private, placeholder hosts
    max_age: float = 60.0  # seconds a fetched document is reused without a request


@attrs.frozen
class FetchedDocument:
    url: str  # as asked
    final_url: str  # after redirects
    content: bytes = attrs.field(repr=False)
    content_type: str | None
    etag: str | None = None
    last_modified: str | None = None
    redirects: tuple[str, ...] = ()
    from_cache: bool = False  # the kept copy (fresh, or confirmed by a 304)
    fetched_at: float = attrs.field(default=0.0, repr=False, eq=False)  # time.monotonic()


# -- the shared core ---------------------------------------------------------------------------------


class _Step(enum.Enum):
    REDIRECT = "redirect"  # follow `attempt.current`
    CACHED = "cached"  # 304: the kept copy
    ERROR = "error"  # >= 400: read a capped body, then raise_for_status
    BODY = "body"  # 200: read the body, capped


class _Fetch:
    """One fetch's decisions, without I/O: the request of each hop, what a response means."""

    def __init__(self, url: str, limits: FetchLimits, kept: FetchedDocument | None) -> None:
        self.url = url
        self.limits = limits
        self.kept = kept
        self.current = _checked(url, limits)
        self.redirects: list[str] = []
        self.started = time.monotonic()

    def request(self, client: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        if len(self.redirects) > self.limits.max_redirects:
            raise DocumentError(f"more than {self.limits.max_redirects} redirects", url=self.url)
        headers: dict[str, str] = {}
        if self.kept is not None and self.kept.etag:
            headers["If-None-Match"] = self.kept.etag
        if self.kept is not None and self.kept.last_modified:
            headers["If-Modified-Since"] = self.kept.last_modified
        client.cookies.clear()  # nothing set by one host is replayed to the next
        request = client.build_request("GET", self.current, headers=headers)
        for name in CREDENTIAL_HEADERS:
            request.headers.pop(name, None)
        request.extensions[STREAM_EXTENSION] = True  # we read it ourselves, capped
        return request

    def step(self, response: httpx.Response) -> _Step:
        location = response.headers.get("location")
        if response.is_redirect and location:
            target = self.current.join(location)
            try:
                self.current = _checked(target, self.limits)
            except UnsafeURLError as exc:
                raise UnsafeURLError(
                    f"{self.url} redirected to a URL that is refused ({exc})", url=str(target)
                ) from exc
            self.redirects.append(str(self.current))
            return _Step.REDIRECT
        if response.status_code == 304 and self.kept is not None:
            return _Step.CACHED
        if response.status_code >= 400:
            return _Step.ERROR
        if response.status_code != 200:
            raise DocumentError(f"unexpected HTTP {response.status_code} for the document", url=self.url)
        return _Step.BODY

    def cached(self) -> FetchedDocument:
        assert self.kept is not None
        return attrs.evolve(
            self.kept, from_cache=True, redirects=tuple(self.redirects), fetched_at=time.monotonic()
        )

    def body(self) -> CappedBody:
        return CappedBody(
            self.limits.max_bytes, url=self.url, what="document", deadline=self.started + self.limits.deadline
        )

    def fetched(self, response: httpx.Response, content: bytes) -> FetchedDocument:
        return FetchedDocument(
            url=self.url,
            final_url=str(self.current),
            content=content,
            content_type=response.headers.get("content-type"),
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            redirects=tuple(self.redirects),
            fetched_at=time.monotonic(),
        )

    def error(self, exc: Exception, timed_out: bool) -> DataGouvError:
        if timed_out or time.monotonic() - self.started >= self.limits.deadline:
            return DocumentDeadlineError(
                f"fetching the document took longer than its {self.limits.deadline:g} s deadline",
                url=self.url,
                deadline=self.limits.deadline,
            )
        if isinstance(exc, DataGouvError):
            return exc
        request = _request_of(exc) if isinstance(exc, httpx.HTTPError) else None
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(f"timed out fetching {self.url}: {exc}", request=request)
        return APIConnectionError(f"could not fetch {self.url}: {exc}", request=request)


class _Kept:
    """The fetcher's kept documents, by URL (what `max_age` and revalidation work from)."""

    def __init__(self, limits: FetchLimits) -> None:
        self.limits = limits
        self._documents: dict[str, FetchedDocument] = {}
        self._lock = threading.Lock()

    def get(self, url: str) -> tuple[FetchedDocument | None, FetchedDocument | None]:
        """(a fresh copy to return as is, or a copy to revalidate)."""
        with self._lock:
            kept = self._documents.get(url)
        if kept is None:
            return None, None
        if time.monotonic() - kept.fetched_at < self.limits.max_age:
            return attrs.evolve(kept, from_cache=True), None
        return None, kept if (kept.etag or kept.last_modified) else None

    def keep(self, document: FetchedDocument) -> FetchedDocument:
        with self._lock:
            self._documents[document.url] = document
        return document


def _checked(url: str | httpx.URL, limits: FetchLimits) -> httpx.URL:
    return check_url(
        url, allow_insecure_http=limits.allow_insecure_http, allow_private=limits.allow_private_hosts
    )


_FETCH_ERRORS = (httpx.HTTPError, APIConnectionError, ResponseDecodeError)


# -- the two fetchers: their I/O loops ---------------------------------------------------------------


class DocumentFetcher:
    """One client for third-party documents, with its kept documents. Thread-safe."""

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
        self._kept = _Kept(self.limits)
        self.requests = 0  # documents asked for over the network (a fresh kept copy asks nothing)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, url: str) -> FetchedDocument:
        fresh, stale = self._kept.get(url)
        if fresh is not None:
            return fresh
        attempt = _Fetch(url, self.limits, stale)
        self.requests += 1
        with total_deadline(self.limits.deadline):
            try:
                return self._kept.keep(self._hops(attempt))
            except _FETCH_ERRORS as exc:
                raise attempt.error(exc, deadline_passed()) from exc

    def _hops(self, attempt: _Fetch) -> FetchedDocument:
        while True:
            response = self._client.send(attempt.request(self._client), stream=True)
            try:
                step = attempt.step(response)
                if step is _Step.REDIRECT:
                    continue
                if step is _Step.CACHED:
                    return attempt.cached()
                if step is _Step.ERROR:
                    raise_for_status(capped_error_response(response, _ERROR_BODY_CAP))
                return attempt.fetched(response, attempt.body().read(chunks(response)))
            finally:
                response.close()


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
        self._kept = _Kept(self.limits)
        self.requests = 0

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def fetch(self, url: str) -> FetchedDocument:
        fresh, stale = self._kept.get(url)
        if fresh is not None:
            return fresh
        attempt = _Fetch(url, self.limits, stale)
        self.requests += 1
        try:
            async with asyncio.timeout(self.limits.deadline):
                return self._kept.keep(await self._hops(attempt))
        except TimeoutError as exc:
            raise attempt.error(exc, True) from exc
        except _FETCH_ERRORS as exc:
            raise attempt.error(exc, False) from exc

    async def _hops(self, attempt: _Fetch) -> FetchedDocument:
        while True:
            response = await self._client.send(attempt.request(self._client), stream=True)
            try:
                step = attempt.step(response)
                if step is _Step.REDIRECT:
                    continue
                if step is _Step.CACHED:
                    return attempt.cached()
                if step is _Step.ERROR:
                    raise_for_status(await acapped_error_response(response, _ERROR_BODY_CAP))
                return attempt.fetched(response, await attempt.body().aread(achunks(response)))
            finally:
                await response.aclose()


def _request_of(exc: httpx.HTTPError) -> httpx.Request | None:
    try:
        return exc.request
    except RuntimeError:
        return None
