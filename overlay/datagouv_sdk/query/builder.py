"""`Query`: filters, sort, columns and aggregations for the Metrics and Tabular APIs, as an
immutable value that renders the query string api_tabular parses.

    from datagouv_sdk.query import Query, col

    q = Query().filter(price__greater=3, city="Saint-Étienne")          # keyword form
    q = Query().filter(col("price") >= 3, col("city").isin(["Paris", "Lyon, 2e"]))
    q = q.sort("-price").columns("city", "price")
    agg = Query().groupby("category").aggregate(col("amount").sum(), col("amount").count())
    q.query_string(page=2, page_size=50)        # "price__greater=3&…&page=2&page_size=50"

Every method returns a new Query. Values are encoded when the filter is made (see `operators`), so a
value the server cannot receive fails at once with UsageError. ``raw(key, value)`` adds a parameter as
is (an operator this SDK does not know yet). Column names are validated against a resource's profile
by `schema.ResourceSchema.validate`, not here.

Python operators map to the API's: ``==`` exact, ``!=`` differs, ``<=`` less, ``>=`` greater (both
inclusive), ``<`` strictly_less, ``>`` strictly_greater; ``== None`` / ``!= None`` are isnull / isnotnull.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import attrs

from datagouv_sdk.errors import UsageError
from datagouv_sdk.query.operators import (
    AGGREGATES,
    FILTER_OPERATORS,
    NO_VALUE_OPERATORS,
    encode_contains,
    encode_list,
    encode_scalar,
    encode_sort,
)

__all__ = [
    "Aggregate",
    "Col",
    "Filter",
    "Query",
    "Sort",
    "col",
    "parse_filter_expression",
    "parse_filter_key",
]


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name:
        raise UsageError(f"a column name must be a non-empty string, got {name!r}")
    encode_scalar(name, what=f"column name {name!r}")  # same characters cannot travel in a key
    return name


@attrs.frozen
class Filter:
    """One ``column__operator[=value]`` condition; `value` is already encoded (None: a bare key)."""

    column: str
    operator: str
    value: str | None

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
            return cls(column, op, encode_list(value, what=what))
        if op in ("contains", "notcontains"):
            return cls(column, op, encode_contains(value, what=what))
        return cls(column, op, encode_scalar(value, what=what))

    @property
    def key(self) -> str:
        return f"{self.column}__{self.operator}"


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


def parse_filter_expression(text: str) -> Filter:
    """A filter written as text, as on the command line: ``price__greater=3``, ``name__isnull``,
    ``city__in=Paris,"Lyon, 2e"`` (CSV quoting for items holding commas), ``name=Alpha`` (exact)."""
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
    """Filters (AND-ed), one sort, selected columns, aggregations and raw parameters."""

    filters: tuple[Filter, ...] = ()
    sorting: Sort | None = None
    selected: tuple[str, ...] = ()
    aggregates: tuple[Aggregate, ...] = ()
    raw_params: tuple[tuple[str, str | None], ...] = ()

    def filter(self, *conditions: Filter, **keywords: Any) -> Query:
        """Add conditions: `Filter` objects (``col("x") >= 1``) and/or ``column__operator=value``."""
        added = list(conditions)
        for condition in added:
            if not isinstance(condition, Filter):
                raise UsageError(
                    f"filter() takes conditions like col('x') >= 1 or x__greater=1, got {condition!r}"
                )
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

    def check_shape(self) -> None:
        """What the server refuses whatever the resource: columns with aggregations."""
        if self.selected and self.aggregates:
            raise UsageError(
                "columns() cannot be combined with aggregations: the grouped and aggregated columns "
                "are the ones returned"
            )

    def pairs(self) -> list[tuple[str, str | None]]:
        """(key, value) pairs in request order; value None for bare keys."""
        self.check_shape()
        out: list[tuple[str, str | None]] = [(f.key, f.value) for f in self.filters]
        if self.sorting is not None:
            out.append((f"{self.sorting.column}__sort", self.sorting.direction))
        if self.selected:
            # Quoted so names with spaces or commas stay one name (PostgREST's select syntax).
            out.append(("columns", ",".join('"' + n.replace('"', '\\"') + '"' for n in self.selected)))
        out += [(f"{a.column}__{a.function}", None) for a in self.aggregates]
        out += list(self.raw_params)
        return out

    def query_string(self, *, page: int | None = None, page_size: int | None = None) -> str:
        """The encoded query string (without "?"). Bare keys have no "=" (api_tabular reads
        ``col__groupby=`` as a malformed filter)."""
        pairs = self.pairs()
        if page is not None:
            pairs.append(("page", str(page)))
        if page_size is not None:
            pairs.append(("page_size", str(page_size)))
        return "&".join(
            quote(k, safe="") if v is None else f"{quote(k, safe='')}={quote(v, safe=',')}" for k, v in pairs
        )
