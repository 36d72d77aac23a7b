"""A minimal PostgREST-compatible gateway: exactly the subset api_tabular 0.3.1 sends.

PostgREST itself cannot be installed here, so this is the one stand-in piece of the Tabular/Metrics
peer; everything above it (the two api_tabular apps) and below it (PostgreSQL 15) is real.

Supported, with current PostgREST's (v12/v13) observable behaviour:
- `GET`/`HEAD /<table>` in one schema per listening port (`--listen HOST:PORT:SCHEMA`, port 0 = any);
- `select=` with bare or "quoted" names, `alias:col`, `col::type`, and the aggregates
  `col.avg()/.count()/.max()/.min()/.sum()` and `count()` (plain columns then become GROUP BY);
- `order=col.asc|desc[.nullsfirst|.nullslast],…`, `limit`, `offset`;
- filters `col=[not.]op.value` with op in eq neq gt gte lt lte like ilike (`*` = `%`) in.(…) is.(null|
  not_null|true|false|unknown) isdistinct;
- `Prefer: count=exact` → `Content-Range: a-b/total`, 206 for a partial range, 416 past the end;
- `Accept: text/csv` → PostgREST's CSV (header line, then each record's text form: booleans `t`/`f`,
  NULL empty, no final newline); anything else JSON (`json_agg`, so dates/JSON are PostgreSQL's);
- errors as `{"code", "details", "hint", "message"}` with PostgREST's SQLSTATE → HTTP mapping.

SQL is composed with psycopg.sql (identifiers quoted) and values are bound parameters sent untyped,
so PostgreSQL casts them to the column type exactly as it does for PostgREST's literals.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import sys
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import psycopg
from aiohttp import web
from psycopg import sql

AGGREGATES = {"avg", "count", "max", "min", "sum"}
COMPARISONS = {
    "eq": "=",
    "neq": "<>",
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
    "like": "LIKE",
    "ilike": "ILIKE",
}
IS_VALUES = {"null": "NULL", "not_null": "NOT NULL", "true": "TRUE", "false": "FALSE", "unknown": "UNKNOWN"}
# Characters that end a bare (unquoted) name in select/order/filter keys.
_NAME_END = set('.,:()"')


class GatewayError(Exception):
    """A PostgREST-shaped error answer."""

    def __init__(
        self, status: int, code: str, message: str, details: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"code": code, "details": details, "hint": hint, "message": message}


def parse_error(message: str, details: str | None = None) -> GatewayError:
    return GatewayError(400, "PGRST100", message, details)


class _Cursor:
    """Reads PostgREST's small grammars (select/order lists, in-lists) one token at a time."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def done(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self, n: int = 1) -> str:
        return self.text[self.pos : self.pos + n]

    def take(self, expected: str) -> None:
        if not self.text.startswith(expected, self.pos):
            raise parse_error(
                f'"failed to parse" at position {self.pos} of {self.text!r}', f"expected {expected!r}"
            )
        self.pos += len(expected)

    def name(self) -> str:
        if self.peek() == '"':
            self.pos += 1
            out = []
            while not self.done():
                ch = self.text[self.pos]
                if ch == "\\" and self.peek(2) in ('\\"', "\\\\"):
                    out.append(self.text[self.pos + 1])
                    self.pos += 2
                    continue
                if ch == '"':
                    self.pos += 1
                    return "".join(out)
                out.append(ch)
                self.pos += 1
            raise parse_error(f"unterminated quoted name in {self.text!r}")
        start = self.pos
        while not self.done() and self.text[self.pos] not in _NAME_END:
            self.pos += 1
        if start == self.pos:
            raise parse_error(f"expected a name at position {start} of {self.text!r}")
        return self.text[start : self.pos].strip()


@dataclass
class SelectItem:
    column: str | None  # None: `*` or `count()`
    alias: str | None = None
    cast: str | None = None
    aggregate: str | None = None

    def to_sql(self) -> sql.Composable:
        target: sql.Composable = sql.SQL("*") if self.column is None else sql.Identifier(self.column)
        if self.aggregate:
            target = sql.SQL("{}({})").format(sql.SQL(self.aggregate), target)
        if self.cast:
            target = sql.SQL("CAST({} AS {})").format(target, sql.Identifier(self.cast))
        name = self.alias or self.aggregate or (self.column if self.cast else None)
        if name:
            target = sql.SQL("{} AS {}").format(target, sql.Identifier(name))
        return target


