"""The call helper over the generated Metrics and Tabular clients, against the real api_tabular apps."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from datagouv_metrics.api.metrics_data_retrieval import get_metrics_by_model
from datagouv_sdk import AsyncDataGouv, DataGouv, errors
from datagouv_tabular.api.data_retrieval import get_resource_data

from tests.peers.clients import MAIN_UNUSED


def test_metrics_typed_page(tabular_dg: DataGouv, metrics_peer: Any) -> None:
    page = tabular_dg.call(get_metrics_by_model.sync_detailed, "site", page_size=5)
    assert type(page).__module__.startswith("datagouv_metrics.models")
    assert len(page.data) == 5
    raw = tabular_dg.call(get_metrics_by_model.sync_detailed, "site", page_size=5, raw=True)
    assert raw["meta"]["total"] == metrics_peer.rows["site"] and raw["links"]["next"]
    assert str(tabular_dg.metrics.get_httpx_client().base_url).rstrip("/") == metrics_peer.base_url.rstrip(
        "/"
    )


def test_tabular_typed_page_and_errors(tabular_dg: DataGouv, tabular_peer: Any) -> None:
    page = tabular_dg.call(
        get_resource_data.sync_detailed, UUID(tabular_peer.resources["paged"]), page_size=3
    )
    assert type(page).__module__.startswith("datagouv_tabular.models") and len(page.data) == 3
    with pytest.raises(errors.NotFoundError):
        tabular_dg.call(get_resource_data.sync_detailed, UUID(tabular_peer.resources["missing"]))
    with pytest.raises(errors.GoneError):
        tabular_dg.call(get_resource_data.sync_detailed, UUID(tabular_peer.resources["deleted"]))
    with pytest.raises(errors.BadRequestError) as caught:  # the server's own refusal of a larger page
        tabular_dg.call(
            get_resource_data.sync_detailed,
            UUID(tabular_peer.resources["paged"]),
            page_size=tabular_peer.page_size_max + 1,
        )
    assert caught.value.details  # api_tabular's {"errors": [...]} list


async def test_async_call_on_metrics(metrics_peer: Any, tabular_peer: Any) -> None:
    async with AsyncDataGouv(
        base_url=MAIN_UNUSED, metrics_url=metrics_peer.base_url, tabular_url=tabular_peer.base_url
    ) as adg:
        raw = await adg.call(get_metrics_by_model.asyncio_detailed, "site", page_size=2, raw=True)
        assert len(raw["data"]) == 2
        with pytest.raises(errors.NotFoundError):
            await adg.call(get_resource_data.asyncio_detailed, UUID(tabular_peer.resources["missing"]))
