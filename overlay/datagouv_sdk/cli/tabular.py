"""`dgv tabular`: the rows of a CSV resource (Tabular API): profile, query, export.

    dgv tabular profile RID
    dgv tabular query RID --filter 'count__greater=3' --filter 'name__in=Alpha,"Bravo, with comma"' \\
        --columns name,count --sort count:desc --limit 10
    dgv tabular query RID --groupby category --agg amount:sum
    dgv tabular export RID -o rows.csv [--format csv|json|jsonl] [--via stream|pages|auto] [--filter …]

Filters are ``column__operator=value`` (operators: exact, differs, isnull, isnotnull, contains,
notcontains, in, notin, less (<=), greater (>=), strictly_less, strictly_greater); a filter without
an operator is exact. They are checked against the resource's profile before any request.
"""

from __future__ import annotations

import click

from datagouv_sdk.cli.output import (
    client_from_ctx,
    handle_errors,
    json_mode,
    limit_option,
    print_item,
    print_items,
)
from datagouv_sdk.cli.query_options import build_query, export_options, filter_options, print_rows, run_export

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
    "by page; auto: stream, pages above the cap."
)
@filter_options
@click.option("--columns", default=None, help="Columns to export: a,b.")
@handle_errors
def tabular_export(
    rid: str,
    output: str,
    fmt: str,
    via: str,
    filters: tuple[str, ...],
    sort: str | None,
    columns: str | None,
    quiet: bool,
) -> None:
    """Write the matching rows to a file (written as FILE.part, renamed when complete)."""
    from datagouv_sdk.tabular import TabularResource

    q = build_query(filters, sort, columns)
    with client_from_ctx() as dg:
        run_export(TabularResource(dg, rid), output, q, fmt, via, quiet, rid)
