"""`dgv metrics`: monthly visits and downloads (Metrics API).

    dgv metrics get datasets --filter dataset_id__exact=5d0b… --sort metric_month:desc --limit 12
    dgv metrics export datasets -o visits.csv --filter metric_month__greater=2024-01

Metrics filters: exact, contains, less (<=), greater (>=); one sort. Models: site, datasets,
organizations, reuses, resources, dataservices.
"""

from __future__ import annotations

import click

from datagouv_sdk.cli.output import client_from_ctx, handle_errors, limit_option
from datagouv_sdk.cli.query_options import build_query, export_options, filter_options, print_rows, run_export


@click.group()
def metrics() -> None:
    """Monthly visits and downloads (Metrics API): query and export."""


@metrics.command("get")
@click.argument("model")
@filter_options
@limit_option("Rows to print (0: all).")
@handle_errors
def metrics_get(model: str, filters: tuple[str, ...], sort: str | None, limit: int | None) -> None:
    """Rows of a metrics model (JSON Lines with --json)."""
    from datagouv_sdk.tabular import MetricsModel

    q = build_query(filters, sort)
    with client_from_ctx() as dg:
        print_rows(MetricsModel(dg, model).rows(q, limit=limit))


@metrics.command("export")
@click.argument("model")
@export_options(
    format_help="json/jsonl need --via pages (the server exports CSV only).",
    via_help="stream: the server's CSV export (capped); pages: /data/ page by page; auto: both.",
)
@filter_options
@handle_errors
def metrics_export(
    model: str, output: str, fmt: str, via: str, filters: tuple[str, ...], sort: str | None, quiet: bool
) -> None:
    """Write the matching rows to a file (written as FILE.part, renamed when complete)."""
    from datagouv_sdk.tabular import MetricsModel

    q = build_query(filters, sort)
    with client_from_ctx() as dg:
        run_export(MetricsModel(dg, model), output, q, fmt, via, quiet, model)
