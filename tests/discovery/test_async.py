"""`AsyncDiscovery`: the same rules through the asyncio twins (fetcher, caller), against the same
loopback servers, plus the catalog through `AsyncDataGouv` on the udata peer."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from datagouv_sdk import AsyncDataGouv
from datagouv_sdk.discovery import (
    AsyncDiscovery,
    CallLimits,
    DocumentDeadlineError,
    DocumentTooLargeError,
    FetchLimits,
    UnsafeURLError,
    UnsafeYAMLError,
)
from datagouv_sdk.errors import APITimeoutError, NotFoundError, UsageError
from datagouv_sdk.retry import RetryPolicy

from tests.discovery.fixtures import TAG
from tests.discovery.servers import RecordingServer

FAST_RETRY = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02, jitter="none")


@pytest.fixture
async def adisco() -> AsyncIterator[AsyncDiscovery]:
    async with AsyncDiscovery(
        fetch_limits=FetchLimits(deadline=1.5),
        call_limits=CallLimits(deadline=1.5),
        retry=FAST_RETRY,
        allow_private_hosts=True,  # the loopback test servers
    ) as d:
        yield d


async def test_documents_and_hostile_cases(adisco: AsyncDiscovery, api_server: RecordingServer) -> None:
    api = await adisco.api_at(api_server.url("/docs/swagger20.json"))
    assert (api.document.version, api.base_url.source, len(api.operations)) == ("2.0", "host", 3)
    for path, error in [
        ("/docs/bomb.yaml", UnsafeYAMLError),
        ("/docs/huge.json", DocumentTooLargeError),
        ("/docs/gzip-bomb.json", DocumentTooLargeError),
        ("/docs/redirect-file", UnsafeURLError),
    ]:
        with pytest.raises(error):
            await adisco.document_at(api_server.url(path))
    for path in ("/docs/slow.json", "/docs/slow-headers.json"):
        started = time.monotonic()
        with pytest.raises(DocumentDeadlineError):
            await adisco.document_at(api_server.url(path))
        assert 1.4 <= time.monotonic() - started < 2.5  # 1.5 s deadline; slack for a loaded CI machine


async def test_calls(
    adisco: AsyncDiscovery, api_server: RecordingServer, other_server: RecordingServer
) -> None:
    api = await adisco.api_at(api_server.url("/docs/openapi30.json"))
    got = await adisco.call(api, "getItem", {"item_id": "async/1"}, headers={"X-Partner-Token": "a-mine"})
    assert got.data["raw_path"] == "/v1/items/async%2F1"
    assert api_server.headers_for("/v1/items/async%2F1")[-1]["x-partner-token"] == "a-mine"
    away = await adisco.call(api, "goAway", headers={"X-Partner-Token": "a-mine"})
    assert away.url == other_server.url("/v1/echo")
    assert "x-partner-token" not in other_server.headers_for("/v1/echo")[-1]
    assert (await adisco.call(api, "flaky")).data["ok"] is True
    with pytest.raises(NotFoundError):
        await adisco.call(api, "getMissing")
    with pytest.raises(UsageError, match="expected an integer"):
        await adisco.call(api, "listItems", {"limit": "x"})
    started = time.monotonic()
    with pytest.raises(APITimeoutError, match="deadline"):
        await adisco.call(api, "slow")
    assert time.monotonic() - started < 2.5  # 1.5 s deadline; slack for a loaded CI machine


async def test_catalog_through_async_client(
    udata_peer: Any, services: dict[str, str], api_server: RecordingServer
) -> None:
    async with (
        AsyncDataGouv(base_url=udata_peer.base_url, api_key=udata_peer.api_key) as adg,
        AsyncDiscovery(adg, allow_private_hosts=True) as d,
    ):
        found = [s.id async for s in d.search(tag=TAG)]
        assert set(found) == set(services.values())
        info = await d.get(services["openapi31"])
        assert info.base_api_url == api_server.url("/v1")
        result = await d.call(services["openapi31"], "getItem", {"item_id": "from-async"})
        assert result.data["id"] == "from-async"
        served = [ds["id"] async for ds in d.datasets(services["openapi30"])]
        assert served == [udata_peer.seed["org_datasets"][0]]
