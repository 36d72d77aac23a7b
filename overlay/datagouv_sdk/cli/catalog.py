"""`dgv datasets`, `dgv organizations`, `dgv resources`: the catalog from the command line (their
`search` subcommands come from `cli/collections.py`, as the other collections' groups do).

Listings and single objects are printed as the server sends them (the SDK's raw mode: no model
parsing), as a table or, with `--json`, as JSON Lines / one JSON object. The SDK is imported inside
the commands so that `dgv --help` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from datagouv_sdk.cli.collections import search_command
from datagouv_sdk.cli.output import (
    Column,
    client_from_ctx,
    handle_errors,
    json_mode,
    limit_option,
    print_item,
    print_items,
    progress_printer,
)

F = TypeVar("F", bound=Callable[..., Any])

DATASET_COLUMNS: list[Column] = [
    ("id", "id"),
    ("title", "title"),
    (
        "organization",
        lambda d: (d.get("organization") or {}).get("name") or (d.get("owner") or {}).get("slug"),
    ),
    (
        "resources",
        lambda d: (
            len(d.get("resources") or [])
            if isinstance(d.get("resources"), list)
            else (d.get("resources") or {}).get("total")
        ),
    ),
    ("last_update", "last_update"),
]
DATASET_FIELDS: list[Column] = [
    ("id", "id"),
    ("slug", "slug"),
    ("title", "title"),
    ("organization", "organization.name"),
    ("owner", "owner.slug"),
    ("license", "license"),
    ("frequency", "frequency"),
    ("created_at", "created_at"),
    ("last_update", "last_update"),
    ("page", "page"),
]
RESOURCE_COLUMNS: list[Column] = [
    ("id", "id"),
    ("title", "title"),
    ("format", "format"),
    ("filesize", "filesize"),
    ("url", "url"),
]
ORGANIZATION_COLUMNS: list[Column] = [("id", "id"), ("name", "name"), ("slug", "slug")]
ORGANIZATION_FIELDS: list[Column] = [
    ("id", "id"),
    ("name", "name"),
    ("slug", "slug"),
    ("acronym", "acronym"),
    ("url", "url"),
    ("created_at", "created_at"),
    ("page", "page"),
]

_LIMIT_HELP = "Print at most N items (0 = all)."


@click.group()
def datasets() -> None:
    """List, show and search datasets."""


@datasets.command("list")
@click.option("--q", "q", help="Full-text query.")
@click.option("--organization", help="Organization id.")
@click.option("--tag", multiple=True, help="Tag (repeatable: all must match).")
@click.option("--sort", help="Sort key, e.g. -created, title, -last_update.")
@limit_option(_LIMIT_HELP)
@click.option("--page-size", type=int, default=None, help="Items per request.")
@handle_errors
def datasets_list(tag: tuple[str, ...], **options: Any) -> None:
    """List datasets."""
    # options: q, organization, sort, limit, page_size (filters and paging of dg.datasets.list)
    with client_from_ctx() as dg:
        print_items(dg.datasets.list(tag=list(tag) or None, raw=True, **options), DATASET_COLUMNS)


@datasets.command("show")
@click.argument("dataset")
@handle_errors
def datasets_show(dataset: str) -> None:
    """Show a dataset (id or slug) and its resources."""
    with client_from_ctx() as dg:
        data = dg.datasets.get(dataset, raw=True)
    print_item(data, DATASET_FIELDS)
    if not json_mode() and data.get("resources"):
        click.echo("")
        print_items(data["resources"], RESOURCE_COLUMNS)


@click.group()
def organizations() -> None:
    """List, show and search organizations."""


@organizations.command("list")
@click.option("--q", "q", help="Full-text query.")
@click.option("--sort", help="Sort key, e.g. name, -created.")
@limit_option(_LIMIT_HELP)
@handle_errors
def organizations_list(q: str | None, sort: str | None, limit: int | None) -> None:
    """List organizations."""
    with client_from_ctx() as dg:
        print_items(dg.organizations.list(q=q, sort=sort, limit=limit, raw=True), ORGANIZATION_COLUMNS)


@organizations.command("show")
@click.argument("organization")
@handle_errors
def organizations_show(organization: str) -> None:
    """Show an organization (id or slug)."""
    with client_from_ctx() as dg:
        print_item(dg.organizations.get(organization, raw=True), ORGANIZATION_FIELDS)


datasets.add_command(search_command("datasets", DATASET_COLUMNS))
organizations.add_command(search_command("organizations", ORGANIZATION_COLUMNS))


@click.group()
def resources() -> None:
    """Upload and replace resource files."""


def _upload_options(command: F) -> F:
    command = click.option("--quiet", is_flag=True, help="No progress or notes on stderr (warnings stay).")(
        command
    )
    command = click.option(
        "--resume",
        is_flag=True,
        help="Continue an interrupted upload of the same file (parts already on the server are not sent "
        "again); starts over, saying why, when the file or the part size changed or the parts expired.",
    )(command)
    command = click.option(
        "--filename", default=None, help="The file's name on the portal (default: FILE's own name)."
    )(command)
    return click.option(
        "--chunk-size",
        type=click.IntRange(min=1),
        default=None,
        help="Send files larger than this many bytes in parts of this size (default 8 MiB).",
    )(command)


def _upload(dataset: str, path: str, resource: str | None, quiet: bool, options: dict[str, Any]) -> None:
    """`options`: the `_upload_options` but --quiet (chunk_size, filename, resume: keywords of
    dg.resources.upload)."""
    progress = None if quiet else progress_printer(f"uploading {click.format_filename(path)}")
    tty = sys.stderr.isatty()

    def note(event: Any) -> None:  # an uploads.UploadEvent: warnings always, the rest unless --quiet
        if event.is_warning or not quiet:
            prefix = "\r\033[K" if tty else ""  # over a progress line being redrawn
            click.echo(f"{prefix}{'warning' if event.is_warning else 'note'}: {event}", err=True)

    with client_from_ctx() as dg:
        result = dg.resources.upload(
            dataset, path, resource=resource, progress=progress, on_event=note, **options
        )
    print_item(result, RESOURCE_COLUMNS)


@resources.command("upload")
@click.argument("dataset")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@_upload_options
@handle_errors
def resources_upload(dataset: str, file: str, quiet: bool, **options: Any) -> None:
    """Upload FILE as a new resource of DATASET (needs an API key). Big files go in parts, each
    re-sent on failure; the result is checked (size, SHA-1) against FILE."""
    _upload(dataset, file, None, quiet, options)


@resources.command("replace")
@click.argument("dataset")
@click.argument("resource")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@_upload_options
@handle_errors
def resources_replace(dataset: str, resource: str, file: str, quiet: bool, **options: Any) -> None:
    """Replace the file of RESOURCE in DATASET with FILE (needs an API key)."""
    _upload(dataset, file, resource, quiet, options)
