"""What one resource (Tabular) or model (Metrics) accepts, and the check of a `Query` against it.

- `ResourceSchema.from_profile(rid, body, aggregation=...)`: from ``/api/resources/{rid}/profile/``
  (csv_detective's ``columns`` → python types; ``indexes`` restrict aggregations).
- `ResourceSchema.from_swagger(rid, text)`: from ``/api/resources/{rid}/swagger/`` (YAML sent as
  text/plain): the parameter names the server itself advertises (``{column}__{operator}``).
- `AggregationPolicy.from_body(body)`: ``/api/aggregation-exceptions/``, both shapes: a bare array of
  resource ids (0.3.1) and ``{"allowed": …, "exceptions": [...]}`` (0.4.1).
- `MetricsSchema`: the Metrics operators (exact, contains, less, greater, sort), optionally the known
  columns of a model.
- `convert_value(python_type, value)` / `ResourceSchema.convert_row(row)`: typed rows (JSON or CSV text).

`validate(query)` raises UsageError naming what was wrong and listing what is allowed.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import yaml

from datagouv_sdk.errors import ResponseDecodeError, UsageError
from datagouv_sdk.query.builder import Query
from datagouv_sdk.query.operators import METRICS_OPERATORS, TABULAR_OPERATORS
from datagouv_sdk.query.wire import name_reaches_index_check

__all__ = [
    "AggregationPolicy",
    "ColumnInfo",
    "MetricsSchema",
    "ResourceSchema",
    "convert_value",
]

# The per-resource swagger's OpenAPI types, back to csv_detective's (date/datetime/json are "string"
# there: the profile is the finer source).
_OPENAPI_TO_PYTHON = {"integer": "int", "number": "float", "boolean": "bool", "string": "string"}


@attrs.frozen
class AggregationPolicy:
    """Which resources accept aggregations."""

    resource_ids: frozenset[str] = frozenset()
    everywhere: bool = False

    def allows(self, resource_id: str) -> bool:
        return self.everywhere or resource_id in self.resource_ids

    @classmethod
    def from_body(cls, body: Any) -> AggregationPolicy:
        if isinstance(body, list):  # 0.3.1
            return cls(frozenset(str(x) for x in body))
        if isinstance(body, Mapping):  # 0.4.1
            ids = body.get("exceptions") or []
            allowed = body.get("allowed")
            if isinstance(allowed, list):  # tolerate the ids under "allowed"
                ids = [*ids, *allowed]
            if not isinstance(ids, list):
                raise ResponseDecodeError(f"aggregation-exceptions: 'exceptions' is not a list: {ids!r}")
            return cls(frozenset(str(x) for x in ids), everywhere=allowed is True)
        raise ResponseDecodeError(
            f"aggregation-exceptions: expected a list of resource ids or an object, got {type(body).__name__}"
        )


@attrs.frozen
class ColumnInfo:
    name: str
    python_type: str  # csv_detective's: string, int, float, bool, date, datetime, json
    operators: tuple[str, ...]
    sortable: bool
    aggregates: tuple[str, ...]  # empty when the resource does not allow aggregation on it


def _column(name: str, python_type: str, aggregation: bool) -> ColumnInfo:
    ops, sortable, aggs = TABULAR_OPERATORS.get(python_type, TABULAR_OPERATORS["string"])
    return ColumnInfo(name, python_type, ops, sortable, aggs if aggregation else ())


@attrs.frozen
class ResourceSchema:
    resource_id: str
    columns: Mapping[str, ColumnInfo]
    indexes: frozenset[str] | None = None
    aggregation_allowed: bool = False

    @classmethod
    def from_profile(
        cls, resource_id: str, body: Mapping[str, Any], *, aggregation_allowed: bool = False
    ) -> ResourceSchema:
        profile = body.get("profile") if isinstance(body, Mapping) else None
        columns = profile.get("columns") if isinstance(profile, Mapping) else None
        if not isinstance(columns, Mapping):
            raise ResponseDecodeError(f"the profile of resource {resource_id} has no 'columns' mapping")
        header = profile.get("header") if isinstance(profile, Mapping) else None
        order = [h for h in header if h in columns] if isinstance(header, list) else []
        order += [c for c in columns if c not in order]
        raw_indexes = body.get("indexes")
        indexes = frozenset(str(i) for i in raw_indexes) if isinstance(raw_indexes, list) else None
        infos = {
            "__id": _column("__id", "int", aggregation_allowed and (indexes is None or "__id" in indexes))
        }
        for name in order:
            spec = columns[name]
            python_type = str(spec.get("python_type", "string")) if isinstance(spec, Mapping) else "string"
            agg = aggregation_allowed and (indexes is None or name in indexes)
            infos[name] = _column(name, python_type, agg)
        return cls(resource_id, infos, indexes, aggregation_allowed)

    @classmethod
    def from_swagger(cls, resource_id: str, text: str) -> ResourceSchema:
        """From the per-resource OpenAPI document: column types from ``components.schemas.Resource``,
        operators from the advertised parameter names. For indexed resources the server lists only
        the indexed columns."""
        try:
            doc = yaml.safe_load(text)
            props = doc["components"]["schemas"]["Resource"]["properties"]
            paths = doc["paths"]
        except (yaml.YAMLError, KeyError, TypeError) as exc:
            raise ResponseDecodeError(
                f"the swagger of resource {resource_id} is not the expected OpenAPI: {exc!r}"
            ) from exc
        params: list[str] = []
        for item in paths.values():
            params += [
                p["name"] for p in item.get("parameters", []) if isinstance(p, Mapping) and "name" in p
            ]
            break  # every path lists the same parameters
        names = set(params)
        infos: dict[str, ColumnInfo] = {}
        any_aggregate = False
        for name, prop in props.items():
            python_type = _OPENAPI_TO_PYTHON.get(str((prop or {}).get("type")), "string")
            ops = tuple(
                op
                for op in TABULAR_OPERATORS["string"][0] + TABULAR_OPERATORS["int"][0]
                if f"{name}__{op}" in names
            )
            ops = tuple(dict.fromkeys(ops))
            aggs = tuple(
                a for a in ("groupby", "count", "avg", "min", "max", "sum") if f"{name}__{a}" in names
            )
            any_aggregate = any_aggregate or bool(aggs)
            infos[str(name)] = ColumnInfo(str(name), python_type, ops, f"{name}__sort" in names, aggs)
        return cls(resource_id, infos, None, any_aggregate)

    def validate(self, query: Query) -> None:
        """UsageError if the server would refuse or misread `query` on this resource."""
        query.check_shape()
        for f in query.walk_filters():
            info = self._info(f.column, f"filter {f.key!r}")
            if f.operator not in info.operators:
                allowed = ", ".join(info.operators) or "none"
                raise UsageError(
                    f"operator {f.operator!r} is not allowed on column {f.column!r} ({info.python_type}) of "
                    f"resource {self.resource_id}; allowed: {allowed}"
                )
        if query.sorting is not None:
            info = self._info(query.sorting.column, "sort")
            if not info.sortable:
                raise UsageError(f"column {info.name!r} ({info.python_type}) cannot be sorted on")
        for name in query.selected:
            self._info(name, "columns()")
        if query.aggregates and not self.aggregation_allowed:
            raise UsageError(
                f"aggregations are not allowed on resource {self.resource_id}: the server allows them only "
                "for the resources listed by /api/aggregation-exceptions/ (it would answer 403)"
            )
        for agg in query.aggregates:
            info = self._info(agg.column, f"aggregation {agg.column}__{agg.function}")
            if self.indexes is not None and not name_reaches_index_check(agg.column):
                raise UsageError(
                    f"aggregation on {agg.column!r} cannot be expressed on resource {self.resource_id}: "
                    "api_tabular compares aggregated columns with the resource's indexes on the name as it "
                    "reads it from the URL, and this name cannot reach it unchanged (it would answer 403)"
                )
            if agg.function not in info.aggregates:
                if self.indexes is not None and agg.column not in self.indexes:
                    raise UsageError(
                        f"aggregation on {agg.column!r} is not allowed: resource {self.resource_id} aggregates only "
                        f"on its indexed columns: {', '.join(sorted(self.indexes))}"
                    )
                allowed = ", ".join(info.aggregates) or "none"
                raise UsageError(
                    f"aggregation {agg.function!r} is not allowed on column {agg.column!r} ({info.python_type}); "
                    f"allowed: {allowed}"
                )

    def _info(self, name: str, where: str) -> ColumnInfo:
        info = self.columns.get(name)
        if info is None:
            raise UsageError(
                f"{where}: unknown column {name!r} in resource {self.resource_id}; columns: "
                + ", ".join(repr(c) for c in self.columns)
            )
        return info

    def convert_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A row with values typed after the profile (ints, floats, bools, dates, datetimes, JSON);
        aggregated fields (``amount__sum``) and unknown keys are left as they came."""
        out: dict[str, Any] = {}
        for key, value in row.items():
            info = self.columns.get(key)
            out[key] = value if info is None else convert_value(info.python_type, value, column=key)
        return out


