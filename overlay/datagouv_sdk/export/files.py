"""Streaming exports to files: constant memory, ``<name>.part`` renamed only when complete.

- `stream_to_file`: GET `url` (relative to the client's base URL) with the transport's streaming
  extension (the body is never buffered), write it chunk by chunk to ``dest.part``, rename to
  `dest`. Any failure (HTTP error, broken body, Ctrl-C) removes the ``.part``: an interrupted export
  never leaves a file that looks finished. ``count_rows`` counts rows as bytes pass (CSV records,
  quoted newlines counted right; or the objects of a JSON array) and, with ``expected_rows``, fails
  a short export; ``durable`` fsyncs before the rename (survives a power cut, not only an
  interruption). Each costs ~15-20 % of throughput at hundreds of MB (benchmarks/, row 3): off by
  default here, while `TabularResource.export` counts unless told not to.
- `iter_csv_rows`: a lazy iterator of dicts over a CSV export (csv module over an incremental UTF-8
  decoder; memory bounded by one row).
- `write_rows`: a CSV / JSON / JSON Lines file built from row dicts (the paging fallback), with the
  same ``.part`` discipline.
- `astream_to_file`, `aiter_csv_rows`, `awrite_rows`: the async twins (httpx.AsyncClient).
- `ExportTooLargeError`: the server's export cap (api_tabular's BATCH_SIZE, 50 000 rows in production)
  was hit: a 403 "Output is too long"; the message says how to page instead.

`ExportProgress` is called with (bytes written, rows written or None) after each chunk or batch.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import json
import os
import re
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Literal, Self

import attrs
import httpx

from datagouv_sdk import errors
from datagouv_sdk.transport import STREAM_EXTENSION

__all__ = [
    "CHUNK_SIZE",
    "ExportProgress",
    "ExportResult",
    "ExportTooLargeError",
    "aiter_csv_rows",
    "astream_to_file",
    "awrite_rows",
    "iter_csv_lines",
    "iter_csv_rows",
    "stream_to_file",
    "write_rows",
]

CHUNK_SIZE = 64 * 1024
ExportProgress = Callable[[int, "int | None"], None]
RowFormat = Literal["csv", "json", "jsonl"]


@attrs.frozen
class ExportResult:
    path: Path
    bytes: int
    rows: int | None  # None when not counted (a JSON stream)
    via: str  # "stream" or "pages"


class ExportTooLargeError(errors.PermissionDeniedError):
    """403 "Output is too long": more rows than the server exports in one file."""


class _PartFile:
    """``dest.part`` opened for writing; `commit()` renames (fsyncs first when durable); leaving without
    commit removes it."""

    def __init__(self, dest: Path, durable: bool = False) -> None:
        self.dest = dest
        self.durable = durable
        self.part = dest.with_name(dest.name + ".part")
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        self.handle: BinaryIO = open(self.part, "wb")  # noqa: SIM115 - closed by commit() or __exit__
        self.committed = False

    def commit(self) -> None:
        self.handle.flush()
        if self.durable:
            os.fsync(self.handle.fileno())
        self.handle.close()
        os.replace(self.part, self.dest)
        self.committed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self.committed:
            self.handle.close()
            with contextlib.suppress(FileNotFoundError):
                self.part.unlink()


@contextlib.contextmanager
def _export_errors() -> Iterator[None]:
    """The export refinement of the one status mapping (`errors.raise_for_status`): api_tabular's 403
    "Output is too long" becomes `ExportTooLargeError`, saying how to page instead."""
    try:
        yield
    except errors.PermissionDeniedError as error:
        if "too long" not in error.message.lower() or isinstance(error, ExportTooLargeError):
            raise
        raise ExportTooLargeError(
            f"{error.message}. The server exports at most its BATCH_SIZE rows in one file (50,000 on "
            "data.gouv.fr): narrow the filters, or page through /data/ instead "
            "(export(..., via='pages'), dgv ... export --via pages)",
            response=error.response,
            body=error.body,
            details=error.details,
        ) from None


def iter_csv_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Lines (with their "\\n") of a UTF-8 byte stream, decoded incrementally."""
    splitter = _LineSplitter()
    for chunk in chunks:
        yield from splitter.feed(chunk)
    yield from splitter.close()


