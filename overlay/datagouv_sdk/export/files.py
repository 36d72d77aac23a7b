"""Streaming exports to files: constant memory, ``<name>.part`` renamed only when complete.

- `stream_to_file(http, url, dest, *, progress=None, count_rows=False)`: GET `url` (relative to the
  client's base URL) with the transport's streaming extension (the body is never buffered), write it
  chunk by chunk to ``dest.part``, fsync, rename to `dest`. Any failure (HTTP error, broken body,
  Ctrl-C) removes the ``.part``: an interrupted export never leaves a file that looks finished.
  ``count_rows`` parses the CSV as it goes (quoted newlines counted right) to report rows.
- `iter_csv_rows(http, url)`: a lazy iterator of dicts over a CSV export (csv module over an
  incremental UTF-8 decoder; memory bounded by one row).
- `write_rows(dest, rows, fmt, ...)`: a CSV / JSON / JSON Lines file built from row dicts (the paging
  fallback), with the same ``.part`` discipline.
- `ExportTooLargeError`: the server's export cap (api_tabular's BATCH_SIZE, 50 000 rows in production)
  was hit: a 403 "Output is too long"; the message says how to page instead.

`progress(bytes_written, rows_written_or_None)` is called after each chunk / batch of rows.
"""

from __future__ import annotations

import codecs
import csv
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Literal, Self

import attrs
import httpx

from datagouv_sdk import errors
from datagouv_sdk.transport import STREAM_EXTENSION

__all__ = [
    "CHUNK_SIZE",
    "ExportResult",
    "ExportTooLargeError",
    "Progress",
    "iter_csv_lines",
    "iter_csv_rows",
    "part_path",
    "stream_to_file",
    "write_rows",
]

CHUNK_SIZE = 64 * 1024
Progress = Callable[[int, "int | None"], None]
RowFormat = Literal["csv", "json", "jsonl"]


@attrs.frozen
class ExportResult:
    path: Path
    bytes: int
    rows: int | None  # None when not counted (a JSON stream)
    via: str  # "stream" or "pages"


class ExportTooLargeError(errors.PermissionDeniedError):
    """403 "Output is too long": more rows than the server exports in one file."""


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


