"""Handles on one Tabular resource and one Metrics model: typed columns, validated queries, rows,
streaming exports, and a generated client for one resource.

    from datagouv_sdk import DataGouv
    from datagouv_sdk.query import Query, col
    from datagouv_sdk.tabular import TabularResource, MetricsModel

    with DataGouv() as dg:
        res = TabularResource(dg, "aaaaaaaa-1111-4bbb-8222-cccccccccccc")
        res.columns                                  # {"name": ColumnInfo(python_type="string", …), …}
        q = Query().filter(col("count") >= 3).sort("-count")
        for row in res.rows(q, typed=True):          # ints, floats, bools, dates, datetimes
            ...
        res.export("out.csv", q)                     # streamed, .part renamed when complete
        res.export("big.csv", q, via="pages")        # above the server's export cap
        MetricsModel(dg, "datasets").export("m.csv", Query().filter(dataset_id="…"))

Validation happens before any request (`validate=False` skips it): the resource's profile (cached per
client) gives the columns and types, ``/api/aggregation-exceptions/`` (cached per client) says whether
aggregations are allowed. `via`: "stream" (the server's CSV/JSON export; capped, see
`export.files.ExportTooLargeError`), "pages" (``/data/`` page by page, `max_page_size()` rows a
request: as many as the server accepts, learned per client and base URL, see `server_facts`), "auto"
(stream, and pages when the cap is hit). Export settings are the fields of `ExportOptions`, given as
keywords or as ``options=``. Exports are complete or fail: a paged export must hold the first page's
``meta.total`` rows, a streamed CSV (counted by default) the rows /data/ counts (`export.files.IncompleteExportError`,
no final file, an older one kept). ``page_size`` left out means the largest page the server accepts;
one above its limit is a UsageError naming it.

`AsyncTabularResource` / `AsyncMetricsModel` are the async twins (an `AsyncDataGouv`): the same
names, awaited; ``rows()`` returns an `AsyncPager` that validates before its first request, and
``iter_csv()`` is an async iterator.

How the twins share one core: everything a handle reads before it can send the request the caller
asked for (profile, aggregation policy, metrics columns, swagger: cached per client) is written once,
as *steps*: a generator that yields the path to GET and receives the status-checked response. The
sync classes drive steps with `_run`, the async ones with `_arun` (`_steps.Driver`); the public
methods (``rows``, ``iter_csv``, ``export``) are written once too, generic over what each flavour
answers. Nothing else is written twice except the few lines that send.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeAlias, TypedDict, TypeVar, Unpack

import attrs
import httpx

from datagouv_sdk import errors
from datagouv_sdk._steps import Driver
from datagouv_sdk.export.files import (
    ExportProgress,
    ExportResult,
    ExportTooLargeError,
    aiter_csv_rows,
    astream_to_file,
    awrite_rows,
    check_row_count,
    iter_csv_rows,
    stream_to_file,
    write_rows,
)
from datagouv_sdk.pagination import AsyncPager, Page, PageInfo, SyncPager, link_fetch, page_number
from datagouv_sdk.query.builder import Query
from datagouv_sdk.query.schema import AggregationPolicy, ColumnInfo, MetricsSchema, ResourceSchema
from datagouv_sdk.query.wire import Dialect, needs_dialect
from datagouv_sdk.server_facts import DEFAULT_MAX, ServerFacts, facts_for

if TYPE_CHECKING:
    from datagouv_sdk.client import AsyncDataGouv, DataGouv
    from datagouv_sdk.codegen.generate import GenerationResult
    from datagouv_sdk.dataframe.sources import DtypeBackend, ReadKeywords, Source

__all__ = [
    "PAGE_SIZE_MAX",
    "AsyncMetricsModel",
    "AsyncTabularResource",
    "ExportFormat",
    "ExportOptions",
    "ExportVia",
    "MetricsModel",
    "TabularResource",
]

ExportVia = Literal["stream", "pages", "auto"]
ExportFormat = Literal["csv", "json", "jsonl"]
LinkApi = Literal["metrics", "tabular"]

# The most rows one /data/ page may hold before the server says otherwise: production's api_tabular
# settings (Tabular 200, Metrics 50). Read through `max_page_size()` only, which prefers the limit a
# server named in a 400 (`server_facts`): the one place that decides page sizes.
PAGE_SIZE_MAX: dict[LinkApi, int] = {"metrics": DEFAULT_MAX["metrics"], "tabular": DEFAULT_MAX["tabular"]}
# Rows asked for when only meta.total is wanted: api_tabular's own default page size (not 1: some
# resources answer total=0 to page_size=1).
COUNT_PAGE_SIZE = 20

T = TypeVar("T")
Row = dict[str, Any]
P = TypeVar("P")  # what `rows` answers: a SyncPager or an AsyncPager of rows
It = TypeVar("It")  # what `iter_csv` answers: an iterator or an async iterator of rows
E = TypeVar("E")  # what `export` answers: the ExportResult, or an awaitable of it
# Reads written once for sync and async: yield a path to GET, receive the status-checked response.
Steps: TypeAlias = Generator[str, httpx.Response, T]
_Dest: TypeAlias = str | os.PathLike[str]
# What a read needs before its first row: the checked query, the server's dialect, the row converter.
_Plan: TypeAlias = tuple[Query, Dialect | None, Callable[[Mapping[str, Any]], Row]]


class ExportKeywords(TypedDict, total=False):
    """The keywords `export` takes: the fields of `ExportOptions`."""

    format: ExportFormat
    via: ExportVia
    progress: ExportProgress | None
    validate: bool
    count_rows: bool
    durable: bool


@attrs.frozen
class ExportOptions:
    """How `export` writes. ``format``: csv, json, or jsonl (only through pages); ``via``: see the
    module docstring; ``progress(bytes, rows)``; ``validate`` the query first; ``count_rows``: count
    streamed rows (CSV records or JSON objects; `result.rows`) and check them against the count
    /data/ gives just before (one small request), so a short export fails instead of looking
    finished: on by default, since production has served incomplete CSV exports; ``count_rows=False``
    gives that check up for the ~15 % of throughput counting costs on large exports. ``durable``:
    fsync before the rename."""

    format: ExportFormat = "csv"
    via: ExportVia = "stream"
    progress: ExportProgress | None = None
    validate: bool = True
    count_rows: bool = True
    durable: bool = False

    def __attrs_post_init__(self) -> None:
        if self.via not in ("stream", "pages", "auto"):
            raise errors.UsageError(f"via must be 'stream', 'pages' or 'auto', got {self.via!r}")
        if self.format not in ("csv", "json", "jsonl"):
            raise errors.UsageError(f"format must be csv, json or jsonl, got {self.format!r}")

    @classmethod
    def of(cls, options: ExportOptions | None, keywords: ExportKeywords) -> ExportOptions:
        return attrs.evolve(options or cls(), **keywords)

    def _streaming(self, expected_rows: int | None) -> dict[str, Any]:
        """The keywords of `stream_to_file` / `astream_to_file`."""
        return {
            "progress": self.progress,
            "count_rows": self.count_rows,
            "durable": self.durable,
            "expected_rows": expected_rows,
        }

    def _falling_back(self) -> contextlib.AbstractContextManager[None]:
        """Around a streamed export: with ``via="auto"``, the export cap lets the pages take over."""
        return contextlib.suppress(ExportTooLargeError) if self.via == "auto" else contextlib.nullcontext()


def _url(path: str, query: Query, dialect: Dialect | None) -> str:
    qs = query.query_string(dialect=dialect)
    return f"{path}?{qs}" if qs else path


class _PageSize:
    """One listing's page size: a size left to the SDK follows the limit the server names (once, on
    the first page); a size the caller chose turns the server's refusal into a UsageError naming it."""

    def __init__(self, facts: ServerFacts, api: str, base_url: str, page_size: int | None) -> None:
        self.facts, self.api, self.base = facts, api, base_url
        self.auto = page_size is None
        if page_size is None:
            self.size = facts.largest(api, base_url)
        else:
            facts.check(api, base_url, page_size)
            self.size = page_size

    def retry_after(self, error: errors.BadRequestError, page: int) -> bool:
        """True when the request should be sent again at the limit the server just named."""
        learned = self.facts.refused(self.api, self.base, self.size, error)
        if learned is None:
            return False
        if not self.auto or page != 1:
            raise self.facts.too_large(self.api, self.base, self.size, learned) from error
        self.size = learned
        return True


