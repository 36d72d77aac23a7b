"""Loopback servers for the discovery tests (session scope: they start in milliseconds, but one pair
is enough). `api_server` (127.0.0.1) serves the recording API under /v1 and every document under
/docs; `other_server` (127.0.0.2: another host) is the target of cross-host redirects."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from datagouv_sdk import DataGouv

from tests.discovery import apidocs, servers
from tests.discovery.servers import Handler, RecordingServer


@pytest.fixture(scope="session")
def other_server() -> Iterator[RecordingServer]:
    with servers.running("127.0.0.2") as server:
        yield server


@pytest.fixture(scope="session")
def api_server(other_server: RecordingServer) -> Iterator[RecordingServer]:
    with servers.running("127.0.0.1") as server:
        apidocs.install_api(server, other=other_server)
        install_documents(server, other_server)
        yield server


def install_documents(server: RecordingServer, other: RecordingServer) -> None:
    host = server.origin.split("//", 1)[1]

    def json_doc(doc: Any) -> Callable[[Handler], None]:
        return lambda h: h.send_json(doc)

    etag = '"v1"'
    servers.gzip_bomb_bytes()  # compressed now, not inside a timed test

    def etagged(h: Handler) -> None:
        if h.headers.get("If-None-Match") == etag:
            h.send_response(304)
            h.send_header("ETag", etag)
            h.end_headers()
        else:
            h.send_json(apidocs.openapi30([{"url": "/v1"}]), headers={"ETag": etag})

    server.routes.update(
        {
            "/docs/openapi30.json": json_doc(apidocs.openapi30([{"url": "/v1"}])),
            "/docs/openapi31.yaml": lambda h: h.send_bytes(apidocs.openapi31_yaml(), "application/yaml"),
            "/docs/swagger20.json": json_doc(apidocs.swagger20(host)),
            "/docs/not-openapi.json": json_doc({"name": "my api", "endpoints": ["/a", "/b"]}),
            "/docs/page.html": lambda h: h.send_bytes(
                b"<!DOCTYPE html><html><title>Docs</title></html>", "text/html"
            ),
            "/docs/huge.json": servers.oversized_unsized,
            "/docs/huge-declared.json": servers.oversized_declared,
            "/docs/gzip-bomb.json": servers.gzip_bomb,
            "/docs/slow.json": servers.trickle_body,
            "/docs/slow-headers.json": servers.trickle_headers,
            "/docs/bomb.yaml": lambda h: h.send_bytes(servers.BILLION_LAUGHS.encode(), "application/yaml"),
            "/docs/recursive.yaml": lambda h: h.send_bytes(
                b"openapi: 3.0.3\npaths: {}\nx: &a [*a]\n", "application/yaml"
            ),
            "/docs/deep.json": lambda h: h.send_bytes(b"[" * 200_000 + b"]" * 200_000, "application/json"),
            "/docs/redirect.json": lambda h: h.redirect(other.url("/docs/openapi30.json")),
            "/docs/redirect-file": lambda h: h.redirect("file:///etc/passwd"),
            "/docs/redirect-public-http": lambda h: h.redirect("http://example.invalid/openapi.json"),
            "/docs/redirect-loop": lambda h: h.redirect("/docs/redirect-loop"),
            "/docs/etag.json": etagged,
            "/docs/set-cookie.json": lambda h: h.send_json(
                apidocs.openapi30([{"url": "/v1"}]), headers={"Set-Cookie": "session=secret; Path=/"}
            ),
            "/docs/latin1.json": lambda h: h.send_bytes(
                '{"openapi": "3.0.3", "x": "é"}'.encode("latin-1"), "application/json"
            ),
            "/docs/list.json": json_doc([{"openapi": "3.0.3"}]),
            "/docs/wms.xml": lambda h: h.send_bytes(b'<?xml version="1.0"?><WMS_Capabilities/>', "text/xml"),
            "/docs/swagger12.json": json_doc({"swaggerVersion": "1.2", "apis": []}),
            "/docs/no-paths.json": json_doc({"openapi": "3.0.3", "info": {"title": "x", "version": "1"}}),
            "/docs/broken-off.json": servers.broken_off,
            "/docs/huge-header.json": servers.huge_header,
            "/docs/server-error.json": lambda h: h.send_json({"message": "boom"}, status=500),
        }
    )
    # The cross-host copy names the API's absolute URL (relative servers would point at 127.0.0.2).
    other.routes["/docs/openapi30.json"] = json_doc(apidocs.openapi30([{"url": server.url("/v1")}]))
    other.routes["/docs/not-found"] = lambda h: h.send_bytes(
        json.dumps({"message": "x"}).encode(), "application/json", status=404
    )


# -- dataservices in the real udata peer ---------------------------------------------------------

TAG = "dgv-discovery-" + uuid.uuid4().hex[:8]
# title suffix → machine documentation path on the api server
KINDS = {
    "openapi30": "/docs/openapi30.json",
    "openapi31": "/docs/openapi31.yaml",
    "swagger20": "/docs/swagger20.json",
    "notopenapi": "/docs/not-openapi.json",
    "oversized": "/docs/huge.json",
    "slow": "/docs/slow.json",
    "redirected": "/docs/redirect.json",
    "yamlbomb": "/docs/bomb.yaml",
}


@pytest.fixture(scope="session")
def peer_dg(udata_peer: Any) -> Iterator[DataGouv]:
    with DataGouv(base_url=udata_peer.base_url, api_key=udata_peer.api_key) as client:
        yield client


@pytest.fixture(scope="session")
def services(peer_dg: DataGouv, udata_peer: Any, api_server: RecordingServer) -> dict[str, str]:
    """kind → id of a dataservice created through the real API."""
    org = udata_peer.seed["organizations"][0]
    created: dict[str, str] = {}
    for kind, path in KINDS.items():
        payload = {
            "title": f"Recording API {kind} {TAG}",
            "description": f"Loopback test API ({kind})",
            "base_api_url": api_server.url("/v1"),
            "machine_documentation_url": api_server.url(path),
            "organization": org,
            "tags": [TAG, kind],
            "access_type": "open" if kind != "openapi30" else "open_with_account",
            "rate_limiting": "10 req/s",
            "availability": 99.5,
        }
        if kind == "openapi30":
            payload["datasets"] = [udata_peer.seed["org_datasets"][0]]
        response = peer_dg.http("main").post("dataservices/", json=payload)
        assert response.status_code == 201, response.text
        created[kind] = response.json()["id"]
    return created
