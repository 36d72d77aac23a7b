"""Clients on the real peers (a pytest plugin registered by tests/conftest.py), shared by the peer tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from datagouv_sdk import AsyncDataGouv, DataGouv

MAIN_UNUSED = "http://127.0.0.1:9"  # for clients that never call the Main API


@pytest.fixture
def dg(udata_peer: Any) -> Iterator[DataGouv]:
    """On the udata peer, with the key of `owner` (admin of the seeded organization)."""
    with DataGouv(base_url=udata_peer.base_url, api_key=udata_peer.api_key) as client:
        yield client


@pytest.fixture
def anon(udata_peer: Any) -> Iterator[DataGouv]:
    with DataGouv(base_url=udata_peer.base_url, api_key=None) as client:
        yield client


@pytest.fixture
async def adg(udata_peer: Any) -> AsyncIterator[AsyncDataGouv]:
    async with AsyncDataGouv(base_url=udata_peer.base_url, api_key=udata_peer.api_key) as client:
        yield client


@pytest.fixture
def tabular_dg(tabular_peer: Any, metrics_peer: Any) -> Iterator[DataGouv]:
    """On the api_tabular peers (Metrics and Tabular apps)."""
    with DataGouv(
        base_url=MAIN_UNUSED, metrics_url=metrics_peer.base_url, tabular_url=tabular_peer.base_url
    ) as client:
        yield client
