"""Filters, sort, columns and aggregations for the Metrics and Tabular APIs, validated before sending.

- `Query`, `col`: build a query (`builder`); `operators` documents the API's surprises
  (``greater`` is >=, ``contains`` ignores case, filters AND together).
- `ResourceSchema`, `MetricsSchema`, `AggregationPolicy`: what a resource/model accepts (`schema`),
  read from its profile or per-resource swagger; `validate(query)` raises UsageError before any request.
"""

from datagouv_sdk.query.builder import Aggregate, Col, Filter, Query, Sort, col
from datagouv_sdk.query.schema import (
    AggregationPolicy,
    ColumnInfo,
    MetricsSchema,
    ResourceSchema,
    convert_value,
)

__all__ = [
    "Aggregate",
    "AggregationPolicy",
    "Col",
    "ColumnInfo",
    "Filter",
    "MetricsSchema",
    "Query",
    "ResourceSchema",
    "Sort",
    "col",
    "convert_value",
]
