"""`dgv api`: any operation of the four generated clients from the shell, in the spirit of `gh api`.

    dgv api list_datasets -p q=air -p page_size=5            # by operation id (`dgv api --list`)
    dgv api v2:search_datasets -p q=air --paginate --limit 50 # api:id when an id is in several APIs
    dgv api GET /datasets/ -p tag=transport                   # by METHOD PATH (the API from the path)
    dgv api GET /api/2/datasets/search/ -p q=velo
    dgv api --api tabular GET /api/resources/RID/profile/
    dgv api create_dataset -f title="Bike stations" -F private=true
    dgv api update_dataset -p dataset=ID --input patch.json   # JSON body from a file ('-': stdin)

Parameters (`-p name=value`, repeated for lists) are the operation's path, query and header
parameters, checked and converted as the generated function types them (integers, booleans, enums,
dates). Body fields: `-f name=value` (a string), `-F name=value` (parsed as JSON: numbers, true,
null, [..], {..}; `@FILE` reads a file's text), nested with `a.b=` and `a[]=` (append); `--input`
gives the whole body. The answer is printed as JSON (other content types as bytes); `--paginate`
follows the pages and prints their items as JSON Lines (`--limit N`: at most N). `-i` prints the
status line and headers on stderr. Errors and exit codes are those of every dgv command: 1 for an
API error (one line on stderr), 2 for bad usage, caught before anything is sent.

The API key goes only to the portal's own API host, as everywhere in the SDK, and METHOD PATH only
reaches the configured APIs.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from datagouv_sdk.cli.output import client_from_ctx, handle_errors

if TYPE_CHECKING:
    import httpx

    from datagouv_sdk.client import ApiName, DataGouv
    from datagouv_sdk.operations import Operation

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def _pairs(values: Sequence[str], option: str) -> Iterator[tuple[str, str]]:
    from datagouv_sdk.errors import UsageError

    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"{option} {value!r}: expected name=value")
        yield name.strip(), text


def _params(values: Sequence[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, text in _pairs(values, "-p"):
        grouped.setdefault(name, []).append(text)
    return grouped


def _typed(name: str, text: str) -> Any:
    from datagouv_sdk.errors import UsageError

    if text.startswith("@"):
        try:
            return Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"-F {name}={text}: cannot read {text[1:]!r} ({exc.strerror})") from None
    try:
        return json.loads(text)
    except ValueError:
        return text  # like gh: what is not JSON is a string


def _set(body: dict[str, Any], path: str, value: Any) -> None:
    """`a.b.c` (nested objects) and `a[]` (append to a list) in a JSON body."""
    from datagouv_sdk.errors import UsageError

    parts = path.split(".")
    target: Any = body
    for part in parts[:-1]:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            raise UsageError(f"body field {path!r}: {part!r} is not an object")
    last = parts[-1]
    if last.endswith("[]"):
        items = target.setdefault(last[:-2], [])
        if not isinstance(items, list):
            raise UsageError(f"body field {path!r}: {last[:-2]!r} is not a list")
        items.append(value)
    else:
        target[last] = value


def _body(raw_fields: Sequence[str], typed_fields: Sequence[str], source: IO[bytes] | None) -> Any:
    from datagouv_sdk.errors import UsageError

    body: Any = None
    if source is not None:
        try:
            body = json.loads(source.read())
        except ValueError as exc:
            raise UsageError(f"--input is not JSON: {exc}") from None
    if raw_fields or typed_fields:
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise UsageError("-f/-F add fields to a JSON object, but --input holds something else")
        for name, value in _pairs(raw_fields, "-f"):
            _set(body, name, value)
        for name, value in _pairs(typed_fields, "-F"):
            _set(body, name, _typed(name, value))
    return body


def _headers(values: Sequence[str]) -> dict[str, str]:
    from datagouv_sdk.errors import UsageError

    headers: dict[str, str] = {}
    for value in values:
        name, sep, text = value.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"-H {value!r}: expected 'Name: value'")
        headers[name.strip()] = text.strip()
    return headers


def _operation_request(
    dg: DataGouv, op: Operation, params: Mapping[str, list[str]], body: Any, headers: Mapping[str, str]
) -> dict[str, Any]:
    """The request the generated function would send, built as `dg.call` builds it (raw mode: no
    model parsing), with the extra headers."""
    from datagouv_sdk._call import JSONBody
    from datagouv_sdk.errors import UsageError

    args, kwargs = op.arguments(params)
    body_parameter = next((p for p in op.parameters() if p.kind == "body"), None)
    if body is not None:
        if body_parameter is None:
            raise UsageError(f"{op.ref} ({op.method} {op.path}) takes no body")
        if not isinstance(body, dict) and not (
            isinstance(body, list) and all(isinstance(i, dict) for i in body)
        ):
            raise UsageError(f"{op.ref} takes a JSON object (or an array of objects) as its body")
        kwargs["body"] = [JSONBody(item) for item in body] if isinstance(body, list) else JSONBody(body)
    elif body_parameter is not None and body_parameter.required:
        raise UsageError(f"{op.ref} needs a body: -f/-F fields or --input FILE")
    try:
        call = dg._prepare(op.load().sync_detailed, args, kwargs, True, extra_headers=headers)
    except UsageError as exc:
        if "to_multipart" in str(exc):  # a file upload: the builder wants a model with a file
            raise UsageError(
                f"{op.ref} sends a multipart body (a file upload), which dgv api does not build; "
                "use `dgv resources upload`"
            ) from exc
        raise
    assert call.request is not None  # every generated module builds its request
    return call.request


def _resolve_path(dg: DataGouv, api: ApiName | None, path: str) -> tuple[ApiName, str]:
    """(API name, path relative to its base URL) of a METHOD PATH target."""
    import httpx

    from datagouv_sdk.errors import UsageError

    if "://" in path:
        url = httpx.URL(path)
        names: tuple[ApiName, ...] = ("main_v2", "main", "metrics", "tabular")
        for name in names:
            if api is not None and name != api:
                continue
            try:
                base = dg.http(name).base_url
            except UsageError:
                continue  # an API this portal does not have
            prefix = str(base).rstrip("/")
            if str(url).startswith(prefix + "/"):
                return name, str(url)[len(prefix) :]
        raise UsageError(f"{path} is not under a configured API's base URL: dgv api only calls those")
    if not path.startswith("/"):
        path = "/" + path
    if api is None:
        for prefix, name in (("/api/1/", "main"), ("/api/2/", "main_v2")):
            if path.startswith(prefix):
                return name, path[len(prefix) - 1 :]
        return "main", path
    return api, path


def _print_head(response: httpx.Response) -> None:
    click.echo(f"{response.http_version} {response.status_code} {response.reason_phrase}", err=True)
    for name, value in response.headers.multi_items():
        click.echo(f"{name}: {value}", err=True)
    click.echo("", err=True)


def _emit(response: httpx.Response) -> None:
    from datagouv_sdk.errors import decode_json

    if not response.content:
        return
    if "json" in response.headers.get("content-type", ""):
        click.echo(json.dumps(decode_json(response), ensure_ascii=False, indent=2))
    else:
        sys.stdout.buffer.write(response.content)
        sys.stdout.buffer.flush()


def _next_url(body: Mapping[str, Any]) -> str | None:
    link = body.get("next_page")
    if link is None and isinstance(body.get("links"), Mapping):
        link = body["links"].get("next")
    return link if isinstance(link, str) and link else None


def _window_stop(url: httpx.URL, total: Any) -> str | None:
    """Why the next page of a v2 search cannot be fetched (udata refuses it), or None."""
    from datagouv_sdk.search import SEARCH_WINDOW, window_message

    if not url.path.endswith("/search/"):
        return None
    page = int(url.params.get("page", "1") or 1)
    size = int(url.params.get("page_size", "20") or 20)
    if page * size <= SEARCH_WINDOW:
        return None
    return window_message(total if isinstance(total, int) else None) + " (-p filters, -p q=…)"


def _paginate(
    http: httpx.Client, response: httpx.Response, headers: dict[str, str], limit: int | None
) -> None:
    import httpx

    from datagouv_sdk.errors import UsageError, decode_json, raise_for_status

    printed = 0
    seen: set[str] = set()
    while True:
        body = decode_json(response) if response.content else None
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise UsageError(f"--paginate: {response.request.url} answered something that is not a page")
        for item in body["data"]:
            click.echo(json.dumps(item, ensure_ascii=False))
            printed += 1
            if limit is not None and printed >= limit:
                return
        link = _next_url(body)
        if link is None:
            return
        # Keep the path and query only: the next page is asked of the API's own host, whatever the link says.
        target = httpx.URL(link)
        url = response.request.url.copy_with(raw_path=target.raw_path)
        if str(url) in seen:
            raise UsageError(f"--paginate: the server sent page {url} twice; stopping")
        seen.add(str(url))
        stop = _window_stop(url, body.get("total"))
        if stop is not None:
            click.echo(f"warning: {stop}", err=True)
            return
        response = http.get(url, headers=headers)
        raise_for_status(response)


def _list_operations(words: Sequence[str]) -> None:
    from datagouv_sdk.cli.output import print_items
    from datagouv_sdk.operations import catalogue

    wanted = [w.lower() for w in words]
    rows = [
        {"operation": op.ref, "method": op.method, "path": op.path, "tag": op.tag}
        for op in catalogue()
        if all(w in f"{op.ref} {op.method} {op.path} {op.tag}".lower() for w in wanted)
    ]
    print_items(rows, [("operation", "operation"), ("method", "method"), ("path", "path")])


@click.command("api")
@click.argument("target", nargs=-1)
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="A path, query or header parameter; repeat for lists.",
)
@click.option(
    "-f", "--field", "raw_fields", multiple=True, metavar="NAME=VALUE", help="A JSON body field, as a string."
)
@click.option(
    "-F",
    "--typed-field",
    "typed_fields",
    multiple=True,
    metavar="NAME=VALUE",
    help="A JSON body field parsed as JSON (numbers, true, null, [..], {..}); @FILE: a file's text.",
)
@click.option("--input", "input_file", type=click.File("rb"), help="The JSON body, from FILE ('-': stdin).")
@click.option(
    "-H", "--header", "headers", multiple=True, metavar="'NAME: VALUE'", help="An extra request header."
)
@click.option(
    "--api",
    "api_name",
    type=click.Choice(["main", "main_v2", "metrics", "tabular"]),
    help="The API of a METHOD PATH (default: /api/2/… is main_v2, else main).",
)
@click.option("--paginate", is_flag=True, help="Follow the next pages; print the items as JSON Lines.")
@click.option(
    "--limit", type=click.IntRange(min=0), default=0, help="With --paginate: at most N items (0 = all)."
)
@click.option("-i", "--include", is_flag=True, help="Print the status line and response headers on stderr.")
@click.option(
    "--list",
    "list_ops",
    is_flag=True,
    help="List the operations whose id, path or tag has all the given words.",
)
@handle_errors
def api(
    target: tuple[str, ...],
    params: tuple[str, ...],
    raw_fields: tuple[str, ...],
    typed_fields: tuple[str, ...],
    input_file: IO[bytes] | None,
    headers: tuple[str, ...],
    api_name: ApiName | None,
    paginate: bool,
    limit: int,
    include: bool,
    list_ops: bool,
) -> None:
    """Call any operation of the four APIs, by operation id or METHOD PATH (JSON out).

    TARGET is OPERATION (an id; api:id when ambiguous, e.g. v2:list_datasets) or METHOD PATH.
    """
    from datagouv_sdk.errors import UsageError, raise_for_status
    from datagouv_sdk.operations import find

    if list_ops:
        _list_operations(target)
        return
    extra_headers = _headers(headers)
    body = _body(raw_fields, typed_fields, input_file)
    grouped = _params(params)
    with client_from_ctx() as dg:
        if len(target) == 1:
            if api_name is not None:
                raise UsageError("--api goes with METHOD PATH; for an operation, write api:id")
            op = find(target[0])
            request = _operation_request(dg, op, grouped, body, extra_headers)
            http = dg.http(op.api)
        elif len(target) == 2 and target[0].upper() in HTTP_METHODS:
            name, path = _resolve_path(dg, api_name, target[1])
            request = {"method": target[0].upper(), "url": path, "params": grouped, "headers": extra_headers}
            if body is not None:
                request["json"] = body
            http = dg.http(name)
        else:
            raise UsageError("expected OPERATION or METHOD PATH (see `dgv api --help`, `dgv api --list`)")
        response = http.request(**request)
        if include:
            _print_head(response)
        raise_for_status(response)
        if paginate:
            _paginate(http, response, extra_headers, limit or None)
        else:
            _emit(response)
