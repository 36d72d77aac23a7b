"""The udata peer behaves like data.gouv.fr's Main API where the SDK depends on it (raw httpx only).

Each request is sent without a cookie jar: udata logs an API-key caller into a session cookie, and
a shared jar would make later "anonymous" requests authenticated.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.peers.udata_fixtures import ROOT, UdataPeer
from tests.peers.udata_null_census import OUTPUT as CENSUS_FILE
from tests.peers.udata_null_census import Census


def _get(url: str, key: str | None = None, **params: Any) -> httpx.Response:
    headers = {"X-API-KEY": key} if key else {}
    # params=None, not {}: an empty mapping would replace the query string of a next_page URL.
    return httpx.get(url, params=params or None, headers=headers, timeout=30)


def _send(method: str, url: str, key: str | None = None, json: Any = None) -> httpx.Response:
    headers = {"X-API-KEY": key} if key else {}
    return httpx.request(method, url, json=json, headers=headers, timeout=30)


def _message(response: httpx.Response) -> str:
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("message"), str), body
    return str(body["message"])


def test_dataset_list_total_is_the_seeded_count(udata_peer: UdataPeer) -> None:
    # The peer is shared by the session: other tests add datasets, so count the seeded tag.
    seeded = _get(udata_peer.api_v1 + "/datasets/", tag=udata_peer.seed["seed_tag"])
    assert seeded.status_code == 200
    page = seeded.json()
    assert page["total"] == len(udata_peer.seed["datasets"]) == 23
    assert page["page"] == 1 and page["previous_page"] is None
    assert _get(udata_peer.api_v1 + "/datasets/").json()["total"] >= 23


def test_pages_of_five_reach_every_dataset_once_then_404(udata_peer: UdataPeer) -> None:
    seen: list[str] = []
    url: str | None = f"{udata_peer.api_v1}/datasets/?page_size=5&tag={udata_peer.seed['seed_tag']}"
    pages = 0
    while url:
        response = _get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [item["id"] for item in body["data"]]
        pages += 1
        url = body["next_page"]
        assert pages <= 10, "next_page never ends"
    assert pages == 5
    assert len(seen) == len(set(seen))
    assert sorted(seen) == sorted(udata_peer.seed["datasets"])

    past_end = _get(udata_peer.api_v1 + "/datasets/", page=6, page_size=5, tag=udata_peer.seed["seed_tag"])
    assert past_end.status_code == 404
    _message(past_end)


def test_next_and_previous_page_are_absolute_urls_of_the_peer(udata_peer: UdataPeer) -> None:
    body = _get(udata_peer.api_v1 + "/datasets/", page=2, page_size=5).json()
    for link in (body["next_page"], body["previous_page"]):
        parts = urlsplit(link)
        assert (parts.scheme, parts.netloc) == ("http", udata_peer.server_name), link
        assert parts.path == "/api/1/datasets/"
    assert "page=3" in body["next_page"] and "page=1" in body["previous_page"]


@pytest.mark.parametrize("path", ["/api/1/datasets/", "/api/2/datasets/", "/api/2/datasets/search/"])
def test_q_search_finds_the_seeded_title(udata_peer: UdataPeer, path: str) -> None:
    # Lower case and without the accent: the fallback folds both, like a MongoDB text index.
    response = _get(udata_peer.base_url + path, q="qualite bretagne")
    assert response.status_code == 200, response.text
    titles = [item["title"] for item in response.json()["data"]]
    assert titles == [udata_peer.seed["search_title"]]


def test_q_search_without_match_is_empty(udata_peer: UdataPeer) -> None:
    body = _get(udata_peer.api_v2 + "/datasets/search/", q="zzzz-no-such-word").json()
    assert body["total"] == 0 and body["data"] == []


def test_unknown_dataset_is_404_with_message(udata_peer: UdataPeer) -> None:
    response = _get(udata_peer.api_v1 + "/datasets/no-such-dataset/")
    assert response.status_code == 404
    _message(response)


def test_invalid_payload_is_400_with_field_errors(udata_peer: UdataPeer) -> None:
    response = _send("POST", udata_peer.api_v1 + "/datasets/", udata_peer.api_key, json={"title": ""})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert isinstance(errors, dict) and errors
    assert all(isinstance(v, list) for v in errors.values()), errors


def test_write_without_key_is_401(udata_peer: UdataPeer) -> None:
    response = _send("POST", udata_peer.api_v1 + "/datasets/", json={"title": "x", "description": "y"})
    assert response.status_code == 401
    _message(response)


def test_invalid_key_is_401(udata_peer: UdataPeer) -> None:
    response = _get(udata_peer.api_v1 + "/me/", key="udata_not-a-real-key")
    assert response.status_code == 401
    assert _message(response) == "Invalid API token"


def test_other_users_key_cannot_edit_a_dataset_403(udata_peer: UdataPeer) -> None:
    dataset = udata_peer.seed["owner_datasets"][0]
    url = f"{udata_peer.api_v1}/datasets/{dataset}/"
    response = _send("PUT", url, udata_peer.other_api_key, json={"title": "hijacked"})
    assert response.status_code == 403
    _message(response)
    assert _get(url).json()["title"] != "hijacked"


def test_deleted_dataset_is_410(udata_peer: UdataPeer) -> None:
    response = _get(f"{udata_peer.api_v1}/datasets/{udata_peer.seed['deleted_dataset']}/")
    assert response.status_code == 410
    assert _message(response) == "Dataset has been deleted"


def test_private_dataset_is_hidden_from_others_and_visible_to_its_org(udata_peer: UdataPeer) -> None:
    url = f"{udata_peer.api_v1}/datasets/{udata_peer.seed['private_dataset']}/"
    assert _get(url).status_code == 404
    assert _get(url, key=udata_peer.other_api_key).status_code == 404
    assert _get(url, key=udata_peer.api_key).status_code == 200


@pytest.mark.parametrize(
    ("attr", "user"), [("api_key", "owner"), ("other_api_key", "other"), ("admin_api_key", "admin")]
)
def test_each_key_authenticates_its_user(udata_peer: UdataPeer, attr: str, user: str) -> None:
    me = _get(udata_peer.api_v1 + "/me/", key=getattr(udata_peer, attr))
    assert me.status_code == 200
    assert me.json()["id"] == udata_peer.seed["users"][user]


def test_owner_is_admin_of_the_seeded_organization(udata_peer: UdataPeer) -> None:
    org = _get(f"{udata_peer.api_v1}/organizations/{udata_peer.seed['organizations'][0]}/").json()
    roles = {m["user"]["id"]: m["role"] for m in org["members"]}
    assert roles[udata_peer.seed["users"]["owner"]] == "admin"
    assert udata_peer.seed["users"]["other"] not in roles


def test_dataservices_carry_their_api_urls(udata_peer: UdataPeer) -> None:
    for dataservice_id in udata_peer.seed["dataservices"]:
        dataservice = _get(f"{udata_peer.api_v1}/dataservices/{dataservice_id}/").json()
        assert dataservice["base_api_url"].startswith("http://127.0.0.1/")
        assert dataservice["machine_documentation_url"].endswith("/openapi.json")


def test_create_then_read_a_dataset_with_the_key(udata_peer: UdataPeer) -> None:
    payload = {"title": "Created by the peer test", "description": "A dataset made through the API"}
    created = _send("POST", udata_peer.api_v1 + "/datasets/", udata_peer.api_key, json=payload)
    assert created.status_code == 201, created.text
    dataset_id = created.json()["id"]
    read = _get(f"{udata_peer.api_v1}/datasets/{dataset_id}/")
    assert read.status_code == 200 and read.json()["title"] == payload["title"]
    deleted = _send("DELETE", f"{udata_peer.api_v1}/datasets/{dataset_id}/", udata_peer.api_key)
    assert deleted.status_code == 204


def test_resource_upload_is_stored_and_served_locally(udata_peer: UdataPeer) -> None:
    dataset = udata_peer.seed["owner_datasets"][0]
    response = httpx.post(
        f"{udata_peer.api_v1}/datasets/{dataset}/upload/",
        files={"file": ("numbers.csv", b"a,b\n1,2\n", "text/csv")},
        headers={"X-API-KEY": udata_peer.api_key},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    url = response.json()["url"]
    assert urlsplit(url).netloc == udata_peer.server_name, url
    download = httpx.get(url, timeout=30)
    assert download.status_code == 200 and download.content == b"a,b\n1,2\n"


def test_started_within_budget(udata_peer: UdataPeer) -> None:
    # Measured launch-to-ready; ~4 s on the 2-core reference machine. A regression in seeding or
    # start-up (e.g. an accidental network call) shows here first.
    assert 0 < udata_peer.startup_seconds < 30


# The census walker and its committed output: no peer needed.

CENSUS_DEFINITIONS = {
    "Page": {
        "properties": {
            "data": {"type": "array", "items": {"$ref": "#/definitions/Item%20%28read%29"}},
            "next_page": {"type": "string"},
        }
    },
    "Item (read)": {
        "allOf": [
            {"$ref": "#/definitions/Base"},
            {
                "properties": {
                    "title": {"type": "string"},
                    "harvest": {"properties": {"uri": {"type": "string"}}},
                    "extras": {"type": "object", "additionalProperties": {"$ref": "#/definitions/Base"}},
                }
            },
        ]
    },
    "Base": {
        "required": ["id", "slug"],
        "properties": {"id": {"type": "string"}, "deleted": {"type": "string", "x-nullable": True}},
    },
}


def test_census_maps_nulls_to_the_declaring_definition() -> None:
    census = Census(CENSUS_DEFINITIONS)
    body = {
        "next_page": None,
        "data": [
            {
                "id": "1",
                "deleted": None,
                "title": None,
                "harvest": {"uri": None},
                "surprise": None,
                "extras": {"a": {"id": None, "deleted": "x"}},
            },
            {"id": "2", "deleted": "2024", "title": "t", "harvest": None},
        ],
    }
    census.walk(body, {"$ref": "#/definitions/Page"}, "<response>")
    assert {k: sorted(v) for k, v in census.nulls.items()} == {
        "Page": ["next_page"],
        "Base": ["deleted", "id"],  # from allOf, and through additionalProperties
        "Item (read)": ["harvest", "title"],
        "Item (read).harvest": ["uri"],
    }
    assert dict(census.undeclared_nulls) == {"Item (read)": {"surprise"}}
    assert dict(census.missing_required) == {"Base": {"slug"}}
    # `deleted` already says x-nullable: only the others need a patch.
    assert census.not_marked_nullable()["Base"] == ["id"]


def test_committed_census_matches_the_pinned_udata() -> None:
    census = json.loads(CENSUS_FILE.read_text())
    pins = (ROOT / "tests" / "peers" / "udata" / "requirements.txt").read_text().split()
    assert f"udata=={census['udata']}" in pins
    assert census["operations_called"] >= 140 and not census["not_called"]
    assert "next_page" in census["null_properties"]["DatasetPage"]
