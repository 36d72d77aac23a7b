"""`Query`: filters, sort, columns and aggregations for the Metrics and Tabular APIs, as an
immutable value; `wire` renders it as the query string api_tabular parses.

    from datagouv_sdk.query import Query, all_of, any_of, col

    q = Query().filter(price__greater=3, city="Saint-Étienne")          # keyword form
    q = Query().filter(col("price") >= 3, col("city").isin(["Paris", "Lyon, 2e"]))
    q = Query().filter((col("city") == "Paris") | (col("price") < 3))  # OR (api_tabular >= 0.3.2)
    q = Query().filter(any_of(col("a") == 1, all_of(col("b") > 2, col("c").isnull())))
    q = q.sort("-price").columns("city", "price")
    agg = Query().groupby("category").aggregate(col("amount").sum(), col("amount").count())
    q.query_string(page=2, page_size=50)        # "price__greater=3&…&page=2&page_size=50"

Every method returns a new Query. The conditions form a tree anyone can walk: `Query.filters` holds
`Filter` (one ``column__operator[=value]``), `AnyOf` (OR) and `AllOf` (AND) nodes, AND-ed together;
a `Filter`'s value is the text sent (see `operators.encode_scalar`), a tuple of texts for in/notin.
``|`` and ``&`` combine conditions (parenthesise comparisons: ``(col("a") == 1) | (col("b") == 2)``);
Python's ``and``/``or`` cannot be overloaded and raise UsageError. ``raw(key, value)`` adds a parameter
as is (an operator this SDK does not know yet). Column names are validated against a resource's
profile by `schema.ResourceSchema.validate`, not here; any name can be sent (`wire`).

Python operators map to the API's: ``==`` exact, ``!=`` differs, ``<=`` less, ``>=`` greater (both
inclusive), ``<`` strictly_less, ``>`` strictly_greater; ``== None`` / ``!= None`` are isnull / isnotnull.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from datagouv_sdk.errors import UsageError
from datagouv_sdk.query.operators import (
    AGGREGATES,
    FILTER_OPERATORS,
    NO_VALUE_OPERATORS,
    encode_items,
    encode_scalar,
    encode_sort,
)

if TYPE_CHECKING:
    from datagouv_sdk.query.wire import Dialect

__all__ = [
    "Aggregate",
    "AllOf",
    "AnyOf",
    "Col",
    "Condition",
    "Filter",
    "Query",
    "Sort",
    "all_of",
    "any_of",
    "col",
    "parse_filter_expression",
    "parse_filter_key",
]


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name:
        raise UsageError(f"a column name must be a non-empty string, got {name!r}")
    return name


class _Combinable:
    """``|`` / ``&`` on conditions; Python's ``and``/``or``/``not`` would silently test truthiness."""

    __slots__ = ()

    def __or__(self, other: object) -> AnyOf:
        return any_of(self, other)  # type: ignore[arg-type]

    def __and__(self, other: object) -> AllOf:
        return all_of(self, other)  # type: ignore[arg-type]

    def __bool__(self) -> bool:
        raise UsageError(
            "conditions combine with | (or) and & (and), each comparison in parentheses: "
            "(col('a') == 1) | (col('b') == 2); Python's `and`, `or`, `not` cannot build them"
        )


@attrs.frozen
class Filter(_Combinable):
    """One ``column__operator[=value]`` condition. `value`: the text sent (`encode_scalar`), a tuple
    of texts for in/notin, None for isnull/isnotnull."""

    column: str
    operator: str
    value: str | tuple[str, ...] | None

    @classmethod
    def make(cls, column: str, operator: str, value: Any = None) -> Filter:
        _check_name(column)
        op = operator.lower()
        what = f"{column}__{op}"
        if op not in FILTER_OPERATORS:
            raise UsageError(
                f"unknown operator {operator!r} in {what!r}; operators: {', '.join(FILTER_OPERATORS)}"
            )
        if op in NO_VALUE_OPERATORS:
            if value not in (None, True):
                raise UsageError(f"{what} takes no value (got {value!r})")
            return cls(column, op, None)
        if op in ("in", "notin"):
            return cls(column, op, encode_items(value, what=what))
        return cls(column, op, encode_scalar(value, what=what))

    @property
    def key(self) -> str:
        return f"{self.column}__{self.operator}"

    @property
    def items(self) -> tuple[str, ...]:
        """The value as a tuple: the in/notin items, one text, or () for isnull/isnotnull."""
        if self.value is None:
            return ()
        return self.value if isinstance(self.value, tuple) else (self.value,)

    def walk(self) -> Iterator[Filter]:
        yield self