class _LineSplitter:
    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._pending = ""

    def feed(self, chunk: bytes) -> list[str]:
        lines = (self._pending + self._decoder.decode(chunk)).split("\n")
        self._pending = lines.pop()
        return [line + "\n" for line in lines]

    def close(self) -> list[str]:
        rest = self._pending + self._decoder.decode(b"", final=True)
        self._pending = ""
        return [rest] if rest else []


class _RecordCounter:
    """CSV records in a byte stream, counted as it passes (push-based, for sync and async alike). A
    newline ends a record unless it is inside quotes; RFC 4180 doubles quotes inside quoted fields,
    so quote parity says which. Bytes suffice: in UTF-8, '"' and '\\n' never occur inside a
    multi-byte character."""

    def __init__(self) -> None:
        self.newlines = 0
        self.in_quotes = False
        self.tail = b""

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        if not self.in_quotes and b'"' not in chunk:
            self.newlines += chunk.count(b"\n")
        else:
            for match in _QUOTE_OR_NEWLINE.finditer(chunk):
                if match.group() == b'"':
                    self.in_quotes = not self.in_quotes
                elif not self.in_quotes:
                    self.newlines += 1
        self.tail = (self.tail + chunk)[-2:]

    def data_rows(self) -> int:
        """Records after the header; the blank line api_tabular may append is not a row."""
        records = self.newlines
        if self.tail and not self.tail.endswith(b"\n"):
            records += 1  # an unterminated last record
        elif self.tail == b"\n\n":
            records -= 1
        return max(0, records - 1)


_QUOTE_OR_NEWLINE = re.compile(rb'["\n]')


class _JsonRowCounter:
    """Items of a streamed JSON array (api_tabular's JSON export is PostgREST's ``[{...},\n {...}]``),
    counted as bytes pass: an object opened one level inside the top array is a row. Strings match
    whole, escapes included, so a brace or bracket inside a value does not count; a string the
    chunk cuts is carried into the next chunk (memory: one cell at most)."""

    def __init__(self) -> None:
        self.rows = 0
        self.depth = 0
        self.carry = b""

    def feed(self, chunk: bytes) -> None:
        data = self.carry + chunk if self.carry else chunk
        self.carry = b""
        for match in _JSON_STRING_OR_BRACKET.finditer(data):
            token = match.group()
            if len(token) > 1:  # a whole string
                continue
            if token == b'"':  # a string the chunk cut: read it again with the next chunk
                self.carry = data[match.start() :]
                return
            if token in (b"{", b"["):
                if token == b"{" and self.depth == 1:
                    self.rows += 1
                self.depth += 1
            else:
                self.depth -= 1

    def data_rows(self) -> int:
        return self.rows


# A whole string (unrolled: C speed over its body), else a lone quote (a string not ended in this
# chunk), else a bracket.
_JSON_STRING_OR_BRACKET = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|"|[\[\]{}]', re.DOTALL)


class IncompleteExportError(errors.ResponseDecodeError):
    """An export wrote fewer (or more) rows than the server said match: no file was written (an older
    file at the destination is kept)."""


def check_row_count(written: int, expected: int | None, where: str) -> None:
    if expected is not None and written != expected:
        raise IncompleteExportError(
            f"the export from {where} has {written} rows where the server counts {expected} "
            "(meta.total): not written; an older file at the destination is kept"
        )


