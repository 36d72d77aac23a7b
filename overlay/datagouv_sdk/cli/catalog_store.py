"""`dgv catalog`: the daily catalog exports as a local DuckDB/Parquet store, queried with SQL.

    dgv catalog sync [DIR] [--kind datasets --kind resources] [--force]
    dgv catalog sql "SELECT ..." [--dir DIR] [--json]

DIR defaults to `$DATAGOUV_CATALOG_DIR` or `~/.cache/datagouv-sdk/catalog` (see
`datagouv_sdk.catalog_exports`). Needs the `dataframe` extra (duckdb).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from datagouv_sdk.cli.output import client_from_ctx, handle_errors, json_mode, print_items

KIND_CHOICES = ("datasets", "resources", "organizations", "reuses", "dataservices", "harvests", "tags")


@click.group()
def catalog() -> None:
    """The whole catalog as tables: daily exports synced into DuckDB, queried with SQL."""


def _progress(quiet: bool) -> Any:
    if quiet:
        return None
    out = sys.stderr
    tty = out.isatty()
    last: dict[str, float] = {}

    def report(kind: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - last.get(kind, 0.0) < 0.25 and (total is None or done < total):
            return
        last[kind] = now
        share = f" / {total:,} ({100 * done // total}%)" if total else ""
        line = f"{kind}: {done:,} bytes{share}"
        out.write(("\r" + line) if tty else line + "\n")
        out.flush()

    return report


@catalog.command("sync")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--kind", "kinds", multiple=True, type=click.Choice(KIND_CHOICES), help="Only these kinds (repeat)."
)
@click.option("--force", is_flag=True, help="Download and reload even what did not change.")
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
@handle_errors
def catalog_sync(directory: Path | None, kinds: tuple[str, ...], force: bool, quiet: bool) -> None:
    """Fetch the daily exports that changed and load them into DIR/catalog.duckdb (one table per kind)."""
    with client_from_ctx() as dg:
        report = dg.catalog.sync(
            directory, kinds=kinds or KIND_CHOICES, force=force, progress=_progress(quiet)
        )
    if sys.stderr.isatty() and not quiet:
        sys.stderr.write("\n")
    rows = [
        {
            "kind": k.kind,
            "status": ("downloaded" if k.downloaded else "unchanged") + (", loaded" if k.loaded else ""),
            "rows": k.rows,
            "bytes": k.bytes,
            "note": k.as_text or "",
        }
        for k in report.kinds
    ]
    print_items(rows, [(name, name) for name in ("kind", "status", "rows", "bytes", "note")])
    if not json_mode():
        click.echo(f"store: {report.database}", err=True)


@catalog.command("sql")
@click.argument("query")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The store (default: the cache folder).",
)
@handle_errors
def catalog_sql(query: str, directory: Path | None) -> None:
    """Run QUERY on the synced catalog (tables: datasets, resources, organizations, ...)."""
    from datagouv_sdk.catalog_exports import catalog_sql as run

    rows = run(query, directory)
    if json_mode():
        print_items(rows, [])
        return
    if not rows:
        click.echo("(no rows)", err=True)
        return
    print_items(rows, [(key, _getter(key)) for key in rows[0]])


def _getter(key: str) -> Any:
    return lambda row: row.get(key)  # SQL names may hold dots ("dataset.id"): no path lookup
