"""`dgv reuses|discussions|users|topics|posts` and every `search` subcommand, built from one table.

Each row of `GROUPS` names an SDK collection (`datagouv_sdk.catalog.COLLECTIONS`) and how to print
it; the group gets ``list``, ``show ID`` and, where the v2 API has one, ``search [Q]``, all with:

- ``--filter NAME=VALUE`` (repeatable): any query parameter of the operation, checked and converted
  as the generated client types it (`dgv api --list` and the API's docs name them);
- ``--sort``, ``--limit`` (0 = all), ``--page-size``, ``--fields MASK`` (udata's X-Fields: the items'
  fields, e.g. ``id,title``), and ``--json`` (global) for JSON Lines;
- ``search --facets``: the facet counts of the query instead of its results.

Writes (create, update, delete) go through `dgv api` (e.g. ``dgv api create_reuse -f title=…``). A
search that reaches the 10,000-result window prints its results and a ``warning:`` line saying how
to narrow it. `search_command` also gives `dgv datasets` and `dgv organizations` their search.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import click

from datagouv_sdk.cli.output import (
    Column,
    client_from_ctx,
    handle_errors,
    json_mode,
    limit_option,
    print_item,
    print_items,
)

# name -> (help, list columns, show fields)
GROUPS: dict[str, tuple[str, list[Column], list[Column]]] = {
    "reuses": (
        "List, show and search reuses (applications, visualisations… built on the data).",
        [("id", "id"), ("title", "title"), ("type", "type"), ("organization", "organization.name")],
        [
            ("id", "id"),
            ("slug", "slug"),
            ("title", "title"),
            ("type", "type"),
            ("url", "url"),
            ("page", "page"),
        ],
    ),
    "discussions": (
        "List, show and search discussions on datasets, reuses and dataservices.",
        [("id", "id"), ("title", "title"), ("subject", "subject.class"), ("closed", "closed")],
        [
            ("id", "id"),
            ("title", "title"),
            ("subject", "subject.id"),
            ("created", "created"),
            ("closed", "closed"),
        ],
    ),
    "users": (
        "List (sysadmins) and show users.",
        [("id", "id"), ("slug", "slug"), ("first_name", "first_name"), ("last_name", "last_name")],
        [
            ("id", "id"),
            ("slug", "slug"),
            ("first_name", "first_name"),
            ("last_name", "last_name"),
            ("page", "page"),
        ],
    ),
    "topics": (
        "List, show and search topics (curated sets of datasets, reuses, dataservices).",
        [("id", "id"), ("name", "name"), ("slug", "slug"), ("organization", "organization.name")],
        [("id", "id"), ("slug", "slug"), ("name", "name"), ("created_at", "created_at"), ("page", "page")],
    ),
    "posts": (
        "List, show and search the portal's news posts.",
        [("id", "id"), ("name", "name"), ("published", "published")],
        [
            ("id", "id"),
            ("slug", "slug"),
            ("name", "name"),
            ("headline", "headline"),
            ("published", "published"),
        ],
    ),
}

FACET_COLUMNS: list[Column] = [("facet", "facet"), ("value", "value"), ("count", "count")]


def _filters(op_spec: str, values: Sequence[str], **named: Any) -> dict[str, Any]:
    """--filter NAME=VALUE (and named options) converted as the operation types them."""
    from datagouv_sdk.errors import UsageError
    from datagouv_sdk.operations import find

    grouped: dict[str, list[str]] = {}
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--filter {value!r}: expected name=value")
        grouped.setdefault(name.strip(), []).append(text)
    for name, value in named.items():
        if value is not None:
            grouped[name] = [value]
    api, _, rest = op_spec.rpartition(":")
    operation = find(f"{api or 'main'}:{rest.split('.', 1)[1]}")
    _args, kwargs = operation.arguments(grouped)
    return kwargs


def _spec(name: str, op: str) -> str:
    from datagouv_sdk.catalog import COLLECTIONS

    spec: str | None = getattr(COLLECTIONS[name], op)
    assert spec is not None, (name, op)
    return spec


def _with_window_warning(items: Iterable[Any]) -> Iterator[Any]:
    """The items; a SearchWindowWarning becomes a `warning:` line on stderr."""
    from datagouv_sdk.search import SearchWindowWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SearchWindowWarning)
        yield from items
    for warning in caught:
        if issubclass(warning.category, SearchWindowWarning):
            click.echo(f"warning: {warning.message}", err=True)


def _common(command: Any) -> Any:
    for decorator in reversed(
        [
            click.option(
                "--filter",
                "filters",
                multiple=True,
                metavar="NAME=VALUE",
                help="A query parameter of the operation (repeatable).",
            ),
            click.option("--sort", help="Sort key (see the operation's sort values)."),
            limit_option("Print at most N items (0 = all)."),
            click.option("--page-size", type=click.IntRange(min=1), default=None, help="Items per request."),
            click.option(
                "--fields", help="Only these fields of each item (udata's X-Fields mask: id,title)."
            ),
        ]
    ):
        command = decorator(command)
    return command


def list_command(name: str, columns: list[Column]) -> click.Command:
    @click.command("list")
    @_common
    @handle_errors
    def command(
        filters: tuple[str, ...],
        sort: str | None,
        limit: int | None,
        page_size: int | None,
        fields: str | None,
    ) -> None:
        params = _filters(_spec(name, "list"), filters, sort=sort)
        with client_from_ctx() as dg:
            pager = getattr(dg, name).list(
                limit=limit, page_size=page_size, fields=fields, raw=True, **params
            )
            print_items(pager, columns)

    command.help = f"List {name} (the exact listing of the Main API)."
    return command


def show_command(name: str, fields_shown: list[Column]) -> click.Command:
    singular = name[:-1].upper()

    @click.command("show")
    @click.argument("ident", metavar=singular)
    @click.option("--fields", help="Only these fields (udata's X-Fields mask: id,title,resources{id,url}).")
    @handle_errors
    def command(ident: str, fields: str | None) -> None:
        with client_from_ctx() as dg:
            item = getattr(dg, name).get(ident, fields=fields, raw=True)
        print_item(item, None if fields else fields_shown)

    command.help = f"Show one of the {name} (id or slug)."
    return command


def search_command(name: str, columns: list[Column]) -> click.Command:
    @click.command("search")
    @click.argument("q", required=False)
    @_common
    @click.option("--facets", is_flag=True, help="Print the facet counts of the query, not its results.")
    @handle_errors
    def command(
        q: str | None,
        filters: tuple[str, ...],
        sort: str | None,
        limit: int | None,
        page_size: int | None,
        fields: str | None,
        facets: bool,
    ) -> None:
        params = _filters(_spec(name, "search"), filters, sort=sort)
        with client_from_ctx() as dg:
            pager = getattr(dg, name).search(
                q, limit=limit, page_size=page_size, fields=fields, raw=True, **params
            )
            if facets:
                counts = pager.facets()
                if json_mode():
                    print_item({facet: [vars_of(b) for b in buckets] for facet, buckets in counts.items()})
                else:
                    rows = [
                        {"facet": facet, "value": b.name, "count": b.count}
                        for facet, buckets in counts.items()
                        for b in buckets
                    ]
                    print_items(rows, FACET_COLUMNS)
                return
            print_items(_with_window_warning(pager), columns)

    command.help = (
        f"Search {name} (the v2 search: ranked, stemmed; at most the first 10,000 results; "
        "`list` gives exact, complete listings)."
    )
    return command


def vars_of(bucket: Any) -> dict[str, Any]:
    return {"name": bucket.name, "count": bucket.count}


def _group(name: str) -> click.Group:
    from datagouv_sdk.catalog import COLLECTIONS

    help_text, columns, fields_shown = GROUPS[name]
    group = click.Group(name, help=help_text)
    group.add_command(list_command(name, columns))
    group.add_command(show_command(name, fields_shown))
    if COLLECTIONS[name].search is not None:
        group.add_command(search_command(name, columns))
    return group


reuses = _group("reuses")
discussions = _group("discussions")
users = _group("users")
topics = _group("topics")
posts = _group("posts")
