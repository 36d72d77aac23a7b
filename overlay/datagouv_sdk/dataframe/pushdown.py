"""A `Query` run over a Parquet file with the Tabular API's semantics, reading only what it needs.

The Tabular API runs a query in PostgreSQL (through PostgREST); hydra's Parquet copy holds the same
table. `ParquetQuery` answers the same query from the file so that both give the same rows:

- row groups whose statistics (min/max/null count) cannot match the filters are never read
  (pyarrow's ``split_by_row_group(filter)``), and only the columns the query needs are read;
- filters follow the API's operators (`query.operators`): ``greater``/``less`` inclusive, ``differs``
  is ``IS DISTINCT FROM`` (NULLs match), ``contains`` is ``ILIKE '%v%'`` (``*`` a wildcard, ``%``,
  ``_`` literal), NULLs never match ``notcontains``/``notin``/comparisons;
- without a sort, rows come in file order (hydra writes the table in ``__id`` order); a sort puts
  NULLs last ascending and first descending (PostgreSQL's default), ties in file order;
- aggregations: ``groupby`` columns then ``count`` (non-NULL values), ``sum``, ``avg``, ``min``,
  ``max`` per group; ``groupby`` alone selects those columns without grouping (PostgREST's
  ``select=`` without aggregate function);
- ``__id`` (the API's row number) is not in hydra's files: it is rebuilt from the row's position when
  a query selects, filters or sorts on it.

What hydra's files cannot say (`LossyColumns`): hydra 2.14 writes ``datetime`` columns as Arrow
``date64``, which Parquet stores as a DATE, so the time of day is gone. Such columns are returned as
dates, with a `ParquetPrecisionWarning`; filtering, sorting or aggregating on them is refused
(`source="auto"` then reads the API instead).
"""

from __future__ import annotations

import datetime as _dt
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import attrs

from datagouv_sdk.dataframe._optional import require
from datagouv_sdk.dataframe.types import arrow_type, canonical_json, result_columns
from datagouv_sdk.errors import UsageError
from datagouv_sdk.query.builder import Filter, Query
from datagouv_sdk.query.schema import ResourceSchema

__all__ = ["ParquetPrecisionWarning", "ParquetQuery", "decode_list", "typed_value"]

ROW_ID = "__id"


class ParquetPrecisionWarning(UserWarning):
    """A column of hydra's Parquet holds less than the API (datetime columns stored as dates)."""


def decode_list(encoded: str) -> list[str]:
    """The items of an encoded ``in``/``notin`` value (``"a","b \\"c\\""``, see `operators.encode_list`)."""
    items: list[str] = []
    i, n = 0, len(encoded)
    while i < n:
        if encoded[i] != '"':
            end = encoded.find(",", i)
            end = n if end < 0 else end
            items.append(encoded[i:end])
            i = end + 1
            continue
        i += 1
        chars: list[str] = []
        while i < n and encoded[i] != '"':
            if encoded[i] == "\\" and i + 1 < n:
                i += 1
            chars.append(encoded[i])
            i += 1
        items.append("".join(chars))
        i += 2  # closing quote and comma
    return items


def typed_value(python_type: str, text: str, *, what: str) -> Any:
    """A filter value (as sent to the API) read as the column's type, as PostgreSQL casts it."""
    try:
        if python_type == "int":
            return int(text)
        if python_type == "float":
            return float(text)
        if python_type == "bool":
            lowered = text.strip().lower()
            if lowered in ("t", "true", "1", "yes", "y", "on"):
                return True
            if lowered in ("f", "false", "0", "no", "n", "off"):
                return False
            raise ValueError(f"not a boolean: {text!r}")
        if python_type == "date":
            return (
                _dt.datetime.fromisoformat(text).date()
                if "T" in text or " " in text
                else _dt.date.fromisoformat(text)
            )
        if python_type in ("datetime", "datetime_aware"):
            value = _dt.datetime.fromisoformat(text)
            if python_type == "datetime_aware" and value.tzinfo is None:
                value = value.replace(tzinfo=_dt.UTC)
            return value
    except ValueError as exc:
        raise UsageError(f"{what}: {text!r} is not a valid {python_type} ({exc})") from exc
    return text


def _like_pattern(encoded: str) -> str:
    # PostgREST turns `*` into `%`; the SDK already escaped %, _ and \ (see operators.encode_contains).
    return "%" + encoded.replace("*", "%") + "%"


