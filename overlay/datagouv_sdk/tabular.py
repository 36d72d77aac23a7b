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
`export.files.ExportTooLargeError`), "pages" (``/data/`` page by page, as many rows a request as the
server accepts: `server_facts`), "auto" (stream, and pages when the cap is hit). ``rows(q,
page_size=None)`` pages at that size too; an explicit ``page_size`` above the server's limit is a
UsageError naming it.

`AsyncTabularResource` / `AsyncMetricsModel` are the async twins (an `AsyncDataGouv`).
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import httpx

from datagouv_sdk import errors
from datagouv_sdk.export.files import (
    ExportResult,
    ExportTooLargeError,
    Progress,
    aiter_csv_rows,
    astream_to_file,
    awrite_rows,
    check_row_count,
    iter_csv_rows,
    stream_to_file,
    write_rows,
)
from datagouv_sdk.pagination import AsyncPager, LinkPage, Page, PageInfo, SyncPager
from datagouv_sdk.query.builder import Query
from datagouv_sdk.query.schema import AggregationPolicy, ColumnInfo, MetricsSchema, ResourceSchema
from datagouv_sdk.query.wire import Dialect, needs_dialect
from datagouv_sdk.server_facts import facts_for

if TYPE_CHECKING:
    from datagouv_sdk.client import AsyncDataGouv, DataGouv
    from datagouv_sdk.codegen.generate import GenerationResult

__all__ = [
    "AsyncMetricsModel",
    "AsyncTabularResource",
    "ExportVia",
    "MetricsModel",
    "TabularResource",
    "clear_cache",
]

ExportVia = Literal["stream", "pages", "auto"]
# Rows asked for when only meta.total is wanted (api_tabular's own default page size).
COUNT_PAGE_SIZE = 20


class _ClientCache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.profiles: dict[str, Mapping[str, Any]] = {}
        self.aggregation: AggregationPolicy | None = None
        self.metrics_columns: dict[str, list[str]] = {}


