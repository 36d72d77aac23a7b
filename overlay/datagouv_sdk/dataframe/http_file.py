"""Random access to a remote file over HTTP Range requests, for pyarrow (and DuckDB through it).

hydra's Parquet files are served with ``Accept-Ranges: bytes``; a Parquet reader needs the footer,
then only the column chunks of the row groups it reads. `RangeFile` turns each read into one
``Range: bytes=a-b`` GET through the client's transport (retries, user agent; the API key is never
sent to a host other than the Main API's, see `transport`). `HttpFileSystem` exposes such files to
``pyarrow.dataset`` (a ``pyarrow.fs.PyFileSystem`` handler), which DuckDB can then scan with its
filters and projections pushed down — without DuckDB's httpfs extension, which DuckDB downloads at
run time (impossible offline).

A server that ignores Range (200 with the whole body) is read once and kept in memory.
"""

from __future__ import annotations

import io
import threading
from typing import Any

import httpx

from datagouv_sdk import errors
from datagouv_sdk.dataframe._optional import require

__all__ = ["HttpFileSystem", "RangeFile", "remote_size"]

TAIL_CACHE = 1 << 20  # the largest file end kept for re-reads (Parquet footers are far smaller)


def remote_size(http: httpx.Client, url: str) -> int:
    """The file's size: HEAD's Content-Length, else a one-byte Range request's Content-Range."""
    response = http.head(url)
    errors.raise_for_status(response)
    length = response.headers.get("Content-Length")
    if length is not None and length.isdigit() and response.headers.get("Content-Encoding") is None:
        return int(length)
    response = http.get(url, headers={"Range": "bytes=0-0"})
    errors.raise_for_status(response)
    total = response.headers.get("Content-Range", "").rpartition("/")[2]
    if total.isdigit():
        return int(total)
    raise errors.ResponseDecodeError(f"{url}: the server gives no size (no Content-Length, no Content-Range)")


class RangeFile(io.RawIOBase):
    """A read-only, seekable file over HTTP; each read is one Range request."""

    def __init__(
        self, http: httpx.Client, url: str, size: int | None = None, *, tail: dict[str, bytes] | None = None
    ) -> None:
        super().__init__()
        self._http = http
        self.url = url
        self.size = size if size is not None else remote_size(http, url)
        self._position = 0
        self._whole: bytes | None = None  # the server ignored Range once: keep the body
        # The file's last bytes (Parquet's footer), shared by every open of the same URL: pyarrow
        # reads the footer once to discover the schema, and again for each fragment.
        self._tail = tail if tail is not None else {}
        self._lock = threading.Lock()
        self.requests = 0
        self.bytes_received = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        self._position = max(base + offset, 0)
        return self._position

    def read_at(self, offset: int, length: int) -> bytes:
        if length <= 0 or offset >= self.size:
            return b""
        end = min(offset + length, self.size) - 1
        if self._whole is not None:
            return self._whole[offset : end + 1]
        cached = self._tail.get(self.url)
        if cached is not None and offset >= self.size - len(cached):
            start = offset - (self.size - len(cached))
            return cached[start : start + end - offset + 1]
        response = self._http.get(self.url, headers={"Range": f"bytes={offset}-{end}"})
        errors.raise_for_status(response)
        body = response.content
        with self._lock:
            self.requests += 1
            self.bytes_received += len(body)
        if response.status_code == 200:  # Range ignored: the whole file came
            self._whole = body
            return body[offset : end + 1]
        if len(body) != end - offset + 1:
            raise errors.ResponseDecodeError(
                f"{self.url}: asked bytes {offset}-{end}, got {len(body)} bytes ({response.status_code})"
            )
        if end == self.size - 1 and len(body) <= TAIL_CACHE and len(body) > len(cached or b""):
            self._tail[self.url] = body
        return body

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self.size - self._position
        data = self.read_at(self._position, size)
        self._position += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _handler_base() -> Any:
    return require("pyarrow.fs").FileSystemHandler


class HttpFileSystem:
    """A pyarrow filesystem whose paths are URLs (read-only), built on `RangeFile`."""

    def __init__(self, http: httpx.Client, sizes: dict[str, int] | None = None) -> None:
        pafs = require("pyarrow.fs")
        pa = require("pyarrow")
        self.http = http
        self.sizes = dict(sizes or {})
        self.files: list[RangeFile] = []
        self._tails: dict[str, bytes] = {}
        outer = self

        class Handler(_handler_base()):  # type: ignore[misc]
            def __eq__(self, other: object) -> bool:
                return other is self

            def __ne__(self, other: object) -> bool:
                return other is not self

            def get_type_name(self) -> str:
                return "datagouv-http"

            def normalize_path(self, path: str) -> str:
                return path

            def get_file_info(self, paths: list[str]) -> list[Any]:
                return [pafs.FileInfo(p, type=pafs.FileType.File, size=outer._size(p)) for p in paths]

            def get_file_info_selector(self, selector: Any) -> list[Any]:
                raise NotImplementedError("an HTTP file system cannot list folders")

            def open_input_file(self, path: str) -> Any:
                return pa.PythonFile(outer.open(path), mode="r")

            def open_input_stream(self, path: str) -> Any:
                return pa.PythonFile(outer.open(path), mode="r")

            def _read_only(self, *args: Any) -> Any:
                raise NotImplementedError("read-only file system")

            create_dir = delete_dir = delete_dir_contents = delete_root_dir_contents = _read_only
            delete_file = move = copy_file = open_output_stream = open_append_stream = _read_only

        self.pyarrow = pafs.PyFileSystem(Handler())

    def _size(self, url: str) -> int:
        size = self.sizes.get(url)
        if size is None:
            size = self.sizes[url] = remote_size(self.http, url)
        return size

    def open(self, url: str) -> RangeFile:
        file = RangeFile(self.http, url, self._size(url), tail=self._tails)
        self.files.append(file)
        return file

    @property
    def bytes_received(self) -> int:
        return sum(f.bytes_received for f in self.files)

    def fragment(self, url: str) -> Any:
        """The pyarrow dataset fragment of the Parquet file at `url` (footer read once)."""
        ds = require("pyarrow.dataset")
        dataset = ds.dataset(url, filesystem=self.pyarrow, format="parquet")
        return next(iter(dataset.get_fragments()))