def _sized(fetch: Callable[[PageInfo], Page[Row]], size: _PageSize) -> Callable[[PageInfo], Page[Row]]:
    def sized(info: PageInfo) -> Page[Row]:
        while True:
            try:
                return fetch(info)
            except errors.BadRequestError as exc:
                if not size.retry_after(exc, page_number(info)):
                    raise

    return sized


def _asized(
    fetch: Callable[[PageInfo], Awaitable[Page[Row]]], size: _PageSize
) -> Callable[[PageInfo], Awaitable[Page[Row]]]:
    async def sized(info: PageInfo) -> Page[Row]:
        while True:
            try:
                return await fetch(info)
            except errors.BadRequestError as exc:
                if not size.retry_after(exc, page_number(info)):
                    raise

    return sized


def _complete_rows(pages: Iterable[Page[Row]], where: str) -> Iterator[Row]:
    """The rows of a paged export; at the end their number must equal the first page's meta.total
    (when the server gives one: not for aggregations), else IncompleteExportError before the rename."""
    total, seen = None, 0
    for number, page in enumerate(pages):
        if number == 0:
            total = page.total
        for item in page.items:
            seen += 1
            yield item
    check_row_count(seen, total, where)


async def _acomplete_rows(pages: AsyncIterator[Page[Row]], where: str) -> AsyncIterator[Row]:
    total, seen, first = None, 0, True
    async for page in pages:
        if first:
            total, first = page.total, False
        for item in page.items:
            seen += 1
            yield item
    check_row_count(seen, total, where)