def parse_select(text: str) -> list[SelectItem]:
    items: list[SelectItem] = []
    cur = _Cursor(text)
    while not cur.done():
        if cur.peek() == "*":
            cur.pos += 1
            items.append(SelectItem(None))
        else:
            first = cur.name()
            alias = None
            if cur.peek() == ":" and cur.peek(2) != "::":
                cur.pos += 1
                alias, first = first, cur.name()
            item = SelectItem(first, alias)
            if cur.peek() == "(":  # `count()` with no column
                cur.take("()")
                if first not in AGGREGATES:
                    raise parse_error(f"unknown function {first!r}")
                item.column, item.aggregate = None, first
            if cur.peek(2) == "::":
                cur.pos += 2
                item.cast = cur.name()
            if cur.peek() == ".":
                cur.pos += 1
                function = cur.name()
                cur.take("()")
                if function not in AGGREGATES:
                    raise parse_error(f"unknown aggregate {function!r}", f"supported: {sorted(AGGREGATES)}")
                item.aggregate = function
            if cur.peek(2) == "::":
                cur.pos += 2
                item.cast = cur.name()
            items.append(item)
        if not cur.done():
            cur.take(",")
    return items


def parse_order(text: str) -> list[sql.Composable]:
    terms: list[sql.Composable] = []
    cur = _Cursor(text)
    while not cur.done():
        column = cur.name()
        modifiers = []
        while cur.peek() == ".":
            cur.pos += 1
            modifiers.append(cur.name())
        parts: list[sql.Composable] = [sql.Identifier(column)]
        for modifier in modifiers:
            keyword = {
                "asc": "ASC",
                "desc": "DESC",
                "nullsfirst": "NULLS FIRST",
                "nullslast": "NULLS LAST",
            }.get(modifier)
            if keyword is None:
                raise parse_error(f"unknown order modifier {modifier!r} in {text!r}")
            parts.append(sql.SQL(keyword))
        terms.append(sql.SQL(" ").join(parts))
        if not cur.done():
            cur.take(",")
    return terms


def parse_in_list(text: str) -> list[str]:
    if not (text.startswith("(") and text.endswith(")")):
        raise parse_error(f"in. expects a parenthesised list, got {text!r}")
    values: list[str] = []
    cur = _Cursor(text[1:-1])
    while not cur.done():
        if cur.peek() == '"':
            values.append(cur.name())
        else:
            start = cur.pos
            while not cur.done() and cur.peek() != ",":
                cur.pos += 1
            values.append(cur.text[start : cur.pos])
        if not cur.done():
            cur.take(",")
    return values


def parse_filter(key: str, value: str, params: list[Any]) -> sql.Composable:
    column = sql.Identifier(_Cursor(key).name())
    negate = value.startswith("not.")
    if negate:
        value = value[4:]
    operator, dot, operand = value.partition(".")
    if not dot:
        raise parse_error(f'"failed to parse filter ({value})"', f"on column {key!r}")
    clause: sql.Composable
    if operator in COMPARISONS:
        if operator in ("like", "ilike"):
            operand = operand.replace("*", "%")
        params.append(operand)
        clause = sql.SQL("{} {} %s").format(column, sql.SQL(COMPARISONS[operator]))
    elif operator == "in":
        items = parse_in_list(operand)
        params.extend(items)
        if items:
            clause = sql.SQL("{} IN ({})").format(column, sql.SQL(", ").join([sql.SQL("%s")] * len(items)))
        else:
            clause = sql.SQL("FALSE")
    elif operator == "is":
        keyword = IS_VALUES.get(operand.lower())
        if keyword is None:
            raise parse_error(f'"failed to parse filter (is.{operand})"')
        clause = sql.SQL("{} IS {}").format(column, sql.SQL(keyword))
    elif operator == "isdistinct":
        params.append(operand)
        clause = sql.SQL("{} IS DISTINCT FROM %s").format(column)
    else:
        raise parse_error(f'"failed to parse filter ({value})"', f"unsupported operator {operator!r}")
    return sql.SQL("NOT ({})").format(clause) if negate else clause


@dataclass
class ReadRequest:
    table: str
    select: list[SelectItem] = field(default_factory=list)
    where: list[sql.Composable] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    order: list[sql.Composable] = field(default_factory=list)
    limit: int | None = None
    offset: int = 0


