"""Filters, sort, columns and aggregations for the Metrics and Tabular APIs, validated before sending.

- `Query`, `col`, `any_of`, `all_of`: build a query (`builder`); conditions combine with ``|`` / ``&``
  into a tree of `Filter`, `AnyOf`, `AllOf`; `operators` documents the API's surprises (``greater``
  is >=, ``contains`` ignores case).
- `wire`: how a query survives api_tabular's parsers for any column name and value (`Dialect`, the
  upstream quirks and what is done about each).
- `ResourceSchema`, `MetricsSchema`, `AggregationPolicy`: what a resource/model accepts (`schema`),
  read from its profile or per-resource swagger; `validate(query)` raises UsageError before any request.
"""

from datagouv_sdk.query.builder import (
    Aggregate,
    AllOf,
    AnyOf,
    Col,
    Condition,
    Filter,
    Query,
    Sort,
    all_of,
    any_of,
    col,
)
from datagouv_sdk.query.schema import (
    AggregationPolicy,
    ColumnInfo,
    MetricsSchema,
    ResourceSchema,
    convert_value,
)
from datagouv_sdk.query.wire import LATEST, Dialect, format_logic, parse_logic

__all__ = [
    "LATEST",
    "Aggregate",
    "AggregationPolicy",
    "AllOf",
    "AnyOf",
    "Col",
    "ColumnInfo",
    "Condition",
    "Dialect",
    "Filter",
    "MetricsSchema",
    "Query",
    "ResourceSchema",
    "Sort",
    "all_of",
    "any_of",
    "col",
    "convert_value",
    "format_logic",
    "parse_logic",
]
