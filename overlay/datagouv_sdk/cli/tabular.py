"""`dgv tabular`: the rows of a CSV resource (Tabular API): profile, query, export.

    dgv tabular profile RID
    dgv tabular query RID --filter 'count__greater=3' --filter 'name__in=Alpha,"Bravo, with comma"' \\
        --columns name,count --sort count:desc --limit 10
    dgv tabular query RID --groupby category --agg amount:sum
    dgv tabular export RID -o rows.csv [--format csv|json|jsonl|parquet] [--via stream|pages|auto] [--filter …]
    dgv tabular sql RID "SELECT count(*) FROM resource" [--via auto|httpfs|arrow|api] [-o out.parquet]
    dgv tabular manifest (--dataset ID | --query "SELECT id FROM resources WHERE ...") -o files.jsonl

Filters are ``column__operator=value`` (operators: exact, differs, isnull, isnotnull, contains,
notcontains, in, notin, less (<=), greater (>=), strictly_less, strictly_greater); a filter without
an operator is exact. They are checked against the resource's profile before any request.
Shared by `dgv metrics`: `build_query`, the filter/sort options and `export_progress`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from datagouv_sdk.cli.output import (
    client_from_ctx,
    handle_errors,
    json_mode,
    print_item,
    print_items,
)

if TYPE_CHECKING:  # the SDK is imported inside the commands: `dgv --help` stays fast
    from datagouv_sdk.export.files import ExportResult
    from datagouv_sdk.query.builder import Query

F = TypeVar("F", bound=Callable[..., Any])

FILTER_HELP = "column__operator=value (repeatable, AND-ed); e.g. count__greater=3, name__isnull."
SORT_HELP = "Sort on one column: col, col:asc, col:desc or -col."


def filter_options(command: F) -> F:
    command = click.option("--sort", "sort", default=None, help=SORT_HELP)(command)
    command = click.option("--filter", "filters", multiple=True, metavar="COL__OP=VALUE", help=FILTER_HELP)(
        command
    )
    return command


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
        q = q.columns(*(c.strip() for c in columns.split(",") if c.strip()))
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


# The profile table abbreviates (cells are cut at 60 characters); --json lists the API names.
_SHORT = {"less": "<=", "greater": ">=", "strictly_less": "<", "strictly_greater": ">"}
_EVERYWHERE = ("isnull", "isnotnull")


@click.group()
def tabular() -> None:
    """Rows of CSV resources (Tabular API): profile, query, export."""


@tabular.command("profile")
@click.argument("rid")
@handle_errors
def tabular_profile(rid: str) -> None:
    """Columns, types and what each column accepts."""
    from datagouv_sdk.tabular import TabularResource

    with client_from_ctx() as dg:
        schema = TabularResource(dg, rid).schema()
    if json_mode():
        print_item(
            {
                "resource_id": schema.resource_id,
                "aggregation_allowed": schema.aggregation_allowed,
                "indexes": sorted(schema.indexes) if schema.indexes is not None else None,
                "columns": {
                    c.name: {
                        "type": c.python_type,
                        "operators": list(c.operators),
                        "sortable": c.sortable,
                        "aggregates": list(c.aggregates),
                    }
                    for c in schema.columns.values()
                },
            }
        )
        return
    print_items(
        list(schema.columns.values()),
        [
            ("column", "name"),
            ("type", "python_type"),
            ("sort", lambda c: "yes" if c.sortable else "no"),
            (
                "operators",
                lambda c: " ".join(_SHORT.get(op, op) for op in c.operators if op not in _EVERYWHERE),
            ),
            ("aggregates", lambda c: " ".join(c.aggregates)),
        ],
    )
    click.echo(
        "every column: isnull isnotnull; <= is less, >= greater, < strictly_less, > strictly_greater",
        err=True,
    )
    click.echo(
        f"aggregation: {'allowed' if schema.aggregation_allowed else 'not allowed'}"
        + (f" (indexed columns: {', '.join(sorted(schema.indexes))})" if schema.indexes else ""),
        err=True,
    )


@tabular.command("query")
@click.argument("rid")
@filter_options
@click.option("--columns", default=None, help="Columns to return: a,b.")
@click.option(
    "--groupby", multiple=True, help="Group by this column (repeatable; aggregation resources only)."
)
@click.option(
    "--agg",
    "aggregates",
    multiple=True,
    metavar="COL:FN",
    help="Aggregate: amount:sum (count, sum, avg, min, max).",
)
@click.option(
    "--raw", "raw", multiple=True, metavar="KEY[=VALUE]", help="Extra query parameter, sent unchecked."
)
@click.option(
    "--limit", type=click.IntRange(min=0), default=20, show_default=True, help="Rows to print (0: all)."
)
@click.option("--typed", is_flag=True, help="Convert values per column type (JSON output shows ISO dates).")
@click.option("--no-validate", is_flag=True, help="Skip the check against the resource's profile.")
@handle_errors
def tabular_query(
    rid: str,
    filters: tuple[str, ...],
    sort: str | None,
    columns: str | None,
    groupby: tuple[str, ...],
    aggregates: tuple[str, ...],
    raw: tuple[str, ...],
    limit: int,
    typed: bool,
    no_validate: bool,
) -> None:
    """Rows matching the filters (JSON Lines with --json)."""
    from datagouv_sdk.tabular import TabularResource

    q = build_query(filters, sort, columns, groupby, aggregates, raw)
    with client_from_ctx() as dg:
        pager = TabularResource(dg, rid).rows(q, typed=typed, limit=limit or None, validate=not no_validate)
        print_rows(pager)


@tabular.command("export")
@click.argument("rid")
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="Destination file.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "jsonl", "parquet"]),
    default=None,
    help="Default: from the file's suffix (.csv, .json, .jsonl, .parquet), else csv. Parquet is read from "
    "hydra's Parquet copy when the resource has one (--source), typed after the profile.",
)
@click.option(
    "--source",
    type=click.Choice(["auto", "api", "parquet"]),
    default="auto",
    show_default=True,
    help="Parquet exports only: where rows come from (auto: hydra's Parquet when published, else the API).",
)
@click.option(
    "--via",
    type=click.Choice(["stream", "pages", "auto"]),
    default="stream",
    show_default=True,
    help="stream: the server's export (capped: 50,000 rows on data.gouv.fr); pages: /data/ page "
    "by page; auto: stream, pages above the cap.",
)
@filter_options
@click.option("--columns", default=None, help="Columns to export: a,b.")
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
@handle_errors
def tabular_export(
    rid: str,
    output: str,
    fmt: str | None,
    source: str,
    via: str,
    filters: tuple[str, ...],
    sort: str | None,
    columns: str | None,
    quiet: bool,
) -> None:
    """Write the matching rows to a file (written as FILE.part, renamed when complete)."""
    from datagouv_sdk.tabular import TabularResource

    q = build_query(filters, sort, columns)
    fmt = fmt or _format_from_suffix(output)
    if fmt == "parquet":
        from datagouv_sdk.dataframe.parquet_export import export_parquet

        with client_from_ctx() as dg:
            done = export_parquet(TabularResource(dg, rid), output, q, source=cast(Any, source))
        info = {"path": str(done.path), "bytes": done.bytes, "rows": done.rows, "via": done.via}
        if json_mode():
            click.echo(json.dumps(info))
        else:
            click.echo(f"wrote {done.path} ({done.rows:,} rows, {done.bytes:,} bytes, from {done.via})")
        return
    with client_from_ctx() as dg:
        result = TabularResource(dg, rid).export(
            output,
            q,
            format=cast(Any, fmt),
            via=cast(Any, via),
            progress=None if quiet else export_progress(f"exporting {rid}"),
            count_rows=True,  # the summary line reports rows
        )
    print_export(result)


_SUFFIXES = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


def _format_from_suffix(path: str) -> str:
    return _SUFFIXES.get(Path(path).suffix.lower(), "csv")


@tabular.command("sql")
@click.argument("rid")
@click.argument("query")
@click.option("--name", default="resource", show_default=True, help="The view's name in QUERY.")
@click.option(
    "--via",
    type=click.Choice(["auto", "httpfs", "arrow", "api"]),
    default="auto",
    show_default=True,
    help="How DuckDB reads the resource: hydra's Parquet in place (httpfs, or arrow: the SDK's range "
    "reads), or the API's rows.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the result (.csv, .parquet, .json).",
)
@handle_errors
def tabular_sql(rid: str, query: str, name: str, via: str, output: str | None) -> None:
    """Run QUERY (DuckDB SQL) on the resource, registered as a view named --name."""
    from datagouv_sdk.dataframe._optional import require
    from datagouv_sdk.dataframe.duck import register
    from datagouv_sdk.errors import UsageError
    from datagouv_sdk.tabular import TabularResource

    duckdb = require("duckdb", what="dgv tabular sql")
    with client_from_ctx() as dg:
        view = register(TabularResource(dg, rid), name=name, via=cast(Any, via))
        try:
            if output is not None:
                _write_result(view.connection, query, output)
                click.echo(f"wrote {output} (via {view.via})", err=True)
                return
            cursor = view.connection.execute(query)
            names = [d[0] for d in cursor.description or []]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()] if names else []
        except duckdb.Error as exc:
            raise UsageError(f"SQL: {exc}") from exc
    print_rows(rows)


def _write_result(con: Any, query: str, output: str) -> None:
    """The result of `query` to `output` through a .part file, the format from the suffix."""
    target = Path(output)
    part = target.with_name(target.name + ".part")
    kind = _format_from_suffix(output)
    copy = {"parquet": "FORMAT parquet, COMPRESSION zstd", "json": "FORMAT json", "jsonl": "FORMAT json"}
    try:
        path = str(part).replace("'", "''")
        con.execute(f"COPY ({query}) TO '{path}' ({copy.get(kind, 'FORMAT csv, HEADER true')})")
        os.replace(part, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()


@tabular.command("manifest")
@click.option("--dataset", default=None, help="A dataset id or slug: its tabular resources.")
@click.option(
    "--query",
    "sql",
    default=None,
    help="SQL on the synced catalog (dgv catalog sync) returning resource ids, e.g. "
    "\"SELECT id FROM resources WHERE format = 'csv' AND filesize > 1e9\".",
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    default=None,
    help="The catalog store for --query.",
)
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False), help="The JSON Lines file to write."
)
@click.option("--no-columns", is_flag=True, help="Skip the Tabular profiles (one request per resource).")
@handle_errors
def tabular_manifest(
    dataset: str | None, sql: str | None, directory: str | None, output: str, no_columns: bool
) -> None:
    """Write a JSON Lines manifest of resource files (hydra's Parquet when published) for Dask, Spark, Ray."""
    from datagouv_sdk.errors import UsageError
    from datagouv_sdk.manifest import manifest_for_catalog, manifest_for_dataset, write_manifest

    if (dataset is None) == (sql is None):
        raise UsageError("give exactly one of --dataset ID or --query SQL")
    with client_from_ctx() as dg:
        if dataset is not None:
            entries = manifest_for_dataset(dg, dataset, columns=not no_columns)
        else:
            assert sql is not None
            entries = manifest_for_catalog(dg, sql, directory, columns=not no_columns)
    count = write_manifest(entries, output)
    parquet = sum(1 for e in entries if e["format"] == "parquet")
    if json_mode():
        click.echo(json.dumps({"path": output, "entries": count, "parquet": parquet}))
    else:
        click.echo(f"wrote {output} ({count} resources, {parquet} as Parquet)")