def _json(response: httpx.Response) -> Any:
    return errors.decode_json(response)


# --- the core: what a data source is, written once -------------------------------------------------


class _Source(Generic[P, It, E]):
    """A Metrics model or a Tabular resource, sync and async alike: paths, page sizes, validation,
    and the export plan. Subclasses say where their data lives and what their schema is; the
    drivers (`_Sync`, `_Async`) what `rows` answers (`P`), `iter_csv` (`It`) and `export` (`E`)."""

    _api: ClassVar[LinkApi]

    def __init__(self, dg: DataGouv | AsyncDataGouv, name: str, what: str, base: str) -> None:
        if not name or "/" in name:
            raise errors.UsageError(f"not a {what}: {name!r}")
        self._dg = dg
        self._base = base
        self._data_path = f"{base}/data/"  # paged
        self._csv_path = f"{base}/data/csv/"  # the CSV export

    def _base_url(self) -> str:
        return str(self._dg.http(self._api).base_url)

    def max_page_size(self) -> int:
        """The most rows one page of this server may hold: the limit it named in a 400 (remembered
        per client and base URL), else production's for this API (`PAGE_SIZE_MAX`)."""
        known = facts_for(self._dg).known(self._base_url())
        return known if known is not None else PAGE_SIZE_MAX[self._api]

    def _page_size(self, page_size: int | None) -> _PageSize:
        return _PageSize(facts_for(self._dg), self._api, self._base_url(), page_size)

    def _render(self, query: Query, size: _PageSize, dialect: Dialect | None) -> Callable[[int], str]:
        # Only the page number comes from links.next: the query is always rendered by us (the server
        # writes its links from the decoded query, which does not round-trip every value).
        def render(page: int) -> str:
            return f"{self._data_path}?{query.query_string(page=page, page_size=size.size, dialect=dialect)}"

        return render

    def _dialect(self, query: Query) -> Steps[Dialect | None]:
        """The server's dialect, read once from /health/ when `query` is written differently for
        older api_tabular releases (None: the newest)."""
        if not needs_dialect(query):
            return None
        facts, base = facts_for(self._dg), self._base_url()
        dialect = facts.dialect(base)
        if dialect is None:
            body = _json((yield "health/"))
            dialect = facts.learn_dialect(base, body.get("version") if isinstance(body, Mapping) else None)
        return dialect

    def _schema(self) -> Steps[ResourceSchema | MetricsSchema]:
        raise NotImplementedError

    def _checked(self, query: Query | None, validate: bool) -> Steps[Query]:
        q = query if query is not None else Query()
        if validate:
            (yield from self._schema()).validate(q)
        else:
            q.check_shape()
        return q

    def _converter(self, typed: bool) -> Steps[Callable[[Mapping[str, Any]], Row]]:
        if typed:
            schema = yield from self._schema()
            if isinstance(schema, ResourceSchema):
                return schema.convert_row
        return dict

    def _plan(self, query: Query | None, validate: bool, typed: bool = False) -> Steps[_Plan]:
        """What a read needs before its first row: the checked query, the server's dialect and the
        row converter."""
        q = yield from self._checked(query, validate)
        dialect = yield from self._dialect(q)
        return q, dialect, (yield from self._converter(typed))

    def _export_plan(
        self, query: Query | None, options: ExportOptions | None, keywords: ExportKeywords
    ) -> Steps[tuple[ExportOptions, Query, str | None]]:
        """The export's options, its checked query, and the URL to stream from (None: pages)."""
        o = ExportOptions.of(options, keywords)
        stream = self._stream_path(o)  # checked before any request
        q, dialect, _ = yield from self._plan(query, o.validate)
        return o, q, None if stream is None else _url(stream, q, dialect)

    # what each driver does its own way: I/O
    def _rows(
        self, query: Query | None, typed: bool, page_size: int | None, limit: int | None, validate: bool
    ) -> P:
        raise NotImplementedError

    def _iter_csv(self, query: Query | None, typed: bool, validate: bool) -> It:
        raise NotImplementedError

    def _export(
        self, dest: _Dest, query: Query | None, options: ExportOptions | None, keywords: ExportKeywords
    ) -> E:
        raise NotImplementedError

    def export(
        self,
        dest: str | os.PathLike[str],
        query: Query | None = None,
        *,
        options: ExportOptions | None = None,
        **keywords: Unpack[ExportKeywords],
    ) -> E:
        """Write the matching rows to `dest` (see `ExportOptions` and the module docstring for `via`);
        async: awaited, file writes staying blocking (they are local and short)."""
        return self._export(dest, query, options, keywords)

    def _stream_path(self, options: ExportOptions) -> str | None:
        """The server export to stream from, or None to page straight away (checked before any request)."""
        raise NotImplementedError

    def _page_columns(self, query: Query) -> Steps[list[str] | None]:
        """The columns of a paged export (None: the first row's keys)."""
        raise NotImplementedError


