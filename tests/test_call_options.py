"""What every call takes besides the operation's own arguments: `fields=` (X-Fields), `extra_query=`,
`extra_headers=`, and the response form (`dg.with_response`); over a MockTransport."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from datagouv_main.api.datasets import get_dataset, list_datasets
from datagouv_main.api.site import get_site
from datagouv_sdk import AsyncDataGouv, DataGouv, RetryPolicy, errors
from datagouv_sdk._call import APIResponse

# The fields DatasetRead requires, as udata sends them.
DATASET = {
    "id": "d1",
    "title": "Bike stations",
    "slug": "bike-stations",
    "description": "Where to park.",
    "featured": False,
    "frequency": "unknown",
    "created_at": "2024-01-01T10:00:00+00:00",
    "last_modified": "2024-05-01T10:00:00+00:00",
    "last_update": "2024-05-01T10:00:00+00:00",
}
PAGE = {"data": [DATASET], "page": 1, "page_size": 20, "total": 1, "next_page": None, "previous_page": None}


class Recorder:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("/missing/"):
            return httpx.Response(404, json={"message": "Not found"}, headers={"X-Trace": "t-404"})
        if request.url.path in ("/api/1/datasets/", "/api/2/datasets/search/"):
            return httpx.Response(200, json={**PAGE, "facets": {}}, headers={"ETag": '"p1"'})
        return httpx.Response(200, json=DATASET, headers={"ETag": '"d1"', "X-RateLimit-Remaining": "99"})


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def dg(recorder: Recorder) -> Iterator[DataGouv]:
    with DataGouv(
        base_url="http://main.test", retry=RetryPolicy.none(), transport=httpx.MockTransport(recorder)
    ) as client:
        yield client


def test_fields_send_x_fields_and_wrap_listings(dg: DataGouv, recorder: Recorder) -> None:
    dg.datasets.get("d1", fields=["id", "resources{id,url}"], raw=True)
    dg.datasets.list(fields="id,title", raw=True).first_page()
    dg.datasets.search("velo", fields=["id"], raw=True).first_page()
    dg.call(get_dataset.sync_detailed, "d1", fields="id", raw=True)
    masks = [r.headers.get("X-Fields") for r in recorder.requests]
    assert masks == [
        "id,resources{id,url}",
        "data{id,title},page,page_size,total,next_page,previous_page",
        "data{id},page,page_size,total,facets,next_page,previous_page",
        "id",
    ]


def test_a_bad_mask_or_an_operation_without_masks_is_refused_before_sending(
    dg: DataGouv, recorder: Recorder
) -> None:
    with pytest.raises(errors.UsageError, match="unclosed"):
        dg.datasets.get("d1", fields="resources{id")
    from datagouv_main_v2.api.datasets import get_dataset_extras

    with pytest.raises(errors.UsageError, match="takes no field mask"):
        dg.call(get_dataset_extras.sync_detailed, "d1", fields="id")
    assert recorder.requests == []


def test_extra_query_and_headers_reach_the_request(dg: DataGouv, recorder: Recorder) -> None:
    dg.datasets.list(
        tag="velo",
        extra_query={
            "new_filter": "x",
            "flags": ["a", "b"],
            "archived": False,
            "tag": "bus",
            "page_size": None,
        },
        extra_headers={"Accept-Language": "fr", "X-Get-Datasets-Full-Objects": "true"},
        page_size=5,
        raw=True,
    ).first_page()
    dg.datasets.get("d1", extra_headers={"x-fields": "id"}, raw=True)  # headers are case-insensitive
    listing, one = recorder.requests
    params = listing.url.params
    assert params.get_list("flags") == ["a", "b"] and params["new_filter"] == "x"
    assert params["archived"] == "false" and params.get_list("tag") == ["bus"]  # replaced
    assert "page_size" not in params  # None removes what the function would send
    assert (
        listing.headers["Accept-Language"] == "fr"
        and listing.headers["X-Get-Datasets-Full-Objects"] == "true"
    )
    assert one.headers["X-Fields"] == "id"


def test_extra_headers_must_be_text(dg: DataGouv) -> None:
    with pytest.raises(errors.UsageError, match="extra_headers"):
        dg.datasets.get("d1", extra_headers={"X-Count": 3})  # type: ignore[dict-item]


def test_the_key_stays_on_its_host_whatever_extra_headers_say(recorder: Recorder) -> None:
    key = "udata_" + "k" * 64
    with DataGouv(
        base_url="http://main.test",
        tabular_url="http://tabular.test",
        api_key=key,
        retry=RetryPolicy.none(),
        transport=httpx.MockTransport(recorder),
    ) as dg:
        from datagouv_tabular.api.health import get_health

        dg.call(get_health.sync_detailed, raw=True, extra_headers={"X-API-KEY": key})
        dg.datasets.get("d1", raw=True)
    assert [r.headers.get("X-API-KEY") for r in recorder.requests] == [None, key]


def test_with_response_gives_status_headers_url_elapsed_and_parses_on_demand(
    dg: DataGouv, recorder: Recorder
) -> None:
    response = dg.with_response.datasets.get("d1")
    assert isinstance(response, APIResponse)
    assert response.status_code == 200 and response.headers["ETag"] == '"d1"'
    assert str(response.url) == "http://main.test/api/1/datasets/d1/" and response.method == "GET"
    assert isinstance(response.elapsed, dt.timedelta)
    assert response.json() == DATASET
    model = response.parse()
    assert model.title == "Bike stations" and type(model).__name__ == "Dataset"
    raw = dg.with_response.call(get_dataset.sync_detailed, "d1", raw=True)
    assert raw.parse() == DATASET
    page = dg.with_response.datasets.list(page_size=2)
    assert page.headers["ETag"] == '"p1"' and page.parse().total == 1
    assert len(recorder.requests) == 3  # one request per call, parsing sends nothing


def test_with_response_still_raises_status_errors(dg: DataGouv) -> None:
    with pytest.raises(errors.NotFoundError) as caught:
        dg.with_response.call(get_dataset.sync_detailed, "missing")
    assert caught.value.headers["X-Trace"] == "t-404"


def test_with_response_shares_the_connections_and_leaves_the_client_as_it_was(dg: DataGouv) -> None:
    view = dg.with_response
    assert view.call(get_site.sync_detailed).status_code == 200
    assert dg.datasets.get("d1").title == "Bike stations"  # the client itself still parses
    assert view.config == dg.config


async def test_async_twins(recorder: Recorder) -> None:
    async with AsyncDataGouv(
        base_url="http://main.test", retry=RetryPolicy.none(), transport=httpx.MockTransport(recorder)
    ) as adg:
        response = await adg.with_response.datasets.get("d1", fields="id,title")
        assert response.status_code == 200 and response.parse().slug == "bike-stations"
        body: Any = await adg.call(list_datasets.asyncio_detailed, extra_query={"x": "1"}, raw=True)
        assert body["total"] == 1
        page = await adg.with_response.datasets.list(page_size=2)
        assert (
            page.headers["ETag"] == '"p1"'
            and (await adg.with_response.datasets.search("v")).status_code == 200
        )
    assert recorder.requests[0].headers["X-Fields"] == "id,title"
    assert recorder.requests[1].url.params["x"] == "1"
    assert len(recorder.requests) == 4
