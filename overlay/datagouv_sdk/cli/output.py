"""Helpers every `dgv` command module shares: the client from the global options, printing, errors.

Keep this module light (click and the standard library only at import time): `dgv --help` imports it.

- `client_from_ctx(ctx=None) -> DataGouv`: a client built from the global options (`--api-key`,
  `--base-url` (URL or preset), `--metrics-url`, `--tabular-url`, `--timeout`; env vars otherwise).
  Use it as a context manager: ``with client_from_ctx() as dg: ...``.
- `json_mode(ctx=None) -> bool`, `verbosity(ctx=None) -> int`: the `--json` and `-v` global flags.
- `print_items(items, columns)`: a list — JSON Lines with `--json`, else a table. `columns` are
  ``(header, path)`` pairs; a path is dotted (``"organization.name"``) or a callable of the item.
- `print_item(item, fields=None)`: one object — one JSON object with `--json`, else ``key: value`` lines.
- `to_jsonable(value)`: generated models (``to_dict()``), attrs classes, dates → JSON-ready values.
- `@handle_errors`: wrap a command; an SDK error becomes one line on stderr (``error: …``) and an
  exit code — `EXIT_USAGE` (2) for `UsageError`, `EXIT_API` (1) for every other SDK error (HTTP
  status, connection, decoding) — with no traceback unless `-v`.
- `progress_printer(label)`: a ``(done, total)`` callback drawing progress on stderr.
- `limit_option(help)`: ``--limit N`` (default 20, 0 = all); the command receives None for all.
- `output_option(help, path=None, required=True)`: ``-o/--output PATH`` (a file unless `path` says).
"""

from __future__ import annotations

import datetime as _dt
import enum
import functools
import json
import logging
import sys
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click

if TYPE_CHECKING:
    from datagouv_sdk.client import DataGouv

__all__ = [
    "EXIT_API",
    "EXIT_USAGE",
    "Column",
    "client_from_ctx",
    "handle_errors",
    "json_mode",
    "limit_option",
    "output_option",
    "print_item",
    "print_items",
    "progress_printer",
    "to_jsonable",
    "verbosity",
]

EXIT_API = 1
EXIT_USAGE = 2
# Widest a table cell gets before it is cut with "…" (titles can be long).
MAX_CELL = 60

Column = tuple[str, "str | Callable[[Any], Any]"]
P = ParamSpec("P")
R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])


def _root_obj(ctx: click.Context | None) -> dict[str, Any]:
    ctx = ctx or click.get_current_context()
    obj = ctx.find_root().obj
    return obj if isinstance(obj, dict) else {}


def json_mode(ctx: click.Context | None = None) -> bool:
    return bool(_root_obj(ctx).get("as_json"))


def verbosity(ctx: click.Context | None = None) -> int:
    return int(_root_obj(ctx).get("verbose") or 0)


def client_from_ctx(ctx: click.Context | None = None) -> DataGouv:
    """A `DataGouv` configured from the global options (explicit options win over env vars)."""
    from datagouv_sdk.client import DataGouv

    options = _root_obj(ctx)
    given = {
        name: options.get(name)
        for name in ("api_key", "base_url", "metrics_url", "tabular_url", "timeout")
        if options.get(name) is not None
    }
    if verbosity(ctx):
        logging.basicConfig(stream=sys.stderr, format="%(name)s %(levelname)s %(message)s")
        logging.getLogger("datagouv_sdk").setLevel(logging.DEBUG)
    return DataGouv(**given)


def to_jsonable(value: Any) -> Any:
    """A JSON-ready version of an API value: models, mappings, lists, dates, enums."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and not isinstance(value, Mapping):
        return to_jsonable(to_dict())
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _pick(item: Any, path: str | Callable[[Any], Any]) -> Any:
    if callable(path):
        return path(item)
    value: Any = item
    for part in path.split("."):
        if value is None:
            return None
        value = value.get(part) if isinstance(value, Mapping) else getattr(value, part, None)
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping):
        value = value.get("name") or value.get("title") or value.get("id") or ""
    text = " ".join(str(to_jsonable(value)).split())
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def print_items(items: Iterable[Any], columns: Sequence[Column], ctx: click.Context | None = None) -> int:
    """Print a list (JSON Lines or a table) and return how many items were printed."""
    count = 0
    if json_mode(ctx):
        for item in items:
            click.echo(json.dumps(to_jsonable(item), ensure_ascii=False))
            count += 1
        return count
    rows = [[_cell(_pick(item, path)) for _, path in columns] for item in items]
    headers = [header for header, _ in columns]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    click.echo("  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=False)).rstrip())
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip())
    return len(rows)


def print_item(item: Any, fields: Sequence[Column] | None = None, ctx: click.Context | None = None) -> None:
    """Print one object: a JSON object with --json, else aligned ``key: value`` lines."""
    data = to_jsonable(item)
    if json_mode(ctx):
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    if fields is None:
        pairs = (
            [(k, v) for k, v in data.items() if not isinstance(v, dict | list)]
            if isinstance(data, dict)
            else []
        )
    else:
        pairs = [(header, _pick(data, path)) for header, path in fields]
    width = max((len(k) for k, _ in pairs), default=0)
    for key, value in pairs:
        click.echo(f"{key.ljust(width)}  {'' if value is None else to_jsonable(value)}")


def handle_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn SDK errors raised by ``command`` into one stderr line and an exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from datagouv_sdk.errors import DataGouvError, UsageError

        try:
            return command(*args, **kwargs)
        except DataGouvError as exc:
            if verbosity():
                traceback.print_exc(file=sys.stderr)
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_USAGE if isinstance(exc, UsageError) else EXIT_API)

    return wrapper


def progress_printer(label: str, *, stream: Any = None) -> Callable[[int, int], None]:
    """A progress callback: a redrawn line on a terminal, one line per call otherwise."""
    out = stream if stream is not None else sys.stderr
    tty = bool(getattr(out, "isatty", lambda: False)())

    def report(done: int, total: int) -> None:
        percent = 100.0 * done / total if total else 100.0
        line = f"{label}: {done}/{total} bytes ({percent:.0f}%)"
        if tty:
            out.write("\r" + line + ("\n" if done >= total else ""))
        else:
            out.write(line + "\n")
        out.flush()

    return report


def output_option(help: str, *, path: click.Path | None = None, required: bool = True) -> Callable[[F], F]:
    """``-o/--output PATH``: where a command writes (`path`: the click.Path; default a file)."""
    return click.option(
        "-o", "--output", "output", required=required, type=path or click.Path(dir_okay=False), help=help
    )


def limit_option(help: str) -> Callable[[F], F]:
    """``--limit N``: at most N items (default 20); 0 means all, passed to the command as None."""
    return click.option(
        "--limit",
        type=click.IntRange(min=0),
        default=20,
        show_default=True,
        callback=lambda _ctx, _param, value: value or None,
        help=help,
    )
