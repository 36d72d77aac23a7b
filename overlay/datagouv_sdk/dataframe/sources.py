"""A Tabular resource as an Arrow table, from the API or from hydra's Parquet copy; pandas and Polars.

    to_arrow(resource, query=None, *, source="auto", limit=None)   # pyarrow.Table
    to_pandas(...), to_polars(...)                                 # through Arrow
    ato_arrow / ato_pandas / ato_polars                           # AsyncTabularResource

`source`:

- ``"api"``: the Tabular API. Without `limit`, one JSON export request (``/data/json/``, typed
  values, NULL kept apart from ""), and page by page through ``/data/`` when the server's export cap
  answers 403; with `limit`, pages until `limit` rows.
- ``"parquet"``: hydra's Parquet copy, found in the resource's extras
  (``analysis:parsing:parquet_url``, read from the Main API of the same client), queried with the
  same semantics (`pushdown.ParquetQuery`): row groups pruned by their statistics, only the needed
  columns fetched, by HTTP Range requests. Aggregations run locally, so they work on any resource
  (the API allows them only on some).
- ``"auto"``: Parquet when the resource has one and it can answer the query exactly; else the API.

Column types come from the resource's profile (`types.result_columns`); the table's schema metadata
says where the rows came from (``datagouv:source`` = ``api`` or ``parquet``), as does pandas'
``DataFrame.attrs["datagouv:source"]``.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import TYPE_CHECKING, Any, Literal, TypedDict, Unpack

import attrs

from datagouv_sdk import errors
from datagouv_sdk.dataframe._optional import require
from datagouv_sdk.dataframe.http_file import RangeFile
from datagouv_sdk.dataframe.pushdown import ParquetQuery
from datagouv_sdk.dataframe.types import result_columns, rows_to_table
from datagouv_sdk.query.builder import Query
from datagouv_sdk.query.schema import ResourceSchema

if TYPE_CHECKING:
    import httpx

    from datagouv_sdk.client import DataGouv
    from datagouv_sdk.tabular import AsyncTabularResource, TabularResource

__all__ = [
    "PARQUET_SIZE_EXTRA",
    "PARQUET_URL_EXTRA",
    "DtypeBackend",
    "ParquetLocation",
    "ReadKeywords",
    "Source",
    "ato_arrow",
    "ato_pandas",
    "ato_polars",
    "parquet_location",
    "to_arrow",
    "to_pandas",
    "to_polars",
]

Source = Literal["auto", "api", "parquet"]
DtypeBackend = Literal["numpy_nullable", "pyarrow"]
PARQUET_URL_EXTRA = "analysis:parsing:parquet_url"
PARQUET_SIZE_EXTRA = "analysis:parsing:parquet_size"
SOURCE_KEY = "datagouv:source"


@attrs.frozen
class ParquetLocation:
    resource_id: str
    url: str
    size: int | None  # as hydra published it (the file is HEAD-ed anyway)


def location_from_resource(resource: Any) -> ParquetLocation | None:
    """From a Main API resource object (a dict: v1, v2 ``resource``, or a catalog row's extras)."""
    extras = resource.get("extras") if isinstance(resource, dict) else None
    if not isinstance(extras, dict):
        return None
    url = extras.get(PARQUET_URL_EXTRA)
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return None
    size = extras.get(PARQUET_SIZE_EXTRA)
    return ParquetLocation(
        str(resource.get("id", "")), url, int(size) if isinstance(size, int | float) else None
    )


def parquet_location(dg: DataGouv, resource_id: str) -> ParquetLocation | None:
    """hydra's Parquet copy of `resource_id`, from the Main API (``/api/2/datasets/resources/{rid}/``);
    None when hydra published none (or the resource is not in the catalog)."""
    response = dg.http("main_v2").get(f"datasets/resources/{resource_id}/")
    if response.status_code == 404:
        return None
    errors.raise_for_status(response)
    body = errors.decode_json(response)
    resource = body.get("resource") if isinstance(body, dict) else None
    return location_from_resource(resource)


def _check_source(source: str) -> None:
    if source not in ("auto", "api", "parquet"):
        raise errors.UsageError(f"source must be 'auto', 'api' or 'parquet', got {source!r}")


def _local_schema(schema: ResourceSchema) -> ResourceSchema:
    # Aggregations over a local file are not the server's to allow.
    return ResourceSchema.from_profile(
        schema.resource_id, {"profile": _profile_of(schema)}, aggregation_allowed=True
    )


def _profile_of(schema: ResourceSchema) -> dict[str, Any]:
    names = [n for n in schema.columns if n != "__id"]
    return {"header": names, "columns": {n: {"python_type": schema.columns[n].python_type} for n in names}}


def _tag(table: Any, source: str) -> Any:
    metadata = dict(table.schema.metadata or {})
    metadata[SOURCE_KEY.encode()] = source.encode()
    return table.replace_schema_metadata(metadata)


# --- the API -------------------------------------------------------------------------------------


def _json_export(http: httpx.Client, url: str) -> list[dict[str, Any]] | None:
    """The rows of ``/data/json/``; None when the export cap answers 403 (page instead)."""
    from datagouv_sdk.export.files import ExportTooLargeError, _export_errors

    response = http.get(url)
    try:
        with _export_errors():
            errors.raise_for_status(response)
    except ExportTooLargeError:
        return None
    body = errors.decode_json(response)
    if not isinstance(body, list):
        raise errors.ResponseDecodeError(f"{url}: expected a JSON array of rows")
    return body


def _api_url(resource_id: str, query: Query, kind: str) -> str:
    qs = query.query_string()
    return f"api/resources/{resource_id}/data/{kind}/" + (f"?{qs}" if qs else "")


def _read_api(
    resource: TabularResource, query: Query, schema: ResourceSchema, limit: int | None, validate: bool
) -> Any:
    if validate:
        schema.validate(query)
    columns = result_columns(schema, query)
    rows: Any = None
    if limit is None:
        rows = _json_export(resource.http, _api_url(resource.resource_id, query, "json"))
    if rows is None:
        rows = resource.rows(query, limit=limit, validate=False)
    return _tag(rows_to_table(rows, columns), "api")


# --- hydra's Parquet -----------------------------------------------------------------------------


def parquet_query(
    dg: DataGouv, location: ParquetLocation, schema: ResourceSchema, query: Query
) -> ParquetQuery:
    """A `ParquetQuery` on the remote file (its footer read; nothing else yet)."""
    pa = require("pyarrow")
    pq = require("pyarrow.parquet")
    local = _local_schema(schema)
    local.validate(query)
    remote = RangeFile(dg.http("main"), location.url)
    # pre_buffer: the column chunks a row group needs come in a few coalesced Range requests.
    return ParquetQuery(pq.ParquetFile(pa.PythonFile(remote, mode="r"), pre_buffer=True), local, query)


def _read(
    resource: TabularResource, query: Query | None, source: str, limit: int | None, validate: bool
) -> Any:
    _check_source(source)
    if limit is not None and limit < 0:
        raise errors.UsageError(f"limit must be >= 0, got {limit}")
    q = query if query is not None else Query()
    q.check_shape()
    schema = resource.schema()
    if source == "api":
        return _read_api(resource, q, schema, limit, validate)
    location = parquet_location(resource._dg, resource.resource_id)
    if location is None:
        if source == "parquet":
            raise errors.UsageError(
                f"resource {resource.resource_id} has no Parquet copy (no {PARQUET_URL_EXTRA!r} in its extras): "
                "use source='api'"
            )
        return _read_api(resource, q, schema, limit, validate)
    try:
        runner = parquet_query(resource._dg, location, schema, q)
        if source == "auto" and runner.lossy.touched_by(q):
            return _read_api(resource, q, schema, limit, validate)
        return _tag(runner.read(limit=limit), "parquet")
    except errors.APIStatusError as exc:
        if source == "parquet":
            raise
        warnings.warn(
            f"hydra's Parquet of resource {resource.resource_id} could not be read ({exc}); reading the API",
            RuntimeWarning,
            stacklevel=3,
        )
        return _read_api(resource, q, schema, limit, validate)


class ReadKeywords(TypedDict, total=False):
    """What every read takes besides the query: where rows come from (`Source`), how many at most,
    and whether to check the query against the resource's profile first."""

    source: Source
    limit: int | None
    validate: bool


def to_arrow(resource: TabularResource, query: Query | None = None, **read: Unpack[ReadKeywords]) -> Any:
    """The rows of `resource` matching `query` as a ``pyarrow.Table`` (see the module docstring)."""
    require("pyarrow", what="to_arrow()")
    return _read(resource, query, read.get("source", "auto"), read.get("limit"), read.get("validate", True))


def _pandas(table: Any, dtype_backend: DtypeBackend) -> Any:
    pd = require("pandas", what="to_pandas()")
    pa = require("pyarrow")
    if dtype_backend == "pyarrow":
        frame = table.to_pandas(types_mapper=pd.ArrowDtype)
    elif dtype_backend == "numpy_nullable":
        mapping = {
            pa.int64(): pd.Int64Dtype(),
            pa.float64(): pd.Float64Dtype(),
            pa.bool_(): pd.BooleanDtype(),
            pa.string(): pd.StringDtype(),
        }
        frame = table.to_pandas(types_mapper=mapping.get)
    else:
        raise errors.UsageError(f"dtype_backend must be 'numpy_nullable' or 'pyarrow', got {dtype_backend!r}")
    source = (table.schema.metadata or {}).get(SOURCE_KEY.encode())
    if source is not None:
        frame.attrs[SOURCE_KEY] = source.decode()
    return frame


def to_pandas(
    resource: TabularResource,
    query: Query | None = None,
    *,
    dtype_backend: DtypeBackend = "numpy_nullable",
    **read: Unpack[ReadKeywords],
) -> Any:
    """As `to_arrow`, as a pandas DataFrame: nullable integers, floats, booleans and strings
    (``dtype_backend="numpy_nullable"``) or ``pd.ArrowDtype`` columns (``"pyarrow"``); dates as
    ``datetime.date`` objects, datetimes as ``datetime64[us]``."""
    require("pandas", what="to_pandas()")
    return _pandas(to_arrow(resource, query, **read), dtype_backend)


def to_polars(resource: TabularResource, query: Query | None = None, **read: Unpack[ReadKeywords]) -> Any:
    """As `to_arrow`, as a Polars DataFrame."""
    pl = require("polars", what="to_polars()")
    return pl.from_arrow(to_arrow(resource, query, **read))


# --- async twins: the same reads in a worker thread, over a sync client with the same config ----


async def ato_arrow(
    resource: AsyncTabularResource, query: Query | None = None, **read: Unpack[ReadKeywords]
) -> Any:
    """`to_arrow` for an `AsyncTabularResource`. pyarrow reads files synchronously, so the read runs
    in a worker thread on a sync client built from the async client's configuration (same URLs,
    key scoping, retries)."""
    require("pyarrow", what="to_arrow()")
    from datagouv_sdk.client import DataGouv
    from datagouv_sdk.tabular import TabularResource

    def run() -> Any:
        with DataGouv(resource._dg.config) as dg:
            return to_arrow(TabularResource(dg, resource.resource_id), query, **read)

    return await asyncio.to_thread(run)


async def ato_pandas(
    resource: AsyncTabularResource,
    query: Query | None = None,
    *,
    dtype_backend: DtypeBackend = "numpy_nullable",
    **read: Unpack[ReadKeywords],
) -> Any:
    require("pandas", what="to_pandas()")
    return _pandas(await ato_arrow(resource, query, **read), dtype_backend)


async def ato_polars(
    resource: AsyncTabularResource, query: Query | None = None, **read: Unpack[ReadKeywords]
) -> Any:
    pl = require("polars", what="to_polars()")
    return pl.from_arrow(await ato_arrow(resource, query, **read))