def parse_request(table: str, query_string: str) -> ReadRequest:
    read = ReadRequest(table)
    # keep_blank_values drops the empty pairs api_tabular leaves (`…&limit=1&`) but keeps `col=`.
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        if key == "select":
            read.select = parse_select(value)
        elif key == "order":
            read.order = parse_order(value)
        elif key in ("limit", "offset"):
            if not re.fullmatch(r"\d+", value):
                raise parse_error(f'"failed to parse {key} ({value})"')
            if key == "limit":
                read.limit = int(value)
            else:
                read.offset = int(value)
        else:
            read.where.append(parse_filter(key, value, read.params))
    return read


def build_queries(schema: str, read: ReadRequest) -> tuple[sql.Composable, sql.Composable]:
    """(count of matching rows, page query) — PostgREST counts the filtered table, not the groups."""
    table = sql.Identifier(schema, read.table)
    where = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(read.where) if read.where else sql.SQL("")
    count = sql.SQL("SELECT count(*) FROM {}{}").format(table, where)
    items = read.select or [SelectItem(None)]
    columns = sql.SQL(", ").join(item.to_sql() for item in items)
    page = sql.SQL("SELECT {} FROM {}{}").format(columns, table, where)
    if any(item.aggregate for item in items):
        grouped = [sql.Identifier(i.column) for i in items if not i.aggregate and i.column is not None]
        if grouped:
            page += sql.SQL(" GROUP BY ") + sql.SQL(", ").join(grouped)
    if read.order:
        page += sql.SQL(" ORDER BY ") + sql.SQL(", ").join(read.order)
    if read.limit is not None:
        page += sql.SQL(" LIMIT {}").format(sql.Literal(read.limit))
    if read.offset:
        page += sql.SQL(" OFFSET {}").format(sql.Literal(read.offset))
    return count, page


# PostgREST's own body expressions, applied to the page (`pgrst_source`).
JSON_BODY = sql.SQL("coalesce(json_agg(_postgrest_t), '[]')::text")
CSV_BODY = sql.SQL(
    "coalesce((SELECT string_agg(a.k, ',') FROM (SELECT json_object_keys(r)::text AS k FROM "
    "(SELECT row_to_json(hh) AS r FROM pgrst_source AS hh LIMIT 1) s) a), '') || chr(10) || "
    "coalesce(string_agg(substring(_postgrest_t::text, 2, length(_postgrest_t::text) - 2), chr(10)), '')"
)


def http_status_for(sqlstate: str) -> int:
    """PostgREST's SQLSTATE → HTTP status table (the rows a read can hit)."""
    exact = {
        "23503": 409,
        "23505": 409,
        "25006": 405,
        "42883": 404,
        "42P01": 404,
        "42501": 403,
        "P0001": 400,
        "42P17": 500,
    }
    if sqlstate in exact:
        return exact[sqlstate]
    by_class = {
        "08": 503,
        "09": 500,
        "0L": 403,
        "0P": 403,
        "25": 500,
        "28": 403,
        "2D": 500,
        "38": 500,
        "39": 500,
        "3B": 500,
        "40": 500,
        "53": 503,
        "54": 500,
        "55": 500,
        "57": 500,
        "58": 500,
        "F0": 500,
        "HV": 500,
        "XX": 500,
    }
    return by_class.get(sqlstate[:2], 400)


