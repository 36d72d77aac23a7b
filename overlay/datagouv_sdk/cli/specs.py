"""`dgv specs diff|check|update`: upstream spec drift (logic in datagouv_sdk.drift)."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from datagouv_sdk.cli.output import json_mode, verbosity
from datagouv_sdk.errors import DataGouvError

if TYPE_CHECKING:  # the drift modules are imported by the commands, not when the CLI starts
    from datagouv_sdk.codegen.layout import RepoLayout
    from datagouv_sdk.drift.report import ApiReport

# Exit codes of `check` (documented in the Makefile's check-specs target): 1 means "upstream changed",
# so every failure of these commands exits 2 (cli.output.handle_errors would give 1 to fetch errors).
_EXIT_FAILED = 2


@click.group()
def specs() -> None:
    """Upstream spec drift: semantic diff, check against specs/lock.json, accept an update."""


_json_option = click.option(
    "--json", "as_json", is_flag=True, help="Machine-readable report (see drift.report)."
)
_root_option = click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Repository root holding specs/ (default: this checkout, or DATAGOUV_SDK_ROOT).",
)
_mirror_option = click.option(
    "--mirror",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Offline folder of spec files (default: DATAGOUV_SPECS_MIRROR, else the live URLs).",
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


@specs.command()
@_mirror_option
@_root_option
@_json_option
@click.pass_context
def check(ctx: click.Context, mirror: Path | None, root: Path | None, as_json: bool) -> None:
    """Fetch every spec and compare with specs/lock.json; writes nothing.

    Exit 0: unchanged. 1: upstream changed (the semantic diff is printed). 2: a fetch failed or a
    document is invalid.
    """
    from datagouv_sdk.drift.check import check_specs, exit_code

    try:
        reports = check_specs(_layout(root), mirror)
    except DataGouvError as exc:
        _fail(exc)
    _print(reports, as_json or json_mode(ctx))
    ctx.exit(exit_code(reports))


@specs.command()
@_mirror_option
@_root_option
@_json_option
@click.pass_context
def update(ctx: click.Context, mirror: Path | None, root: Path | None, as_json: bool) -> None:
    """Accept upstream: write specs/upstream/*.json and specs/lock.json, prepend a CHANGELOG.md entry.

    Nothing is written unless every spec was fetched and is valid. `make update-specs` then
    regenerates the clients and runs the tests.
    """
    from datagouv_sdk.drift.update import update_specs

    try:
        result = update_specs(_layout(root), mirror)
    except DataGouvError as exc:
        _fail(exc)
    _print(list(result.reports), as_json or json_mode(ctx))
    if not (as_json or json_mode(ctx)):
        for path in result.written:
            click.echo(f"wrote {path}")
        if not result.written:
            click.echo("nothing to write: specs/ already matches upstream")


def _layout(root: Path | None) -> RepoLayout:
    from datagouv_sdk.codegen.layout import RepoLayout, default_layout

    return RepoLayout(root.resolve()) if root is not None else default_layout()


def _print(reports: list[ApiReport], as_json: bool) -> None:
    from datagouv_sdk.drift.report import render_json, render_text

    click.echo(render_json(reports) if as_json else render_text(reports), nl=False)


def _fail(exc: Exception) -> NoReturn:
    if verbosity():
        traceback.print_exc(file=sys.stderr)
    click.echo(f"error: {exc}", err=True)
    sys.exit(_EXIT_FAILED)