class _StreamSink:
    """Chunks of a streamed export into ``dest.part``: bytes, CSV records, the last bytes (to check the
    end), progress; `finish` checks the end and renames."""

    def __init__(
        self,
        dest: Path,
        response: httpx.Response,
        progress: ExportProgress | None,
        count_rows: bool,
        durable: bool,
    ) -> None:
        self.out = _PartFile(dest, durable)
        self.response = response
        self.progress = progress
        self.json = "json" in response.headers.get("content-type", "")
        self.counter: _RecordCounter | _JsonRowCounter | None = None
        if count_rows:
            self.counter = _JsonRowCounter() if self.json else _RecordCounter()
        self.written = 0
        self.tail = b""

    def write(self, chunk: bytes) -> None:
        self.out.handle.write(chunk)
        self.written += len(chunk)
        self.tail = (self.tail + chunk)[-16:]
        rows = None
        if self.counter is not None:
            self.counter.feed(chunk)
            rows = self.counter.data_rows()
        if self.progress is not None:
            self.progress(self.written, rows)

    def finish(self, expected_rows: int | None = None) -> ExportResult:
        # A body without Content-Length that the connection cut looks complete to HTTP. api_tabular
        # ends every CSV and JSON export with a newline (JSON: after the closing bracket).
        if self.written and (
            not self.tail.endswith(b"\n") or (self.json and not self.tail.rstrip().endswith(b"]"))
        ):
            raise errors.ResponseDecodeError(
                f"the export from {self.response.request.url} ended mid-record after {self.written} bytes "
                "(connection cut?)",
                response=self.response,
            )
        rows = self.counter.data_rows() if self.counter is not None else None
        if rows is not None:
            check_row_count(rows, expected_rows, str(self.response.request.url))
        self.out.commit()
        return ExportResult(self.out.dest, self.written, rows, "stream")


def stream_to_file(
    http: httpx.Client,
    url: str,
    dest: str | os.PathLike[str],
    *,
    progress: ExportProgress | None = None,
    count_rows: bool = False,
    durable: bool = False,
    chunk_size: int | None = None,
    expected_rows: int | None = None,
) -> ExportResult:
    """Stream GET `url` into `dest` (see the module docstring). Returns bytes and rows written; with
    `expected_rows` and `count_rows`, a different count is an `IncompleteExportError` (nothing written)."""
    with http.stream("GET", url, extensions={STREAM_EXTENSION: True}) as response:
        with _export_errors():
            errors.raise_for_status(response)
        sink = _StreamSink(Path(dest), response, progress, count_rows, durable)
        with sink.out:
            for chunk in response.iter_bytes(chunk_size):
                sink.write(chunk)
            return sink.finish(expected_rows)


async def astream_to_file(
    http: httpx.AsyncClient,
    url: str,
    dest: str | os.PathLike[str],
    *,
    progress: ExportProgress | None = None,
    count_rows: bool = False,
    durable: bool = False,
    chunk_size: int | None = None,
    expected_rows: int | None = None,
) -> ExportResult:
    """The async twin of `stream_to_file` (file writes stay blocking: they are local and short)."""
    async with http.stream("GET", url, extensions={STREAM_EXTENSION: True}) as response:
        with _export_errors():
            await errors.araise_for_status(response)
        sink = _StreamSink(Path(dest), response, progress, count_rows, durable)
        with sink.out:
            async for chunk in response.aiter_bytes(chunk_size):
                sink.write(chunk)
            return sink.finish(expected_rows)


def iter_csv_rows(http: httpx.Client, url: str, *, chunk_size: int = CHUNK_SIZE) -> Iterator[dict[str, str]]:
    """Rows of a CSV export as dicts (header → cell), read lazily from the stream. Close the
    generator (or exhaust it) to release the connection."""
    with http.stream("GET", url, extensions={STREAM_EXTENSION: True}) as response:
        with _export_errors():
            errors.raise_for_status(response)
        yield from csv.DictReader(iter_csv_lines(response.iter_bytes(chunk_size)))


async def aiter_csv_rows(
    http: httpx.AsyncClient, url: str, *, chunk_size: int = CHUNK_SIZE
) -> AsyncIterator[dict[str, str]]:
    """The async twin of `iter_csv_rows`. The csv module pulls lines, so each chunk's complete
    records are handed to it; a record whose quoted field spans chunks waits for the rest."""
    async with http.stream("GET", url, extensions={STREAM_EXTENSION: True}) as response:
        with _export_errors():
            await errors.araise_for_status(response)
        splitter = _LineSplitter()
        pending: list[str] = []
        header: list[str] | None = None
        async for chunk in response.aiter_bytes(chunk_size):
            pending.extend(splitter.feed(chunk))
            for record in _complete_records(pending):
                if header is None:
                    header = record
                elif record:
                    yield dict(zip(header, record, strict=False))
        pending.extend(splitter.close())
        for record in csv.reader(pending):
            if header is None:
                header = record
            elif record:
                yield dict(zip(header, record, strict=False))


