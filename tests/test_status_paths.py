"""One status → exception path: the same 429 with ``Retry-After: 30`` gives ``retry_after=30.0`` on
every way the SDK reads an answer (the review's probe found None through `link_pager` and `export`).

Each case runs against a MockTransport that answers every request with that 429; retries are off so
the first answer is the last.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from datagouv_main.api.datasets import get_dataset
from datagouv_sdk import AsyncDataGouv, DataGouv, RetryPolicy, errors
from datagouv_sdk.discovery.fetch import AsyncDocumentFetcher, DocumentFetcher
from datagouv_sdk.export.files import aiter_csv_rows, astream_to_file, iter_csv_rows, stream_to_file
from datagouv_sdk.pagination import link_pager
from datagouv_sdk.query import Query
from datagouv_sdk.tabular import AsyncMetricsModel, AsyncTabularResource, MetricsModel, TabularResource
from datagouv_sdk.uploads import aupload_resource, upload_resource

RID = "aaaaaaaa-1111-4bbb-8222-cccccccccccc"
DOC = "https://api.gouv.fr/openapi.json"  # a public host (example.org is refused as a placeholder)


def _throttled(request: httpx.Request) -> httpx.Response:
    return httpx.Response(429, json={"message": "slow down"}, headers={"Retry-After": "30"}, request=request)


def _urls() -> dict[str, Any]:
    return {
        "base_url": "http://main.test",
        "metrics_url": "http://metrics.test",
        "tabular_url": "http://tabular.test",
        "retry": RetryPolicy.none(),
    }


def _left_behind(tmp: Path) -> list[Path]:
    """What an export that failed before its first byte left on disk: nothing."""
    return [p for p in tmp.iterdir() if p.name != "f.csv"]


def _upload_file(tmp: Path) -> Path:
    path = tmp / "f.csv"
    path.write_text("a\n1\n")
    return path


SYNC_PATHS: dict[str, Callable[[DataGouv, Path], Any]] = {
    "call": lambda dg, _: dg.call(get_dataset.sync_detailed, "x"),
    "call raw": lambda dg, _: dg.call(get_dataset.sync_detailed, "x", raw=True),
    "datasets.list": lambda dg, _: list(dg.datasets.list(limit=3)),
    "resources.list": lambda dg, _: list(dg.resources.list("x")),
    "link_pager": lambda dg, _: list(
        link_pager(dg.http("tabular"), lambda n: f"api/resources/{RID}/data/?page={n}")
    ),
    "tabular profile": lambda dg, _: TabularResource(dg, RID).profile(),
    "tabular rows": lambda dg, _: list(TabularResource(dg, RID).rows(validate=False)),
    "tabular count": lambda dg, _: TabularResource(dg, RID).count(validate=False),
    "tabular swagger": lambda dg, _: TabularResource(dg, RID).swagger_text(),
    "tabular iter_csv": lambda dg, _: list(TabularResource(dg, RID).iter_csv(validate=False)),
    "tabular export stream": lambda dg, tmp: TabularResource(dg, RID).export(tmp / "o.csv", validate=False),
    "tabular export pages": lambda dg, tmp: TabularResource(dg, RID).export(
        tmp / "o.csv", Query().columns("a"), via="pages", validate=False
    ),
    "metrics rows": lambda dg, _: list(MetricsModel(dg, "site").rows(validate=False)),
    "metrics columns": lambda dg, _: MetricsModel(dg, "site").column_names(),
    "metrics count": lambda dg, _: MetricsModel(dg, "site").count(validate=False),
    "metrics iter_csv": lambda dg, _: list(MetricsModel(dg, "site").iter_csv(validate=False)),
    "metrics export": lambda dg, tmp: MetricsModel(dg, "site").export(tmp / "o.csv", validate=False),
    "stream_to_file": lambda dg, tmp: stream_to_file(dg.http("metrics"), "api/site/data/csv/", tmp / "o"),
    "iter_csv_rows": lambda dg, _: list(iter_csv_rows(dg.http("metrics"), "api/site/data/csv/")),
    "upload": lambda dg, tmp: upload_resource(dg, "x", _upload_file(tmp)),
    "upload chunked": lambda dg, tmp: upload_resource(dg, "x", _upload_file(tmp), chunk_size=2),
}


@pytest.mark.parametrize("path", list(SYNC_PATHS))
def test_rate_limit_is_the_same_on_every_sync_path(path: str, tmp_path: Path) -> None:
    with (
        DataGouv(**_urls(), transport=httpx.MockTransport(_throttled)) as dg,
        pytest.raises(errors.RateLimitError) as caught,
    ):
        SYNC_PATHS[path](dg, tmp_path)
    assert caught.value.retry_after == 30.0
    assert caught.value.message == "slow down"
    assert not _left_behind(tmp_path)


ASYNC_PATHS: dict[str, Callable[[AsyncDataGouv, Path], Awaitable[Any]]] = {
    "call": lambda dg, _: dg.call(get_dataset.asyncio_detailed, "x"),
    "call raw": lambda dg, _: dg.call(get_dataset.asyncio_detailed, "x", raw=True),
    "datasets.list": lambda dg, _: dg.datasets.list(limit=3).to_list(),
    "resources.list": lambda dg, _: dg.resources.list("x").to_list(),
    "link_pager": lambda dg, _: link_pager(
        dg.http("tabular"), lambda n: f"api/resources/{RID}/data/?page={n}"
    ).to_list(),
    "tabular profile": lambda dg, _: AsyncTabularResource(dg, RID).profile(),
    "tabular rows": lambda dg, _: _drain(AsyncTabularResource(dg, RID).rows(validate=False)),
    "tabular count": lambda dg, _: AsyncTabularResource(dg, RID).count(validate=False),
    "tabular swagger": lambda dg, _: AsyncTabularResource(dg, RID).swagger_text(),
    "tabular iter_csv": lambda dg, _: _drain(AsyncTabularResource(dg, RID).iter_csv(validate=False)),
    "tabular export stream": lambda dg, tmp: AsyncTabularResource(dg, RID).export(
        tmp / "o.csv", validate=False
    ),
    "tabular export pages": lambda dg, tmp: AsyncTabularResource(dg, RID).export(
        tmp / "o.csv", Query().columns("a"), via="pages", validate=False
    ),
    "metrics rows": lambda dg, _: _drain(AsyncMetricsModel(dg, "site").rows(validate=False)),
    "metrics columns": lambda dg, _: AsyncMetricsModel(dg, "site").column_names(),
    "metrics count": lambda dg, _: AsyncMetricsModel(dg, "site").count(validate=False),
    "metrics schema": lambda dg, _: AsyncMetricsModel(dg, "site").schema(),
    "metrics iter_csv": lambda dg, _: _drain(AsyncMetricsModel(dg, "site").iter_csv(validate=False)),
    "tabular columns": lambda dg, _: AsyncTabularResource(dg, RID).columns(),
    "tabular swagger schema": lambda dg, _: AsyncTabularResource(dg, RID).swagger_schema(),
    "metrics export": lambda dg, tmp: AsyncMetricsModel(dg, "site").export(tmp / "o.csv", validate=False),
    "astream_to_file": lambda dg, tmp: astream_to_file(dg.http("metrics"), "api/site/data/csv/", tmp / "o"),
    "aiter_csv_rows": lambda dg, _: _drain(aiter_csv_rows(dg.http("metrics"), "api/site/data/csv/")),
    "upload": lambda dg, tmp: aupload_resource(dg, "x", _upload_file(tmp)),
    "upload chunked": lambda dg, tmp: aupload_resource(dg, "x", _upload_file(tmp), chunk_size=2),
}


async def _drain(rows: Any) -> list[Any]:
    return [row async for row in rows]


@pytest.mark.parametrize("path", list(ASYNC_PATHS))
async def test_rate_limit_is_the_same_on_every_async_path(path: str, tmp_path: Path) -> None:
    async with AsyncDataGouv(**_urls(), transport=httpx.MockTransport(_throttled)) as dg:
        with pytest.raises(errors.RateLimitError) as caught:
            await ASYNC_PATHS[path](dg, tmp_path)
    assert caught.value.retry_after == 30.0
    assert caught.value.message == "slow down"
    assert not _left_behind(tmp_path)


def test_rate_limit_through_discovery_fetch() -> None:
    with (
        DocumentFetcher(transport=httpx.MockTransport(_throttled), retry=RetryPolicy.none()) as fetcher,
        pytest.raises(errors.RateLimitError) as caught,
    ):
        fetcher.fetch(DOC)
    assert caught.value.retry_after == 30.0


async def test_rate_limit_through_async_discovery_fetch() -> None:
    async with AsyncDocumentFetcher(
        transport=httpx.MockTransport(_throttled), retry=RetryPolicy.none()
    ) as fetcher:
        with pytest.raises(errors.RateLimitError) as caught:
            await fetcher.fetch(DOC)
    assert caught.value.retry_after == 30.0


def test_a_503_with_retry_after_is_throttling_on_every_entry_point() -> None:
    request = httpx.Request("GET", "http://x.test/")
    response = httpx.Response(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT"}, request=request)
    now = 1445412480.0  # 07:28:00 that day: the date is 30 s ahead
    direct = errors.error_from_response(response, now=now)
    with pytest.raises(errors.RateLimitError) as raised:
        errors.raise_for_status(response, now=now)
    assert isinstance(direct, errors.RateLimitError)
    assert direct.retry_after == raised.value.retry_after == 30.0
    assert type(errors.error_from_response(httpx.Response(503, request=request))) is errors.ServerError
