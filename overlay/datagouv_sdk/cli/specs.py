"""`dgv specs diff`: the semantic diff of two spec documents (logic in datagouv_sdk.drift).

Checking the repository's specs against upstream and accepting a change are maintainer commands of a
source checkout (`make check-specs`, `make update-specs`: tools/specpipeline), not part of the
installed package; `dgv specs check|update` say so.
"""

from __future__ import annotations

import sys
import traceback
from typing import TYPE_CHECKING, NoReturn

import click

from datagouv_sdk.cli.output import json_mode, verbosity
from datagouv_sdk.errors import DataGouvError

if TYPE_CHECKING:  # the drift modules are imported by the command, not when the CLI starts
    from datagouv_sdk.drift.report import ApiReport

# A failed diff exits 2, as the maintainer's check does (1 there means "upstream changed").
_EXIT_FAILED = 2
# Commands that moved to the maintainer tooling -> what to run instead, in a checkout.
_MAINTAINER_COMMANDS = {
    "check": "make check-specs (python -m tools.specpipeline check)",
    "update": "make update-specs (python -m tools.specpipeline update)",
}


class _SpecsGroup(click.Group):
    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        moved = _MAINTAINER_COMMANDS.get(args[0]) if args else None
        if moved is not None:
            raise click.UsageError(
                f"`dgv specs {args[0]}` is a maintainer command of a datagouv-sdk source checkout, "
                f"not of the installed package: run `{moved}` there",
                ctx,
            )
        return super().resolve_command(ctx, args)


@click.group(cls=_SpecsGroup)
def specs() -> None:
    """Upstream spec drift: the semantic diff of two spec documents."""


_json_option = click.option(
    "--json", "as_json", is_flag=True, help="Machine-readable report (see drift.report)."
)


@specs.command()
@click.argument("old")
@click.argument("new")
@click.option(
    "--name", default=None, help="API name shown in the report (default: the NEW document's title)."
)
@_json_option
@click.pass_context
def diff(ctx: click.Context, old: str, new: str, name: str | None, as_json: bool) -> None:
    """Semantic diff of two spec documents (files or http(s) URLs; Swagger 2.0 or OpenAPI 3, JSON or YAML).

    Every change is classified breaking or non-breaking for a client of the API. Exit 0.
    """
    from datagouv_sdk.drift.documents import diff_specs, prepare, read_location
    from datagouv_sdk.drift.report import ApiReport, Side, Status

    try:
        old_doc = prepare(read_location(old), origin=old)
        new_doc = prepare(read_location(new), origin=new)
        result = diff_specs(old_doc, new_doc)
    except DataGouvError as exc:
        _fail(exc)
    title = name or str((new_doc.upstream.get("info") or {}).get("title") or "spec")
    status = Status.UNCHANGED if result.empty and old_doc.sha256 == new_doc.sha256 else Status.CHANGED
    report = ApiReport(
        title,
        status,
        Side(old, old_doc.version, old_doc.sha256),
        Side(new, new_doc.version, new_doc.sha256),
        result,
    )
    _print([report], as_json or json_mode(ctx))


def _print(reports: list[ApiReport], as_json: bool) -> None:
    from datagouv_sdk.drift.report import render_json, render_text

    click.echo(render_json(reports) if as_json else render_text(reports), nl=False)


def _fail(exc: Exception) -> NoReturn:
    if verbosity():
        traceback.print_exc(file=sys.stderr)
    click.echo(f"error: {exc}", err=True)
    sys.exit(_EXIT_FAILED)
