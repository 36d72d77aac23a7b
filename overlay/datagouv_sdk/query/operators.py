"""The query language of the Metrics and Tabular APIs (api_tabular): operators, what each column
type accepts, and how a Python value becomes a filter value that reaches PostgreSQL unchanged.

A filter is ``{column}__{operator}=value`` in the query string; api_tabular translates it into a
PostgREST filter. Where the API surprises:

- ``less`` / ``greater`` are inclusive (<=, >=); ``strictly_less`` / ``strictly_greater`` are < and >.
- ``contains`` / ``notcontains`` are case-insensitive (SQL ILIKE ``%value%``).
- ``differs`` is ``IS DISTINCT FROM``: rows where the column is NULL match it too.
- Filters combine with AND; since api_tabular 0.3.2, ``or=(…)`` with nested ``and(…)``/``or(…)``
  (`builder.any_of` / `builder.all_of`, ``|`` / ``&``) — `wire` renders them around upstream's parser.
- Sorting descending puts NULLs first (PostgreSQL's default); without a sort, rows come in ``__id`` order.
- ``isnull`` / ``isnotnull`` and the aggregations are bare keys (no ``=value``).

What api_tabular (0.3.1 and 0.4.1 alike) offers per csv_detective type (its ``TYPE_POSSIBILITIES``) is mirrored in
`TABULAR_OPERATORS`, with one correction found against the real stack: ``contains`` on ``date`` and
``datetime`` columns is advertised by the per-resource swagger but PostgreSQL refuses it (``operator
does not exist: date ~~* unknown``), so it is not offered here.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from datagouv_sdk.errors import UsageError

__all__ = [
    "AGGREGATES",
    "COMPARISONS",
    "FILTER_OPERATORS",
    "METRICS_OPERATORS",
    "NO_VALUE_OPERATORS",
    "TABULAR_OPERATORS",
    "encode_items",
    "encode_scalar",
    "encode_sort",
    "like_pattern",
]

COMPARISONS: Final = ("less", "greater", "strictly_less", "strictly_greater")
FILTER_OPERATORS: Final = (
    "exact",
    "differs",
    "isnull",
    "isnotnull",
    "contains",
    "notcontains",
    "in",
    "notin",
    *COMPARISONS,
)
NO_VALUE_OPERATORS: Final = frozenset({"isnull", "isnotnull"})
AGGREGATES: Final = ("groupby", "count", "avg", "min", "max", "sum")

_BASIC: Final = ("isnull", "isnotnull", "exact", "differs")
_TEXT: Final = (*_BASIC, "contains", "notcontains", "in", "notin")
_ORDERED: Final = (*_BASIC, "in", "notin", *COMPARISONS)

# csv_detective python_type -> (filter operators, sortable, aggregations)
TABULAR_OPERATORS: Final[dict[str, tuple[tuple[str, ...], bool, tuple[str, ...]]]] = {
    "string": ((*_TEXT, *COMPARISONS), True, ("groupby", "count")),
    "int": (_ORDERED, True, AGGREGATES),
    "float": (_ORDERED, True, AGGREGATES),
    "bool": (_BASIC, True, ("groupby", "count")),
    "date": (_ORDERED, True, ("groupby", "count")),
    "datetime": (_ORDERED, True, ("groupby", "count")),
    # api_tabular: "JSON needs special treatment for operators to work"
    "json": (("isnull", "isnotnull"), False, ()),
}

# What the Metrics spec documents (the server shares Tabular's parser, but only these are promised).
METRICS_OPERATORS: Final = ("exact", "contains", "less", "greater")


def encode_scalar(value: object, *, what: str) -> str:
    """One filter value as text, as the server expects it: booleans ``true``/``false``, ISO dates and
    datetimes, numbers as written. Any character can be sent (`wire` encodes it for the trip through
    api_tabular); raises UsageError for what is not a value (None, NaN, other types)."""
    if value is None:
        raise UsageError(f"{what}: None is not a value; use isnull/isnotnull (col(...).isnull())")
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float | Decimal):
        if isinstance(value, float) and math.isnan(value):
            raise UsageError(f"{what}: NaN cannot be compared")
        text = str(value)
    elif isinstance(value, _dt.datetime):
        # PostgreSQL reads "2021-06-01T08:30:00" and "2021-06-01 08:30:00" alike.
        text = value.isoformat()
    elif isinstance(value, _dt.date):
        text = value.isoformat()
    elif isinstance(value, str):
        text = value
    else:
        raise UsageError(
            f"{what}: cannot send a {type(value).__name__}; use str, int, float, Decimal, bool, date or datetime"
        )
    return text


def like_pattern(text: str) -> str:
    """A ``contains`` value as the LIKE pattern api_tabular wraps in ``*…*``: ``%``, ``_`` and ``\\``
    escaped so they match literally. ``*`` stays a wildcard (PostgREST turns every ``*`` into ``%``;
    it cannot be escaped)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def encode_items(values: Iterable[object], *, what: str) -> tuple[str, ...]:
    """The items of an ``in`` / ``notin`` list, each as `encode_scalar` text."""
    if isinstance(values, str | bytes):
        raise UsageError(f"{what}: expected a list of values, got a single string {values!r}")
    items = tuple(encode_scalar(v, what=what) for v in values)
    if not items:
        raise UsageError(f"{what}: an empty list matches nothing; drop the filter or give values")
    return items


def encode_sort(direction: str, *, what: str) -> str:
    normalized = direction.lower()
    if normalized not in ("asc", "desc"):
        raise UsageError(f"{what}: sort direction must be 'asc' or 'desc', got {direction!r}")
    return normalized
