"""datagouv_sdk.connections: no TLS context for plain-HTTP portals, one per process for https."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from datagouv_sdk import AsyncDataGouv, DataGouv
from datagouv_sdk.connections import AsyncConnections, Connections, tls_context


class _Page(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = json.dumps({"data": [], "page": 1, "page_size": 20, "total": 0, "next_page": None}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_plain_http_portal_never_builds_a_tls_context(server: str) -> None:
    tls_context.cache_clear()
    with DataGouv(base_url=server) as dg:
        assert list(dg.datasets.list(raw=True)) == []
    assert tls_context.cache_info().currsize == 0


async def test_the_async_client_too(server: str) -> None:
    tls_context.cache_clear()
    async with AsyncDataGouv(base_url=server) as adg:
        assert [d async for d in adg.datasets.list(raw=True)] == []
    assert tls_context.cache_info().currsize == 0


def test_https_pools_share_one_context_per_process() -> None:
    tls_context.cache_clear()
    first, second, third = Connections(), Connections(), AsyncConnections()
    pools = [first._transport_for(tls=True), second._transport_for(tls=True), third._transport_for(tls=True)]
    assert tls_context.cache_info().misses == 1 and tls_context.cache_info().hits == 2
    assert first._transport_for(tls=True) is pools[0]  # one pool per client and scheme
    assert first._transport_for(tls=False) is not pools[0]
    first.close()
    second.close()
    assert first._pools == {} and second._pools == {}


def test_requests_go_to_the_pool_of_their_scheme() -> None:
    seen: list[tuple[str, bool]] = []

    class Recording(Connections):
        def _transport_for(self, tls: bool) -> httpx.HTTPTransport:
            pool = super()._transport_for(tls)
            seen.append(("https" if tls else "http", tls))
            return pool

    connections = Recording()
    with pytest.raises(httpx.ConnectError):  # nothing listens on port 9
        connections.handle_request(httpx.Request("GET", "http://127.0.0.1:9/"))
    assert seen == [("http", False)]
    connections.close()