@attrs.frozen
class LossyColumns:
    """Columns whose Parquet type holds less than the profile's (name → what the file holds)."""

    columns: dict[str, str]

    def touched_by(self, query: Query) -> list[str]:
        """The lossy columns `query` filters, sorts or aggregates on (the answer would differ)."""
        used = {f.column for f in query.filters} | {a.column for a in query.aggregates}
        if query.sorting is not None:
            used.add(query.sorting.column)
        return sorted(used & set(self.columns))


class ParquetQuery:
    """`query` on one Parquet fragment (`pyarrow.dataset` file fragment), for `schema`'s resource."""

    def __init__(self, fragment: Any, schema: ResourceSchema, query: Query) -> None:
        self.pa = require("pyarrow")
        self.pc = require("pyarrow.compute")
        self.fragment = fragment
        self.schema = schema
        self.query = query
        self.types = {name: info.python_type for name, info in schema.columns.items()}
        self.file_schema = fragment.physical_schema
        self.lossy = self._lossy()
        self.columns = result_columns(schema, query)
        missing = sorted(
            {name for name in self._needed() if name != ROW_ID and name not in self.file_schema.names}
        )
        if missing:
            raise UsageError(
                f"hydra's Parquet of resource {schema.resource_id} has no column "
                + ", ".join(repr(m) for m in missing)
            )

    # --- what the file holds
    def _lossy(self) -> LossyColumns:
        pa = self.pa
        lossy: dict[str, str] = {}
        for name, python_type in self.types.items():
            if name not in self.file_schema.names:
                continue
            held = self.file_schema.field(name).type
            if python_type in ("datetime", "datetime_aware") and (
                pa.types.is_date32(held) or pa.types.is_date64(held)
            ):
                lossy[name] = str(held)
        return LossyColumns(lossy)

    def check(self) -> None:
        """UsageError when the file cannot answer like the API (filters/sorts on lossy columns), or
        a filter value does not fit its column (the API would answer 400)."""
        self._filter_expression(self.query.filters)
        touched = self.lossy.touched_by(self.query)
        if touched:
            raise UsageError(
                f"hydra's Parquet of resource {self.schema.resource_id} stores {', '.join(touched)} as dates "
                "(the time of day is lost), so filtering, sorting or aggregating on it would not match the "
                "API: use source='api'"
            )

    def _needed(self) -> list[str]:
        names: list[str] = []
        q = self.query
        if q.aggregates:
            names += [a.column for a in q.aggregates]
        else:
            names += [name for name, _ in self.columns]
        names += [f.column for f in q.filters]
        if q.sorting is not None:
            names.append(q.sorting.column)
        return list(dict.fromkeys(names))

    # --- filters
    def _value(self, f: Filter, text: str) -> Any:
        python_type = self.types.get(f.column, "string")
        value = typed_value(python_type, text, what=f.key)
        held = self.pa.int64() if f.column == ROW_ID else self.file_schema.field(f.column).type
        return self.pa.scalar(value, type=held)

    def expression(self, f: Filter) -> Any:
        pc = self.pc
        field = pc.field(f.column)
        op, text = f.operator, f.value
        if op == "isnull":
            return field.is_null()
        if op == "isnotnull":
            return field.is_valid()
        assert text is not None
        if op in ("contains", "notcontains"):
            match = pc.match_like(field, _like_pattern(text), ignore_case=True)
            return match if op == "contains" else ~match
        if op in ("in", "notin"):
            values = [self._value(f, item).as_py() for item in decode_list(text)]
            held = self.pa.int64() if f.column == ROW_ID else self.file_schema.field(f.column).type
            member = pc.is_in(field, value_set=self.pa.array(values, type=held))
            return member if op == "in" else (~member & field.is_valid())
        value = self._value(f, text)
        if op == "exact":
            return field == value
        if op == "differs":
            return (field != value) | field.is_null()
        comparisons = {
            "less": field <= value,
            "greater": field >= value,
            "strictly_less": field < value,
            "strictly_greater": field > value,
        }
        if op in comparisons:
            return comparisons[op]
        raise UsageError(f"operator {op!r} cannot be run on Parquet")

    def _filter_expression(self, filters: Sequence[Filter]) -> Any:
        expression = None
        for f in filters:
            e = self.expression(f)
            expression = e if expression is None else expression & e
        return expression

    # --- reading
    def _row_groups(self) -> list[tuple[Any, int]]:
        """(one-row-group fragment, row offset in the file) for the row groups that may match."""
        metadata = self.fragment.metadata
        offsets = [0]
        for i in range(metadata.num_row_groups):
            offsets.append(offsets[-1] + metadata.row_group(i).num_rows)
        file_filters = [f for f in self.query.filters if f.column != ROW_ID]
        expression = self._filter_expression(file_filters)
        pieces = (
            self.fragment.split_by_row_group(filter=expression, schema=self.file_schema)
            if expression is not None
            else self.fragment.split_by_row_group(schema=self.file_schema)
        )
        out = []
        for piece in pieces:
            index = piece.row_groups[0].id
            out.append((piece, offsets[index]))
        return out

    def batches(self, *, limit: int | None = None) -> Iterator[Any]:
        """Matching rows row group by row group (needed columns only, before sort/aggregation)."""
        self.check()
        needed = self._needed()
        file_columns = [name for name in needed if name != ROW_ID]
        expression = self._filter_expression(self.query.filters)
        want_id = ROW_ID in needed
        produced = 0
        early_stop = limit is not None and self.query.sorting is None and not self.query.aggregates
        for piece, offset in self._row_groups():
            table = piece.to_table(columns=file_columns, use_threads=False)
            if want_id:
                ids = self.pa.array(range(offset + 1, offset + 1 + table.num_rows), type=self.pa.int64())
                table = table.append_column(ROW_ID, ids)
            if expression is not None:
                table = table.filter(expression)
            if early_stop and limit is not None:
                table = table.slice(0, limit - produced)
            produced += table.num_rows
            if table.num_rows:
                yield table
            if early_stop and limit is not None and produced >= limit:
                return

    def read(self, *, limit: int | None = None) -> Any:
        """The query's answer as one Arrow table, typed like the API's rows."""
        parts = list(self.batches(limit=limit))
        table = self.pa.concat_tables(parts) if parts else self.empty()
        if self.query.aggregates:
            table = self._aggregate(table)
        elif self.query.sorting is not None:
            table = self._sort(table)
        if limit is not None:
            table = table.slice(0, limit)
        return self.finish(table)

    def empty(self) -> Any:
        """No rows, with the columns `batches` yields."""
        pa = self.pa
        fields = [
            pa.field(ROW_ID, pa.int64()) if n == ROW_ID else self.file_schema.field(n) for n in self._needed()
        ]
        return pa.schema(fields).empty_table()

    def _sort(self, table: Any) -> Any:
        sort = self.query.sorting
        assert sort is not None
        order = "ascending" if sort.direction == "asc" else "descending"
        placement = "at_end" if sort.direction == "asc" else "at_start"
        if int(self.pa.__version__.split(".")[0]) >= 25:
            return table.sort_by([(sort.column, order, placement)])
        return table.sort_by([(sort.column, order)], null_placement=placement)

    def _aggregate(self, table: Any) -> Any:
        pa, pc = self.pa, self.pc
        keys = [a.column for a in self.query.aggregates if a.function == "groupby"]
        functions = [(a.column, a.function) for a in self.query.aggregates if a.function != "groupby"]
        if not functions:  # PostgREST: select= without aggregate function is a plain projection
            return table.select(keys)
        pyarrow_name = {"count": "count", "sum": "sum", "avg": "mean", "min": "min", "max": "max"}
        if keys:
            grouped = table.group_by(keys, use_threads=False).aggregate(
                [(column, pyarrow_name[fn]) for column, fn in functions]
            )
            renamed = {f"{column}_{pyarrow_name[fn]}": f"{column}__{fn}" for column, fn in functions}
            return grouped.rename_columns([renamed.get(n, n) for n in grouped.column_names])
        arrays = {}
        for column, fn in functions:
            values = table.column(column)
            if fn == "count":
                scalar = pc.count(values, mode="only_valid")
            elif fn == "avg":
                scalar = pc.mean(values)
            else:
                scalar = getattr(pc, fn)(values, min_count=1) if fn == "sum" else getattr(pc, fn)(values)
            arrays[f"{column}__{fn}"] = pa.array([scalar.as_py()], type=scalar.type)
        return pa.table(arrays)

    def finish(self, table: Any) -> Any:
        """Project to the result columns, typed after the profile (lossy columns stay dates)."""
        pa = self.pa
        arrays, names = [], []
        for name, python_type in self.columns:
            column = table.column(name)
            if python_type == "json":
                column = pa.array([canonical_json(v) for v in column.to_pylist()], type=pa.string())
            elif name in self.lossy.columns:
                column = column.cast(pa.date32())
            else:
                column = column.cast(arrow_type(python_type))
            arrays.append(column)
            names.append(name)
        touched = sorted(set(names) & set(self.lossy.columns))
        if touched:
            warnings.warn(
                f"hydra's Parquet of resource {self.schema.resource_id} stores {', '.join(touched)} as dates: "
                "the time of day is lost (source='api' has it)",
                ParquetPrecisionWarning,
                stacklevel=4,
            )
        return pa.Table.from_arrays(arrays, names=names)
