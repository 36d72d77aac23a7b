"""A `Query` run over a Parquet file with the Tabular API's semantics, reading only what it needs.

The Tabular API runs a query in PostgreSQL (through PostgREST); hydra's Parquet copy holds the same
table. `ParquetQuery` answers the same query from the file so that both give the same rows:

- row groups whose statistics (min/max/null count) prove the filters cannot match are never read,
  and only the columns the query needs are read, a batch at a time;
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

import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs

from datagouv_sdk.dataframe._optional import require
from datagouv_sdk.dataframe.types import arrow_type, canonical_json, cell_value, result_columns
from datagouv_sdk.errors import ResponseDecodeError, UsageError
from datagouv_sdk.query.builder import AllOf, AnyOf, Condition, Filter, Query
from datagouv_sdk.query.operators import like_pattern
from datagouv_sdk.query.schema import ResourceSchema

__all__ = ["ParquetPrecisionWarning", "ParquetQuery", "typed_value"]

ROW_ID = "__id"
BATCH_ROWS = 16_384  # rows decoded at a time: bounds memory whatever the writer's row groups


class ParquetPrecisionWarning(UserWarning):
    """A column of hydra's Parquet holds less than the API (datetime columns stored as dates)."""


def typed_value(python_type: str, text: str, *, what: str) -> Any:
    """A filter value (as sent to the API) read as the column's type, as PostgreSQL casts it; a
    value PostgreSQL would refuse (the API answers 400) is a UsageError."""
    if python_type in ("string", "json"):
        return text
    try:
        value = cell_value(python_type, text, what)
    except (ValueError, ResponseDecodeError) as exc:
        raise UsageError(f"{what}: {text!r} is not a valid {python_type} ({exc})") from exc
    if value is None:
        raise UsageError(f"{what}: an empty value is not a valid {python_type}")
    return value


def _like_pattern(text: str) -> str:
    # api_tabular sends ``ilike.*{pattern}*`` and PostgREST turns every ``*`` into ``%``.
    return "%" + like_pattern(text).replace("*", "%") + "%"


def _filters(conditions: Iterable[Condition]) -> Iterator[Filter]:
    for condition in conditions:
        yield from condition.walk()


@attrs.frozen
class LossyColumns:
    """Columns whose Parquet type holds less than the profile's (name → what the file holds)."""

    columns: dict[str, str]

    def touched_by(self, query: Query) -> list[str]:
        """The lossy columns `query` filters, sorts or aggregates on (the answer would differ)."""
        used = {f.column for f in _filters(query.filters)} | {a.column for a in query.aggregates}
        if query.sorting is not None:
            used.add(query.sorting.column)
        return sorted(used & set(self.columns))


def _row_ids(pa: Any, first: int, count: int) -> Any:
    arange = getattr(pa, "arange", None)  # pyarrow >= 21; no pandas import (see ParquetQuery.empty)
    if arange is not None:
        return arange(first, first + count)
    return pa.array(range(first, first + count), type=pa.int64())


@attrs.frozen
class _IdRange:
    """Row-group "statistics" of the rebuilt ``__id``: its first and last value."""

    min: int
    max: int
    has_min_max: bool = True
    has_null_count: bool = True
    null_count: int = 0

    @property
    def num_values(self) -> int:
        return self.max - self.min + 1


