"""DeadlineTransport on its own: an httpx transport over our own httpcore pool (no private httpx
attribute), raising httpx's errors; the trickling-server cases are in test_calls/test_documents."""

from __future__ import annotations

import socket
import time

import httpcore
import httpx
import pytest
from datagouv_sdk.discovery.deadline import DeadlineTransport, _as_httpx_errors, total_deadline


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_errors_are_httpx_errors_most_specific_first() -> None:
    for raised, expected in [
        (httpcore.ReadTimeout("r"), httpx.ReadTimeout),
        (httpcore.ConnectError("c"), httpx.ConnectError),
        (httpcore.RemoteProtocolError("p"), httpx.RemoteProtocolError),
        (httpcore.UnsupportedProtocol("u"), httpx.UnsupportedProtocol),
    ]:
        with pytest.raises(expected) as caught, _as_httpx_errors():
            raise raised
        assert type(caught.value) is expected and caught.value.__cause__ is raised
    with pytest.raises(KeyError), _as_httpx_errors():  # not a transport error: left alone
        raise KeyError("x")


def test_refused_connection_and_spent_deadline() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/"
    with httpx.Client(transport=DeadlineTransport()) as client:
        with pytest.raises(httpx.ConnectError):
            client.get(url)
        started = time.monotonic()
        with total_deadline(0.0), pytest.raises(httpx.ConnectTimeout, match="total deadline passed"):
            client.get(url)
        assert time.monotonic() - started < 1.0
