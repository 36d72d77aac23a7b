"""A typed client for one resource, generated from its /swagger/ through our pinned generator driver,
then used against the real Tabular app."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from datagouv_sdk import DataGouv
from datagouv_sdk.tabular import TabularResource

from tests.peers.tabular_fixtures import MetricsPeer, TabularPeer

PACKAGE = "paged_resource_client"


@pytest.fixture
def on_path(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_generated_resource_client_is_typed_and_works(
    tabular_peer: TabularPeer, metrics_peer: MetricsPeer, on_path: Path
) -> None:
    with DataGouv(tabular_url=tabular_peer.base_url) as dg:
        result = TabularResource(dg, tabular_peer.resources["paged"]).generate_client(
            on_path, package=PACKAGE
        )
    assert (result.endpoint_functions, result.warnings) == (3, ())
    package = importlib.import_module(PACKAGE)
    data = importlib.import_module(f"{PACKAGE}.api.default.get_resource_data_from_id")
    client = package.Client(base_url=tabular_peer.base_url)
    response = data.sync_detailed(client=client, n_greater="130", n_sort="desc", page_size=3)
    assert response.status_code == 200
    rows = response.parsed.data
    # Column "Code INSEE" becomes the attribute code_insee; types follow the profile.
    assert [(r.n, r.code_insee) for r in rows] == [(137, "75137"), (136, "75136"), (135, "75135")]
    assert response.parsed.meta.total == 137 - 130 + 1
