"""The query language of the Metrics and Tabular APIs (api_tabular): operators, what each column
type accepts, and how a Python value becomes a filter value that reaches PostgreSQL unchanged.

A filter is ``{column}__{operator}=value`` in the query string; api_tabular translates it into a
PostgREST filter. Where the API surprises:

- ``less`` / ``greater`` are inclusive (<=, >=); ``strictly_less`` / ``strictly_greater`` are < and >.
- ``contains`` / ``notcontains`` are case-insensitive (SQL ILIKE ``%value%``).
- ``differs`` is ``IS DISTINCT FROM``: rows where the column is NULL match it too.
- Filters combine with AND; there is no OR.
- Sorting descending puts NULLs first (PostgreSQL's default); without a sort, rows come in ``__id`` order.
- ``isnull`` / ``isnotnull`` and the aggregations are bare keys (no ``=value``).

What api_tabular 0.3.1 offers per csv_detective type (its ``TYPE_POSSIBILITIES``) is mirrored in
`TABULAR_OPERATORS`, with one correction found against the real stack: ``contains`` on ``date`` and
``datetime`` columns is advertised by the per-resource swagger but PostgreSQL refuses it (``operator
does not exist: date ~~* unknown``), so it is not offered here.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
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
    "encode_contains",
    "encode_list",
    "encode_scalar",
    "encode_sort",
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

# Characters api_tabular cannot carry inside a value: it decodes the query string, then splits it on
# "&" and "=" itself, and re-sends the value unencoded to PostgREST, where "+" reads as a space, "#"
# starts a fragment and "%XX" is decoded a second time.
_UNSENDABLE = re.compile(r"[&=+#]|%[0-9A-Fa-f]{2}")


def encode_scalar(value: object, *, what: str) -> str:
    """One filter value as the server expects it: booleans ``true``/``false``, ISO dates and
    datetimes, numbers as written. Raises UsageError for what cannot be sent."""
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
    bad = _UNSENDABLE.search(text)
    if bad is not None:
        raise UsageError(
            f"{what}: the value {text!r} contains {bad.group(0)!r}, which api_tabular cannot pass through "
            "(it splits the query on '&' and '=', and re-sends values unencoded: '+' becomes a space, "
            "'#' cuts the URL, '%XX' is decoded twice); filter on a shorter value (contains) instead"
        )
    return text


def encode_contains(value: object, *, what: str) -> str:
    """A ``contains`` value: LIKE's ``%``, ``_`` and ``\\`` escaped so they match literally.
    ``*`` stays a wildcard (PostgREST turns it into ``%``; it cannot be escaped)."""
    text = encode_scalar(value, what=what)
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def encode_list(values: Iterable[object], *, what: str) -> str:
    """An ``in`` / ``notin`` list: each item double-quoted (PostgREST's syntax), so commas,
    parentheses and quotes inside an item are data, not separators."""
    if isinstance(values, str | bytes):
        raise UsageError(f"{what}: expected a list of values, got a single string {values!r}")
    items = [encode_scalar(v, what=what) for v in values]
    if not items:
        raise UsageError(f"{what}: an empty list matches nothing; drop the filter or give values")
    return ",".join('"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"' for item in items)


def encode_sort(direction: str, *, what: str) -> str:
    normalized = direction.lower()
    if normalized not in ("asc", "desc"):
        raise UsageError(f"{what}: sort direction must be 'asc' or 'desc', got {direction!r}")
    return normalized
