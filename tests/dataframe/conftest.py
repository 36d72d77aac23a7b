"""A client on the analysis peer (udata for the extras, api_tabular for the rows, hydra's Parquet
served with Range), and the same as environment variables for `dgv`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from datagouv_sdk import DataGouv


@pytest.fixture(scope="module")
def dg(analysis_peer: Any) -> Iterator[DataGouv]:
    with analysis_peer.client() as client:
        yield client


@pytest.fixture
def cli_env(analysis_peer: Any) -> dict[str, str]:
    return {
        "DATAGOUV_BASE_URL": analysis_peer.main_url,
        "DATAGOUV_TABULAR_URL": analysis_peer.tabular_url,
        "DATAGOUV_API_KEY": "",
    }
