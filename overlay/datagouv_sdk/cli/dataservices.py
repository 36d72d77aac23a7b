"""`dgv dataservices`: find third-party APIs in the catalog, read their OpenAPI document, call them,
generate a typed client. A thin layer over `datagouv_sdk.discovery.Discovery` (imported inside the
commands so that `dgv --help` stays fast).

Third-party credentials are the user's own (`--header`); the data.gouv.fr API key given to `dgv`
is used for the catalog only and never sent to a dataservice's host.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from datagouv_sdk.cli.output import (
    Column,
    client_from_ctx,
    handle_errors,
    json_mode,
    limit_option,
    output_option,
    print_item,
    print_items,
)

if TYPE_CHECKING:
    from datagouv_sdk.discovery import Discovery, Operation

LIST_COLUMNS: list[Column] = [
    ("id", "id"),
    ("title", "title"),
    ("access", "access_type"),
    ("organization", "organization"),
    ("base_api_url", "base_api_url"),
]
SHOW_FIELDS: list[Column] = [
    ("id", "id"),
    ("slug", "slug"),
    ("title", "title"),
    ("organization", "organization"),
    ("owner", "owner"),
    ("base_api_url", "base_api_url"),
    ("machine_documentation_url", "machine_documentation_url"),
    ("technical_documentation_url", "technical_documentation_url"),
    ("format", "format"),
    ("access_type", "access_type"),
    ("access_type_reason", "access_type_reason"),
    ("authorization_request_url", "authorization_request_url"),
    ("rate_limiting", "rate_limiting"),
    ("availability", "availability"),
    ("license", "license"),
    ("tags", lambda d: ", ".join(d.get("tags") or [])),
    ("datasets", "datasets_total"),
    ("page", "self_web_url"),
]
OPERATION_COLUMNS: list[Column] = [
    ("method", "method"),
    ("path", "path"),
    ("operation_id", "operation_id"),
    ("parameters", lambda o: ", ".join(_param_label(p) for p in o["parameters"])),
    (
        "body",
        lambda o: (
            "required"
            if (o.get("request_body") or {}).get("required")
            else "optional"
            if o.get("request_body")
            else ""
        ),
    ),
    ("summary", "summary"),
]


@contextmanager
def _discovery(*, allow_http: bool = False, allow_private: bool = False) -> Iterator[Discovery]:
    from datagouv_sdk.discovery import CallLimits, Discovery, FetchLimits

    with (
        client_from_ctx() as dg,
        Discovery(
            dg,
            fetch_limits=FetchLimits(allow_insecure_http=allow_http),
            call_limits=CallLimits(allow_insecure_http=allow_http),
            allow_private_hosts=True
            if allow_private
            else None,  # else DATAGOUV_DISCOVERY_ALLOW_PRIVATE_HOSTS
        ) as disco,
    ):
        yield disco


_ALLOW_HTTP = click.option(
    "--allow-http", is_flag=True, help="Accept plain http to non-loopback hosts (documents and calls)."
)
_ALLOW_PRIVATE = click.option(
    "--allow-private-hosts",
    "allow_private",
    is_flag=True,
    help="Reach documents and APIs on loopback, private or placeholder hosts (refused by default: "
    "a third party's document must not point your calls at your own machine or network).",
)


@click.group()
def dataservices() -> None:
    """Find third-party APIs in the catalog, read their OpenAPI document, call them."""


@dataservices.command("list")
@click.option("--q", "q", help="Text query.")
@click.option("--organization", help="Organization id.")
@click.option("--tag", help="Tag.")
@limit_option("Print at most N (0 = all).")
@handle_errors
def list_command(q: str | None, organization: str | None, tag: str | None, limit: int | None) -> None:
    """List dataservices, optionally filtered."""
    with _discovery() as disco:
        found = disco.search(q, organization=organization, tag=tag, limit=limit)
        print_items((s.summary() for s in found), LIST_COLUMNS)


@dataservices.command("search")
@click.argument("query")
@limit_option("Print at most N (0 = all).")
@handle_errors
def search_command(query: str, limit: int | None) -> None:
    """Dataservices matching QUERY."""
    with _discovery() as disco:
        print_items((s.summary() for s in disco.search(query, limit=limit)), LIST_COLUMNS)


@dataservices.command("show")
@click.argument("ident", metavar="ID")
@handle_errors
def show_command(ident: str) -> None:
    """What matters to call one dataservice: URLs, access, rate limiting, availability, license."""
    with _discovery() as disco:
        print_item(disco.get(ident).summary(), None if json_mode() else SHOW_FIELDS)


@dataservices.command("operations")
@click.argument("ident", metavar="ID")
@click.option("--base-api-url", "api_url", help="Call the API here instead of the document's server.")
@_ALLOW_HTTP
@_ALLOW_PRIVATE
@handle_errors
def operations_command(ident: str, api_url: str | None, allow_http: bool, allow_private: bool) -> None:
    """The operations of a dataservice's OpenAPI document, and the base URL they are called at."""
    with _discovery(allow_http=allow_http, allow_private=allow_private) as disco:
        api = disco.api(ident, base_url=api_url)
        if not json_mode():
            scope = f", operations under {api.scope}" if api.scope else ""
            click.echo(
                f"{api.document.title or ident}: OpenAPI {api.document.version}, "
                f"base URL {api.base_url.url or '(none)'} (from {api.base_url.source}: {api.base_url.reason}){scope}",
                err=True,
            )
        print_items([_operation_json(op) for op in api.operations], OPERATION_COLUMNS)