class _TabularCore(_Source[P, It, E]):
    _api = "tabular"

    def __init__(self, dg: DataGouv | AsyncDataGouv, resource_id: str) -> None:
        super().__init__(dg, resource_id, "resource id", f"api/resources/{resource_id}")
        self.resource_id = resource_id

    def _profile(self) -> Steps[Mapping[str, Any]]:
        key = ("tabular-profile", self.resource_id)
        body = self._dg._cache.get(key)
        if body is None:
            fetched = _json((yield f"{self._base}/profile/"))
            if not isinstance(fetched, Mapping):
                raise errors.ResponseDecodeError(f"the profile of {self.resource_id} is not a JSON object")
            body = self._dg._cache.setdefault(key, fetched)
        return body  # type: ignore[no-any-return]

    def _aggregation_policy(self) -> Steps[AggregationPolicy]:
        policy: AggregationPolicy | None = self._dg._cache.get("tabular-aggregation")
        if policy is None:
            policy = AggregationPolicy.from_body(_json((yield "api/aggregation-exceptions/")))
            self._dg._cache["tabular-aggregation"] = policy
        return policy

    def _schema(self) -> Steps[ResourceSchema]:
        profile = yield from self._profile()
        allowed = (yield from self._aggregation_policy()).allows(self.resource_id)
        return ResourceSchema.from_profile(self.resource_id, profile, aggregation_allowed=allowed)

    def _swagger_text(self) -> Steps[str]:
        return (yield f"{self._base}/swagger/").text

    def _swagger_schema(self) -> Steps[ResourceSchema]:
        return ResourceSchema.from_swagger(self.resource_id, (yield from self._swagger_text()))

    def _stream_path(self, options: ExportOptions) -> str | None:
        if options.via == "pages" or options.format == "jsonl":
            return None
        return f"{self._base}/data/{options.format}/"

    def _page_columns(self, query: Query) -> Steps[list[str] | None]:
        if query.selected:
            return list(query.selected)
        if query.aggregates:
            return None
        return list((yield from self._schema()).columns)

    def rows(
        self,
        query: Query | None = None,
        *,
        typed: bool = False,
        page_size: int | None = None,
        limit: int | None = None,
        validate: bool = True,
    ) -> P:
        """A pager over the rows of ``/data/`` matching `query` (``page_size``: default and most
        `max_page_size()`); ``typed`` converts values per column type."""
        return self._rows(query, typed, page_size, limit, validate)

    def iter_csv(self, query: Query | None = None, *, typed: bool = False, validate: bool = True) -> It:
        """Rows read lazily from the CSV export (one request; subject to the export cap)."""
        return self._iter_csv(query, typed, validate)


