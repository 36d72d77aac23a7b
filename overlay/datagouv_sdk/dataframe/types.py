"""Arrow types for a Tabular resource, from its csv_detective profile, and the columns a query returns.

- `arrow_type(python_type)`: csv_detective's ``string``, ``int``, ``float``, ``bool``, ``date``,
  ``datetime``, ``datetime_aware``, ``json`` → an Arrow type (JSON travels as its text).
- `result_columns(schema, query)`: the (name, python_type) pairs a query returns, in the API's order:
  the selected columns, or every column of the profile (``__id`` only when selected), or for
  aggregations the grouped columns then ``column__function`` per function, as api_tabular builds
  its ``select=`` (functions in order of first appearance).
- `rows_to_table(rows, columns)`: API rows (JSON bodies) → an Arrow table of those types.

Every function imports pyarrow on call (`_optional.require`).
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from datagouv_sdk.dataframe._optional import require
from datagouv_sdk.errors import ResponseDecodeError
from datagouv_sdk.query.builder import Query
from datagouv_sdk.query.schema import ResourceSchema, convert_value

__all__ = ["arrow_type", "canonical_json", "cell_value", "result_columns", "rows_to_table"]


def arrow_type(python_type: str) -> Any:
    pa = require("pyarrow")
    return {
        "string": pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "date": pa.date32(),
        "datetime": pa.timestamp("us"),
        "datetime_aware": pa.timestamp("us", tz="UTC"),
        "json": pa.string(),
    }.get(python_type, pa.string())


def _aggregate_type(function: str, python_type: str) -> str:
    if function == "count":
        return "int"
    if function == "avg":
        return "float"
    if function == "sum":
        return "int" if python_type == "int" else "float"
    return python_type  # min, max, groupby


def result_columns(schema: ResourceSchema, query: Query) -> list[tuple[str, str]]:
    """The columns `query` returns on `schema`'s resource, with their csv_detective types."""
    types = {name: info.python_type for name, info in schema.columns.items()}
    if query.aggregates:
        functions: dict[str, list[str]] = {}
        for agg in query.aggregates:
            functions.setdefault(agg.function, []).append(agg.column)
        out: list[tuple[str, str]] = []
        for function, columns in functions.items():
            for column in columns:
                if function == "groupby":
                    out.append((column, types.get(column, "string")))
                else:
                    out.append(
                        (f"{column}__{function}", _aggregate_type(function, types.get(column, "string")))
                    )
        return out
    if query.selected:
        return [(name, types.get(name, "string")) for name in query.selected]
    return [(name, python_type) for name, python_type in types.items() if name != "__id"]


def canonical_json(value: Any) -> str | None:
    """JSON cells as one text form whatever the source: PostgreSQL's stored text (Parquet, CSV) and
    the API's parsed objects give the same string."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value  # not JSON after all: kept as written
        return json.dumps(parsed, ensure_ascii=False, sort_keys=True)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def cell_value(python_type: str, value: Any, column: str) -> Any:
    """One API value (JSON, or CSV text) as the Python value of its csv_detective type."""
    if python_type == "json":
        return canonical_json(value)
    if python_type == "float" and isinstance(value, int | str) and not isinstance(value, bool):
        return float(value)  # avg/sum come back as JSON integers when whole
    if python_type == "datetime_aware" and isinstance(value, str):
        parsed = _dt.datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=_dt.UTC)
    return convert_value(python_type, value, column=column)


def rows_to_table(rows: Iterable[Mapping[str, Any]], columns: Sequence[tuple[str, str]]) -> Any:
    """An Arrow table from row dicts (JSON values or CSV text), typed per `columns`."""
    pa = require("pyarrow")
    values: dict[str, list[Any]] = {name: [] for name, _ in columns}
    for row in rows:
        for name, python_type in columns:
            values[name].append(cell_value(python_type, row.get(name), name))
    arrays = []
    for name, python_type in columns:
        try:
            arrays.append(pa.array(values[name], type=arrow_type(python_type)))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
            raise ResponseDecodeError(f"column {name!r}: values do not fit {python_type}: {exc}") from exc
    return pa.Table.from_arrays(arrays, names=[name for name, _ in columns])