@attrs.frozen
class _Group(_Combinable):
    """Conditions combined (`AnyOf`, `AllOf`)."""

    conditions: tuple[Condition, ...]

    def walk(self) -> Iterator[Filter]:
        """Every `Filter` in the tree, depth first."""
        for condition in self.conditions:
            yield from condition.walk()


@attrs.frozen
class AnyOf(_Group):
    """OR of conditions (api_tabular's ``or=(…)`` / ``or(…)``)."""


@attrs.frozen
class AllOf(_Group):
    """AND of conditions (api_tabular's ``and(…)`` inside an OR; top-level filters are AND-ed)."""


Condition = Filter | AnyOf | AllOf


def _combine(kind: type[AnyOf] | type[AllOf], conditions: Iterable[object]) -> tuple[Condition, ...]:
    flat: list[Condition] = []
    for condition in conditions:
        if isinstance(condition, kind):
            flat += condition.conditions  # (a | b) | c is one OR of three
        elif isinstance(condition, Filter | AnyOf | AllOf):
            flat.append(condition)
        else:
            raise UsageError(
                f"{'any_of' if kind is AnyOf else 'all_of'}() takes conditions like col('x') >= 1, "
                f"got {condition!r}"
            )
    if not flat:
        raise UsageError(f"{'any_of' if kind is AnyOf else 'all_of'}() needs at least one condition")
    return tuple(flat)


def any_of(*conditions: Condition) -> AnyOf:
    """Rows matching at least one condition (OR)."""
    return AnyOf(_combine(AnyOf, conditions))


def all_of(*conditions: Condition) -> AllOf:
    """Rows matching every condition (AND), e.g. inside an `any_of`."""
    return AllOf(_combine(AllOf, conditions))


@attrs.frozen
class Sort:
    column: str
    direction: str = "asc"

    @classmethod
    def parse(cls, spec: str | Sort) -> Sort:
        """``"price"``, ``"-price"`` (descending), ``"price:desc"``, or a Sort."""
        if isinstance(spec, Sort):
            return spec
        if not isinstance(spec, str) or not spec:
            raise UsageError(f"sort expects a column name, '-column' or 'column:asc|desc', got {spec!r}")
        if spec.startswith("-"):
            return cls(_check_name(spec[1:]), "desc")
        name, sep, direction = spec.rpartition(":")
        if sep and direction.lower() in ("asc", "desc"):
            return cls(_check_name(name), direction.lower())
        return cls(_check_name(spec), "asc")


@attrs.frozen
class Aggregate:
    """``column__function`` (a bare key); results come back in a ``column__function`` field."""

    column: str
    function: str

    @classmethod
    def make(cls, column: str, function: str) -> Aggregate:
        fn = function.lower()
        if fn not in AGGREGATES:
            raise UsageError(
                f"unknown aggregation {function!r} on {column!r}; aggregations: {', '.join(AGGREGATES)}"
            )
        return cls(_check_name(column), fn)