class _MetricsCore(_Source[P, It, E]):
    _api = "metrics"

    def __init__(self, dg: DataGouv | AsyncDataGouv, model: str) -> None:
        super().__init__(dg, model, "metrics model name", f"api/{model}")
        self.model = model

    def _column_names(self) -> Steps[list[str]]:
        # The Metrics API has no profile: the columns are read from one row.
        key = ("metrics-columns", self.model)
        names: list[str] | None = self._dg._cache.get(key)
        if names is None:
            body = _json((yield f"{self._data_path}?page_size=1"))
            data = body.get("data") if isinstance(body, Mapping) else None
            if not isinstance(data, list):
                raise errors.ResponseDecodeError(f"metrics model {self.model}: no 'data' list in the answer")
            names = list(data[0]) if data else []
            if names:  # an empty model teaches nothing: ask again next time
                self._dg._cache[key] = names
        return names

    def _schema(self) -> Steps[MetricsSchema]:
        return MetricsSchema(self.model, (yield from self._column_names()) or None)

    def _stream_path(self, options: ExportOptions) -> str | None:
        if options.format != "csv" and options.via == "stream":
            raise errors.UsageError("the Metrics API exports CSV only; use via='pages' for json/jsonl")
        return None if options.via == "pages" or options.format != "csv" else self._csv_path

    def _page_columns(self, query: Query) -> Steps[list[str] | None]:
        if query.selected:
            return list(query.selected)
        return (yield from self._column_names()) or None

    def rows(
        self,
        query: Query | None = None,
        *,
        page_size: int | None = None,
        limit: int | None = None,
        validate: bool = True,
    ) -> P:
        return self._rows(query, False, page_size, limit, validate)

    def iter_csv(self, query: Query | None = None, *, validate: bool = True) -> It:
        return self._iter_csv(query, False, validate)


# --- the sync and async drivers: only the I/O ------------------------------------------------------