class Gateway:
    def __init__(self, dsn: str, schema: str) -> None:
        self.dsn = dsn
        self.schema = schema

    async def handle(self, request: web.Request) -> web.Response:
        table = request.match_info["table"]
        try:
            read = parse_request(table, request.query_string)
            wants_csv = "text/csv" in request.headers.get("Accept", "")
            exact = "count=exact" in request.headers.get("Prefer", "")
            status, headers, body = await self.run(read, wants_csv, exact)
        except GatewayError as e:
            return web.json_response(e.body, status=e.status)
        return web.Response(status=status, headers=headers, body=body)

    async def run(self, read: ReadRequest, wants_csv: bool, exact: bool) -> tuple[int, dict[str, str], bytes]:
        count_query, page_query = build_queries(self.schema, read)
        body_expr = CSV_BODY if wants_csv else JSON_BODY
        query = sql.SQL(
            "WITH pgrst_source AS ({}) SELECT count(_postgrest_t), {} FROM pgrst_source _postgrest_t"
        )
        try:
            async with await psycopg.AsyncConnection.connect(self.dsn, autocommit=True) as conn:
                total: int | None = None
                if exact:
                    row = await (await conn.execute(count_query, read.params)).fetchone()
                    total = int(row[0]) if row else 0
                row = await (await conn.execute(query.format(page_query, body_expr), read.params)).fetchone()
        except psycopg.errors.UndefinedTable:
            raise GatewayError(
                404, "PGRST205", f"Could not find the table '{self.schema}.{read.table}' in the schema cache"
            ) from None
        except psycopg.Error as e:
            diag = e.diag
            raise GatewayError(
                http_status_for(e.sqlstate or "XX000"),
                e.sqlstate or "XX000",
                diag.message_primary or str(e),
                diag.message_detail,
                diag.message_hint,
            ) from None
        assert row is not None
        returned, body = int(row[0]), str(row[1])
        lower, upper = read.offset, read.offset + returned - 1
        status = 200
        if total is not None:
            if lower > total:
                raise GatewayError(
                    416,
                    "PGRST103",
                    "Requested range not satisfiable",
                    f"An offset of {lower} was requested, but there are only {total} rows.",
                )
            if returned < total:
                status = 206
        range_total = "*" if total is None else str(total)
        content_range = f"*/{range_total}" if lower > upper else f"{lower}-{upper}/{range_total}"
        content_type = "text/csv; charset=utf-8" if wants_csv else "application/json; charset=utf-8"
        return status, {"Content-Range": content_range, "Content-Type": content_type}, body.encode()


def build_app(gateway: Gateway) -> web.Application:
    app = web.Application()
    # GET routes also answer HEAD (aiohttp drops the body), which is how api_tabular reads counts.
    app.router.add_get("/{table}", gateway.handle)
    return app


def _write_atomically(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


async def serve(dsn: str, listens: list[tuple[str, int, str]], ready_file: str | None, watch: Watch) -> None:
    runners = []
    bound: dict[str, int] = {}
    for host, port, schema in listens:
        runner = web.AppRunner(build_app(Gateway(dsn, schema)), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        server = site._server
        assert server is not None and getattr(server, "sockets", None)
        bound[schema] = server.sockets[0].getsockname()[1]
        runners.append(runner)
    if ready_file:
        _write_atomically(ready_file, json.dumps(bound))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    watchdog = asyncio.create_task(_watch(stop, watch))
    await stop.wait()
    watchdog.cancel()
    for runner in runners:
        await runner.cleanup()


@dataclass
class Watch:
    """Bounds the test servers' lifetime when their launcher dies without cleaning up (SIGKILL)."""

    parent_pid: int | None = None
    postmaster_pid_file: str | None = None  # the database to stop along with us in that case
    max_seconds: float = 3 * 3600


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _watch(stop: asyncio.Event, watch: Watch) -> None:
    deadline = asyncio.get_running_loop().time() + watch.max_seconds
    while True:
        await asyncio.sleep(1)
        orphaned = watch.parent_pid is not None and not _alive(watch.parent_pid)
        if orphaned or asyncio.get_running_loop().time() > deadline:
            break
    if watch.postmaster_pid_file:
        _stop_postmaster(watch.postmaster_pid_file)
    stop.set()


def _stop_postmaster(pid_file: str) -> None:
    try:
        with open(pid_file) as f:
            os.kill(int(f.readline()), signal.SIGINT)  # "fast" shutdown
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", required=True, help="libpq connection string of the database")
    parser.add_argument(
        "--listen",
        action="append",
        required=True,
        metavar="HOST:PORT:SCHEMA",
        help="serve SCHEMA's tables on HOST:PORT (port 0: any free port); repeatable",
    )
    parser.add_argument("--ready-file", help="written (atomically) with {schema: port} once listening")
    parser.add_argument(
        "--parent-pid", type=int, help="exit (and stop the database) when this process is gone"
    )
    parser.add_argument("--postmaster-pid-file", help="postmaster.pid of the database to stop with us")
    parser.add_argument("--max-seconds", type=float, default=3 * 3600, help="hard lifetime bound")
    args = parser.parse_args(argv)
    listens = []
    for spec in args.listen:
        host, port, schema = spec.rsplit(":", 2)
        if host not in ("127.0.0.1", "localhost", "::1"):
            parser.error(f"--listen {spec}: this test gateway binds loopback addresses only")
        listens.append((host, int(port), schema))
    watch = Watch(args.parent_pid, args.postmaster_pid_file, args.max_seconds)
    asyncio.run(serve(args.dsn, listens, args.ready_file, watch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
