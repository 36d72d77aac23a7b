"""Matching rows of a Tabular resource written to a Parquet file, streamed, atomic like the CSV exports.

`export_parquet(resource, dest, query=None, *, source="auto")` writes ``dest.part`` batch by batch
and renames it when complete (any failure removes the ``.part``):

- from hydra's Parquet (`pushdown.ParquetQuery`): one row group at a time, only the needed columns
  fetched; memory stays bounded by a row group (hydra writes 50,000 rows per group). Sorted or
  aggregated queries need every matching row first (held in memory, as a database would spill).
- from the API: the JSON export, or pages of ``/data/`` above the export cap, converted per page.

The file's columns and types are `to_arrow`'s; its metadata records the resource id, the query and
the source.

Memory: while it runs, pyarrow's default allocator is jemalloc (or the system's) instead of mimalloc,
which keeps the pages of every freed batch in its arenas: a 1,000,000-row export peaked at 176 MiB
with mimalloc, 130 MiB without (`make bench`, row 9). The previous default comes back afterwards;
buffers allocated meanwhile stay valid (each remembers its pool).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from datagouv_sdk import errors
from datagouv_sdk.dataframe._optional import require
from datagouv_sdk.dataframe.sources import Source, _check_source, parquet_location, parquet_query
from datagouv_sdk.dataframe.types import arrow_type, result_columns, rows_to_table
from datagouv_sdk.query.builder import Query

if TYPE_CHECKING:
    from datagouv_sdk.tabular import TabularResource

__all__ = ["ParquetExportResult", "export_parquet"]

API_BATCH_ROWS = 10_000
# progress(bytes_written_so_far, rows_written_so_far)
ParquetProgress = Callable[[int, int], None]


@attrs.frozen
class ParquetExportResult:
    path: Path
    bytes: int
    rows: int
    via: str  # "parquet" or "api"


def _api_batches(resource: TabularResource, query: Query, columns: list[tuple[str, str]]) -> Iterator[Any]:
    batch: list[dict[str, Any]] = []
    for row in resource.rows(query, validate=False):
        batch.append(row)
        if len(batch) >= API_BATCH_ROWS:
            yield rows_to_table(batch, columns)
            batch = []
    if batch or not columns:
        yield rows_to_table(batch, columns)


def export_parquet(
    resource: TabularResource,
    dest: str | os.PathLike[str],
    query: Query | None = None,
    *,
    source: Source = "auto",
    progress: ParquetProgress | None = None,
    validate: bool = True,
) -> ParquetExportResult:
    """Write the rows of `resource` matching `query` to the Parquet file `dest` (see the module docstring)."""
    require("pyarrow", what="Parquet exports")
    _check_source(source)
    # The pool must be in place before the Parquet reader exists: a reader keeps the pool it was made with.
    with _streaming_pool():
        return _export(resource, Path(dest), query, source, progress, validate)


def _export(
    resource: TabularResource,
    dest: Path,
    query: Query | None,
    source: Source,
    progress: ParquetProgress | None,
    validate: bool,
) -> ParquetExportResult:
    pa = require("pyarrow")
    q = query if query is not None else Query()
    q.check_shape()
    schema = resource.schema()
    location = None if source == "api" else parquet_location(resource._dg, resource.resource_id)
    if location is None and source == "parquet":
        raise errors.UsageError(f"resource {resource.resource_id} has no Parquet copy: use source='api'")
    runner = parquet_query(resource._dg, location, schema, q) if location is not None else None
    if runner is not None and source == "auto" and runner.lossy.touched_by(q):
        runner = None
    if runner is None:
        if validate:
            schema.validate(q)
        columns = result_columns(schema, q)
        batches: Iterator[Any] = _api_batches(resource, q, columns)
        fields = [pa.field(n, arrow_type(t)) for n, t in columns]
        via = "api"
    else:
        runner.check()
        if q.sorting is not None or q.aggregates:
            whole = runner.read()
            fields = list(whole.schema)
            batches = iter([whole])
        else:
            fields = list(runner.finish(runner.empty()).schema)
            batches = (runner.finish(part) for part in runner.batches())
        via = "parquet"
    return _write(dest, batches, fields, via, resource.resource_id, q, progress)


@contextlib.contextmanager
def _streaming_pool() -> Iterator[None]:
    pa = require("pyarrow")
    previous = pa.default_memory_pool()
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:
        pool = pa.system_memory_pool()
    pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


def _write(
    target: Path,
    batches: Iterator[Any],
    fields: list[Any],
    via: str,
    resource_id: str,
    q: Query,
    progress: ParquetProgress | None,
) -> ParquetExportResult:
    pa = require("pyarrow")
    pq = require("pyarrow.parquet")
    metadata = {
        "datagouv:resource_id": resource_id,
        "datagouv:query": q.query_string(),
        "datagouv:source": via,
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    rows = 0
    try:
        writer = pq.ParquetWriter(str(part), pa.schema(fields, metadata=metadata), compression="zstd")
        try:
            for table in batches:
                if table.num_rows:
                    if not table.schema.equals(writer.schema, check_metadata=False):
                        table = table.cast(writer.schema)
                    writer.write_table(table)
                    rows += table.num_rows
                    if progress is not None:
                        progress(part.stat().st_size, rows)
        finally:
            writer.close()
        os.replace(part, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
    return ParquetExportResult(target, target.stat().st_size, rows, via)


def query_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The ``datagouv:*`` metadata of a file written by `export_parquet`."""
    pq = require("pyarrow.parquet")
    raw = pq.read_schema(str(path)).metadata or {}
    return {k.decode(): v.decode() for k, v in raw.items() if k.startswith(b"datagouv:")}