class _Sync(_Source[SyncPager[Row], Iterator[Row], ExportResult]):
    _dg: DataGouv

    @property
    def http(self) -> httpx.Client:
        return self._dg.http(self._api)

    def _run(self, steps: Steps[T]) -> T:
        run = Driver(steps)
        for path in run:
            run.outcome = self.http.get(path)
            errors.raise_for_status(run.outcome)
        return run.result

    def _rows(
        self, query: Query | None, typed: bool, page_size: int | None, limit: int | None, validate: bool
    ) -> SyncPager[Row]:
        size = self._page_size(page_size)
        q, dialect, convert = self._run(self._plan(query, validate, typed))
        fetch = _sized(link_fetch(self.http, self._render(q, size, dialect), convert), size)
        return SyncPager(fetch, start=PageInfo(page=1), limit=limit)

    def count(self, query: Query | None = None, *, validate: bool = True) -> int | None:
        """How many rows match (``meta.total``); None for aggregations (the server omits it)."""
        return self._rows(query, False, COUNT_PAGE_SIZE, None, validate).first_page().total

    def _iter_csv(self, query: Query | None, typed: bool, validate: bool) -> Iterator[Row]:
        q, dialect, convert = self._run(self._plan(query, validate, typed))
        for row in iter_csv_rows(self.http, _url(self._csv_path, q, dialect)):
            yield convert(row)

    def _export(
        self, dest: _Dest, query: Query | None, options: ExportOptions | None, keywords: ExportKeywords
    ) -> ExportResult:
        o, q, stream = self._run(self._export_plan(query, options, keywords))
        if stream is not None:
            with o._falling_back():
                # a counted CSV must hold as many rows as /data/ counts (read first)
                expected = self.count(q, validate=False) if o.count_rows else None
                return stream_to_file(self.http, stream, dest, **o._streaming(expected))
        columns = self._run(self._page_columns(q))
        rows = _complete_rows(self._rows(q, False, None, None, False).iter_pages(), self._base_url())
        return write_rows(dest, rows, o.format, columns=columns, progress=o.progress, durable=o.durable)


class _Async(_Source[AsyncPager[Row], AsyncIterator[Row], Awaitable[ExportResult]]):
    _dg: AsyncDataGouv

    @property
    def http(self) -> httpx.AsyncClient:
        return self._dg.http(self._api)

    async def _arun(self, steps: Steps[T]) -> T:
        run = Driver(steps)
        for path in run:
            run.outcome = await self.http.get(path)
            await errors.araise_for_status(run.outcome)
        return run.result

    def _rows(
        self, query: Query | None, typed: bool, page_size: int | None, limit: int | None, validate: bool
    ) -> AsyncPager[Row]:
        size = self._page_size(page_size)
        fetch: Callable[[PageInfo], Awaitable[Page[Row]]] | None = None

        async def checked_fetch(info: PageInfo) -> Page[Row]:
            # Validating reads the schema, asynchronously: done before the first page, not in rows().
            nonlocal fetch
            if fetch is None:
                q, dialect, convert = await self._arun(self._plan(query, validate, typed))
                fetch = _asized(link_fetch(self.http, self._render(q, size, dialect), convert), size)
            return await fetch(info)

        return AsyncPager(checked_fetch, limit=limit)

    async def count(self, query: Query | None = None, *, validate: bool = True) -> int | None:
        """How many rows match (``meta.total``); None for aggregations (the server omits it)."""
        return (await self._rows(query, False, COUNT_PAGE_SIZE, None, validate).first_page()).total

    async def _iter_csv(self, query: Query | None, typed: bool, validate: bool) -> AsyncIterator[Row]:
        q, dialect, convert = await self._arun(self._plan(query, validate, typed))
        async for row in aiter_csv_rows(self.http, _url(self._csv_path, q, dialect)):
            yield convert(row)

    async def _export(
        self, dest: _Dest, query: Query | None, options: ExportOptions | None, keywords: ExportKeywords
    ) -> ExportResult:
        o, q, stream = await self._arun(self._export_plan(query, options, keywords))
        if stream is not None:
            with o._falling_back():
                expected = await self.count(q, validate=False) if o.count_rows else None
                return await astream_to_file(self.http, stream, dest, **o._streaming(expected))
        columns = await self._arun(self._page_columns(q))
        rows = _acomplete_rows(self._rows(q, False, None, None, False).iter_pages(), self._base_url())
        return await awrite_rows(
            dest, rows, o.format, columns=columns, progress=o.progress, durable=o.durable
        )