@dataservices.command("call")
@click.argument("ident", metavar="ID")
@click.argument("operation")
@click.option(
    "--param", "params", multiple=True, metavar="NAME=VALUE", help="A parameter (repeat a name for a list)."
)
@click.option(
    "--header",
    "headers",
    multiple=True,
    metavar="NAME=VALUE",
    help="Your own header for that API (e.g. its key).",
)
@click.option("--body", help="Request body: JSON text, or @file with JSON.")
@click.option("--base-api-url", "api_url", help="Call the API here instead of the document's server.")
@_ALLOW_HTTP
@_ALLOW_PRIVATE
@handle_errors
def call_command(
    ident: str,
    operation: str,
    params: tuple[str, ...],
    headers: tuple[str, ...],
    body: str | None,
    api_url: str | None,
    allow_http: bool,
    allow_private: bool,
) -> None:
    """Call OPERATION (operationId, or "METHOD /path") of a dataservice, arguments checked first."""
    arguments: dict[str, Any] = {}
    for name, value in (_pair(p, "--param") for p in params):
        if name in arguments:
            previous = arguments[name]
            arguments[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            arguments[name] = value
    header_map = dict(_pair(h, "--header") for h in headers)
    with _discovery(allow_http=allow_http, allow_private=allow_private) as disco:
        result = disco.call(
            ident,
            operation,
            arguments,
            body=_body(body),
            headers=header_map,
            base_url=api_url,
            from_strings=True,
        )
    if isinstance(result.data, str):
        click.echo(result.data, nl=not result.data.endswith("\n"))
    else:
        indent = None if json_mode() else 2
        click.echo(json.dumps(result.data, ensure_ascii=False, indent=indent))


@dataservices.command("generate")
@click.argument("ident", metavar="ID")
@output_option("Folder to write the package into.", path=click.Path(file_okay=False, path_type=Path))
@click.option("--package", help="Package name (default: from the dataservice's slug).")
@_ALLOW_HTTP
@_ALLOW_PRIVATE
@handle_errors
def generate_command(
    ident: str, output: Path, package: str | None, allow_http: bool, allow_private: bool
) -> None:
    """Generate a typed client package (openapi-python-client) for a dataservice.

    Third-party documents are repaired first and the operations that still cannot be generated are
    skipped: both are listed, with their reasons."""
    with _discovery(allow_http=allow_http, allow_private=allow_private) as disco:
        generated = disco.generate(ident, output, package=package)
    if json_mode():
        click.echo(
            json.dumps(
                {
                    "package": generated.package,
                    "path": str(generated.path),
                    "operations": generated.operations,
                    "skipped": [{"what": s.what, "reason": s.reason} for s in generated.skipped],
                    "repairs": [
                        {"family": r.family, "where": r.where, "change": r.change} for r in generated.repairs
                    ],
                    "notes": list(generated.notes),
                },
                ensure_ascii=False,
            )
        )
    else:
        click.echo(generated.summary())
        click.echo(f"add {output} to PYTHONPATH, then `import {generated.package}`")


def _pair(text: str, option: str) -> tuple[str, str]:
    for separator in ("=", ":"):
        name, found, value = text.partition(separator)
        if found and name.strip():
            return name.strip(), value.strip() if separator == ":" else value
    raise click.BadParameter(f"expected NAME=VALUE, got {text!r}", param_hint=option)


def _body(text: str | None) -> Any:
    if text is None:
        return None
    source = "--body"
    if text.startswith("@"):
        source = text[1:]
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise click.BadParameter(f"cannot read {source}: {exc.strerror}", param_hint="--body") from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"{source} is not valid JSON: {exc}", param_hint="--body") from exc


def _operation_json(op: Operation) -> dict[str, Any]:
    body = op.request_body
    return {
        "method": op.method,
        "path": op.path,
        "operation_id": op.operation_id,
        "summary": op.summary,
        "parameters": [
            {"name": p.name, "in": p.location, "type": p.type, "required": p.required} for p in op.parameters
        ],
        "request_body": None
        if body is None
        else {"required": body.required, "content_types": list(body.content_types)},
    }


def _param_label(param: dict[str, Any]) -> str:
    mark = "*" if param["required"] else ""
    return f"{param['name']}{mark}:{param['in']}:{param['type'] or 'any'}"
