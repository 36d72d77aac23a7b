"""The assumptions behind specs/patches/main*.json, checked against the real udata 17.18.0 peer.

Raw httpx (no generated code): what the server sends is what the patched types must describe.
Requests go without a cookie jar (udata turns an API-key caller into a session cookie).
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.codegen.test_swagger2 import upstream_document
from tests.peers.udata_fixtures import UdataPeer

FULL_OBJECTS = {"X-Get-Datasets-Full-Objects": "true"}


def _get_json(url: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
    response = httpx.get(url, params=params or None, headers=headers or {}, timeout=30)
    assert response.status_code == 200, (url, response.status_code, response.text[:300])
    return response.json()


def _dataset_with_spatial(peer: UdataPeer) -> str:
    dataset_id: str = peer.seed["datasets"][0]  # seeded with zones=[Rennes], granularity fr:commune
    return dataset_id


def test_spatial_granularity_and_zones_are_ids_by_default(udata_peer: UdataPeer) -> None:
    for api in (udata_peer.api_v1, udata_peer.api_v2):
        spatial = _get_json(f"{api}/datasets/{_dataset_with_spatial(udata_peer)}/")["spatial"]
        assert isinstance(spatial["granularity"], str), (api, spatial)  # not the declared `object`
        assert isinstance(spatial["zones"], list) and all(isinstance(z, str) for z in spatial["zones"]), (
            spatial
        )


def test_spatial_fields_are_objects_with_the_full_objects_header(udata_peer: UdataPeer) -> None:
    for api in (udata_peer.api_v1, udata_peer.api_v2):
        url = f"{api}/datasets/{_dataset_with_spatial(udata_peer)}/"
        spatial = _get_json(url, FULL_OBJECTS)["spatial"]
        assert isinstance(spatial["granularity"], dict), (api, spatial)
        assert spatial["zones"] and all(isinstance(z, dict) for z in spatial["zones"]), spatial


def test_v2_frequency_and_license_are_ids_or_objects(udata_peer: UdataPeer) -> None:
    url = f"{udata_peer.api_v2}/datasets/{_dataset_with_spatial(udata_peer)}/"
    plain, full = _get_json(url), _get_json(url, FULL_OBJECTS)
    for prop in ("frequency", "license"):
        assert isinstance(plain[prop], str), (prop, plain[prop])
        assert isinstance(full[prop], dict), (prop, full[prop])


def test_users_suggest_size_is_an_integer_limit(udata_peer: UdataPeer) -> None:
    suggestions = _get_json(f"{udata_peer.api_v1}/users/suggest/", q="o", size=1)
    assert isinstance(suggestions, list) and len(suggestions) <= 1
    response = httpx.get(f"{udata_peer.api_v1}/users/suggest/", params={"q": "o", "size": "many"}, timeout=30)
    assert response.status_code == 400  # the server parses it as an integer


def test_resource_type_ids_match_the_enum(udata_peer: UdataPeer) -> None:
    # ResourceTypeId (moved out of Resource.type) enumerates the ids /datasets/resource_types/ lists.
    enum = upstream_document("main")["definitions"]["Resource"]["properties"]["type"]["enum"]
    served = _get_json(f"{udata_peer.api_v1}/datasets/resource_types/")
    assert sorted(t["id"] for t in served) == sorted(enum)