# --- the public handles ----------------------------------------------------------------------------


class TabularResource(_TabularCore[SyncPager[Row], Iterator[Row], ExportResult], _Sync):
    """One resource of the Tabular API (see the module docstring)."""

    def __init__(self, dg: DataGouv, resource_id: str) -> None:
        super().__init__(dg, resource_id)

    def profile(self) -> Mapping[str, Any]:
        """The raw ``/profile/`` body (csv_detective profile, indexes), cached per client."""
        return self._run(self._profile())

    def aggregation_policy(self) -> AggregationPolicy:
        return self._run(self._aggregation_policy())

    def schema(self) -> ResourceSchema:
        return self._run(self._schema())

    @property
    def columns(self) -> Mapping[str, ColumnInfo]:
        """Column name → type and allowed operators (``__id`` included)."""
        return self.schema().columns

    def swagger_text(self) -> str:
        """The per-resource OpenAPI 3 document (YAML, served as text/plain)."""
        return self._run(self._swagger_text())

    def swagger_schema(self) -> ResourceSchema:
        """The schema as the per-resource swagger advertises it (indexed resources: indexed columns only)."""
        return self._run(self._swagger_schema())

    # --- DataFrames and SQL (the `dataframe` extra; see datagouv_sdk.dataframe) -----------------
    def to_arrow(self, query: Query | None = None, **read: Unpack[ReadKeywords]) -> Any:
        """The matching rows as a ``pyarrow.Table`` typed after the profile, from the API or from
        hydra's Parquet copy with the same query pushed down (`dataframe.sources`: ``source``,
        ``limit``, ``validate``)."""
        from datagouv_sdk.dataframe.sources import to_arrow

        return to_arrow(self, query, **read)

    def to_pandas(
        self,
        query: Query | None = None,
        *,
        dtype_backend: DtypeBackend = "numpy_nullable",
        **read: Unpack[ReadKeywords],
    ) -> Any:
        """`to_arrow` as a pandas DataFrame (nullable dtypes, or Arrow-backed ones)."""
        from datagouv_sdk.dataframe.sources import to_pandas

        return to_pandas(self, query, dtype_backend=dtype_backend, **read)

    def to_polars(self, query: Query | None = None, **read: Unpack[ReadKeywords]) -> Any:
        """`to_arrow` as a Polars DataFrame."""
        from datagouv_sdk.dataframe.sources import to_polars

        return to_polars(self, query, **read)

    def to_duckdb(
        self,
        con: Any = None,
        name: str = "resource",
        *,
        via: Literal["auto", "httpfs", "arrow", "api"] = "auto",
    ) -> Any:
        """Register the resource in DuckDB as view `name` (hydra's Parquet read in place, or the
        API's rows) and return the connection (`dataframe.duck`)."""
        from datagouv_sdk.dataframe.duck import register

        return register(self, con, name, via=via).connection

    def export_parquet(
        self,
        dest: str | os.PathLike[str],
        query: Query | None = None,
        *,
        source: Source = "auto",
        validate: bool = True,
    ) -> Any:
        """The matching rows to a Parquet file, streamed, ``.part`` renamed when complete
        (`dataframe.parquet_export`)."""
        from datagouv_sdk.dataframe.parquet_export import export_parquet

        return export_parquet(self, dest, query, source=source, validate=validate)

    def generate_client(
        self, output_dir: str | os.PathLike[str], *, package: str | None = None
    ) -> GenerationResult:
        """Generate a typed client for this resource from its swagger, through the same pinned
        openapi-python-client driver as the main packages (needs the `codegen` extra)."""
        import yaml

        from datagouv_sdk.codegen.generate import document_stamp, generate_client, load_config
        from datagouv_sdk.codegen.normalise import sha256_hex

        document = yaml.safe_load(self.swagger_text())
        if not isinstance(document, dict):
            raise errors.ResponseDecodeError(f"the swagger of {self.resource_id} is not an OpenAPI object")
        document.setdefault("servers", [{"url": str(self.http.base_url).rstrip("/")}])
        name = package or "tabular_" + self.resource_id.replace("-", "_")
        return generate_client(
            document,
            package=name,
            output_dir=Path(output_dir) / name,
            config=load_config(None, package=name),
            stamp=document_stamp(
                f"tabular resource {self.resource_id}",
                document,
                sha256_hex(document),
                regenerate="`TabularResource.generate_client()`",
            ),
        )


