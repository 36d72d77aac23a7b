"""udata's v2 search through the peer's Elasticsearch stand-in: what the real endpoints answer.

udata's adapters, udata_search_service's queries and facets, and the API's marshalling are all
udata's; only Elasticsearch is the stand-in (tests/peers/udata/search_service.py). Requests go
without a cookie jar (see test_udata_peer.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.peers.udata_fixtures import UdataPeer

pytestmark = pytest.mark.peer

# v2 search endpoint -> the seed's list of ids it must find
SEARCHES = {
    "datasets": "datasets",
    "reuses": "reuses",
    "dataservices": "dataservices",
    "organizations": "organizations",
    "topics": "topics",
    "discussions": "discussions",
    "posts": "posts",
}


def _search(peer: UdataPeer, kind: str, key: str | None = None, **params: Any) -> httpx.Response:
    headers = {"X-API-KEY": key} if key else {}
    return httpx.get(f"{peer.api_v2}/{kind}/search/", params=params, headers=headers, timeout=30)


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _eventually(found: Callable[[], Any], expected: Any, timeout: float = 20.0) -> None:
    """Indexing runs after the write has answered (as with udata's Celery worker): poll, bounded."""
    deadline = time.monotonic() + timeout
    while (value := found()) != expected:
        assert time.monotonic() < deadline, f"still {value!r} after {timeout:g} s, expected {expected!r}"
        time.sleep(0.05)


@pytest.mark.parametrize("kind", sorted(SEARCHES))
def test_every_v2_search_finds_the_seeded_objects_with_facets(udata_peer: UdataPeer, kind: str) -> None:
    body = _ok(_search(udata_peer, kind, page_size=100))
    found = {item["id"] for item in body["data"]}
    assert set(udata_peer.seed[SEARCHES[kind]]) <= found
    assert body["total"] >= len(udata_peer.seed[SEARCHES[kind]])
    assert isinstance(body["facets"], dict)
    for name, buckets in body["facets"].items():  # udata prepends an "all" bucket to every facet
        assert buckets[0]["name"] == "all", (name, buckets)
        assert all(isinstance(b["count"], int) for b in buckets)


def test_text_search_is_folded_and_stemmed(udata_peer: UdataPeer) -> None:
    for q in ("qualite bretagne", "Qualités de l'air", "BRETAGNE"):
        titles = [d["title"] for d in _ok(_search(udata_peer, "datasets", q=q))["data"]]
        assert titles == [udata_peer.seed["search_title"]], q
    assert _ok(_search(udata_peer, "datasets", q="zzzz-no-such-word"))["total"] == 0


def test_filters_and_facets_agree_with_the_v1_listing(udata_peer: UdataPeer) -> None:
    tag = udata_peer.seed["seed_tag"]
    body = _ok(_search(udata_peer, "datasets", tag=tag, page_size=50))
    assert body["total"] == len(udata_peer.seed["datasets"]) == 23
    org = udata_peer.seed["organizations"][0]
    in_org = _ok(_search(udata_peer, "datasets", tag=tag, organization=org))
    v1 = httpx.get(
        f"{udata_peer.api_v1}/datasets/", params={"tag": tag, "organization": org}, timeout=30
    ).json()
    assert in_org["total"] == v1["total"] == 11
    orgs = {b["name"]: b["count"] for b in body["facets"]["organization_id_with_name"]}
    assert orgs[f"{org}|Peer Organization"] == 11
    tags = {b["name"]: b["count"] for b in body["facets"]["tag"]}
    assert tags["all"] == 23 and tags[tag] == 23


def test_sort_by_creation_date(udata_peer: UdataPeer) -> None:
    # udata_search_service sorts "created" on the indexed `created_at`, which udata serialises to the
    # second (`to_iso_datetime`): the seed makes several datasets a second, so compare seconds.
    tag = udata_peer.seed["seed_tag"]
    for sort, descending in (("-created", True), ("created", False)):
        data = _ok(_search(udata_peer, "datasets", tag=tag, sort=sort, page_size=50))["data"]
        dates = [d["created_at"][:19] for d in data]
        assert len(dates) == 23 and dates == sorted(dates, reverse=descending), sort


def test_private_and_deleted_datasets_are_not_found(udata_peer: UdataPeer) -> None:
    found = {d["id"] for d in _ok(_search(udata_peer, "datasets", page_size=100))["data"]}
    assert udata_peer.seed["private_dataset"] not in found
    assert udata_peer.seed["deleted_dataset"] not in found


def test_created_updated_and_deleted_datasets_follow_in_the_index(udata_peer: UdataPeer) -> None:
    headers = {"X-API-KEY": udata_peer.api_key}
    created = httpx.post(
        f"{udata_peer.api_v1}/datasets/",
        json={"title": "Horaires des trains régionaux", "description": "Grille horaire"},
        headers=headers,
        timeout=30,
    )
    assert created.status_code == 201, created.text
    ident = created.json()["id"]

    def ids(q: str) -> list[str]:
        return [d["id"] for d in _ok(_search(udata_peer, "datasets", q=q))["data"]]

    try:
        _eventually(lambda: ids("horaire train"), [ident])  # stemmed: horaires, trains
        updated = httpx.put(
            f"{udata_peer.api_v1}/datasets/{ident}/", json={"title": "Horaires des autocars"}, headers=headers
        )
        assert updated.status_code == 200, updated.text
        _eventually(lambda: ids("autocar"), [ident])
        assert ids("horaire train") == []
    finally:
        httpx.delete(f"{udata_peer.api_v1}/datasets/{ident}/", headers=headers, timeout=30)
    _eventually(lambda: ids("autocar"), [])


def test_pages_past_the_result_window_are_refused_by_udata(udata_peer: UdataPeer) -> None:
    assert _ok(_search(udata_peer, "datasets", page=500, page_size=20))["data"] == []
    response = _search(udata_peer, "datasets", page=501, page_size=20)
    assert response.status_code == 400
    message = response.json()["message"]
    assert "10000" in message and "Maximum page for this page_size is 500" in message


def test_the_stand_in_holds_udatas_own_mappings(udata_peer: UdataPeer) -> None:
    assert udata_peer.search_service_url
    template = httpx.get(f"{udata_peer.search_service_url}/_template/udata-dataset", timeout=30).json()
    properties = template["udata-dataset"]["mappings"]["properties"]
    assert properties["tags"]["type"] == "keyword" and properties["title"]["analyzer"] == "french_dgv"
    aliases = httpx.get(f"{udata_peer.search_service_url}/_alias/udata-dataset", timeout=30).json()
    assert [name.startswith("udata-dataset-") for name in aliases] == [True]


def test_a_write_answers_before_its_slow_indexing_ends(udata_peer: UdataPeer) -> None:
    # Indexing a dataservice fetches its machine_documentation_url (udata's own code): on a slow
    # documentation server that takes seconds, which the write must not wait for.
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class SlowDocument(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(2.0)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowDocument)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    headers = {"X-API-KEY": udata_peer.api_key}
    try:
        started = time.monotonic()
        created = httpx.post(
            f"{udata_peer.api_v1}/dataservices/",
            json={
                "title": "Gazetteer of slow documents",
                "base_api_url": "http://127.0.0.1/gazetteer/",
                "machine_documentation_url": f"http://127.0.0.1:{server.server_address[1]}/openapi.json",
            },
            headers=headers,
            timeout=30,
        )
        assert created.status_code == 201, created.text
        assert time.monotonic() - started < 1.5
        ident = created.json()["id"]
        _eventually(
            lambda: [d["id"] for d in _ok(_search(udata_peer, "dataservices", q="gazetteer"))["data"]],
            [ident],
        )
        httpx.delete(f"{udata_peer.api_v1}/dataservices/{ident}/", headers=headers, timeout=30)
    finally:
        server.shutdown()
        server.server_close()
