"""A minimal PostgREST-compatible gateway: the subset api_tabular (0.3.1 and 0.4.1) sends.

PostgREST itself cannot be installed here, so this is the one stand-in piece of the Tabular/Metrics
peer; everything above it (the two api_tabular apps) and below it (PostgreSQL 15) is real.

Supported, with current PostgREST's (v12/v13) observable behaviour:
- `GET`/`HEAD /<table>` in one schema per listening port (`--listen HOST:PORT:SCHEMA`, port 0 = any);
- `select=` with bare or "quoted" names, `alias:col`, `col::type`, and the aggregates
  `col.avg()/.count()/.max()/.min()/.sum()` and `count()` (plain columns then become GROUP BY);
- `order=col.asc|desc[.nullsfirst|.nullslast],…`, `limit`, `offset`;
- filters `col=[not.]op.value` with op in eq neq gt gte lt lte like ilike (`*` = `%`) in.(…) is.(null|
  not_null|true|false|unknown) isdistinct, and boolean trees `or=(…)`, `and=(…)`, `not.or=(…)` with
  nested `and(…)`/`or(…)`/`not.…`, parsed by PostgREST's own grammar (`Grammar`: quoted names and values,
  backslash escapes, and the leniency real PostgREST shows: text after a complete rule is ignored);
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
    "isdistinct": "IS DISTINCT FROM",
}
IS_VALUES = {"null": "NULL", "not_null": "NOT NULL", "true": "TRUE", "false": "FALSE", "unknown": "UNKNOWN"}
ORDER_MODIFIERS = {"asc": "ASC", "desc": "DESC", "nullsfirst": "NULLS FIRST", "nullslast": "NULLS LAST"}
# Keys PostgREST reserves; a key whose last dotted part is one of LOGIC is a boolean tree.
RESERVED = {"select", "columns", "on_conflict", "order", "limit", "offset"}
LOGIC = {"and", "or"}


def ident(*names: str) -> sql.Composable:
    """A quoted identifier for a query run with parameters: psycopg quotes the name but leaves its
    '%' to be read as a placeholder, so they are doubled (every query here is run with a list of
    parameters, possibly empty, so '%%' always reads as '%')."""
    return sql.SQL(sql.Identifier(*names).as_string(None).replace("%", "%%"))


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


class _Fail(Exception):
    """A grammar rule did not match at `pos` (callers backtrack, like Parsec's `try`)."""

    def __init__(self, pos: int, expected: str) -> None:
        super().__init__(expected)
        self.pos = pos
        self.expected = expected


class Grammar:
    """PostgREST's query-parameter grammar (its QueryParams parsers), one rule per method.

    Like PostgREST (Parsec's `parse` without `eof`), a rule that succeeds ignores what follows it:
    ``in.((a,b))`` reads the list ``["(a", "b"]`` and drops the last ``)``, and a logic tree ignores
    text after its closing parenthesis. Names: a "quoted" name (backslash escapes any character) or
    words of letters, digits, ``_``, `` ``, ``$`` joined by ``-``; anything else must be quoted.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    # ---- primitives
    def peek(self, n: int = 1) -> str:
        return self.text[self.pos : self.pos + n]

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def expect(self, literal: str) -> str:
        if not self.text.startswith(literal, self.pos):
            raise _Fail(self.pos, repr(literal))
        self.pos += len(literal)
        return literal

    def spaces(self) -> None:
        while self.peek() in (" ", "\t") and not self.at_end():
            self.pos += 1

    def attempt(self, rule: Any, *args: Any) -> Any:
        """Parsec's `try`: run `rule`, or restore the position and return None."""
        saved = self.pos
        try:
            return rule(*args)
        except _Fail:
            self.pos = saved
            return None

    # ---- names and values
    def quoted(self) -> str:
        self.expect('"')
        out = []
        while not self.at_end():
            ch = self.text[self.pos]
            if ch == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if ch == '"':
                self.pos += 1
                return "".join(out)
            out.append(ch)
            self.pos += 1
        raise _Fail(self.pos, "closing '\"'")

    def identifier(self) -> str:
        start = self.pos
        while not self.at_end() and (self.text[self.pos].isalnum() or self.text[self.pos] in "_ $"):
            self.pos += 1
        if start == self.pos:
            raise _Fail(self.pos, "field name (* or [a..z0..9_$])")
        return self.text[start : self.pos].strip()

    def field_name(self) -> str:
        if self.peek() == '"':
            return self.quoted()
        words = [self.identifier()]
        while self.peek() == "-" and self.peek(2) != "->":
            self.pos += 1
            words.append(self.identifier())
        return "-".join(words)

    def field(self) -> str:
        """A (lexeme) field name; JSON paths (`->`) are not supported by this stand-in."""
        self.spaces()
        name = self.field_name()
        if self.peek(2) == "->":
            raise _Fail(self.pos, "no JSON paths in this stand-in")
        self.spaces()
        return name

    def quoted_value_then(self, enders: str) -> str:
        """A quoted value, only if the next character ends the value (or the text ends)."""
        value = self.quoted()
        if not self.at_end() and self.peek() not in enders:
            raise _Fail(self.pos, "end of quoted value")
        return value

    def run_until(self, enders: str) -> str:
        start = self.pos
        while not self.at_end() and self.text[self.pos] not in enders:
            self.pos += 1
        return self.text[start : self.pos]

    def list_value(self) -> list[str]:
        self.spaces()
        self.expect("(")
        self.spaces()
        items = [self.list_element()]
        while self.peek() == ",":
            self.pos += 1
            items.append(self.list_element())
        self.spaces()
        self.expect(")")
        self.spaces()
        return items

    def list_element(self) -> str:
        value = self.attempt(self.quoted_value_then, ",)")
        return value if value is not None else self.run_until(",)")

    def logic_single_value(self) -> str:
        value = self.attempt(self.quoted_value_then, ",)")
        if value is not None:
            return str(value)
        if self.peek() == "{":
            saved = self.pos
            body = self.run_until("}")
            if self.peek() == "}":
                self.pos += 1
                return body + "}"
            self.pos = saved
        return self.run_until(",)")

    # ---- operator expressions: [not.](in.(…) | is.x | op.value)
    def op_expr(self, column: str, single_value: Any) -> Condition:
        negate = self.attempt(self.expect, "not.") is not None
        if self.attempt(self.expect, "in.") is not None:
            return Condition(column, "in", self.list_value(), negate)
        if self.attempt(self.expect, "is.") is not None:
            rest = self.text[self.pos :].lower()
            for word in sorted(IS_VALUES, key=len, reverse=True):
                if rest.startswith(word):
                    self.pos += len(word)
                    return Condition(column, "is", word, negate)
            raise _Fail(self.pos, "null or trilean value (unknown, true, false)")
        dot = self.text.find(".", self.pos)
        if dot < 0:
            raise _Fail(self.pos, "delimiter (.)")
        operator = self.text[self.pos : dot]
        if operator not in COMPARISONS:
            raise _Fail(self.pos, f"unknown single value operator {operator}")
        self.pos = dot + 1
        return Condition(column, operator, single_value(), negate)

    def logic_tree(self) -> Node:
        saved = self.pos
        try:
            column = self.field()
            self.expect(".")
            return self.op_expr(column, self.logic_single_value)
        except _Fail:
            self.pos = saved
        negate = self.attempt(self.expect, "not.") is not None
        if self.attempt(self.expect, "and") is not None:
            junction = "and"
        else:
            try:
                self.expect("or")
            except _Fail:
                raise _Fail(self.pos, "logic operator (and, or)") from None
            junction = "or"
        self.spaces()
        self.expect("(")
        self.spaces()
        children = [self.logic_tree()]
        while True:
            self.spaces()
            if self.peek() != ",":
                break
            self.pos += 1
            self.spaces()
            children.append(self.logic_tree())
        self.expect(")")
        self.spaces()
        return Junction(junction, children, negate)


@dataclass
class Condition:
    column: str
    operator: str  # a COMPARISONS key, "in" or "is"
    value: Any  # str; list[str] for "in"; an IS_VALUES key for "is"
    negate: bool = False

    def to_sql(self, params: list[Any]) -> sql.Composable:
        column = ident(self.column)
        clause: sql.Composable
        if self.operator == "in":
            params.extend(self.value)
            clause = sql.SQL("{} IN ({})").format(
                column, sql.SQL(", ").join([sql.SQL("%s")] * len(self.value))
            )
        elif self.operator == "is":
            clause = sql.SQL("{} IS {}").format(column, sql.SQL(IS_VALUES[self.value]))
        else:
            value = self.value
            if self.operator in ("like", "ilike"):
                value = value.replace("*", "%")
            params.append(value)
            clause = sql.SQL("{} {} %s").format(column, sql.SQL(COMPARISONS[self.operator]))
        return sql.SQL("NOT ({})").format(clause) if self.negate else clause


@dataclass
class Junction:
    junction: str  # "and" | "or"
    children: list[Node]
    negate: bool = False

    def to_sql(self, params: list[Any]) -> sql.Composable:
        joined = sql.SQL(f" {self.junction.upper()} ").join(child.to_sql(params) for child in self.children)
        return sql.SQL("NOT ({})" if self.negate else "({})").format(joined)


Node = Condition | Junction


def _parse(rule: str, text: str, run: Any) -> Any:
    grammar = Grammar(text)
    try:
        return run(grammar)
    except _Fail as e:
        raise parse_error(
            f'"failed to parse {rule} ({text})" (line 1, column {e.pos + 1})', f"expecting {e.expected}"
        ) from None


@dataclass
class SelectItem:
    column: str | None  # None: `*` or `count()`
    alias: str | None = None
    cast: str | None = None
    aggregate: str | None = None

    def to_sql(self) -> sql.Composable:
        target: sql.Composable = sql.SQL("*") if self.column is None else ident(self.column)
        if self.aggregate:
            target = sql.SQL("{}({})").format(sql.SQL(self.aggregate), target)
        if self.cast:
            target = sql.SQL("CAST({} AS {})").format(target, ident(self.cast))
        name = self.alias or self.aggregate or (self.column if self.cast else None)
        if name:
            target = sql.SQL("{} AS {}").format(target, ident(name))
        return target


def _select_item(g: Grammar) -> SelectItem:
    g.spaces()
    if g.peek() == "*":
        g.pos += 1
        return SelectItem(None)
    first = g.field()
    alias = None
    if g.peek() == ":" and g.peek(2) != "::":
        g.pos += 1
        alias, first = first, g.field()
    item = SelectItem(first, alias)
    if g.peek(2) == "()":  # `count()` with no column
        g.pos += 2
        if first not in AGGREGATES:
            raise _Fail(g.pos, f"an aggregate, not {first!r}")
        item.column, item.aggregate = None, first
    if g.peek(2) == "::":
        g.pos += 2
        item.cast = g.identifier()
    if g.peek() == ".":
        g.pos += 1
        function = g.identifier()
        g.expect("()")
        if function not in AGGREGATES:
            raise _Fail(g.pos, f"one of {sorted(AGGREGATES)}")
        item.aggregate = function
    if g.peek(2) == "::":
        g.pos += 2
        item.cast = g.identifier()
    g.spaces()
    return item


def parse_select(text: str) -> list[SelectItem]:
    def run(g: Grammar) -> list[SelectItem]:
        items = [_select_item(g)]
        while g.peek() == ",":
            g.pos += 1
            items.append(_select_item(g))
        if not g.at_end():
            raise _Fail(g.pos, '",", ")" or end of input')
        return items

    return list(_parse("select parameter", text, run))


def parse_order(text: str) -> list[sql.Composable]:
    def term(g: Grammar) -> sql.Composable:
        parts: list[sql.Composable] = [ident(g.field())]
        for allowed in (("asc", "desc"), ("nullsfirst", "nullslast")):
            for word in allowed:
                if g.attempt(g.expect, f".{word}") is not None:
                    parts.append(sql.SQL(ORDER_MODIFIERS[word]))
                    break
        if not (g.at_end() or g.peek() == ","):
            raise _Fail(g.pos, '"asc", "desc", "nullsfirst", "nullslast", "," or end of input')
        return sql.SQL(" ").join(parts)

    def run(g: Grammar) -> list[sql.Composable]:
        terms = [term(g)]
        while g.peek() == ",":
            g.pos += 1
            terms.append(term(g))
        return terms

    return list(_parse("order", text, run))


def parse_filter(key: str, value: str) -> Condition:
    def path(g: Grammar) -> str:
        names = [g.field_name()]
        while g.peek() == ".":
            g.pos += 1
            names.append(g.field_name())
        if g.peek(2) == "->":
            raise _Fail(g.pos, "no JSON paths in this stand-in")
        if len(names) > 1:
            raise GatewayError(
                400,
                "PGRST108",
                f"'{names[0]}' is not an embedded resource in this request",
                hint=f"Verify that '{names[0]}' is included in the 'select' query parameter.",
            )
        return names[0]

    column = _parse("tree path", key, path)

    def rest(g: Grammar) -> str:  # a top-level value is everything after the operator
        text, g.pos = g.text[g.pos :], len(g.text)
        return text

    condition: Condition = _parse("filter", value, lambda g: g.op_expr(column, lambda: rest(g)))
    return condition


def parse_logic(key: str, value: str) -> Node:
    """`or=(…)`, `and=(…)`, `not.or=(…)`: PostgREST parses key and value as one tree."""
    negate = key.startswith("not.")
    junction = key.removeprefix("not.")
    node: Node = _parse("logic tree", value, lambda g: _logic_root(g, junction, negate))
    return node


def _logic_root(g: Grammar, junction: str, negate: bool) -> Node:
    g.text = junction + g.text
    tree = g.logic_tree()
    if not isinstance(tree, Junction):
        raise _Fail(0, "a logic operator")
    tree.negate = negate
    return tree


def has_operator(value: str) -> bool:
    """PostgREST's test for "this parameter is a filter" (else it is an RPC argument, ignored here)."""
    parts = value.split(".")
    if parts[0] == "not" and len(parts) > 2:
        return True
    return parts[0] in ("is", "in") or parts[0] in COMPARISONS


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
    # PostgREST's parseQueryReplacePlus: '+' is a space, %XX decoded once. keep_blank_values drops
    # the empty pairs api_tabular leaves (`…&limit=1&`) but keeps `col=`.
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
        elif key.removeprefix("not.") in LOGIC:
            read.where.append(parse_logic(key, value).to_sql(read.params))
        elif key in RESERVED or not value:
            continue
        elif "." in key or has_operator(value):
            read.where.append(parse_filter(key, value).to_sql(read.params))
    return read


def build_queries(schema: str, read: ReadRequest) -> tuple[sql.Composable, sql.Composable]:
    """(count of matching rows, page query) — PostgREST counts the filtered table, not the groups."""
    table = ident(schema, read.table)
    where = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(read.where) if read.where else sql.SQL("")
    count = sql.SQL("SELECT count(*) FROM {}{}").format(table, where)
    items = read.select or [SelectItem(None)]
    columns = sql.SQL(", ").join(item.to_sql() for item in items)
    page = sql.SQL("SELECT {} FROM {}{}").format(columns, table, where)
    if any(item.aggregate for item in items):
        grouped = [ident(i.column) for i in items if not i.aggregate and i.column is not None]
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
            # The raw query: aiohttp's `query_string` is already decoded once, PostgREST decodes exactly once.
            read = parse_request(table, request.rel_url.raw_query_string)
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
        sockets = getattr(site._server, "sockets", None)  # an asyncio.Server, typed as AbstractServer
        assert sockets
        bound[schema] = sockets[0].getsockname()[1]
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