class Col:
    """A column in expressions: ``col("price") >= 3``, ``col("name").contains("é")``, ``col("n").desc()``."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = _check_name(name)

    def __repr__(self) -> str:
        return f"col({self.name!r})"

    # comparisons build filters, not booleans
    def __eq__(self, other: object) -> Filter:  # type: ignore[override]
        return self.isnull() if other is None else Filter.make(self.name, "exact", other)

    def __ne__(self, other: object) -> Filter:  # type: ignore[override]
        return self.isnotnull() if other is None else Filter.make(self.name, "differs", other)

    def __le__(self, other: object) -> Filter:
        return Filter.make(self.name, "less", other)

    def __ge__(self, other: object) -> Filter:
        return Filter.make(self.name, "greater", other)

    def __lt__(self, other: object) -> Filter:
        return Filter.make(self.name, "strictly_less", other)

    def __gt__(self, other: object) -> Filter:
        return Filter.make(self.name, "strictly_greater", other)

    __hash__ = None  # type: ignore[assignment]

    def contains(self, text: object) -> Filter:
        """Case-insensitive substring (``%``, ``_`` match literally; ``*`` is a wildcard)."""
        return Filter.make(self.name, "contains", text)

    def notcontains(self, text: object) -> Filter:
        return Filter.make(self.name, "notcontains", text)

    def isin(self, values: Iterable[object]) -> Filter:
        return Filter.make(self.name, "in", values)

    def notin(self, values: Iterable[object]) -> Filter:
        return Filter.make(self.name, "notin", values)

    def isnull(self) -> Filter:
        return Filter.make(self.name, "isnull")

    def isnotnull(self) -> Filter:
        return Filter.make(self.name, "isnotnull")

    def asc(self) -> Sort:
        return Sort(self.name, "asc")

    def desc(self) -> Sort:
        return Sort(self.name, "desc")

    def groupby(self) -> Aggregate:
        return Aggregate.make(self.name, "groupby")

    def count(self) -> Aggregate:
        return Aggregate.make(self.name, "count")

    def sum(self) -> Aggregate:
        return Aggregate.make(self.name, "sum")

    def avg(self) -> Aggregate:
        return Aggregate.make(self.name, "avg")

    def min(self) -> Aggregate:
        return Aggregate.make(self.name, "min")

    def max(self) -> Aggregate:
        return Aggregate.make(self.name, "max")


def col(name: str) -> Col:
    return Col(name)


def parse_filter_key(key: str, value: Any) -> Filter:
    """``"price__greater", 3`` → Filter; a key without a known operator means ``exact``."""
    column, sep, operator = key.rpartition("__")
    if sep and operator.lower() in FILTER_OPERATORS:
        return Filter.make(column, operator, value)
    if sep and operator.lower() in AGGREGATES:
        raise UsageError(f"{key!r} is an aggregation: use .groupby()/.aggregate(), not a filter")
    if sep and operator.lower() == "sort":
        raise UsageError(f"{key!r}: use .sort({column!r}) or .sort('-{column}')")
    return Filter.make(key, "exact", value)


def parse_filter_expression(text: str) -> Condition:
    """A filter written as text, as on the command line: ``price__greater=3``, ``name__isnull``,
    ``city__in=Paris,"Lyon, 2e"`` (CSV quoting for items holding commas), ``name=Alpha`` (exact), or
    the API's own boolean syntax ``or=(a__exact.1,and(b__greater.2,"c.d"__isnull))`` (`wire`)."""
    stripped = text.strip()
    if stripped.startswith(("or=(", "and=(")):
        from datagouv_sdk.query.wire import parse_logic

        return parse_logic(stripped)
    key, sep, value = text.partition("=")
    key = key.strip()
    if not key:
        raise UsageError(f"filter {text!r}: expected column__operator=value")
    column, dunder, operator = key.rpartition("__")
    op = operator.lower() if dunder else ""
    if not sep:
        if op in NO_VALUE_OPERATORS:
            return Filter.make(column, op)
        raise UsageError(
            f"filter {text!r}: expected column__operator=value (only isnull/isnotnull take no value)"
        )
    if op in ("in", "notin"):
        items = next(csv.reader([value], skipinitialspace=True), [])
        return Filter.make(column, op, items)
    return parse_filter_key(key, value)