class ParquetQuery:
    """`query` on one Parquet file (a ``pyarrow.parquet.ParquetFile``), for `schema`'s resource.

    Reads with ``pyarrow.parquet`` and ``pyarrow.compute`` only (no ``pyarrow.dataset``: importing it
    costs ~50 MB of memory, a third of a streamed export's budget)."""

    def __init__(self, parquet_file: Any, schema: ResourceSchema, query: Query) -> None:
        self.pa = require("pyarrow")
        self.pc = require("pyarrow.compute")
        self.file = parquet_file  # a pyarrow.parquet.ParquetFile
        self.schema = schema
        self.query = query
        self.types = {name: info.python_type for name, info in schema.columns.items()}
        self.file_schema = parquet_file.schema_arrow
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
        for f in _filters(self.query.filters):
            self._values(f)
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
        names += [f.column for f in _filters(q.filters)]
        if q.sorting is not None:
            names.append(q.sorting.column)
        return list(dict.fromkeys(names))

    # --- filters
    def _held(self, column: str) -> Any:
        return self.pa.int64() if column == ROW_ID else self.file_schema.field(column).type

    def _values(self, f: Filter) -> list[Any]:
        """The filter's value(s) as Python values of the column's type (none for isnull/isnotnull)."""
        if f.operator in ("contains", "notcontains"):
            return []
        python_type = "int" if f.column == ROW_ID else self.types.get(f.column, "string")
        return [typed_value(python_type, text, what=f.key) for text in f.items]

    def mask(self, condition: Condition, table: Any) -> Any:
        """A boolean array: the rows of `table` that `condition` keeps, NULL where SQL's three-valued
        logic gives NULL (OR: true if any is true; AND: false if any is false)."""
        pc = self.pc
        if isinstance(condition, AnyOf | AllOf):
            combine = pc.or_kleene if isinstance(condition, AnyOf) else pc.and_kleene
            masks = [self.mask(c, table) for c in condition.conditions]
            result = masks[0]
            for other in masks[1:]:
                result = combine(result, other)
            return result
        return self._filter_mask(condition, table)

    def _filter_mask(self, f: Filter, table: Any) -> Any:
        pc, pa = self.pc, self.pa
        column = table.column(f.column)
        op = f.operator
        if op == "isnull":
            return pc.is_null(column)
        if op == "isnotnull":
            return pc.is_valid(column)
        if op in ("contains", "notcontains"):
            match = pc.match_like(column, _like_pattern(f.items[0]), ignore_case=True)
            return match if op == "contains" else pc.invert(match)
        values = self._values(f)
        held = self._held(f.column)
        if op in ("in", "notin"):
            member = pc.is_in(column, value_set=pa.array(values, type=held))
            return member if op == "in" else pc.and_kleene(pc.invert(member), pc.is_valid(column))
        value = pa.scalar(values[0], type=held)
        if op == "differs":  # IS DISTINCT FROM: NULL rows match
            return pc.or_kleene(pc.not_equal(column, value), pc.is_null(column))
        kernels = {
            "exact": pc.equal,
            "less": pc.less_equal,
            "greater": pc.greater_equal,
            "strictly_less": pc.less,
            "strictly_greater": pc.greater,
        }
        if op not in kernels:
            raise UsageError(f"operator {op!r} cannot be run on Parquet")
        return kernels[op](column, value)

    def group_may_match(self, condition: Condition, statistics: Callable[[str], Any]) -> bool:
        """False only when a row group's statistics (`statistics(column)`) prove no row can pass."""
        if isinstance(condition, AnyOf):
            return any(self.group_may_match(c, statistics) for c in condition.conditions)
        if isinstance(condition, AllOf):
            return all(self.group_may_match(c, statistics) for c in condition.conditions)
        return self.may_match(condition, statistics(condition.column))

    def may_match(self, f: Filter, statistics: Any) -> bool:
        """False only when `statistics` (one column chunk's) prove that no row can pass `f`."""
        if statistics is None:
            return True
        op = f.operator
        nulls = statistics.null_count if statistics.has_null_count else None
        if op == "isnull":
            return nulls is None or nulls > 0
        if op == "isnotnull":
            return statistics.num_values > 0 or nulls is None
        if not statistics.has_min_max or op in ("contains", "notcontains", "notin"):
            return True
        low, high = statistics.min, statistics.max
        try:
            values = self._values(f)
            if op == "differs":
                return not (low == high == values[0] and nulls == 0)
            if op in ("exact", "in"):
                return any(low <= v <= high for v in values)
            checks = {
                "less": lambda v: low <= v,
                "strictly_less": lambda v: low < v,
                "greater": lambda v: high >= v,
                "strictly_greater": lambda v: high > v,
            }
            return checks[op](values[0]) if op in checks else True
        except (TypeError, ValueError):  # statistics of another type than the value: cannot tell
            return True

    # --- reading
    def _row_groups(self) -> list[tuple[int, int]]:
        """(row group index, row offset in the file) for the row groups that may match."""
        metadata = self.file.metadata
        positions = {name: i for i, name in enumerate(self.file_schema.names)}
        out, offset = [], 0
        for index in range(metadata.num_row_groups):
            group = metadata.row_group(index)

            def statistics(column: str, group: Any = group, offset: int = offset) -> Any:
                if column == ROW_ID:
                    return _IdRange(offset + 1, offset + group.num_rows)
                position = positions.get(column)
                return None if position is None else group.column(position).statistics

            if all(self.group_may_match(c, statistics) for c in self.query.filters):
                out.append((index, offset))
            offset += group.num_rows
        return out

    def batches(self, *, limit: int | None = None) -> Iterator[Any]:
        """Matching rows, a batch at a time (needed columns only, before sort/aggregation); memory
        is bounded by one batch of `BATCH_ROWS` rows, whatever the file's row groups."""
        self.check()
        pa = self.pa
        needed = self._needed()
        file_columns = [name for name in needed if name != ROW_ID]
        want_id = ROW_ID in needed
        produced = 0
        early_stop = limit is not None and self.query.sorting is None and not self.query.aggregates
        for index, offset in self._row_groups():
            position = offset
            for batch in self.file.iter_batches(
                batch_size=BATCH_ROWS, row_groups=[index], columns=file_columns, use_threads=False
            ):
                table = pa.Table.from_batches([batch])
                if want_id:
                    ids = _row_ids(pa, position + 1, table.num_rows)
                    table = table.append_column(ROW_ID, ids)
                position += batch.num_rows
                keep = None
                for f in self.query.filters:
                    mask = self.mask(f, table)
                    keep = mask if keep is None else self.pc.and_kleene(keep, mask)
                if keep is not None:
                    table = table.filter(keep)
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
        # Not Schema.empty_table(), nor pa.array() of Python values: both import pandas (+46 MiB of
        # RSS) through pyarrow's pandas shim, a third of a streamed export's memory budget.
        return pa.Table.from_batches([], schema=pa.schema(fields))

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
            else:
                target = pa.date32() if name in self.lossy.columns else arrow_type(python_type)
                # Only when needed: the first real cast loads pyarrow's cast kernels (~37 MiB of RSS,
                # a quarter of a streamed export's memory budget).
                if column.type != target:
                    column = column.cast(target)
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