class MetricsModel(_MetricsCore[SyncPager[Row], Iterator[Row], ExportResult], _Sync):
    """One model of the Metrics API (``site``, ``datasets``, ``organizations``, ``reuses``,
    ``resources``, ``dataservices``). Its only export is CSV; json/jsonl go through pages."""

    def __init__(self, dg: DataGouv, model: str) -> None:
        super().__init__(dg, model)

    def column_names(self) -> list[str]:
        """The model's columns, read from one row (the Metrics API has no profile); cached per client."""
        return self._run(self._column_names())

    def schema(self) -> MetricsSchema:
        return self._run(self._schema())


class AsyncTabularResource(
    _TabularCore[AsyncPager[Row], AsyncIterator[Row], Awaitable[ExportResult]], _Async
):
    """The async twin of `TabularResource` (an `AsyncDataGouv`): the same names, awaited, except
    ``rows()`` (an `AsyncPager`) and ``iter_csv()`` (an async iterator). No `generate_client`."""

    def __init__(self, dg: AsyncDataGouv, resource_id: str) -> None:
        super().__init__(dg, resource_id)

    async def profile(self) -> Mapping[str, Any]:
        return await self._arun(self._profile())

    async def aggregation_policy(self) -> AggregationPolicy:
        return await self._arun(self._aggregation_policy())

    async def schema(self) -> ResourceSchema:
        return await self._arun(self._schema())

    async def columns(self) -> Mapping[str, ColumnInfo]:
        return (await self.schema()).columns

    async def swagger_text(self) -> str:
        return await self._arun(self._swagger_text())

    async def swagger_schema(self) -> ResourceSchema:
        return await self._arun(self._swagger_schema())

    async def to_arrow(self, query: Query | None = None, **read: Unpack[ReadKeywords]) -> Any:
        """`TabularResource.to_arrow`, run in a worker thread (pyarrow reads synchronously)."""
        from datagouv_sdk.dataframe.sources import ato_arrow

        return await ato_arrow(self, query, **read)

    async def to_pandas(
        self,
        query: Query | None = None,
        *,
        dtype_backend: DtypeBackend = "numpy_nullable",
        **read: Unpack[ReadKeywords],
    ) -> Any:
        from datagouv_sdk.dataframe.sources import ato_pandas

        return await ato_pandas(self, query, dtype_backend=dtype_backend, **read)

    async def to_polars(self, query: Query | None = None, **read: Unpack[ReadKeywords]) -> Any:
        from datagouv_sdk.dataframe.sources import ato_polars

        return await ato_polars(self, query, **read)


class AsyncMetricsModel(_MetricsCore[AsyncPager[Row], AsyncIterator[Row], Awaitable[ExportResult]], _Async):
    """The async twin of `MetricsModel`."""

    def __init__(self, dg: AsyncDataGouv, model: str) -> None:
        super().__init__(dg, model)

    async def column_names(self) -> list[str]:
        return await self._arun(self._column_names())

    async def schema(self) -> MetricsSchema:
        return await self._arun(self._schema())
