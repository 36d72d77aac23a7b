"""How a `Query` travels through api_tabular to PostgREST, for every column name and value.

api_tabular does not pass a query string through: it reads it **decoded once** (aiohttp/yarl leave
only ``&``, ``=``, ``+``, ``;`` encoded), splits it with its own small parsers (``&``, ``=``, ``__``;
inside ``or=(…)``: commas and parentheses regardless of quotes, dots, a quote count), rewrites each
part into PostgREST syntax and sends the result to PostgREST **without re-encoding** it. So three
texts exist for every request:

- what PostgREST must read (its grammar: quoted names, backslash escapes, ``in.(…)`` lists);
- what api_tabular must see (`render_pairs`, `Query.pairs`): the PostgREST text, with the characters
  api_tabular would misread *hidden* as ``%XX`` escapes, which its unencoded forwarding hands to
  PostgREST, which decodes them (``#`` in particular: forwarded raw, it starts a URL fragment and
  silently drops the filter and everything after it, paging included);
- what we send (`query_string`): that text percent-encoded once more.

Upstream quirks (api_tabular 0.4.1) and what is done about each; tests/query/test_wire_peer.py pins
every one of them against the real app, so an upstream fix shows:

- a name or value holding ``#``: dropped silently (200, every row) → hidden (``%23``), so it works;
- ``%XX`` in a value is decoded a second time (``%41`` reads ``A``) → ``%`` is always hidden;
- a name ending in ``_`` or holding ``__`` is split wrongly at ``__`` (400; for ``isnull``, its
  ``split("__")[1]`` test misfires) → its underscores are hidden;
- a ``\\`` in a name is read as PostgREST's escape character → doubled;
- ``columns=``: 0.4.1 quotes each name itself, splits on ``,`` and refuses ``"`` → names are sent
  bare with ``,``/``"`` hidden (0.3.1 forwarded the value verbatim → names quoted by us there);
- ``or=(…)``: its splitter ignores quotes, so ``,``, ``(``, ``)`` and ``"`` inside quoted names and
  values are hidden; ``in``/``notin`` with several items inside it become ``in.((a,b))`` and answer
  wrong rows → rewritten as an OR of ``exact`` (``notin``: AND of ``isnotnull`` and ``differs``);
  a quoted name followed by ``__strictly_less``/``__strictly_greater`` is a 400 (its pattern reads
  ``[a-z]+`` operators) → rewritten as ``and(less|greater, differs)``; a quoted ``contains`` value
  keeps its quotes in the LIKE pattern (0 rows) → sent unquoted with ``.``, ``(``, ``"`` hidden, and
  refused (UsageError) when it holds ``,`` or ``)``, which end an unquoted PostgREST value.

Every rewrite is equivalent under SQL's three-valued logic for the monotone trees api_tabular can
express (no NOT): a condition is either TRUE or not, and NULL and FALSE are never told apart.

`parse_logic` reads the API's own ``or=(…)`` text (``dgv … --filter 'or=(…)'``) into `AnyOf`/`AllOf`
trees, with the grammar upstream documents but parsed properly (quotes respected); `format_logic`
writes a tree back in that syntax (readable, unhidden).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import quote

import attrs

from datagouv_sdk.errors import UsageError
from datagouv_sdk.query.operators import FILTER_OPERATORS, NO_VALUE_OPERATORS, like_pattern

if TYPE_CHECKING:
    from datagouv_sdk.query.builder import AllOf, AnyOf, Condition, Filter, Query

__all__ = [
    "LATEST",
    "Dialect",
    "format_logic",
    "name_reaches_index_check",
    "needs_dialect",
    "parse_logic",
    "query_string",
    "render_pairs",
]


@attrs.frozen
class Dialect:
    """What one api_tabular release parses: `nested_filters` (``or=(…)``, 0.3.2+) and
    `quotes_columns` (``columns=`` names quoted by the server, 0.3.2+)."""

    version: tuple[int, ...]
    nested_filters: bool
    quotes_columns: bool

    @classmethod
    def for_version(cls, version: str | None) -> Dialect:
        """The dialect of an api_tabular version string (``/health/``'s ``version``); unknown or
        unreadable versions get the newest."""
        numbers = tuple(int(n) for n in re.findall(r"\d+", version or "")[:3])
        if len(numbers) < 2:
            return LATEST
        modern = numbers >= (0, 3, 2)
        return cls(numbers, nested_filters=modern, quotes_columns=modern)


LATEST = Dialect((0, 4, 1), nested_filters=True, quotes_columns=True)
# what PostgREST reads as a name without quotes (letters, digits, "_", "$", inner spaces)
_PLAIN_NAME = re.compile(r"[\w$]([\w $]*[\w$])?")


def needs_dialect(query: Query) -> bool:
    """Whether `query` is written differently for older api_tabular releases: OR conditions, or
    ``columns=`` names PostgREST would not read unquoted (plain names read alike everywhere)."""
    return query.has_nested_filters or any(not _PLAIN_NAME.fullmatch(n) for n in query.selected)


# Characters hidden everywhere: '%' (api_tabular's forwarding decodes %XX a second time) and '#'
# (forwarded raw, it starts a URL fragment).
_ALWAYS = "%#"
# Inside or=(…): upstream's splitter counts parentheses and splits on commas regardless of quotes,
# and counts double quotes to tell its four forms apart.
_LOGIC_SPECIAL = ',()"'
_NEEDS_QUOTES = re.compile(r'[.,()"\\]|^\s|\s$|^\{|__is(?:not)?null$')


def _hide(text: str, chars: str = "") -> str:
    """`text` with `chars` (and '%', '#') written as %XX escapes, which PostgREST decodes."""
    hidden = _ALWAYS + chars
    return "".join("".join(f"%{b:02X}" for b in ch.encode()) if ch in hidden else ch for ch in text)


def _key_name(name: str) -> str:
    """A column name in a ``name__operator`` key: api_tabular splits keys on every ``__`` and
    quotes the name itself (escaping ``"``); PostgREST reads ``\\`` inside quotes as an escape."""
    text = _hide(name.replace("\\", "\\\\"))
    if "__" in name or name.endswith("_"):
        text = text.replace("_", "%5F")
    return text


def name_reaches_index_check(name: str) -> bool:
    """Whether api_tabular sees this column name unchanged in an aggregation key: it checks aggregated
    columns against a resource's indexes on the name as read (with ``&=+;`` still encoded, ``"``
    escaped, and our hidden characters), so other names never match an index."""
    return _key_name(name) == name and not set(name) & set('&=+;"')


def _column_list(names: tuple[str, ...], dialect: Dialect) -> str:
    if dialect.quotes_columns:
        # 0.3.2+: split on ',', each part wrapped in quotes; a '"' is refused outright.
        escaped = (n.replace("\\", "\\\\").replace('"', '\\"') for n in names)
        return ",".join(_hide(n, ',"') for n in escaped)
    # 0.3.1 and older forward the value as PostgREST's select list: quote it ourselves.
    return ",".join('"' + _hide(n.replace("\\", "\\\\").replace('"', '\\"')) + '"' for n in names)


def _in_list(items: tuple[str, ...]) -> str:
    return ",".join('"' + _hide(i.replace("\\", "\\\\").replace('"', '\\"')) + '"' for i in items)


def _top_value(f: Filter) -> str | None:
    """A top-level filter's value: PostgREST reads it verbatim after the operator."""
    if f.operator in NO_VALUE_OPERATORS:
        return None
    if f.operator in ("in", "notin"):
        return _in_list(f.items)
    assert isinstance(f.value, str)
    if f.operator in ("contains", "notcontains"):
        return _hide(like_pattern(f.value))
    return _hide(f.value)


# ---- or=(…): rewrites, then rendering ------------------------------------------------------------


def _name_needs_quotes(name: str) -> bool:
    return bool(_NEEDS_QUOTES.search(name))


def _rewrite(condition: Condition) -> Condition:
    """The same condition in forms api_tabular's or=(…) parser reads correctly (module docstring)."""
    from datagouv_sdk.query.builder import AllOf, AnyOf, Filter

    if isinstance(condition, AnyOf):
        return AnyOf(_flatten(AnyOf, [_rewrite(c) for c in condition.conditions]))
    if isinstance(condition, AllOf):
        return AllOf(_flatten(AllOf, [_rewrite(c) for c in condition.conditions]))
    f = condition
    if f.operator in ("in", "notin") and len(f.items) > 1:
        if f.operator == "in":
            return AnyOf(tuple(Filter(f.column, "exact", item) for item in f.items))
        parts = [Filter(f.column, "isnotnull", None)]
        return AllOf((*parts, *(Filter(f.column, "differs", item) for item in f.items)))
    if f.operator in ("strictly_less", "strictly_greater") and _name_needs_quotes(f.column):
        inclusive = "less" if f.operator == "strictly_less" else "greater"
        return AllOf((Filter(f.column, inclusive, f.value), Filter(f.column, "differs", f.value)))
    if f.operator in ("contains", "notcontains"):
        assert isinstance(f.value, str)
        bad = sorted(set(f.value) & {",", ")"})
        if bad:
            raise UsageError(
                f"{f.key}: {f.value!r} holds {' and '.join(repr(b) for b in bad)}, which api_tabular "
                "cannot carry in a contains inside or=(…): quoted, the quotes end up in the pattern "
                "(upstream quirk); unquoted, PostgREST ends the value there. Use it outside any_of(), "
                "or an exact/in filter"
            )
    return f


def _flatten(kind: type[AnyOf] | type[AllOf], conditions: list[Condition]) -> tuple[Condition, ...]:
    out: list[Condition] = []
    for c in conditions:
        out += c.conditions if isinstance(c, kind) else [c]
    return tuple(out)


def _logic_name(name: str) -> str:
    text = _hide(name.replace("\\", "\\\\").replace('"', '\\"'), _LOGIC_SPECIAL)
    if "__" in name or name.endswith("_"):
        text = text.replace("_", "%5F")
    # upstream's forms: bare `col__op.val` (no dot in the name) or `"col.umn"__op.val`
    return f'"{text}"' if _name_needs_quotes(name) else text


def _logic_value(value: str) -> str:
    if _NEEDS_QUOTES.search(value):
        return '"' + _hide(value.replace("\\", "\\\\").replace('"', '\\"'), _LOGIC_SPECIAL) + '"'
    return _hide(value)


def _logic_atom(f: Filter) -> str:
    head = f"{_logic_name(f.column)}__{f.operator}"
    if f.operator in NO_VALUE_OPERATORS:
        return head
    if f.operator in ("contains", "notcontains"):
        assert isinstance(f.value, str)
        return f"{head}.{_hide(like_pattern(f.value), '.()' + chr(34))}"
    (value,) = f.items  # in/notin: one item left after _rewrite
    return f"{head}.{_logic_value(value)}"


def _logic(condition: Condition, top: bool) -> str:
    from datagouv_sdk.query.builder import AnyOf, Filter

    if isinstance(condition, Filter):
        return _logic_atom(condition)
    inner = ",".join(_logic(c, False) for c in condition.conditions)
    word = "or" if isinstance(condition, AnyOf) else "and"
    return f"{word}=({inner})" if top else f"{word}({inner})"


def _condition_pairs(condition: Condition, dialect: Dialect) -> list[tuple[str, str | None]]:
    from datagouv_sdk.query.builder import AllOf, AnyOf, Filter

    if isinstance(condition, Filter):
        return [(f"{_key_name(condition.column)}__{condition.operator}", _top_value(condition))]
    if isinstance(condition, AllOf):  # the top level is already an AND
        return [p for c in condition.conditions for p in _condition_pairs(c, dialect)]
    if not dialect.nested_filters:
        raise UsageError(
            "this server's api_tabular ("
            + ".".join(map(str, dialect.version))
            + ") has no OR filters (or=(…) came with 0.3.2); filter with AND only, or query each "
            "alternative separately"
        )
    tree = _rewrite(condition)
    if not isinstance(tree, AnyOf):  # an OR of one condition
        return _condition_pairs(tree, dialect)
    text = _logic(tree, top=True)
    return [("or", text[len("or=") :])]


def render_pairs(query: Query, dialect: Dialect | None = None) -> list[tuple[str, str | None]]:
    """(key, value) pairs as api_tabular must see them once it has decoded the URL (value None for
    bare keys)."""
    dialect = dialect or LATEST
    query.check_shape()
    out: list[tuple[str, str | None]] = []
    for condition in query.filters:
        out += _condition_pairs(condition, dialect)
    if query.sorting is not None:
        out.append((f"{_key_name(query.sorting.column)}__sort", query.sorting.direction))
    if query.selected:
        out.append(("columns", _column_list(query.selected, dialect)))
    out += [(f"{_key_name(a.column)}__{a.function}", None) for a in query.aggregates]
    out += list(query.raw_params)
    return out


# What stays readable in the URL: none of these is special to api_tabular's decoder or PostgREST.
_SAFE = ",()*.:'!$@/"


def query_string(
    query: Query, *, page: int | None = None, page_size: int | None = None, dialect: Dialect | None = None
) -> str:
    """The encoded query string (without "?"): `render_pairs`, percent-encoded once more."""
    pairs = render_pairs(query, dialect)
    if page is not None:
        pairs.append(("page", str(page)))
    if page_size is not None:
        pairs.append(("page_size", str(page_size)))
    return "&".join(
        quote(k, safe=_SAFE) if v is None else f"{quote(k, safe=_SAFE)}={quote(v, safe=_SAFE)}"
        for k, v in pairs
    )


# ---- the API's own text: or=(…) ----------------------------------------------------------------


class _Reader:
    """Reads ``or=(item,…)``: item = ``and(…)`` | ``or(…)`` | name__op[.value]; names and values
    bare or "double-quoted" (backslash escapes ``\\"`` and ``\\\\``); in/notin lists ``(a,"b,c")``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, expected: str) -> UsageError:
        return UsageError(
            f"filter {self.text!r}: expected {expected} at position {self.pos + 1} "
            "(syntax: or=(column__operator.value,and(…),…), names and values with special "
            'characters in "double quotes")'
        )

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def take(self, literal: str) -> None:
        if not self.text.startswith(literal, self.pos):
            raise self.fail(repr(literal))
        self.pos += len(literal)

    def quoted(self) -> str:
        self.take('"')
        out = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
            elif ch == '"':
                self.pos += 1
                return "".join(out)
            else:
                out.append(ch)
                self.pos += 1
        raise self.fail('a closing "')

    def bare(self, stop: str) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in stop:
            self.pos += 1
        return self.text[start : self.pos]

    def items(self) -> list[Condition]:
        out = [self.item()]
        while self.peek() == ",":
            self.pos += 1
            out.append(self.item())
        self.take(")")
        return out

    def item(self) -> Condition:
        from datagouv_sdk.query.builder import AllOf, AnyOf, Filter

        for word, kind in (("and(", AllOf), ("or(", AnyOf)):
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return kind(_flatten(kind, self.items()))
        if self.peek() == '"':
            column = self.quoted()
            self.take("__")
            operator = self.bare(".,)")
        else:
            head = self.bare(".,)")
            column, sep, operator = head.rpartition("__")
            if not sep or not column:
                raise self.fail("column__operator")
        op = operator.lower()
        if op not in FILTER_OPERATORS:
            raise self.fail(f"an operator ({', '.join(FILTER_OPERATORS)}), not {operator!r},")
        if op in NO_VALUE_OPERATORS:
            return Filter.make(column, op)
        self.take(".")
        if op in ("in", "notin"):
            self.take("(")
            values = [self.value()]
            while self.peek() == ",":
                self.pos += 1
                values.append(self.value())
            self.take(")")
            return Filter.make(column, op, values)
        return Filter.make(column, op, self.value())

    def value(self) -> str:
        return self.quoted() if self.peek() == '"' else self.bare(",)")


def parse_logic(text: str) -> AnyOf | AllOf:
    """``or=(…)`` (or ``and=(…)``) as written for the API → an `AnyOf` (`AllOf`) tree."""
    from datagouv_sdk.query.builder import AllOf, AnyOf

    reader = _Reader(text.strip())
    kind: type[AnyOf] | type[AllOf] = AnyOf if reader.text.startswith("or=(") else AllOf
    reader.take("or=(" if kind is AnyOf else "and=(")
    tree = kind(_flatten(kind, reader.items()))
    if reader.pos != len(reader.text):
        raise reader.fail("the end of the filter")
    return tree


def _quote_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _format(condition: Condition) -> str:
    from datagouv_sdk.query.builder import AnyOf, Filter

    if isinstance(condition, Filter):
        name = _quote_text(condition.column) if _name_needs_quotes(condition.column) else condition.column
        head = f"{name}__{condition.operator}"
        if condition.operator in NO_VALUE_OPERATORS:
            return head
        shown = [_quote_text(v) if _NEEDS_QUOTES.search(v) else v for v in condition.items]
        if condition.operator in ("in", "notin"):
            return f"{head}.({','.join(shown)})"
        return f"{head}.{shown[0]}"
    inner = ",".join(_format(c) for c in condition.conditions)
    return f"{'or' if isinstance(condition, AnyOf) else 'and'}({inner})"


def format_logic(condition: Condition) -> str:
    """A condition tree in the API's readable syntax (``or=(a__exact.1,and(…))``), quotes where a name
    or value needs them; `parse_logic` reads it back to the same tree."""
    text = _format(condition)
    return text.replace("(", "=(", 1) if text.startswith(("or(", "and(")) else text
