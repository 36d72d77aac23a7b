"""`dgv tabular`: the rows of a CSV resource (Tabular API): profile, query, export, SQL, manifests.

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
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any, cast

import click

from datagouv_sdk.cli.output import (
    client_from_ctx,
    handle_errors,
    json_mode,
    limit_option,
    output_option,
    print_item,
    print_items,
)
from datagouv_sdk.cli.query_options import (
    build_query,
    export_options,
    filter_options,
    print_rows,
    run_export,
)

# The profile table abbreviates (cells are cut at 60 characters); --json lists the API names.
_SHORT = {"less": "<=", "greater": ">=", "strictly_less": "<", "strictly_greater": ">"}
_EVERYWHERE = ("isnull", "isnotnull")


@click.group()
def tabular() -> None:
    """Rows of CSV resources (Tabular API): profile, query, export, SQL, manifests."""


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
@click.option(
    "--columns",
    default=None,
    help='Columns to return: a,b (CSV quoting for a name with a comma: a,"lat,lon").',
)
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
@limit_option("Rows to print (0: all).")
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
    limit: int | None,
    typed: bool,
    no_validate: bool,
) -> None:
    """Rows matching the filters (JSON Lines with --json)."""
    from datagouv_sdk.tabular import TabularResource

    q = build_query(filters, sort, columns, groupby, aggregates, raw)
    with client_from_ctx() as dg:
        pager = TabularResource(dg, rid).rows(q, typed=typed, limit=limit, validate=not no_validate)
        print_rows(pager)


@tabular.command("export")
@click.argument("rid")
@export_options(
    via_help="stream: the server's export (capped: 50,000 rows on data.gouv.fr); pages: /data/ page "
    "by page; auto: stream, pages above the cap.",
    format_help="Default: from the file's suffix (.csv, .json, .jsonl, .parquet), else csv. Parquet is "
    "typed after the profile and read from hydra's Parquet copy when published (--source).",
    parquet=True,
)
@click.option(
    "--source",
    type=click.Choice(["auto", "api", "parquet"]),
    default="auto",
    show_default=True,
    help="Parquet exports: where rows come from (auto: hydra's Parquet copy when published, else the API).",
)
@filter_options
@click.option(
    "--columns",
    default=None,
    help='Columns to export: a,b (CSV quoting for a name with a comma: a,"lat,lon").',
)
@handle_errors
def tabular_export(
    rid: str,
    output: str,
    fmt: str | None,
    via: str,
    source: str,
    filters: tuple[str, ...],
    sort: str | None,
    columns: str | None,
    quiet: bool,
) -> None:
    """Write the matching rows to a file (written as FILE.part, renamed when complete)."""
    from datagouv_sdk.tabular import TabularResource

    q = build_query(filters, sort, columns)
    fmt = fmt or _format_from_suffix(output)
    with client_from_ctx() as dg:
        if fmt != "parquet":
            run_export(TabularResource(dg, rid), output, q, fmt, via, quiet, rid)
            return
        done = TabularResource(dg, rid).export_parquet(output, q, source=cast(Any, source))
    info = {"path": str(done.path), "bytes": done.bytes, "rows": done.rows, "via": done.via}
    if json_mode():
        click.echo(json.dumps(info))
    else:
        click.echo(f"wrote {done.path} ({done.rows:,} rows, {done.bytes:,} bytes, from {done.via})")


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
@output_option("Write the result (.csv, .parquet, .json).", required=False)
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
@output_option("The JSON Lines file to write.")
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