def _complete_records(pending: list[str]) -> list[list[str]]:
    """Parse and remove the leading lines of `pending` that form whole records (quote parity even
    at a line end: RFC 4180 doubles quotes inside quoted fields); keep an open record."""
    quotes, cut = 0, 0
    for i, line in enumerate(pending):
        quotes += line.count('"')
        if quotes % 2 == 0:
            cut = i + 1
    lines = pending[:cut]
    del pending[:cut]
    return list(csv.reader(lines))


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class _RowWriter:
    """Row dicts into ``dest.part`` as CSV, a JSON array or JSON Lines; one row in memory at a time."""

    def __init__(
        self,
        dest: Path,
        fmt: RowFormat,
        columns: Sequence[str] | None,
        progress: ExportProgress | None,
        progress_every: int,
        durable: bool = False,
    ) -> None:
        if fmt not in ("csv", "json", "jsonl"):
            raise errors.UsageError(f"unknown export format {fmt!r}; expected csv, json or jsonl")
        self.fmt = fmt
        self.columns = list(columns) if columns else None
        self.progress = progress
        self.progress_every = progress_every
        self.out = _PartFile(dest, durable)
        self.bytes = 0
        self.count = 0
        self.csv: Any = None
        if fmt == "json":
            self._text("[")

    def write(self, text: str) -> int:  # the file-like side the csv module writes to
        return self._text(text)

    def _text(self, text: str) -> int:
        data = text.encode("utf-8")
        self.out.handle.write(data)
        self.bytes += len(data)
        return len(text)

    def row(self, row: Mapping[str, Any]) -> None:
        if self.fmt == "csv":
            if self.csv is None:
                self.columns = self.columns or list(row)
                self.csv = csv.writer(self, lineterminator="\n")
                self.csv.writerow(self.columns)
            assert self.columns is not None
            self.csv.writerow([_csv_cell(row.get(c)) for c in self.columns])
        elif self.fmt == "json":
            self._text(("," if self.count else "") + "\n" + json.dumps(row, ensure_ascii=False, default=str))
        else:
            self._text(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        self.count += 1
        if self.progress is not None and self.count % self.progress_every == 0:
            self.progress(self.bytes, self.count)

    def finish(self) -> ExportResult:
        if self.fmt == "csv" and self.csv is None and self.columns:
            csv.writer(self, lineterminator="\n").writerow(self.columns)  # no rows: the header alone
        if self.fmt == "json":
            self._text("\n]\n" if self.count else "]\n")
        self.out.commit()
        if self.progress is not None:
            self.progress(self.bytes, self.count)
        return ExportResult(self.out.dest, self.bytes, self.count, "pages")


def write_rows(
    dest: str | os.PathLike[str],
    rows: Iterable[Mapping[str, Any]],
    fmt: RowFormat = "csv",
    *,
    columns: Sequence[str] | None = None,
    progress: ExportProgress | None = None,
    progress_every: int = 50,
    durable: bool = False,
) -> ExportResult:
    """Write row dicts as CSV (header = `columns`, else the first row's keys), a JSON array, or
    JSON Lines; ``.part`` then rename. Memory: one row at a time."""
    writer = _RowWriter(Path(dest), fmt, columns, progress, progress_every, durable)
    with writer.out:
        for row in rows:
            writer.row(row)
        return writer.finish()


async def awrite_rows(
    dest: str | os.PathLike[str],
    rows: AsyncIterable[Mapping[str, Any]],
    fmt: RowFormat = "csv",
    *,
    columns: Sequence[str] | None = None,
    progress: ExportProgress | None = None,
    progress_every: int = 50,
    durable: bool = False,
) -> ExportResult:
    """The async twin of `write_rows` (rows from an async pager)."""
    writer = _RowWriter(Path(dest), fmt, columns, progress, progress_every, durable)
    with writer.out:
        async for row in rows:
            writer.row(row)
        return writer.finish()
