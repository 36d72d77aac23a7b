"""The connection pools behind a `DataGouv`/`AsyncDataGouv`: TLS only when needed, and built once.

An httpx transport builds its TLS context when it is created, and loading the CA bundle is the
larger part of a first call that is not network or imports (20-50 ms measured). Here a client's
connections hold two pools built on demand: one for plain-HTTP URLs (local portals, test servers),
which never needs certificates, and one for https, whose TLS context is made once per process
(`tls_context()`, then shared by every client: with_options copies, several `DataGouv`, sync and
async) and honours SSL_CERT_FILE / SSL_CERT_DIR as httpx does. A redirect from http to https simply
goes to the https pool.
"""

from __future__ import annotations

import ssl
import threading
from functools import cache

import httpx

__all__ = ["AsyncConnections", "Connections", "tls_context"]


@cache
def tls_context() -> ssl.SSLContext:
    """The process's TLS context for https (certifi's CA bundle, or SSL_CERT_FILE / SSL_CERT_DIR)."""
    return httpx.create_ssl_context()


@cache
def _no_tls() -> ssl.SSLContext:
    # What the plain-HTTP pool is given instead of a verifying context: it never opens a TLS
    # connection (only http:// requests reach it), and this costs no certificate loading.
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class Connections(httpx.BaseTransport):
    """A client's pools: requests go to the plain or the TLS pool by scheme, each built on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pools: dict[bool, httpx.HTTPTransport] = {}

    def _transport_for(self, tls: bool) -> httpx.HTTPTransport:
        pool = self._pools.get(tls)
        if pool is None:
            with self._lock:
                pool = self._pools.get(tls)
                if pool is None:
                    pool = self._pools[tls] = httpx.HTTPTransport(verify=tls_context() if tls else _no_tls())
        return pool

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._transport_for(request.url.scheme == "https").handle_request(request)

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()


class AsyncConnections(httpx.AsyncBaseTransport):
    """The async `Connections` (one event loop: no lock)."""

    def __init__(self) -> None:
        self._pools: dict[bool, httpx.AsyncHTTPTransport] = {}

    def _transport_for(self, tls: bool) -> httpx.AsyncHTTPTransport:
        pool = self._pools.get(tls)
        if pool is None:
            pool = self._pools[tls] = httpx.AsyncHTTPTransport(verify=tls_context() if tls else _no_tls())
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._transport_for(request.url.scheme == "https").handle_async_request(request)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()