# One cache per client: profiles rarely change, and a new client (new base URL) starts afresh.
_CACHES: weakref.WeakKeyDictionary[Any, _ClientCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def _cache(dg: DataGouv | AsyncDataGouv) -> _ClientCache:
    with _CACHES_LOCK:
        cache = _CACHES.get(dg)
        if cache is None:
            cache = _CACHES[dg] = _ClientCache()
        return cache


def clear_cache(dg: DataGouv | AsyncDataGouv) -> None:
    """Forget the profiles and aggregation list cached for `dg`."""
    with _CACHES_LOCK:
        _CACHES.pop(dg, None)


def _get_json(http: httpx.Client, url: str) -> Any:
    response = http.get(url)
    errors.raise_for_status(response)
    return errors.decode_json(response)


def _page_of(info: PageInfo) -> int:
    # Only the page number is taken from links.next: the query itself is always rendered by us
    # (the server writes its links from the decoded query, which does not round-trip every value).
    if info.page is not None:
        return info.page
    value = httpx.URL(info.url or "").params.get("page")
    try:
        return int(value) if value is not None else 1
    except ValueError as exc:
        raise errors.ResponseDecodeError(f"links.next has no usable page number: {info.url}") from exc


def _dialect(dg: Any, http: httpx.Client, query: Query) -> Dialect | None:
    """The server's dialect, read once from /health/ when `query` needs it (None: the newest)."""
    if not needs_dialect(query):
        return None
    facts, base = facts_for(dg), str(http.base_url)
    dialect = facts.dialect(base)
    if dialect is None:
        body = _get_json(http, "health/")
        dialect = facts.learn_dialect(base, body.get("version") if isinstance(body, Mapping) else None)
    return dialect


def _page_plan(dg: Any, api: str, http: httpx.Client | httpx.AsyncClient, page_size: int | None) -> int:
    facts, base = facts_for(dg), str(http.base_url)
    if page_size is None:
        return facts.largest(api, base)
    facts.check(api, base, page_size)
    return page_size


class _PageSize:
    """One pager's page size: a size left to the SDK follows the limit the server names (once, on the
    first page); a size the caller chose turns the server's refusal into a UsageError naming it."""

    def __init__(
        self, dg: Any, api: str, http: httpx.Client | httpx.AsyncClient, page_size: int | None
    ) -> None:
        self.facts, self.api, self.base = facts_for(dg), api, str(http.base_url)
        self.auto = page_size is None
        self.size = _page_plan(dg, api, http, page_size)

    def retry_after(self, error: errors.BadRequestError, page: int) -> bool:
        learned = self.facts.refused(self.api, self.base, self.size, error)
        if learned is None:
            return False
        if not self.auto or page != 1:
            raise self.facts.too_large(self.api, self.base, self.size, learned) from error
        self.size = learned
        return True


def _pager(
    http: httpx.Client,
    path: str,
    query: Query,
    *,
    page_size: int | None,
    limit: int | None,
    convert: Any,
    dg: Any,
    api: str,
) -> SyncPager[Any]:
    size = _PageSize(dg, api, http, page_size)
    dialect = _dialect(dg, http, query)

    def fetch(info: PageInfo) -> Page[Any]:
        page = _page_of(info)
        while True:
            url = f"{path}?{query.query_string(page=page, page_size=size.size, dialect=dialect)}"
            try:
                return LinkPage.from_body(_get_json(http, url), convert)
            except errors.BadRequestError as exc:
                if not size.retry_after(exc, page):
                    raise

    return SyncPager(fetch, start=PageInfo(page=1), limit=limit)


async def _aget_json(http: httpx.AsyncClient, url: str) -> Any:
    response = await http.get(url)
    await errors.araise_for_status(response)
    return errors.decode_json(response)


async def _adialect(dg: Any, http: httpx.AsyncClient, query: Query) -> Dialect | None:
    if not needs_dialect(query):
        return None
    facts, base = facts_for(dg), str(http.base_url)
    dialect = facts.dialect(base)
    if dialect is None:
        body = await _aget_json(http, "health/")
        dialect = facts.learn_dialect(base, body.get("version") if isinstance(body, Mapping) else None)
    return dialect


def _apager(
    http: httpx.AsyncClient,
    path: str,
    query: Query,
    *,
    page_size: int | None,
    limit: int | None,
    convert: Any,
    dg: Any,
    api: str,
) -> AsyncPager[Any]:
    size = _PageSize(dg, api, http, page_size)

    async def fetch(info: PageInfo) -> Page[Any]:
        page = _page_of(info)
        dialect = await _adialect(dg, http, query)
        while True:
            url = f"{path}?{query.query_string(page=page, page_size=size.size, dialect=dialect)}"
            try:
                return LinkPage.from_body(await _aget_json(http, url), convert)
            except errors.BadRequestError as exc:
                if not size.retry_after(exc, page):
                    raise

    return AsyncPager(fetch, start=PageInfo(page=1), limit=limit)


def _complete_rows(pager: SyncPager[Any], where: str) -> Iterator[Any]:
    """The rows of a paged export; at the end, their number must equal the first page's meta.total
    (when the server gives one: not for aggregations), else IncompleteExportError before the rename."""
    total, seen = None, 0
    for number, page in enumerate(pager.iter_pages()):
        if number == 0:
            total = page.total
        for item in page.items:
            seen += 1
            yield item
    check_row_count(seen, total, where)


async def _acomplete_rows(pager: AsyncPager[Any], where: str) -> AsyncIterator[Any]:
    total, seen, first = None, 0, True
    async for page in pager.iter_pages():
        if first:
            total, first = page.total, False
        for item in page.items:
            seen += 1
            yield item
    check_row_count(seen, total, where)


def _counting(count_rows: bool | None, progress: Progress | None) -> bool:
    # Counting CSV rows while streaming scans every byte again (~15 % of throughput on large
    # exports): by default only when someone watches the progress.
    return count_rows if count_rows is not None else progress is not None


def _check_export(via: str, format: str) -> None:
    if via not in ("stream", "pages", "auto"):
        raise errors.UsageError(f"via must be 'stream', 'pages' or 'auto', got {via!r}")
    if format not in ("csv", "json", "jsonl"):
        raise errors.UsageError(f"format must be csv, json or jsonl, got {format!r}")


def _url(path: str, query: Query, dialect: Dialect | None = None) -> str:
    qs = query.query_string(dialect=dialect)
    return f"{path}?{qs}" if qs else path


class TabularResource:
    """One resource of the Tabular API (see the module docstring)."""

    def __init__(self, dg: DataGouv, resource_id: str) -> None:
        if not resource_id or "/" in resource_id:
            raise errors.UsageError(f"not a resource id: {resource_id!r}")
        self._dg = dg
        self.resource_id = resource_id
        self._base = f"api/resources/{resource_id}"

    @property
    def http(self) -> httpx.Client:
        return self._dg.http("tabular")

    # --- what the resource is ------------------------------------------------------------------
    def profile(self) -> Mapping[str, Any]:
        """The raw ``/profile/`` body (csv_detective profile, indexes), cached per client."""
        cache = _cache(self._dg)
        body = cache.profiles.get(self.resource_id)
        if body is None:
            fetched = _get_json(self.http, f"{self._base}/profile/")
            if not isinstance(fetched, Mapping):
                raise errors.ResponseDecodeError(f"the profile of {self.resource_id} is not a JSON object")
            with cache.lock:
                body = cache.profiles.setdefault(self.resource_id, fetched)
        return body

    def aggregation_policy(self) -> AggregationPolicy:
        cache = _cache(self._dg)
        if cache.aggregation is None:
            cache.aggregation = AggregationPolicy.from_body(
                _get_json(self.http, "api/aggregation-exceptions/")
            )
        return cache.aggregation

    def schema(self) -> ResourceSchema:
        return ResourceSchema.from_profile(
            self.resource_id,
            self.profile(),
            aggregation_allowed=self.aggregation_policy().allows(self.resource_id),
        )

    @property
    def columns(self) -> Mapping[str, ColumnInfo]:
        """Column name → type and allowed operators (``__id`` included)."""
        return self.schema().columns

    def swagger_text(self) -> str:
        """The per-resource OpenAPI 3 document (YAML, served as text/plain)."""
        response = self.http.get(f"{self._base}/swagger/")
        errors.raise_for_status(response)
        return response.text

    def swagger_schema(self) -> ResourceSchema:
        """The schema as the per-resource swagger advertises it (for indexed resources: indexed
        columns only)."""
        return ResourceSchema.from_swagger(self.resource_id, self.swagger_text())

    # --- reading -------------------------------------------------------------------------------
    def _checked(self, query: Query | None, validate: bool) -> Query:
        q = query if query is not None else Query()
        if validate:
            self.schema().validate(q)
        else:
            q.check_shape()
        return q

    def rows(
        self,
        query: Query | None = None,
        *,
        typed: bool = False,
        page_size: int | None = None,
        limit: int | None = None,
        validate: bool = True,
    ) -> SyncPager[dict[str, Any]]:
        """A pager over the rows of ``/data/`` matching `query`; ``typed`` converts values per column type."""
        q = self._checked(query, validate)
        convert: Any = self.schema().convert_row if typed else dict
        return _pager(
            self.http,
            f"{self._base}/data/",
            q,
            page_size=page_size,
            limit=limit,
            convert=convert,
            dg=self._dg,
            api="tabular",
        )

    def count(self, query: Query | None = None, *, validate: bool = True) -> int | None:
        """How many rows match (``meta.total``); None for aggregations (the server omits it)."""
        q = self._checked(query, validate)
        # Not page_size=1: api_tabular answers total=0 for it on some resources.
        page = self.rows(q, page_size=COUNT_PAGE_SIZE, validate=False).first_page()
        return page.total

    def iter_csv(
        self, query: Query | None = None, *, typed: bool = False, validate: bool = True
    ) -> Iterator[dict[str, Any]]:
        """Rows read lazily from the CSV export (one request; subject to the export cap)."""
        q = self._checked(query, validate)
        schema = self.schema() if typed else None
        for row in iter_csv_rows(
            self.http, _url(f"{self._base}/data/csv/", q, _dialect(self._dg, self.http, q))
        ):
            yield schema.convert_row(row) if schema is not None else dict(row)

    def export(
        self,
        dest: str | os.PathLike[str],
        query: Query | None = None,
        *,
        format: Literal["csv", "json", "jsonl"] = "csv",
        via: ExportVia = "stream",
        progress: Progress | None = None,
        validate: bool = True,
        count_rows: bool | None = None,
        durable: bool = False,
    ) -> ExportResult:
        """Write the matching rows to `dest` (see the module docstring for `via`); "jsonl" exists only
        through pages. Streamed CSV rows are counted (`result.rows`) when `count_rows` is true, or
        when it is None and a `progress` callback is given; `durable` fsyncs before the final rename."""
        _check_export(via, format)
        q = self._checked(query, validate)
        if via != "pages" and format != "jsonl":
            try:
                return stream_to_file(
                    self.http,
                    _url(f"{self._base}/data/{format}/", q, _dialect(self._dg, self.http, q)),
                    dest,
                    progress=progress,
                    count_rows=format == "csv" and _counting(count_rows, progress),
                    expected_rows=self.count(q, validate=False)
                    if format == "csv" and _counting(count_rows, progress)
                    else None,
                    durable=durable,
                )
            except ExportTooLargeError:
                if via == "stream":
                    raise
        columns = list(q.selected) if q.selected else None
        if columns is None and not q.aggregates:
            columns = [c for c in self.schema().columns]
        pager = _pager(
            self.http,
            f"{self._base}/data/",
            q,
            page_size=None,
            limit=None,
            convert=dict,
            dg=self._dg,
            api="tabular",
        )
        return write_rows(
            dest,
            _complete_rows(pager, str(self.http.base_url)),
            format,
            columns=columns,
            progress=progress,
            durable=durable,
        )

    # --- typed client --------------------------------------------------------------------------
    def generate_client(
        self, output_dir: str | os.PathLike[str], *, package: str | None = None
    ) -> GenerationResult:
        """Generate a typed client for this resource from its swagger, through the same pinned
        openapi-python-client driver as the main packages (needs the `codegen` extra)."""
        import yaml

        from datagouv_sdk.codegen.generate import document_stamp, generate_client, load_config
        from datagouv_sdk.codegen.normalise import sha256_hex

        text = self.swagger_text()
        document = yaml.safe_load(text)
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


class MetricsModel:
    """One model of the Metrics API (``site``, ``datasets``, ``organizations``, ``reuses``,
    ``resources``, ``dataservices``)."""

    def __init__(self, dg: DataGouv, model: str) -> None:
        if not model or "/" in model:
            raise errors.UsageError(f"not a metrics model name: {model!r}")
        self._dg = dg
        self.model = model
        self._base = f"api/{model}/data"

    @property
    def http(self) -> httpx.Client:
        return self._dg.http("metrics")

    def column_names(self) -> list[str]:
        """The model's columns, read from one row (the Metrics API has no profile); cached per client."""
        cache = _cache(self._dg)
        names = cache.metrics_columns.get(self.model)
        if names is None:
            body = _get_json(self.http, f"{self._base}/?page_size=1")
            data = body.get("data") if isinstance(body, Mapping) else None
            if not isinstance(data, list):
                raise errors.ResponseDecodeError(f"metrics model {self.model}: no 'data' list in the answer")
            names = list(data[0]) if data else []
            if names:  # an empty model teaches nothing: ask again next time
                cache.metrics_columns[self.model] = names
        return names

    def schema(self) -> MetricsSchema:
        names = self.column_names()
        return MetricsSchema(self.model, names or None)

    def _checked(self, query: Query | None, validate: bool) -> Query:
        q = query if query is not None else Query()
        if validate:
            self.schema().validate(q)
        else:
            q.check_shape()
        return q

    def rows(
        self,
        query: Query | None = None,
        *,
        page_size: int | None = None,
        limit: int | None = None,
        validate: bool = True,
    ) -> SyncPager[dict[str, Any]]:
        q = self._checked(query, validate)
        return _pager(
            self.http,
            f"{self._base}/",
            q,
            page_size=page_size,
            limit=limit,
            convert=dict,
            dg=self._dg,
            api="metrics",
        )

    def count(self, query: Query | None = None, *, validate: bool = True) -> int | None:
        q = self._checked(query, validate)
        return self.rows(q, page_size=COUNT_PAGE_SIZE, validate=False).first_page().total

    def iter_csv(self, query: Query | None = None, *, validate: bool = True) -> Iterator[dict[str, str]]:
        q = self._checked(query, validate)
        yield from iter_csv_rows(self.http, _url(f"{self._base}/csv/", q, _dialect(self._dg, self.http, q)))

    def export(
        self,
        dest: str | os.PathLike[str],
        query: Query | None = None,
        *,
        format: Literal["csv", "json", "jsonl"] = "csv",
        via: ExportVia = "stream",
        progress: Progress | None = None,
        validate: bool = True,
        count_rows: bool | None = None,
        durable: bool = False,
    ) -> ExportResult:
        """CSV streamed from ``/data/csv/`` (the only export Metrics has), or any format through pages."""
        _check_export(via, format)
        q = self._checked(query, validate)
        if format != "csv" and via == "stream":
            raise errors.UsageError("the Metrics API exports CSV only; use via='pages' for json/jsonl")
        if format == "csv" and via != "pages":
            try:
                return stream_to_file(
                    self.http,
                    _url(f"{self._base}/csv/", q, _dialect(self._dg, self.http, q)),
                    dest,
                    progress=progress,
                    count_rows=_counting(count_rows, progress),
                    expected_rows=self.count(q, validate=False) if _counting(count_rows, progress) else None,
                    durable=durable,
                )
            except ExportTooLargeError:
                if via == "stream":
                    raise
        columns = list(q.selected) if q.selected else (self.column_names() or None)
        pager = _pager(
            self.http,
            f"{self._base}/",
            q,
            page_size=None,
            limit=None,
            convert=dict,
            dg=self._dg,
            api="metrics",
        )
        return write_rows(
            dest,
            _complete_rows(pager, str(self.http.base_url)),
            format,
            columns=columns,
            progress=progress,
            durable=durable,
        )


# --- async twins ---------------------------------------------------------------------------------


class AsyncTabularResource:
    """The async twin of `TabularResource` (an `AsyncDataGouv`): the same names, awaited;
    ``rows()`` and ``iter_csv()`` are async iterators (``async for row in res.rows(q)``) that
    validate before their first request."""

    def __init__(self, dg: AsyncDataGouv, resource_id: str) -> None:
        if not resource_id or "/" in resource_id:
            raise errors.UsageError(f"not a resource id: {resource_id!r}")
        self._dg = dg
        self.resource_id = resource_id
        self._base = f"api/resources/{resource_id}"

    @property
    def http(self) -> httpx.AsyncClient:
        return self._dg.http("tabular")

    async def profile(self) -> Mapping[str, Any]:
        cache = _cache(self._dg)
        body = cache.profiles.get(self.resource_id)
        if body is None:
            fetched = await _aget_json(self.http, f"{self._base}/profile/")
            if not isinstance(fetched, Mapping):
                raise errors.ResponseDecodeError(f"the profile of {self.resource_id} is not a JSON object")
            body = cache.profiles.setdefault(self.resource_id, fetched)
        return body

    async def aggregation_policy(self) -> AggregationPolicy:
        cache = _cache(self._dg)
        if cache.aggregation is None:
            cache.aggregation = AggregationPolicy.from_body(
                await _aget_json(self.http, "api/aggregation-exceptions/")
            )
        return cache.aggregation

    async def schema(self) -> ResourceSchema:
        profile = await self.profile()
        policy = await self.aggregation_policy()
        return ResourceSchema.from_profile(
            self.resource_id, profile, aggregation_allowed=policy.allows(self.resource_id)
        )

    async def swagger_text(self) -> str:
        response = await self.http.get(f"{self._base}/swagger/")
        await errors.araise_for_status(response)
        return response.text

    async def _checked(self, query: Query | None, validate: bool) -> Query:
        q = query if query is not None else Query()
        if validate:
            (await self.schema()).validate(q)
        else:
            q.check_shape()
        return q

    async def rows(
        self,
        query: Query | None = None,
        *,
        typed: bool = False,
        page_size: int | None = None,
        limit: int | None = None,
        validate: bool = True,
    ) -> AsyncIterator[dict[str, Any]]:
        q = await self._checked(query, validate)
        convert: Any = (await self.schema()).convert_row if typed else dict
        pager = _apager(
            self.http,
            f"{self._base}/data/",
            q,
            page_size=page_size,
            limit=limit,
            convert=convert,
            dg=self._dg,
            api="tabular",
        )
        async for row in pager:
            yield row

    async def count(self, query: Query | None = None, *, validate: bool = True) -> int | None:
        q = await self._checked(query, validate)
        pager = _apager(
            self.http,
            f"{self._base}/data/",
            q,
            page_size=COUNT_PAGE_SIZE,
            limit=None,
            convert=dict,
            dg=self._dg,
            api="tabular",
        )
        return (await pager.first_page()).total

    async def iter_csv(
        self, query: Query | None = None, *, typed: bool = False, validate: bool = True
    ) -> AsyncIterator[dict[str, Any]]:
        q = await self._checked(query, validate)
        schema = await self.schema() if typed else None
        url = _url(f"{self._base}/data/csv/", q, await _adialect(self._dg, self.http, q))
        async for row in aiter_csv_rows(self.http, url):
            yield schema.convert_row(row) if schema is not None else dict(row)

    async def export(
        self,
        dest: str | os.PathLike[str],
        query: Query | None = None,
        *,
        format: Literal["csv", "json", "jsonl"] = "csv",
        via: ExportVia = "stream",
        progress: Progress | None = None,
        validate: bool = True,
        count_rows: bool | None = None,
        durable: bool = False,
    ) -> ExportResult:
        _check_export(via, format)
        q = await self._checked(query, validate)
        if via != "pages" and format != "jsonl":
            try:
                return await astream_to_file(
                    self.http,
                    _url(f"{self._base}/data/{format}/", q, await _adialect(self._dg, self.http, q)),
                    dest,
                    progress=progress,
                    count_rows=format == "csv" and _counting(count_rows, progress),
                    expected_rows=await self.count(q, validate=False)
                    if format == "csv" and _counting(count_rows, progress)
                    else None,
                    durable=durable,
                )
            except ExportTooLargeError:
                if via == "stream":
                    raise
        columns = list(q.selected) if q.selected else None
        if columns is None and not q.aggregates:
            columns = list((await self.schema()).columns)
        pager = _apager(
            self.http,
            f"{self._base}/data/",
            q,
            page_size=None,
            limit=None,
            convert=dict,
            dg=self._dg,
            api="tabular",
        )
        return await awrite_rows(
            dest,
            _acomplete_rows(pager, str(self.http.base_url)),
            format,
            columns=columns,
            progress=progress,
            durable=durable,
        )


class AsyncMetricsModel:
    """The async twin of `MetricsModel`."""

    async def _count(self, query: Query) -> int | None:
        pager = _apager(
            self.http,
            f"{self._base}/",
            query,
            page_size=COUNT_PAGE_SIZE,
            limit=None,
            convert=dict,
            dg=self._dg,
            api="metrics",
        )
        return (await pager.first_page()).total

    def __init__(self, dg: AsyncDataGouv, model: str) -> None:
        if not model or "/" in model:
            raise errors.UsageError(f"not a metrics model name: {model!r}")
        self._dg = dg
        self.model = model
        self._base = f"api/{model}/data"

    @property
    def http(self) -> httpx.AsyncClient:
        return self._dg.http("metrics")

    async def column_names(self) -> list[str]:
        cache = _cache(self._dg)
        names = cache.metrics_columns.get(self.model)
        if names is None:
            body = await _aget_json(self.http, f"{self._base}/?page_size=1")
            data = body.get("data") if isinstance(body, Mapping) else None
            if not isinstance(data, list):
                raise errors.ResponseDecodeError(f"metrics model {self.model}: no 'data' list in the answer")
            names = list(data[0]) if data else []
            if names:
                cache.metrics_columns[self.model] = names
        return names

    async def _checked(self, query: Query | None, validate: bool) -> Query:
        q = query if query is not None else Query()
        if validate:
            MetricsSchema(self.model, (await self.column_names()) or None).validate(q)
        else:
            q.check_shape()
        return q

    async def rows(
        self,
        query: Query | None = None,
        *,
        page_size: int | None = None,
        limit: int | None = None,
        validate: bool = True,
    ) -> AsyncIterator[dict[str, Any]]:
        q = await self._checked(query, validate)
        async for row in _apager(
            self.http,
            f"{self._base}/",
            q,
            page_size=page_size,
            limit=limit,
            convert=dict,
            dg=self._dg,
            api="metrics",
        ):
            yield row

    async def export(
        self,
        dest: str | os.PathLike[str],
        query: Query | None = None,
        *,
        format: Literal["csv", "json", "jsonl"] = "csv",
        via: ExportVia = "stream",
        progress: Progress | None = None,
        validate: bool = True,
        count_rows: bool | None = None,
        durable: bool = False,
    ) -> ExportResult:
        _check_export(via, format)
        q = await self._checked(query, validate)
        if format != "csv" and via == "stream":
            raise errors.UsageError("the Metrics API exports CSV only; use via='pages' for json/jsonl")
        if format == "csv" and via != "pages":
            try:
                return await astream_to_file(
                    self.http,
                    _url(f"{self._base}/csv/", q, await _adialect(self._dg, self.http, q)),
                    dest,
                    progress=progress,
                    count_rows=_counting(count_rows, progress),
                    expected_rows=await self._count(q) if _counting(count_rows, progress) else None,
                    durable=durable,
                )
            except ExportTooLargeError:
                if via == "stream":
                    raise
        columns = list(q.selected) if q.selected else ((await self.column_names()) or None)
        pager = _apager(
            self.http,
            f"{self._base}/",
            q,
            page_size=None,
            limit=None,
            convert=dict,
            dg=self._dg,
            api="metrics",
        )
        return await awrite_rows(
            dest,
            _acomplete_rows(pager, str(self.http.base_url)),
            format,
            columns=columns,
            progress=progress,
            durable=durable,
        )