class _PartFile:
    """``dest.part`` opened for writing; `commit()` fsyncs and renames; leaving without commit removes it."""

    def __init__(self, dest: Path) -> None:
        self.dest = dest
        self.part = part_path(dest)
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        self.handle: BinaryIO = open(self.part, "wb")  # noqa: SIM115 - closed by commit() or __exit__
        self.committed = False

    def commit(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        os.replace(self.part, self.dest)
        self.committed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self.committed:
            self.handle.close()
            try:
                self.part.unlink()
            except FileNotFoundError:
                pass


def _raise_export_status(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    response.read()
    error = errors.error_from_response(response)
    if response.status_code == 403 and "too long" in error.message.lower():
        raise ExportTooLargeError(
            f"{error.message}. The server exports at most its BATCH_SIZE rows in one file (50,000 on "
            "data.gouv.fr): narrow the filters, or page through /data/ instead "
            "(export(..., via='pages'), dgv ... export --via pages)",
            response=response,
            body=error.body,
            details=error.details,
        )
    raise error


def iter_csv_lines(chunks: Iterable[bytes], sink: Callable[[bytes], None] | None = None) -> Iterator[str]:
    """Lines (with their "\\n") of a UTF-8 byte stream; `sink` sees every chunk first (a tee)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    pending = ""
    for chunk in chunks:
        if sink is not None:
            sink(chunk)
        text = pending + decoder.decode(chunk)
        lines = text.split("\n")
        pending = lines.pop()
        for line in lines:
            yield line + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def stream_to_file(
    http: httpx.Client,
    url: str,
    dest: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
    count_rows: bool = False,
    chunk_size: int = CHUNK_SIZE,
) -> ExportResult:
    """Stream GET `url` into `dest` (see the module docstring). Returns bytes and rows written."""
    target = Path(dest)
    written = 0
    rows: int | None = None
    with http.stream("GET", url, extensions={STREAM_EXTENSION: True}) as response:
        _raise_export_status(response)
        with _PartFile(target) as out:

            def sink(chunk: bytes) -> None:
                nonlocal written
                out.handle.write(chunk)
                written += len(chunk)
                if progress is not None:
                    progress(written, rows)

            chunks = response.iter_bytes(chunk_size)
            if count_rows:
                rows = 0
                records = csv.reader(iter_csv_lines(chunks, sink))
                header = next(records, None)
                for record in records:
                    if record:  # the blank line api_tabular appends
                        rows += 1
                if header is None:
                    rows = 0
                if progress is not None:
                    progress(written, rows)
            else:
                for chunk in chunks:
                    sink(chunk)
            _check_complete(out, response, written)
            out.commit()
    return ExportResult(target, written, rows, "stream")


def _check_complete(out: _PartFile, response: httpx.Response, written: int) -> None:
    """A body without Content-Length that the connection cut looks complete to HTTP. api_tabular ends
    every CSV and JSON export with a newline (JSON: after the closing bracket), so check that end."""
    if not written:
        return
    out.handle.flush()
    with open(out.part, "rb") as check:
        check.seek(max(0, written - 16))
        tail = check.read()
    kind = response.headers.get("content-type", "")
    cut = not tail.endswith(b"\n") or ("json" in kind and not tail.rstrip().endswith(b"]"))
    if cut:
        raise errors.ResponseDecodeError(
            f"the export from {response.request.url} ended mid-record after {written} bytes (connection cut?)",
            response=response,
        )


def iter_csv_rows(http: httpx.Client, url: str, *, chunk_size: int = CHUNK_SIZE) -> Iterator[dict[str, str]]:
    """Rows of a CSV export as dicts (header → cell), read lazily from the stream. Close the
    generator (or exhaust it) to release the connection."""
    with http.stream("GET", url, extensions={STREAM_EXTENSION: True}) as response:
        _raise_export_status(response)
        yield from csv.DictReader(iter_csv_lines(response.iter_bytes(chunk_size)))


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class _Counter:
    def __init__(self, out: _PartFile) -> None:
        self.out = out
        self.bytes = 0

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self.out.handle.write(data)
        self.bytes += len(data)
        return len(text)


def write_rows(
    dest: str | os.PathLike[str],
    rows: Iterable[Mapping[str, Any]],
    fmt: RowFormat = "csv",
    *,
    columns: Sequence[str] | None = None,
    progress: Progress | None = None,
    progress_every: int = 50,
) -> ExportResult:
    """Write row dicts as CSV (header = `columns`, else the first row's keys), a JSON array, or
    JSON Lines; ``.part`` then rename. Memory: one row at a time."""
    if fmt not in ("csv", "json", "jsonl"):
        raise errors.UsageError(f"unknown export format {fmt!r}; expected csv, json or jsonl")
    target = Path(dest)
    count = 0
    with _PartFile(target) as out:
        sink = _Counter(out)
        writer: Any = None
        if fmt == "json":
            sink.write("[")
        for row in rows:
            if fmt == "csv":
                if writer is None:
                    header = list(columns) if columns else list(row)
                    writer = csv.writer(sink, lineterminator="\n")
                    writer.writerow(header)
                writer.writerow([_csv_cell(row.get(c)) for c in header])
            elif fmt == "json":
                sink.write(("," if count else "") + "\n" + json.dumps(row, ensure_ascii=False, default=str))
            else:
                sink.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            count += 1
            if progress is not None and count % progress_every == 0:
                progress(sink.bytes, count)
        if fmt == "csv" and writer is None and columns:
            csv.writer(sink, lineterminator="\n").writerow(list(columns))
        if fmt == "json":
            sink.write("\n]\n" if count else "]\n")
        out.commit()
    if progress is not None:
        progress(sink.bytes, count)
    return ExportResult(target, sink.bytes, count, "pages")