@attrs.frozen
class Query:
    """Conditions (AND-ed; each a `Filter`, `AnyOf` or `AllOf`), one sort, selected columns,
    aggregations and raw parameters."""

    filters: tuple[Condition, ...] = ()
    sorting: Sort | None = None
    selected: tuple[str, ...] = ()
    aggregates: tuple[Aggregate, ...] = ()
    raw_params: tuple[tuple[str, str | None], ...] = ()

    def filter(self, *conditions: Condition, **keywords: Any) -> Query:
        """Add conditions: ``col("x") >= 1``, ``(col("a") == 1) | (col("b") == 2)``, `any_of`/`all_of`
        trees, and/or ``column__operator=value`` keywords. All of them must hold (AND)."""
        added: list[Condition] = []
        for condition in conditions:
            if not isinstance(condition, Filter | AnyOf | AllOf):
                raise UsageError(
                    f"filter() takes conditions like col('x') >= 1 or x__greater=1, got {condition!r}"
                )
            # a top-level AND is the query's own AND
            added += condition.conditions if isinstance(condition, AllOf) else [condition]
        added += [parse_filter_key(k, v) for k, v in keywords.items()]
        return attrs.evolve(self, filters=self.filters + tuple(added))

    def sort(self, spec: str | Sort) -> Query:
        """Sort on one column: ``"price"``, ``"-price"``, ``"price:desc"``, ``col("price").desc()``.
        api_tabular honours a single sort key; a second call replaces the first."""
        return attrs.evolve(self, sorting=Sort.parse(spec))

    def columns(self, *names: str) -> Query:
        """Return only these columns (``columns=a,b``)."""
        flat = [n for name in names for n in ([name] if isinstance(name, str) else list(name))]
        return attrs.evolve(self, selected=tuple(_check_name(n) for n in flat))

    def groupby(self, *names: str) -> Query:
        return attrs.evolve(
            self, aggregates=self.aggregates + tuple(Aggregate.make(n, "groupby") for n in names)
        )

    def aggregate(self, *aggregates: Aggregate, **functions: str) -> Query:
        """Add aggregations: ``col("amount").sum()``, or ``amount="sum"``."""
        added = list(aggregates) + [Aggregate.make(c, f) for c, f in functions.items()]
        return attrs.evolve(self, aggregates=self.aggregates + tuple(added))

    def raw(self, key: str, value: str | None = None) -> Query:
        """Send ``key=value`` (or a bare ``key``) verbatim, unvalidated: the escape hatch."""
        return attrs.evolve(self, raw_params=(*self.raw_params, (key, value)))

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Query:
        """A Query from ``{"price__greater": 3, "price__sort": "desc", "columns": "a,b"}``."""
        q = cls()
        for key, value in params.items():
            column, _, operator = key.rpartition("__")
            if key == "columns":
                q = q.columns(*(value.split(",") if isinstance(value, str) else value))
            elif operator == "sort":
                q = q.sort(Sort(_check_name(column), encode_sort(str(value), what=key)))
            elif operator in AGGREGATES:
                q = q.aggregate(Aggregate.make(column, operator))
            else:
                q = q.filter(parse_filter_key(key, value))
        return q

    @property
    def has_nested_filters(self) -> bool:
        """True when an OR (or an AND inside one) is among the conditions: api_tabular >= 0.3.2."""
        return any(not isinstance(f, Filter) for f in self.filters)

    def walk_filters(self) -> Iterator[Filter]:
        """Every `Filter` of the condition tree."""
        for condition in self.filters:
            yield from condition.walk()

    def check_shape(self) -> None:
        """What the server refuses whatever the resource: columns with aggregations."""
        if self.selected and self.aggregates:
            raise UsageError(
                "columns() cannot be combined with aggregations: the grouped and aggregated columns "
                "are the ones returned"
            )

    def pairs(self, dialect: Dialect | None = None) -> list[tuple[str, str | None]]:
        """(key, value) pairs as api_tabular reads them once it has decoded the URL (value None for
        bare keys); `dialect`: the server's (default: the newest api_tabular)."""
        from datagouv_sdk.query.wire import render_pairs

        return render_pairs(self, dialect)

    def query_string(
        self, *, page: int | None = None, page_size: int | None = None, dialect: Dialect | None = None
    ) -> str:
        """The encoded query string (without "?"). Bare keys have no "=" (api_tabular reads
        ``col__groupby=`` as a malformed filter)."""
        from datagouv_sdk.query.wire import query_string

        return query_string(self, page=page, page_size=page_size, dialect=dialect)
