"""Lenient by default, strict on demand, through DataGouv/AsyncDataGouv (MockTransport, no peer).

A body that differs from the spec: lenient clients keep the value as sent and record where
(`model.deviations`), logging once per (schema, property); strict clients (`strict=True`,
DATAGOUV_STRICT=1, `with_options(strict=True)`) raise `errors.ResponseValidationError` naming the
operation, the JSON path, what was expected and what came, with the raw body. The generated
packages' own errors never escape `call`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import datagouv_main
import httpx
import pytest
from datagouv_main.api.datasets import get_dataset, list_datasets
from datagouv_sdk import AsyncDataGouv, Config, DataGouv, RetryPolicy, errors


@pytest.fixture(autouse=True)
def users_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about what users get by default: the suite's DATAGOUV_STRICT=1 (tests/conftest.py)
    is lifted here."""
    monkeypatch.delenv("DATAGOUV_STRICT", raising=False)


DATASET: dict[str, Any] = {
    "id": "d1",
    "slug": "a-dataset",
    "featured": False,
    "title": "A dataset",
    "description": "",
    "created_at": "2024-05-01T12:34:56.789000+00:00",
    "last_modified": "2024-05-01T12:34:56+00:00",
    "last_update": "2024-05-01T12:34:56Z",  # not Python's isoformat(): must come back as sent
    "frequency": "unknown",
    "organization": None,
    "resources": [],
    "temporal_coverage": {"start": "2012-01-01", "end": "2012-12-31"},
    "extras": {},
}


