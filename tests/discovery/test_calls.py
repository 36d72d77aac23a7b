"""Calling a discovered API's operations against the real recording server: arguments checked
before sending, path parameters encoded, typed errors, retries, credentials scoped to the origin."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from datagouv_sdk.discovery import (
    CallLimits,
    DiscoveredAPI,
    Discovery,
    FetchLimits,
    ResponseTooLargeError,
    UnsafeURLError,
)
from datagouv_sdk.errors import APITimeoutError, NotFoundError, UsageError
from datagouv_sdk.retry import RetryPolicy

from tests.discovery.servers import RecordingServer

FAST_RETRY = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02, jitter="none")


@pytest.fixture
def disco() -> Iterator[Discovery]:
    with Discovery(fetch_limits=FetchLimits(deadline=5), retry=FAST_RETRY, allow_private_hosts=True) as d:
        yield d


@pytest.fixture
def api(disco: Discovery, api_server: RecordingServer) -> DiscoveredAPI:
    return disco.api_at(api_server.url("/docs/openapi30.json"))


def test_path_parameter_is_percent_encoded(
    disco: Discovery, api: DiscoveredAPI, api_server: RecordingServer
) -> None:
    result = disco.call(api, "getItem", {"item_id": "a/b c?d", "verbose": True})
    assert result.status_code == 200
    assert result.data["id"] == "a/b c?d"
    assert result.data["raw_path"] == "/v1/items/a%2Fb%20c%3Fd"
    assert result.data["query"] == {"verbose": ["true"]}


def test_query_arrays_and_coercion_from_strings(disco: Discovery, api: DiscoveredAPI) -> None:
    result = disco.call(api, "listItems", {"limit": "5", "tags": "x,y", "order": "asc"}, from_strings=True)
    assert result.data["query"] == {"limit": ["5"], "tags": ["x", "y"], "order": ["asc"]}


def test_every_argument_problem_listed_before_sending(
    disco: Discovery, api: DiscoveredAPI, api_server: RecordingServer
) -> None:
    before = len(api_server.requests)
    with pytest.raises(UsageError) as info:
        disco.call(api, "listItems", {"limit": "ten", "colour": "red", "order": "sideways"})
    text = str(info.value)
    assert "parameter limit (query, integer): expected an integer, got 'ten'" in text
    assert "unknown parameter 'colour'" in text
    assert "'sideways' is not one of 'asc', 'desc'" in text
    assert "expected parameters: limit (query, integer); tags (query, array[string]); order" in text
    with pytest.raises(UsageError, match=r"missing required parameter item_id \(path, string, required\)"):
        disco.call(api, "getItem", {})
    with pytest.raises(UsageError, match=r"a request body is required"):
        disco.call(api, "createItem")
    with pytest.raises(UsageError, match=r"no operation 'nope' in this API; operations: getItem, listItems"):
        disco.call(api, "nope")
    assert len(api_server.requests) == before  # nothing was sent


def test_json_body_and_text_response(disco: Discovery, api: DiscoveredAPI) -> None:
    created = disco.call(api, "POST /items", body={"id": "1", "name": "vélo"})
    assert (created.status_code, created.data) == (201, {"id": "1", "name": "vélo"})
    text = disco.call(api, "getText")
    assert text.data == "héllo"


def test_status_mapped_to_typed_error(disco: Discovery, api: DiscoveredAPI) -> None:
    with pytest.raises(NotFoundError, match=r"no such thing"):
        disco.call(api, "getMissing")


def test_retries_through_our_transport(
    disco: Discovery, api: DiscoveredAPI, api_server: RecordingServer
) -> None:
    result = disco.call(api, "flaky")
    assert result.data["ok"] is True and result.data["calls"] >= 2


def test_user_credentials_reach_the_api_origin_only(
    disco: Discovery, api: DiscoveredAPI, api_server: RecordingServer, other_server: RecordingServer
) -> None:
    mine = {"X-API-KEY": "their-own-key", "X-Partner-Token": "t0k3n"}
    disco.call(api, "getItem", {"item_id": "cred"}, headers=mine, auth=("me", "pw"))
    sent = api_server.headers_for("/v1/items/cred")[-1]
    assert sent["x-api-key"] == "their-own-key" and sent["x-partner-token"] == "t0k3n"
    assert sent["authorization"].startswith("Basic ")
    result = disco.call(api, "goAway", headers=mine, auth=("me", "pw"))
    assert result.url == other_server.url("/v1/echo") and result.data == {"echo": True}
    received = other_server.headers_for("/v1/echo")[-1]
    assert not {"x-api-key", "x-partner-token", "authorization", "cookie"} & set(received)


def test_call_limits_total_deadline_size_and_redirect_policy(api_server: RecordingServer) -> None:
    limits = CallLimits(deadline=1.5, max_bytes=1024 * 1024)
    with Discovery(call_limits=limits, retry=RetryPolicy.none(), allow_private_hosts=True) as disco:
        api = disco.api_at(api_server.url("/docs/openapi30.json"))
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match=r"longer than its 1.5 s deadline"):
            disco.call(api, "slow")
        assert 1.4 <= time.monotonic() - started < 2.5  # 1.5 s deadline; slack for a loaded CI machine
        with pytest.raises(ResponseTooLargeError, match=r"larger than the 1,048,576-byte cap"):
            disco.call(api, "huge")
        with pytest.raises(UnsafeURLError, match=r"only http"):
            disco.call(api, "toFile")