def convert_value(python_type: str, value: Any, *, column: str = "?") -> Any:
    """A JSON value or a CSV cell as its Python type. CSV's empty cell is NULL for every type
    (PostgREST writes NULL as nothing)."""
    if value is None:
        return None
    if isinstance(value, str):
        if value == "":
            return None
        try:
            if python_type == "int":
                return int(value)
            if python_type == "float":
                return float(value)
            if python_type == "bool":
                lowered = value.lower()
                if lowered in ("t", "true", "1"):
                    return True
                if lowered in ("f", "false", "0"):
                    return False
                raise ValueError(f"not a boolean: {value!r}")
            if python_type == "date":
                return _dt.date.fromisoformat(value[:10])
            if python_type == "datetime":
                return _dt.datetime.fromisoformat(value)
            if python_type == "json":
                return json.loads(value)
        except ValueError as exc:
            raise ResponseDecodeError(
                f"column {column!r}: cannot read {value!r} as {python_type}: {exc}"
            ) from exc
        return value
    return value


@attrs.frozen
class MetricsSchema:
    """A Metrics model: the documented operators and, when known, its columns."""

    model: str
    columns: Sequence[str] | None = None

    def validate(self, query: Query) -> None:
        query.check_shape()
        for f in query.walk_filters():
            self._check_column(f.column, f"filter {f.key!r}")
            if f.operator not in METRICS_OPERATORS:
                raise UsageError(
                    f"operator {f.operator!r} is not offered by the Metrics API; allowed: "
                    f"{', '.join(METRICS_OPERATORS)} (and sort)"
                )
        if query.sorting is not None:
            self._check_column(query.sorting.column, "sort")
        for name in query.selected:
            self._check_column(name, "columns()")
        if query.aggregates:
            raise UsageError("the Metrics API offers no aggregation; filter and sort only")

    def _check_column(self, name: str, where: str) -> None:
        if self.columns is not None and name not in self.columns:
            raise UsageError(
                f"{where}: unknown column {name!r} in metrics model {self.model!r}; columns: {', '.join(self.columns)}"
            )