def _mocked(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> DataGouv:
    config = Config(base_url="http://127.0.0.1:9", retry=RetryPolicy.none(), **options)
    return DataGouv(config, transport=httpx.MockTransport(handler))


def _answer(body: Any) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(200, json=body)


def test_a_valid_body_round_trips_exactly_with_no_deviation() -> None:
    with _mocked(_answer(DATASET)) as dg:
        dataset = dg.datasets.get("d1")
    assert dataset.deviations == ()
    assert dataset.to_dict() == DATASET  # "Z" and date-only values come back as the server wrote them


def test_lenient_keeps_deviating_values_as_sent_and_says_where() -> None:
    body = {**DATASET, "last_modified": None, "frequency": "fortnightly", "extras": [], "title": 3}
    del body["created_at"]
    with _mocked(_answer(body)) as dg:
        dataset = dg.datasets.get("d1")
    assert dataset.to_dict() == body
    assert (dataset.last_modified, dataset.frequency, dataset.extras, dataset.title) == (
        None,
        "fortnightly",
        [],
        3,
    )
    found = {d.json_path: d for d in dataset.deviations}
    assert set(found) == {"$.created_at", "$.last_modified", "$.frequency", "$.extras", "$.title"}
    assert found["$.created_at"].missing and found["$.created_at"].expected == "date-time"
    assert (found["$.last_modified"].schema, found["$.last_modified"].property_name) == (
        "Dataset",
        "last_modified",
    )
    assert found["$.extras"].expected == "object (DatasetExtras)" and found["$.extras"].received == []
    assert "'unknown'" in found["$.frequency"].expected
    assert str(found["$.title"]) == "$.title: expected string, got 3 (Dataset.title)"


def test_nested_deviations_carry_their_path_from_the_model_asked_for() -> None:
    page = {
        "data": [DATASET, {**DATASET, "id": "d2", "resources": [{"id": "r", "metrics": []}]}],
        "page": 1,
        "page_size": 2,
        "total": 2,
        "next_page": None,
        "previous_page": None,
    }
    with _mocked(_answer(page)) as dg:
        parsed = dg.call(list_datasets.sync_detailed)
    paths = [d.json_path for d in parsed.deviations]
    assert "$.data[1].resources[0].metrics" in paths
    assert [d.json_path for d in parsed.data[1].deviations] == [
        "$" + p.removeprefix("$.data[1]") for p in paths
    ]
    assert parsed.to_dict() == page
    items = list(_mocked(_answer(page)).datasets.list())  # a page of deviating items still lists
    assert [item.id for item in items] == ["d1", "d2"]


def test_each_property_is_logged_once_per_process(caplog: pytest.LogCaptureFixture) -> None:
    body = {**DATASET, "acronym": 12}  # acronym: string | null
    with _mocked(_answer(body)) as dg, caplog.at_level(logging.WARNING, logger="datagouv_main"):
        dg.datasets.get("d1")
        dg.datasets.get("d1")
        dg.datasets.get("d1")
    lines = [r.getMessage() for r in caplog.records if "Dataset.acronym" in r.getMessage()]
    assert len(lines) <= 1  # another test may have logged it first: once per process, not per call
    if lines:
        assert "GET /datasets/{dataset}/ (get_dataset)" in lines[0] and "$.acronym" in lines[0]


def test_strict_raises_one_typed_error_naming_operation_path_expected_received() -> None:
    body = {**DATASET, "last_modified": "yesterday"}
    with _mocked(_answer(body), strict=True) as dg, pytest.raises(errors.ResponseValidationError) as caught:
        dg.datasets.get("d1")
    error = caught.value
    assert isinstance(error, errors.ResponseDecodeError) and isinstance(error, errors.DataGouvError)
    assert error.operation == "GET /datasets/{dataset}/ (get_dataset)"
    assert (error.schema, error.path, error.expected, error.received) == (
        "Dataset",
        "$.last_modified",
        "date-time",
        "yesterday",
    )
    assert error.body is not None and json.loads(error.body) == body
    assert error.response is not None and error.response.request.url.path == "/api/1/datasets/d1/"
    assert "$.last_modified: expected date-time, got 'yesterday'" in str(error)
    assert not isinstance(error, datagouv_main.errors.ResponseValidationError)  # mapped to the SDK's


@pytest.mark.parametrize(
    ("make", "strict"),
    [
        (
            lambda handler: DataGouv(base_url="http://127.0.0.1:9", transport=httpx.MockTransport(handler)),
            False,
        ),
        (
            lambda handler: DataGouv(
                base_url="http://127.0.0.1:9", strict=True, transport=httpx.MockTransport(handler)
            ),
            True,
        ),
        (
            lambda handler: DataGouv(
                base_url="http://127.0.0.1:9", transport=httpx.MockTransport(handler)
            ).with_options(strict=True),
            True,
        ),
    ],
)
def test_strictness_from_the_constructor_and_with_options(
    make: Callable[[Any], DataGouv], strict: bool
) -> None:
    dg = make(_answer({**DATASET, "title": None}))
    assert dg.config.strict is strict and dg.main.strict is strict
    if strict:
        with pytest.raises(errors.ResponseValidationError, match=r"\$\.title"):
            dg.datasets.get("d1")
    else:
        assert dg.datasets.get("d1").title is None


def test_datagouv_strict_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for text, expected in (("1", True), ("true", True), ("off", False), ("", False)):
        assert Config.from_env(environ={"DATAGOUV_STRICT": text}).strict is expected
    with pytest.raises(errors.UsageError, match="DATAGOUV_STRICT"):
        Config.from_env(environ={"DATAGOUV_STRICT": "maybe"})
    monkeypatch.setenv("DATAGOUV_STRICT", "1")
    assert DataGouv().config.strict is True
    assert DataGouv(strict=False).config.strict is False  # an argument wins over the environment


async def test_async_client_is_lenient_and_strict_alike() -> None:
    body = {**DATASET, "organization": []}
    transport = httpx.MockTransport(_answer(body))
    async with AsyncDataGouv(base_url="http://127.0.0.1:9", transport=transport) as adg:
        dataset = await adg.datasets.get("d1")
        assert dataset.organization == [] and [d.json_path for d in dataset.deviations] == ["$.organization"]
        with pytest.raises(errors.ResponseValidationError) as caught:
            await adg.with_options(strict=True).datasets.get("d1")
    assert caught.value.expected == "null | object (OrganizationReference)" and caught.value.received == []


def test_a_body_that_is_not_json_is_a_decode_error_with_the_response() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>maintenance</html>", headers={"content-type": "text/html"})

    with _mocked(handler) as dg, pytest.raises(errors.ResponseDecodeError) as caught:
        dg.datasets.get("d1")
    assert not isinstance(caught.value, errors.ResponseValidationError)
    assert caught.value.response is not None and caught.value.body == b"<html>maintenance</html>"


def test_the_body_itself_of_the_wrong_type_is_kept() -> None:
    with _mocked(_answer(["not", "an", "object"])) as dg:
        assert dg.datasets.get("d1") == ["not", "an", "object"]
    with _mocked(_answer(["x"]), strict=True) as dg, pytest.raises(errors.ResponseValidationError) as caught:
        dg.datasets.get("d1")
    assert (caught.value.path, caught.value.schema) == ("$", "get_dataset 200 response")


def test_a_generated_response_carries_the_httpx_response_and_deviations() -> None:
    body = {**DATASET, "title": None}
    with _mocked(_answer(body)) as dg:
        response = get_dataset.sync_detailed("d1", client=dg.main)
    assert isinstance(response.http_response, httpx.Response) and response.http_response.json() == body
    assert [d.json_path for d in response.deviations] == ["$.title"]
    request = get_dataset.request_kwargs("a b")  # the public request builder
    assert (request["method"], request["url"]) == ("get", "/datasets/a%20b/")


def test_arguments_are_checked_before_anything_is_sent() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=DATASET)

    with _mocked(handler) as dg:
        with pytest.raises(errors.UsageError, match="get_dataset"):
            dg.call(get_dataset.sync_detailed)  # the dataset is missing
        with pytest.raises(errors.UsageError, match="not an endpoint of a client generated"):
            dg.call(lambda client: None, client=dg.main)
    assert sent == []


def test_a_field_mask_leaves_properties_out_without_deviations(caplog: pytest.LogCaptureFixture) -> None:
    with _mocked(_answer({"id": "d1", "title": "Kept"}), strict=True) as dg:
        dataset = dg.datasets.get("d1", fields=["id", "title"])  # required properties left out on purpose
    assert (dataset.id, dataset.title) == ("d1", "Kept")
    with (
        _mocked(_answer({"id": "d1", "title": None}), strict=True) as dg,
        pytest.raises(errors.ResponseValidationError) as caught,
    ):
        dg.datasets.get("d1", fields=["id", "title"])  # what the mask asked for is still checked
    assert caught.value.path == "$.title" and len(caught.value.deviations) == 1
    with (
        _mocked(_answer({"id": "d1", "title": 5})) as dg,
        caplog.at_level(logging.WARNING, logger="datagouv_main"),
    ):
        dg.datasets.get("d1", fields=["id", "title"])
    assert not [r for r in caplog.records if "missing" in r.getMessage()]
