"""The transports against a real misbehaving server (tests/fault_server.py) over real sockets,
sync and async: 503s, 429 + Retry-After, resets and truncation mid-body, HTML proxy pages, refused
connections, auth across real redirects. Sleep is injected: nothing here really waits for a retry."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from datagouv_sdk.config import Config
from datagouv_sdk.errors import (
    APIConnectionError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    decode_json,
    raise_for_status,
)
from datagouv_sdk.retry import RetryPolicy
from datagouv_sdk.transport import STREAM_EXTENSION, AsyncDataGouvTransport, DataGouvTransport

from tests.fault_server import (
    CloseDelimited,
    FaultServer,
    Redirect,
    Reply,
    ResetMidBody,
    Truncated,
)

KEY = "real-socket-key-5be1e0"
NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>"
    b"\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
MODES = pytest.mark.parametrize("mode", ["sync", "async"])


@pytest.fixture(scope="module")
def main_server() -> Iterator[FaultServer]:
    with FaultServer(max_lifetime=120) as server:
        yield server


@pytest.fixture(scope="module")
def other_server() -> Iterator[FaultServer]:
    with FaultServer(max_lifetime=120) as server:
        yield server


def config_for(server: FaultServer) -> Config:
    return Config(base_url=server.url, api_key=KEY, retry=RetryPolicy(jitter="none"), timeout=5)


def send(
    mode: str, config: Config, method: str, url: str, **kwargs: Any
) -> tuple[httpx.Response | Exception, list[float]]:
    waits: list[float] = []
    if mode == "sync":
        transport = DataGouvTransport.from_config(config, sleep=waits.append)
        with httpx.Client(transport=transport, timeout=config.timeout) as client:
            try:
                return client.request(method, url, **kwargs), waits
            except Exception as exc:
                return exc, waits

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def main() -> httpx.Response | Exception:
        transport = AsyncDataGouvTransport.from_config(config, sleep=sleep)
        async with httpx.AsyncClient(transport=transport, timeout=config.timeout) as client:
            try:
                return await client.request(method, url, **kwargs)
            except Exception as exc:
                return exc

    return asyncio.run(main()), waits


@MODES
def test_503_twice_then_200(mode: str, main_server: FaultServer) -> None:
    path = f"/api/1/datasets/flaky-{mode}/"
    main_server.script(
        path, Reply(503, b"busy", content_type="text/plain"), Reply(503), Reply.json(200, {"id": "x"})
    )
    response, waits = send(mode, config_for(main_server), "GET", main_server.url + path)
    assert isinstance(response, httpx.Response)
    assert (response.status_code, response.json(), waits) == (200, {"id": "x"}, [0.5, 1.0])
    assert len(main_server.hits(path)) == 3


@MODES
def test_429_with_retry_after_is_slept_then_retried(mode: str, main_server: FaultServer) -> None:
    path = f"/api/1/rate-{mode}/"
    main_server.script(path, Reply.json(429, {"message": "Too many"}, Retry_After="2"), Reply.json(200, []))
    response, waits = send(mode, config_for(main_server), "GET", main_server.url + path)
    assert isinstance(response, httpx.Response) and response.status_code == 200
    assert waits == [2.0] and len(main_server.hits(path)) == 2


@MODES
def test_429_over_the_ceiling_is_returned_at_once(mode: str, main_server: FaultServer) -> None:
    path = f"/api/1/rate-long-{mode}/"
    main_server.script(
        path, Reply.json(429, {"message": "Quota exceeded"}, Retry_After="3600", X_RateLimit_Remaining="0")
    )
    response, waits = send(mode, config_for(main_server), "GET", main_server.url + path)
    assert isinstance(response, httpx.Response) and waits == [] and len(main_server.hits(path)) == 1
    with pytest.raises(RateLimitError, match="Quota exceeded") as info:
        raise_for_status(response)
    assert info.value.retry_after == pytest.approx(3600)
    assert info.value.rate_limit is not None and info.value.rate_limit.remaining == 0


@MODES
def test_connection_reset_mid_body_is_retried(mode: str, main_server: FaultServer) -> None:
    path = f"/api/1/reset-once-{mode}/"
    main_server.script(path, ResetMidBody(), Reply.json(200, {"data": [1, 2, 3]}))
    response, waits = send(mode, config_for(main_server), "GET", main_server.url + path)
    assert isinstance(response, httpx.Response) and response.json() == {"data": [1, 2, 3]}
    assert waits == [0.5] and len(main_server.hits(path)) == 2


@MODES
@pytest.mark.parametrize("fault", [ResetMidBody(), Truncated()], ids=["reset", "truncated"])
def test_a_body_that_always_breaks_gives_response_decode_error(
    mode: str, fault: ResetMidBody | Truncated, main_server: FaultServer
) -> None:
    path = f"/api/1/broken-{mode}-{type(fault).__name__}/"
    main_server.script(path, fault)
    error, waits = send(mode, config_for(main_server), "GET", main_server.url + path)
    assert isinstance(error, ResponseDecodeError), error
    assert "broke off" in str(error) and "3 attempts" in str(error)
    assert isinstance(error.__cause__, httpx.TransportError)
    assert waits == [0.5, 1.0] and len(main_server.hits(path)) == 3


@MODES
def test_truncated_body_on_post_is_not_retried(mode: str, main_server: FaultServer) -> None:
    path = f"/api/1/datasets/post-trunc-{mode}/"
    main_server.script(path, Truncated(status=201))
    error, waits = send(mode, config_for(main_server), "POST", main_server.url + path, json={"title": "t"})
    assert isinstance(error, ResponseDecodeError)
    assert waits == [] and len(main_server.hits(path)) == 1
    assert main_server.hits(path)[0].body == b'{"title":"t"}'


@MODES
def test_truncated_json_that_http_cannot_see_fails_when_parsed(mode: str, main_server: FaultServer) -> None:
    path = f"/api/1/close-delimited-{mode}/"
    main_server.script(path, CloseDelimited(b'{"data": [{"id": 1}, {"id"'))
    response, _ = send(mode, config_for(main_server), "GET", main_server.url + path)
    assert isinstance(response, httpx.Response) and response.status_code == 200
    with pytest.raises(ResponseDecodeError, match="may be truncated"):
        decode_json(response)


@MODES
def test_html_502_page(mode: str, main_server: FaultServer) -> None:
    path = f"/api/1/proxy-{mode}/"
    main_server.script(path, Reply(502, NGINX_502, content_type="text/html"))
    response, waits = send(mode, config_for(main_server), "GET", main_server.url + path)
    assert isinstance(response, httpx.Response) and response.status_code == 502
    assert waits == [0.5, 1.0]
    with pytest.raises(ServerError) as info:
        raise_for_status(response)
    assert info.value.message == "502 Bad Gateway"
    assert str(info.value) == f"502 GET {main_server.url}{path}: 502 Bad Gateway"


def _refused_url() -> str:
    with socket.socket() as sock:  # bind, note the port, close: nothing listens there afterwards
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@MODES
def test_refused_connection_retries_even_post(mode: str) -> None:
    url = _refused_url()
    config = Config(base_url=url, api_key=KEY, retry=RetryPolicy(jitter="none"), timeout=2)
    error, waits = send(mode, config, "POST", url + "/api/1/datasets/", json={})
    assert type(error) is APIConnectionError
    assert isinstance(error.__cause__, httpx.ConnectError)
    assert waits == [0.5, 1.0]
    assert f"POST {url}/api/1/datasets/" in str(error)


@MODES
def test_streamed_truncation_surfaces_while_reading(mode: str, main_server: FaultServer) -> None:
    path = f"/api/1/export-{mode}/"
    main_server.script(path, Truncated(sent=b"a,b\n1,2\n", declared=10_000))
    config = config_for(main_server)

    def sync_read() -> None:
        t = DataGouvTransport.from_config(config, sleep=lambda s: None)
        with (
            httpx.Client(transport=t) as client,
            client.stream("GET", main_server.url + path, extensions={STREAM_EXTENSION: True}) as response,
            pytest.raises(ResponseDecodeError),
        ):
            for _ in response.iter_bytes():
                pass

    async def async_read() -> None:
        t = AsyncDataGouvTransport.from_config(config)
        async with (
            httpx.AsyncClient(transport=t) as client,
            client.stream("GET", main_server.url + path, extensions={STREAM_EXTENSION: True}) as response,
        ):
            with pytest.raises(ResponseDecodeError):
                async for _ in response.aiter_bytes():
                    pass

    sync_read() if mode == "sync" else asyncio.run(async_read())
    assert len(main_server.hits(path)) == 1


# -- auth over real sockets --------------------------------------------------------------------


@MODES
def test_key_reaches_the_main_host_only(
    mode: str, main_server: FaultServer, other_server: FaultServer
) -> None:
    main_server.script("/api/1/me/", Reply.json(200, {}))
    other_server.script("/api/resources/r/data/", Reply.json(200, {}))
    config = config_for(main_server)
    send(mode, config, "GET", main_server.url + "/api/1/me/")
    send(mode, config, "GET", other_server.url + "/api/resources/r/data/", headers={"X-API-KEY": KEY})
    assert main_server.hits("/api/1/me/")[-1].headers.get("x-api-key") == KEY
    assert "x-api-key" not in other_server.hits("/api/resources/r/data/")[-1].headers


@MODES
def test_key_not_carried_across_a_real_redirect(
    mode: str, main_server: FaultServer, other_server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx, httpcore
    start, same, away = f"/api/1/r-{mode}/", f"/api/1/r-same-{mode}/", f"/landing-{mode}.csv"
    main_server.script(start, Redirect(same))
    main_server.script(same, Redirect(other_server.url + away))
    other_server.script(away, Reply(200, b"a,b\n", content_type="text/csv"))
    response, _ = send(mode, config_for(main_server), "GET", main_server.url + start, follow_redirects=True)
    assert isinstance(response, httpx.Response) and response.text == "a,b\n"
    assert main_server.hits(start)[-1].headers.get("x-api-key") == KEY
    assert main_server.hits(same)[-1].headers.get("x-api-key") == KEY  # same host: kept
    assert "x-api-key" not in other_server.hits(away)[-1].headers  # other host: dropped
    assert other_server.hits(away)[-1].headers["user-agent"].startswith("datagouv-sdk/")
    assert "attempt 1/3: 302" in caplog.text
    assert KEY not in caplog.text
