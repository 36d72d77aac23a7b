"""One ``multipart/form-data`` request body streamed from a window of a file on disk.

`PartBody(path, offset, length, fields, filename, mime, digest)`: the form ``fields`` first, then
``length`` bytes of ``path`` from ``offset`` as the ``file`` field, then the closing boundary. Its
size is known before anything is read (`headers` carries Content-Length, so the request is not
sent chunked), the file is read `READ_SIZE` bytes at a time (memory stays at one read, whatever
the part size) and every byte read is fed to ``digest`` (a hashlib object) on its way out.

Iterate it once per request: `sync_chunks()` for httpx.Client, `async_chunks()` for
httpx.AsyncClient (each read in a worker thread, so a slow disk never blocks the event loop).
`complete` says whether every byte of the window went out. A file shorter than the window raises
`SourceChangedError`: the file was truncated while it was being sent.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, BinaryIO

from datagouv_sdk import errors

__all__ = ["READ_SIZE", "PartBody", "SourceChangedError"]

# What is read from disk (and held) at a time: large enough that per-read overhead vanishes,
# small enough that memory does not depend on the part size.
READ_SIZE = 256 * 1024


class SourceChangedError(errors.DataGouvError):
    """The file being uploaded changed (size, modification time or content) while it was sent."""


def _quoted(value: str) -> str:
    # As httpx encodes form names: quote and line breaks percent-encoded (HTML5), backslash escaped
    # (werkzeug's and the stdlib's parsers read it as an escape inside a quoted string).
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


class PartBody:
    """See the module docstring."""

    def __init__(
        self,
        path: str,
        offset: int,
        length: int,
        fields: Mapping[str, str],
        filename: str,
        mime: str,
        digest: Any,
    ) -> None:
        self.path, self.offset, self.length, self.digest = path, offset, length, digest
        boundary = secrets.token_hex(16)
        head = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"\r\n\r\n{value}\r\n'.encode()
            for name, value in fields.items()
        )
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{_quoted(filename)}"\r\n'
            f"Content-Type: {mime}\r\n\r\n"
        ).encode()
        self._head = head
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self.headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(head) + length + len(self._tail)),
        }
        self.sent = 0  # bytes of the file window read so far
        self.complete = False
        self._file: BinaryIO | None = None
        self._stage = 0  # 0: head, 1: file, 2: tail, 3: done

    def _next(self) -> bytes | None:
        """The next piece of the body, or None at its end."""
        if self._stage == 0:
            self._stage = 1
            self._file = open(self.path, "rb")  # noqa: SIM115 - closed at the end of the window or by close()
            self._file.seek(self.offset)
            return self._head
        if self._stage == 1:
            assert self._file is not None
            want = min(READ_SIZE, self.length - self.sent)
            if want > 0:
                data = self._file.read(want)
                if not data:
                    self.close()
                    raise SourceChangedError(
                        f"{self.path} ended after {self.offset + self.sent} bytes while it was being sent "
                        f"(expected at least {self.offset + self.length}): it changed during the upload"
                    )
                self.digest.update(data)
                self.sent += len(data)
                return data
            self.close()
            self._stage = 2
        if self._stage == 2:
            self._stage = 3
            self.complete = True
            return self._tail
        return None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def sync_chunks(self) -> Iterator[bytes]:
        try:
            while (chunk := self._next()) is not None:
                yield chunk
        finally:
            self.close()

    async def async_chunks(self) -> AsyncIterator[bytes]:
        try:
            while (chunk := await asyncio.to_thread(self._next)) is not None:
                yield chunk
        finally:
            self.close()
