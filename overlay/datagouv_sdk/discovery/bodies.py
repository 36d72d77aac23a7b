"""Response bodies read within a size cap, shared by the document fetchers and the operation
callers: pushed one chunk at a time into `CappedBody` (the sync and async loops are three lines),
refused once past the cap — decoded bytes are counted, so compression bombs stop too."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator

import httpx

from datagouv_sdk.discovery.errors import DocumentTooLargeError, ResponseTooLargeError
from datagouv_sdk.errors import DataGouvError

__all__ = [
    "CappedBody",
    "acapped_error_response",
    "achunks",
    "aread_capped",
    "capped_error_response",
    "chunks",
    "read_capped",
]

_CHUNK = 64 * 1024


class CappedBody:
    """Bytes pushed in one chunk at a time, refused once past `limit` (decoded bytes are counted:
    compression bombs stop too); Content-Length is trusted only to refuse before reading."""

    def __init__(
        self, limit: int, *, url: str, what: str = "response", deadline: float | None = None
    ) -> None:
        self.limit, self.url, self.what, self.deadline = limit, url, what, deadline
        self.chunks: list[bytes] = []
        self.size = 0

    def _too_large(self, detail: str) -> DataGouvError:
        error: Callable[..., DataGouvError] = (
            DocumentTooLargeError if self.what == "document" else ResponseTooLargeError
        )
        return error(
            f"the {self.what} is {detail} the {self.limit:,}-byte cap", url=self.url, limit=self.limit
        )

    def check_declared(self, response: httpx.Response) -> None:
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            raise self._too_large(f"{int(declared):,} bytes, more than")

    def push(self, chunk: bytes, request: httpx.Request | None = None) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise self._too_large("larger than")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise httpx.ReadTimeout("total deadline passed", request=request)
        self.chunks.append(chunk)

    def read(self, chunks: tuple[httpx.Response, Iterator[bytes]]) -> bytes:
        response, source = chunks
        self.check_declared(response)
        for chunk in source:
            self.push(chunk, response.request)
        return b"".join(self.chunks)

    async def aread(self, chunks: tuple[httpx.Response, AsyncIterator[bytes]]) -> bytes:
        response, source = chunks
        self.check_declared(response)
        async for chunk in source:
            self.push(chunk, response.request)
        return b"".join(self.chunks)


def chunks(response: httpx.Response) -> tuple[httpx.Response, Iterator[bytes]]:
    return response, response.iter_bytes(chunk_size=_CHUNK)


def achunks(response: httpx.Response) -> tuple[httpx.Response, AsyncIterator[bytes]]:
    return response, response.aiter_bytes(chunk_size=_CHUNK)


def read_capped(
    response: httpx.Response, limit: int, *, url: str, deadline: float | None = None, what: str = "response"
) -> bytes:
    """The body of a streamed response, refusing it as soon as it passes `limit` bytes.
    `deadline` (monotonic) is also checked between chunks, for transports that are not DeadlineTransport."""
    return CappedBody(limit, url=url, what=what, deadline=deadline).read(chunks(response))


async def aread_capped(response: httpx.Response, limit: int, *, url: str, what: str = "response") -> bytes:
    """`read_capped` for async responses (the deadline is the caller's `asyncio.timeout`)."""
    return await CappedBody(limit, url=url, what=what).aread(achunks(response))


def capped_error_response(response: httpx.Response, limit: int) -> httpx.Response:
    """A fully read copy of an error response, its body cut at `limit` bytes (for error messages)."""
    body = bytearray()
    for chunk in response.iter_bytes(chunk_size=_CHUNK):
        body += chunk[: limit - len(body)]
        if len(body) >= limit:
            break
    return _error_copy(response, bytes(body))


async def acapped_error_response(response: httpx.Response, limit: int) -> httpx.Response:
    body = bytearray()
    async for chunk in response.aiter_bytes(chunk_size=_CHUNK):
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
