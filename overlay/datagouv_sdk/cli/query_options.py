"""What `dgv tabular` and `dgv metrics` share: the filter/sort options, the query they build, how rows
and exports are printed, and the export progress line."""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from datagouv_sdk.cli.output import json_mode, output_option, print_items

if TYPE_CHECKING:  # the SDK is imported inside the commands: `dgv --help` stays fast
    from datagouv_sdk.export.files import ExportResult
    from datagouv_sdk.query.builder import Query
    from datagouv_sdk.tabular import MetricsModel, TabularResource

F = TypeVar("F", bound=Callable[..., Any])

FILTER_HELP = "column__operator=value (repeatable, AND-ed); e.g. count__greater=3, name__isnull."
SORT_HELP = "Sort on one column: col, col:asc, col:desc or -col."
COLUMNS_HELP = 'a,b (one CSV record: quote a name that holds a comma, a,"lat,lon")'


def filter_options(command: F) -> F:
    command = click.option("--sort", "sort", default=None, help=SORT_HELP)(command)
    command = click.option("--filter", "filters", multiple=True, metavar="COL__OP=VALUE", help=FILTER_HELP)(
        command
    )
    return command


def export_options(
    *, via_help: str, format_help: str | None = None, parquet: bool = False
) -> Callable[[F], F]:
    """-o/--output, --format, --via and --quiet, as both export commands take them. With `parquet`,
    --format also offers parquet and defaults to None (the caller reads it from the file's suffix)."""

    def add(command: F) -> F:
        command = click.option("--quiet", is_flag=True, help="No progress on stderr.")(command)
        command = click.option(
            "--via",
            type=click.Choice(["stream", "pages", "auto"]),
            default="stream",
            show_default=True,
            help=via_help,
        )(command)
        command = click.option(
            "--format",
            "fmt",
            type=click.Choice(["csv", "json", "jsonl", *(["parquet"] if parquet else [])]),
            default=None if parquet else "csv",
            show_default=not parquet,
            help=format_help,
        )(command)
        return output_option("Destination file.", path=click.Path(dir_okay=False, writable=True))(command)

    return add


def build_query(
    filters: Sequence[str],
    sort: str | None,
    columns: str | None = None,
    groupby: Sequence[str] = (),
    aggregates: Sequence[str] = (),
    raw: Sequence[str] = (),
) -> Query:
    from datagouv_sdk.errors import UsageError
    from datagouv_sdk.query.builder import Aggregate, Query, parse_filter_expression

    q = Query().filter(*(parse_filter_expression(f) for f in filters))
    if sort:
        q = q.sort(sort)
    if columns:
        # One CSV record, so a real column name holding a comma can be quoted ("lat,lon").
        names = next(csv.reader([columns], skipinitialspace=True), [])
        q = q.columns(*(name.strip() for name in names if name.strip()))
    if groupby:
        q = q.groupby(*groupby)
    for spec in aggregates:
        column, sep, function = spec.rpartition(":")
        if not sep or not column:
            raise UsageError(f"--agg {spec!r}: expected column:function (count, sum, avg, min, max)")
        q = q.aggregate(Aggregate.make(column, function))
    for item in raw:
        key, sep, value = item.partition("=")
        q = q.raw(key, value if sep else None)
    return q


def export_progress(label: str) -> Callable[[int, int | None], None]:
    """A (bytes, rows) progress line on stderr, redrawn on a terminal, at most ~4 times a second."""
    out = sys.stderr
    tty = out.isatty()
    last = 0.0

    def report(done: int, rows: int | None) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < 0.25:
            return
        last = now
        line = f"{label}: {done:,} bytes" + (f", {rows:,} rows" if rows is not None else "")
        out.write(("\r" + line) if tty else line + "\n")
        out.flush()

    return report


def print_export(result: ExportResult) -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    info = {"path": str(result.path), "bytes": result.bytes, "rows": result.rows, "via": result.via}
    if json_mode():
        click.echo(json.dumps(info))
    else:
        rows = f"{result.rows:,} rows, " if result.rows is not None else ""
        click.echo(f"wrote {result.path} ({rows}{result.bytes:,} bytes, via {result.via})")


def print_rows(rows: Any) -> int:
    """Rows as JSON Lines (--json) or a table whose columns are the first row's keys."""
    if json_mode():
        return print_items(rows, [])
    materialized = list(rows)
    if not materialized:
        click.echo("(no rows)", err=True)
        return 0
    keys = list(materialized[0])
    return print_items(materialized, [(k, _getter(k)) for k in keys])


def _getter(key: str) -> Callable[[Any], Any]:
    return lambda row: row.get(key)


def run_export(
    handle: TabularResource | MetricsModel,
    output: str,
    query: Query,
    fmt: str,
    via: str,
    quiet: bool,
    label: str,
) -> None:
    """The export commands' body: export with a progress line (unless quiet), then the summary."""
    result = handle.export(
        output,
        query,
        format=cast(Any, fmt),
        via=cast(Any, via),
        progress=None if quiet else export_progress(f"exporting {label}"),
    )
    print_export(result)
