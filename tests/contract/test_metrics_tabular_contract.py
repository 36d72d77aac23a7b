"""The generated Metrics and Tabular clients parse what the real api_tabular (0.4.1) answers.

Every operation goes through its generated `sync_detailed` against the real apps. A 200 must parse
into its typed model *and* survive the round trip `model.to_dict() == response JSON`, so a field the
model silently drops or reshapes fails here. Error statuses the spec does not document are listed in
`UNDOCUMENTED` (the overlay maps statuses itself); the generated code must not crash on them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any
from uuid import UUID

import httpx
import pytest
from datagouv_metrics import Client as MetricsClient
from datagouv_metrics.api.health import get_health as metrics_get_health
from datagouv_metrics.api.metrics_data_retrieval import get_metrics_by_model, get_metrics_by_model_csv
from datagouv_metrics.models import DataPage as MetricsDataPage
from datagouv_metrics.models import Health as MetricsHealth
from datagouv_tabular import Client as TabularClient
from datagouv_tabular.api.data_retrieval import (
    get_aggregation_exceptions,
    get_meta_resource_info,
    get_resource_data,
    get_resource_data_csv,
    get_resource_data_json,
    get_resource_profile,
    get_swagger_resource,
)
from datagouv_tabular.api.health import get_health
from datagouv_tabular.errors import UnexpectedStatus
from datagouv_tabular.models import (
    AggregationExceptions,
    DataPage,
    Health,
    MetaResourceInfo,
    ResourceProfileResponse,
)
from datagouv_tabular.types import Unset

from tests.peers.tabular_fixtures import MetricsPeer, TabularPeer


def _tabular(peer: TabularPeer, *, strict: bool = False) -> TabularClient:
    return TabularClient(base_url=peer.base_url, raise_on_unexpected_status=strict, timeout=httpx.Timeout(30))


def _metrics(peer: MetricsPeer, *, strict: bool = False) -> MetricsClient:
    return MetricsClient(base_url=peer.base_url, raise_on_unexpected_status=strict, timeout=httpx.Timeout(30))


def _round_trips(parsed: Any, content: bytes) -> None:
    """The typed model holds everything the server sent, unchanged."""
    assert parsed is not None, "a 200 parsed to None"
    assert parsed.to_dict() == json.loads(content)


def _rid(peer: TabularPeer, name: str) -> UUID:
    return UUID(peer.resources[name])


# ---- Tabular


def test_tabular_health(tabular_peer: TabularPeer) -> None:
    response = get_health.sync_detailed(client=_tabular(tabular_peer))
    assert response.status_code == 200
    assert isinstance(response.parsed, Health)
    _round_trips(response.parsed, response.content)
    assert response.parsed.version == tabular_peer.version == "0.4.1"
    # 0.4.1 replaced uptime_seconds (a float) by uptime_since (the start time, ISO 8601)
    assert isinstance(response.parsed.uptime_since, dt.datetime) and response.parsed.uptime_since.tzinfo
    assert isinstance(response.parsed.uptime_seconds, Unset)


def test_aggregation_exceptions(tabular_peer: TabularPeer) -> None:
    response = get_aggregation_exceptions.sync_detailed(client=_tabular(tabular_peer, strict=True))
    assert response.status_code == 200
    # 0.3.2+: the global switch and the exception list (0.3.1 sent the list alone)
    assert isinstance(response.parsed, AggregationExceptions)
    assert (response.parsed.allowed, response.parsed.exceptions) == (False, tabular_peer.aggregation_allowed)
    _round_trips(response.parsed, response.content)


@pytest.mark.parametrize("name", ["typed", "paged", "indexed"])
def test_meta_resource_info(tabular_peer: TabularPeer, name: str) -> None:
    response = get_meta_resource_info.sync_detailed(_rid(tabular_peer, name), client=_tabular(tabular_peer))
    assert response.status_code == 200
    assert isinstance(response.parsed, MetaResourceInfo)
    _round_trips(response.parsed, response.content)


@pytest.mark.parametrize("name", ["typed", "indexed", "aggregatable"])
def test_resource_profile(tabular_peer: TabularPeer, name: str) -> None:
    response = get_resource_profile.sync_detailed(_rid(tabular_peer, name), client=_tabular(tabular_peer))
    assert response.status_code == 200
    assert isinstance(response.parsed, ResourceProfileResponse)
    _round_trips(response.parsed, response.content)


def test_resource_swagger_is_text(tabular_peer: TabularPeer) -> None:
    response = get_swagger_resource.sync_detailed(_rid(tabular_peer, "typed"), client=_tabular(tabular_peer))
    assert response.status_code == 200
    assert isinstance(response.parsed, str) and response.parsed.startswith("components:")
    assert f"/api/resources/{tabular_peer.resources['typed']}/data/" in response.parsed


def test_resource_data_pages(tabular_peer: TabularPeer) -> None:
    client = _tabular(tabular_peer)
    seen = 0
    for page in (1, 2, 3):
        response = get_resource_data.sync_detailed(
            _rid(tabular_peer, "paged"), client=client, page=page, page_size=50
        )
        assert response.status_code == 200
        parsed = response.parsed
        assert isinstance(parsed, DataPage)
        _round_trips(parsed, response.content)
        seen += len(parsed.data)
        assert (parsed.links.next_ is None) == (page == 3)
    assert seen == tabular_peer.rows["paged"]


def test_resource_data_typed_values(tabular_peer: TabularPeer) -> None:
    response = get_resource_data.sync_detailed(
        _rid(tabular_peer, "typed"), client=_tabular(tabular_peer), page_size=50
    )
    assert response.status_code == 200
    assert isinstance(response.parsed, DataPage)
    _round_trips(response.parsed, response.content)


@pytest.mark.parametrize(
    "query",
    [
        "category__groupby&amount__sum&amount__avg",  # aggregated page: meta has no total
        "category__exact=fruit&columns=category,amount&amount__sort=desc",
    ],
)
def test_data_page_model_fits_filtered_and_aggregated_pages(tabular_peer: TabularPeer, query: str) -> None:
    # The generated function has no filter arguments (columns vary per resource); the page model is
    # what the overlay reuses for them, so feed it the real filtered/aggregated answers.
    url = f"{tabular_peer.base_url}/api/resources/{tabular_peer.resources['aggregatable']}/data/?{query}"
    answer = httpx.get(url, timeout=30)
    assert answer.status_code == 200, answer.text
    _round_trips(DataPage.from_dict(answer.json()), answer.content)


def test_resource_data_csv_is_text(tabular_peer: TabularPeer) -> None:
    response = get_resource_data_csv.sync_detailed(_rid(tabular_peer, "paged"), client=_tabular(tabular_peer))
    assert response.status_code == 200
    assert isinstance(response.parsed, str)
    assert len(list(csv.reader(io.StringIO(response.parsed)))) == 1 + tabular_peer.rows["paged"]


def test_resource_data_json_export(tabular_peer: TabularPeer) -> None:
    response = get_resource_data_json.sync_detailed(
        _rid(tabular_peer, "paged"), client=_tabular(tabular_peer)
    )
    assert response.status_code == 200
    assert len(json.loads(response.content)) == tabular_peer.rows["paged"]


# Statuses the real server sends that the spec does not document, per operation (reported for patches).
UNDOCUMENTED: list[tuple[str, str, int]] = [
    ("get_meta_resource_info", "deleted", 410),
    ("get_resource_profile", "deleted", 410),
    ("get_swagger_resource", "deleted", 410),
    ("get_resource_data", "deleted", 410),
    ("get_resource_data_csv", "big", 403),  # above the export cap
    ("get_resource_data_json", "big", 403),
]
OPERATIONS = {
    "get_meta_resource_info": get_meta_resource_info,
    "get_resource_profile": get_resource_profile,
    "get_swagger_resource": get_swagger_resource,
    "get_resource_data": get_resource_data,
    "get_resource_data_csv": get_resource_data_csv,
    "get_resource_data_json": get_resource_data_json,
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_documented_404(tabular_peer: TabularPeer, operation: str) -> None:
    response = OPERATIONS[operation].sync_detailed(
        _rid(tabular_peer, "missing"), client=_tabular(tabular_peer, strict=True)
    )
    assert response.status_code == 404
    assert response.parsed is None
    assert response.content == b"404: Not Found"


@pytest.mark.parametrize(("operation", "name", "status"), UNDOCUMENTED)
def test_undocumented_statuses(tabular_peer: TabularPeer, operation: str, name: str, status: int) -> None:
    module = OPERATIONS[operation]
    response = module.sync_detailed(_rid(tabular_peer, name), client=_tabular(tabular_peer))
    assert response.status_code == status and response.parsed is None
    with pytest.raises(UnexpectedStatus) as raised:
        module.sync_detailed(_rid(tabular_peer, name), client=_tabular(tabular_peer, strict=True))
    assert raised.value.status_code == status


def test_page_size_above_max_is_a_documented_400(tabular_peer: TabularPeer) -> None:
    response = get_resource_data.sync_detailed(
        _rid(tabular_peer, "paged"),
        client=_tabular(tabular_peer, strict=True),
        page_size=tabular_peer.page_size_max + 1,
    )
    assert response.status_code == 400
    assert response.parsed is None


# ---- Metrics


def test_metrics_health(metrics_peer: MetricsPeer) -> None:
    response = metrics_get_health.sync_detailed(client=_metrics(metrics_peer))
    assert response.status_code == 200
    assert isinstance(response.parsed, MetricsHealth)
    _round_trips(response.parsed, response.content)
    assert response.parsed.version == metrics_peer.version
    assert isinstance(response.parsed.uptime_since, dt.datetime)


@pytest.mark.parametrize(
    "model", ["site", "datasets", "organizations", "reuses", "resources", "dataservices"]
)
def test_metrics_pages(metrics_peer: MetricsPeer, model: str) -> None:
    client = _metrics(metrics_peer)
    seen, page = 0, 1
    while True:
        response = get_metrics_by_model.sync_detailed(model, client=client, page=page, page_size=50)
        assert response.status_code == 200
        assert isinstance(response.parsed, MetricsDataPage)
        _round_trips(response.parsed, response.content)
        seen += len(response.parsed.data)
        if response.parsed.links.next_ is None:
            break
        page += 1
    assert seen == metrics_peer.rows[model]


def test_metrics_csv_is_text(metrics_peer: MetricsPeer) -> None:
    response = get_metrics_by_model_csv.sync_detailed("datasets", client=_metrics(metrics_peer))
    assert response.status_code == 200
    assert isinstance(response.parsed, str)
    records = list(csv.reader(io.StringIO(response.parsed)))
    assert records[0] == metrics_peer.columns["datasets"]
    assert len(records) == 1 + metrics_peer.rows["datasets"]


def test_metrics_documented_errors(metrics_peer: MetricsPeer) -> None:
    client = _metrics(metrics_peer, strict=True)
    missing = get_metrics_by_model.sync_detailed("no_such_model", client=client)
    assert missing.status_code == 404 and missing.parsed is None
    too_big = get_metrics_by_model.sync_detailed(
        "site", client=client, page_size=metrics_peer.page_size_max + 1
    )
    assert too_big.status_code == 400 and too_big.parsed is None


# ---- the async twins parse the same way


async def test_async_twins(tabular_peer: TabularPeer, metrics_peer: MetricsPeer) -> None:
    tabular = await get_resource_data.asyncio_detailed(
        _rid(tabular_peer, "typed"), client=_tabular(tabular_peer), page_size=5
    )
    assert tabular.status_code == 200 and isinstance(tabular.parsed, DataPage)
    _round_trips(tabular.parsed, tabular.content)
    metrics = await get_metrics_by_model.asyncio_detailed("site", client=_metrics(metrics_peer), page_size=5)
    assert metrics.status_code == 200 and isinstance(metrics.parsed, MetricsDataPage)
    _round_trips(metrics.parsed, metrics.content)
    health = await get_health.asyncio_detailed(client=_tabular(tabular_peer))
    assert isinstance(health.parsed, Health)
