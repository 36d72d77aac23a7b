"""DataGouvTransport / AsyncDataGouvTransport over httpx.MockTransport: retry tables (sync and async
must agree), error mapping, per-request override, auth scoping, user agent, logging, streaming.

Mocked transports are used here for what a real server cannot produce on cue (a ConnectError after
headers were built, a PoolTimeout, a stream that fails on the third chunk); real sockets are in
test_transport_faults.py."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from datagouv_sdk.config import Config
from datagouv_sdk.errors import (
    APIConnectionError,
    APITimeoutError,
    RateLimitError,
    ResponseDecodeError,
    UsageError,
    raise_for_status,
)
from datagouv_sdk.retry import RetryPolicy
from datagouv_sdk.transport import (
    API_KEY_HEADER,
    RETRY_EXTENSION,
    STREAM_EXTENSION,
    AsyncDataGouvTransport,
    DataGouvTransport,
)

KEY = "udata_k3y-7f3a9c-SECRET"  # shaped like a real token: the SDK refuses others
MAIN = "https://www.data.gouv.fr/api/1/datasets/"
NO_JITTER = RetryPolicy(jitter="none")

Outcome = int | httpx.Response | Exception  # a status, a full response, or an error to raise


class Script:
    """A MockTransport handler playing outcomes in order (the last repeats) and recording requests."""

    def __init__(self, *outcomes: Outcome) -> None:
        self.outcomes = list(outcomes) or [200]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        outcome = self.outcomes[min(len(self.requests), len(self.outcomes)) - 1]
        if isinstance(outcome, Exception):
            raise outcome
        if isinstance(outcome, int):
            return httpx.Response(outcome, json={"status": outcome})
        return outcome

    @property
    def attempts(self) -> int:
        return len(self.requests)


def run(
    mode: str,
    script: Callable[[httpx.Request], httpx.Response],
    method: str = "GET",
    url: str = MAIN,
    *,
    policy: RetryPolicy = NO_JITTER,
    **request_kwargs: Any,
) -> tuple[httpx.Response | Exception, list[float]]:
    """Send one request through the sync or async transport; return (response or error, waits)."""
    waits: list[float] = []
    config = Config(api_key=KEY, retry=policy)
    if mode == "sync":
        transport = DataGouvTransport.from_config(
            config, inner=httpx.MockTransport(script), sleep=waits.append
        )
        with httpx.Client(transport=transport) as client:
            try:
                response = client.request(method, url, **request_kwargs)
            except Exception as exc:
                return exc, waits
            return response, waits

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def main() -> httpx.Response | Exception:
        transport = AsyncDataGouvTransport.from_config(config, inner=httpx.MockTransport(script), sleep=sleep)
        async with httpx.AsyncClient(transport=transport) as client:
            try:
                return await client.request(method, url, **request_kwargs)
            except Exception as exc:
                return exc

    return asyncio.run(main()), waits


MODES = pytest.mark.parametrize("mode", ["sync", "async"])


# -- retry tables ---------------------------------------------------------------------------------


@MODES
@pytest.mark.parametrize(
    ("method", "outcomes", "attempts", "final", "waits"),
    [
        ("GET", [200], 1, 200, []),
        ("GET", [503, 503, 200], 3, 200, [0.5, 1.0]),
        ("GET", [502, 200], 2, 200, [0.5]),
        ("GET", [503], 3, 503, [0.5, 1.0]),  # exhausted: the last response is returned
        ("GET", [404], 1, 404, []),
        ("PUT", [500, 200], 2, 200, [0.5]),
        ("DELETE", [504, 504, 504], 3, 504, [0.5, 1.0]),
        ("POST", [503, 200], 1, 503, []),
        ("PATCH", [502, 200], 1, 502, []),
        ("GET", [408, 429, 200], 3, 200, [0.5, 1.0]),
    ],
)
def test_status_retries(
    mode: str, method: str, outcomes: list[int], attempts: int, final: int, waits: list[float]
) -> None:
    script = Script(*outcomes)
    response, slept = run(mode, script, method)
    assert isinstance(response, httpx.Response)
    assert (script.attempts, response.status_code, slept) == (attempts, final, waits)
    assert response.json() == {"status": final}  # body read and intact


def _retry_after(status: int, value: str) -> httpx.Response:
    return httpx.Response(status, headers={"Retry-After": value}, json={"message": "later"})


@MODES
@pytest.mark.parametrize(
    ("first", "attempts", "waits", "final"),
    [
        (_retry_after(429, "3"), 2, [3.0], 200),
        (_retry_after(503, "0"), 2, [0.0], 200),
        (_retry_after(429, "Sat, 21 Nov 2026 12:00:40 GMT"), 2, [40.0], 200),  # clock is 12:00:00
        (_retry_after(429, "garbage"), 2, [0.5], 200),
        (_retry_after(429, "600"), 1, [], 429),  # over the 60 s ceiling: returned, no sleep
        (_retry_after(503, "Sat, 21 Nov 2026 13:00:00 GMT"), 1, [], 503),
    ],
)
def test_retry_after(mode: str, first: httpx.Response, attempts: int, waits: list[float], final: int) -> None:
    script = Script(first, 200)
    noon = 1_795_262_400.0  # 2026-11-21T12:00:00Z
    response, slept = _run_with_clock(mode, script, clock=lambda: noon)
    assert isinstance(response, httpx.Response)
    assert (script.attempts, slept, response.status_code) == (attempts, waits, final)


def _run_with_clock(
    mode: str, script: Script, clock: Callable[[], float]
) -> tuple[httpx.Response | Exception, list[float]]:
    waits: list[float] = []
    if mode == "sync":
        t = DataGouvTransport(httpx.MockTransport(script), retry=NO_JITTER, sleep=waits.append, clock=clock)
        with httpx.Client(transport=t) as client:
            return client.get(MAIN), waits

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def main() -> httpx.Response:
        t = AsyncDataGouvTransport(httpx.MockTransport(script), retry=NO_JITTER, sleep=sleep, clock=clock)
        async with httpx.AsyncClient(transport=t) as client:
            return await client.get(MAIN)

    return asyncio.run(main()), waits


def test_over_ceiling_retry_after_becomes_rate_limit_error() -> None:
    script = Script(_retry_after(429, "3600"))
    response, slept = run("sync", script)
    assert isinstance(response, httpx.Response) and slept == []
    with pytest.raises(RateLimitError) as info:
        raise_for_status(response)
    assert info.value.retry_after == pytest.approx(3600.0)


@MODES
@pytest.mark.parametrize(
    ("method", "outcomes", "attempts", "error", "waits"),
    [
        # never reached the server: retried for every method
        ("POST", [httpx.ConnectError("refused"), 201], 2, None, [0.5]),
        ("PATCH", [httpx.ConnectTimeout("slow"), httpx.PoolTimeout("pool"), 200], 3, None, [0.5, 1.0]),
        ("POST", [httpx.ConnectError("refused")], 3, APIConnectionError, [0.5, 1.0]),
        ("POST", [httpx.ConnectTimeout("slow")], 3, APITimeoutError, [0.5, 1.0]),
        # may have reached it: POST is not retried
        ("POST", [httpx.ReadError("reset"), 201], 1, APIConnectionError, []),
        ("POST", [httpx.ReadTimeout("slow"), 201], 1, APITimeoutError, []),
        ("POST", [httpx.RemoteProtocolError("bad"), 201], 1, APIConnectionError, []),
        ("GET", [httpx.ReadError("reset"), 200], 2, None, [0.5]),
        ("GET", [httpx.ReadTimeout("slow")], 3, APITimeoutError, [0.5, 1.0]),
        ("GET", [httpx.WriteTimeout("slow"), 503, 200], 3, None, [0.5, 1.0]),
        # not transient
        ("GET", [httpx.UnsupportedProtocol("no")], 1, APIConnectionError, []),
    ],
)
def test_transport_errors(
    mode: str,
    method: str,
    outcomes: list[Outcome],
    attempts: int,
    error: type[Exception] | None,
    waits: list[float],
) -> None:
    script = Script(*outcomes)
    result, slept = run(mode, script, method)
    assert (script.attempts, slept) == (attempts, waits)
    if error is None:
        assert isinstance(result, httpx.Response) and result.status_code < 300
    else:
        assert type(result) is error
        assert isinstance(result.__cause__, httpx.TransportError)  # chained from the httpx error
        assert method in str(result) and "www.data.gouv.fr" in str(result)
        assert f"{attempts} attempt" in str(result)
        assert isinstance(result, APIConnectionError) and result.request is not None


def test_non_httpx_errors_propagate_untouched() -> None:
    script = Script(KeyError("bug"))
    result, slept = run("sync", script)
    assert type(result) is KeyError and script.attempts == 1 and slept == []


@MODES
def test_backoff_jitter_bounds_through_the_transport(mode: str) -> None:
    script = Script(503, 503, 503, 503, 503, 503)
    policy = RetryPolicy(max_attempts=6, max_backoff=3.0)  # real random jitter, ±25 %
    _, slept = run(mode, script, policy=policy)
    bases = [0.5, 1.0, 2.0, 3.0, 3.0]
    assert len(slept) == 5
    for wait, base in zip(slept, bases, strict=False):
        assert 0.75 * base <= wait <= min(1.25 * base, 3.0)


# -- per-request override ---------------------------------------------------------------------------


@MODES
@pytest.mark.parametrize(
    ("override", "attempts", "waits"),
    [
        (RetryPolicy.none(), 1, []),
        (RetryPolicy(max_attempts=5, initial_backoff=0.1, jitter="none"), 5, [0.1, 0.2, 0.4, 0.8]),
        (RetryPolicy(retry_statuses=set(), jitter="none"), 1, []),
        (None, 3, [0.5, 1.0]),  # no extension: the transport's policy
    ],
)
def test_per_request_override(
    mode: str, override: RetryPolicy | None, attempts: int, waits: list[float]
) -> None:
    script = Script(503)
    extensions = {RETRY_EXTENSION: override} if override is not None else {}
    _, slept = run(mode, script, extensions=extensions)
    assert (script.attempts, slept) == (attempts, waits)


@MODES
def test_bad_override_is_a_usage_error(mode: str) -> None:
    script = Script(200)
    result, _ = run(mode, script, extensions={RETRY_EXTENSION: 3})
    assert isinstance(result, UsageError) and RETRY_EXTENSION in str(result)
    assert script.attempts == 0


# -- request bodies -------------------------------------------------------------------------------


@MODES
def test_a_bytes_body_is_resent_identically(mode: str) -> None:
    script = Script(503, 200)
    run(mode, script, "PUT", content=b'{"title": "x"}')
    assert [r.content for r in script.requests] == [b'{"title": "x"}'] * 2


class StreamingInner(httpx.BaseTransport):
    """Consumes the request body as a real connection would (MockTransport buffers it, which
    makes any body replayable), then answers 503."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(b"".join(request.stream))  # type: ignore[arg-type]
        return httpx.Response(503)


def test_a_generator_body_is_not_resent_after_a_status() -> None:
    def chunks() -> Iterator[bytes]:
        yield b"part1"
        yield b"part2"

    inner, waits = StreamingInner(), list[float]()
    with httpx.Client(transport=DataGouvTransport(inner, sleep=waits.append)) as client:
        response = client.put(MAIN, content=chunks())
    assert response.status_code == 503
    assert inner.bodies == [b"part1part2"] and waits == []


def test_a_bytes_body_over_a_consuming_inner_is_resent() -> None:
    inner, waits = StreamingInner(), list[float]()
    with httpx.Client(transport=DataGouvTransport(inner, retry=NO_JITTER, sleep=waits.append)) as client:
        client.put(MAIN, content=b"same")
    assert inner.bodies == [b"same"] * 3 and waits == [0.5, 1.0]


# -- response bodies: buffered vs streamed ---------------------------------------------------------


class Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Yields chunks, optionally failing after `fail_after` of them; records how far it was read."""

    def __init__(
        self, chunks: list[bytes], fail_after: int | None = None, error: Exception | None = None
    ) -> None:
        self.chunks, self.fail_after, self.error = chunks, fail_after, error
        self.yielded = 0

    def _next(self) -> Iterator[bytes]:
        for i, chunk in enumerate(self.chunks):
            if self.fail_after is not None and i >= self.fail_after:
                raise self.error or httpx.ReadError("connection reset mid-body")
            self.yielded += 1
            yield chunk

    def __iter__(self) -> Iterator[bytes]:
        yield from self._next()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._next():
            yield chunk


def test_body_is_read_inside_the_transport_by_default() -> None:
    stream = Chunks([b"a", b"b", b"c"])
    t = DataGouvTransport(httpx.MockTransport(lambda r: httpx.Response(200, stream=stream)))
    with httpx.Client(transport=t) as client, client.stream("GET", MAIN) as response:
        assert stream.yielded == 3  # already buffered before the caller reads
        assert response.read() == b"abc"


@MODES
def test_a_body_broken_mid_stream_is_retried(mode: str) -> None:
    script = Script(
        httpx.Response(200, stream=Chunks([b'{"data": ', b"[1, 2]}"], fail_after=1)),
        httpx.Response(200, stream=Chunks([b'{"data": ', b"[1, 2]}"])),
    )
    response, slept = run(mode, script)
    assert isinstance(response, httpx.Response) and response.json() == {"data": [1, 2]}
    assert (script.attempts, slept) == (2, [0.5])


@MODES
@pytest.mark.parametrize(
    ("method", "error", "expected", "attempts"),
    [
        ("GET", httpx.ReadError("reset"), ResponseDecodeError, 3),
        ("GET", httpx.RemoteProtocolError("incomplete body"), ResponseDecodeError, 3),
        ("GET", httpx.ReadTimeout("stalled"), APITimeoutError, 3),
        ("POST", httpx.ReadError("reset"), ResponseDecodeError, 1),
    ],
)
def test_a_body_that_keeps_breaking(
    mode: str, method: str, error: Exception, expected: type[Exception], attempts: int
) -> None:
    script = Script(
        *[httpx.Response(200, stream=Chunks([b"{", b"}"], fail_after=1, error=error)) for _ in range(3)]
    )
    result, _ = run(mode, script, method)
    assert type(result) is expected and script.attempts == attempts
    assert "broke off" in str(result) or "timeout" in str(result)


def test_streamed_response_is_not_buffered_and_errors_are_ours() -> None:
    stream = Chunks([b"row1\n", b"row2\n", b"row3\n"], fail_after=2)
    script = Script(httpx.Response(200, stream=stream))
    t = DataGouvTransport(httpx.MockTransport(script), sleep=lambda s: None)
    with httpx.Client(transport=t) as client:
        request = client.build_request("GET", MAIN, extensions={STREAM_EXTENSION: True})
        response = client.send(request, stream=True)
        assert stream.yielded == 0  # nothing read yet: exports of hundreds of MB stay streamed
        received: list[bytes] = []
        with pytest.raises(ResponseDecodeError, match="broke off") as info:
            received.extend(response.iter_raw())
        response.close()
    assert received == [b"row1\n", b"row2\n"]
    assert isinstance(info.value.__cause__, httpx.ReadError)
    assert script.attempts == 1  # a stream is never replayed behind the consumer's back


async def test_async_streamed_response_is_not_buffered_and_errors_are_ours() -> None:
    stream = Chunks([b"row1\n", b"row2\n"], fail_after=1, error=httpx.ReadTimeout("stalled"))
    t = AsyncDataGouvTransport(httpx.MockTransport(lambda r: httpx.Response(200, stream=stream)))
    async with httpx.AsyncClient(transport=t) as client:
        request = client.build_request("GET", MAIN, extensions={STREAM_EXTENSION: True})
        response = await client.send(request, stream=True)
        assert stream.yielded == 0
        with pytest.raises(APITimeoutError):
            await response.aread()
        await response.aclose()


# -- auth scoping and user agent --------------------------------------------------------------------


@MODES
@pytest.mark.parametrize(
    ("url", "sent"),
    [
        ("https://www.data.gouv.fr/api/1/me/", True),
        ("https://www.data.gouv.fr:443/api/2/datasets/search/", True),
        ("http://www.data.gouv.fr/api/1/", True),  # same host:port key; the Main API redirects to https
        ("https://metric-api.data.gouv.fr/api/datasets/data/", False),
        ("https://tabular-api.data.gouv.fr/api/resources/x/", False),
        ("https://demo.data.gouv.fr/api/1/", False),
        ("https://www.data.gouv.fr:8443/api/1/", False),
        ("https://data.gouv.fr.evil.example/api/1/", False),
        ("https://static.data.gouv.fr/resources/x.csv", False),
    ],
)
def test_key_only_for_the_main_host(mode: str, url: str, sent: bool) -> None:
    script = Script(200)
    run(mode, script, url=url)
    assert (script.requests[0].headers.get(API_KEY_HEADER) == KEY) is sent
    if not sent:
        assert API_KEY_HEADER not in script.requests[0].headers


@MODES
def test_key_set_by_the_caller_for_another_host_is_removed(mode: str) -> None:
    script = Script(200)
    run(mode, script, url="https://tabular-api.data.gouv.fr/api/resources/x/", headers={"X-API-KEY": KEY})
    assert API_KEY_HEADER not in script.requests[0].headers


def test_caller_key_for_the_main_host_is_kept_when_none_configured() -> None:
    script = Script(200)
    t = DataGouvTransport(httpx.MockTransport(script), auth_hosts={"www.data.gouv.fr"})
    with httpx.Client(transport=t, headers={"X-API-KEY": "own"}) as client:
        client.get(MAIN)
        client.get("https://other.example.org/")
    assert script.requests[0].headers[API_KEY_HEADER] == "own"
    assert API_KEY_HEADER not in script.requests[1].headers


@MODES
def test_key_not_carried_across_a_redirect_to_another_host(mode: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "www.data.gouv.fr" and request.url.path == "/api/1/datasets/x/":
            return httpx.Response(302, headers={"Location": "/api/1/datasets/y/"})
        if request.url.host == "www.data.gouv.fr":
            return httpx.Response(302, headers={"Location": "https://static.data.gouv.fr/y.csv"})
        return httpx.Response(200, text="a,b\n")

    seen: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    result, _ = run(mode, recording, url="https://www.data.gouv.fr/api/1/datasets/x/", follow_redirects=True)
    assert isinstance(result, httpx.Response) and result.text == "a,b\n"
    assert [(r.url.host, r.headers.get(API_KEY_HEADER)) for r in seen] == [
        ("www.data.gouv.fr", KEY),
        ("www.data.gouv.fr", KEY),
        ("static.data.gouv.fr", None),
    ]


@MODES
def test_user_agent(mode: str) -> None:
    script = Script(200)
    run(mode, script)
    run(mode, script, headers={"User-Agent": "my-app/2.0"})
    assert script.requests[0].headers["user-agent"].startswith("datagouv-sdk/")
    assert script.requests[1].headers["user-agent"] == "my-app/2.0"


# -- logging and redaction --------------------------------------------------------------------------


@MODES
def test_debug_logs_each_attempt_without_the_key(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    script = Script(503, httpx.ConnectError(f"refused while sending X-API-KEY: {KEY}"), 200)
    run(mode, script, url=MAIN + f"?token={KEY}")
    ours = [r for r in caplog.records if r.name == "datagouv_sdk"]
    text = "\n".join(r.getMessage() for r in ours)
    # httpx's own INFO line prints the URL as given: only our records are checked for a URL token.
    assert KEY not in text
    assert "GET https://www.data.gouv.fr/api/1/datasets/?token=*** attempt 1/3: 503" in text
    assert "retrying GET" in text and "in 0.50s: status 503" in text
    assert "attempt 2/3: ConnectError" in text and "in 1.00s" in text
    assert "attempt 3/3: 200" in text


def test_errors_and_reprs_never_show_the_key() -> None:
    script = Script(httpx.ConnectError(f"boom {KEY}"))
    result, _ = run("sync", script, url=MAIN + f"?token={KEY}")
    assert isinstance(result, APIConnectionError)
    assert KEY not in str(result) and KEY not in repr(result)
    t = DataGouvTransport.from_config(Config(api_key=KEY), inner=httpx.MockTransport(Script()))
    at = AsyncDataGouvTransport.from_config(Config(api_key=KEY), inner=httpx.MockTransport(Script()))
    assert KEY not in repr(t) and "'***'" in repr(t)
    assert KEY not in repr(at)


def test_default_inner_transports() -> None:
    assert isinstance(DataGouvTransport()._inner, httpx.HTTPTransport)
    assert isinstance(AsyncDataGouvTransport()._inner, httpx.AsyncHTTPTransport)


@MODES
def test_a_streamed_request_is_still_retried_on_status(mode: str) -> None:
    # Statuses are decided before the body is handed over, so streaming only gives up body retries.
    script = Script(503, httpx.Response(200, stream=Chunks([b"a", b"b"])))
    response, slept = run(mode, script, extensions={STREAM_EXTENSION: True})
    assert isinstance(response, httpx.Response) and response.content == b"ab"
    assert (script.attempts, slept) == (2, [0.5])


@pytest.mark.parametrize("hosts", [["https://www.data.gouv.fr"], [""], ["www.data.gouv.fr/api/1"]])
def test_auth_hosts_must_be_host_keys(hosts: list[str]) -> None:
    with pytest.raises(UsageError, match="auth_hosts"):
        DataGouvTransport(httpx.MockTransport(Script()), auth_hosts=hosts)


def test_a_single_auth_host_string_is_one_host() -> None:
    script = Script(200)
    t = DataGouvTransport(httpx.MockTransport(script), api_key=KEY, auth_hosts="www.data.gouv.fr")
    with httpx.Client(transport=t) as client:
        client.get(MAIN)
    assert script.requests[0].headers[API_KEY_HEADER] == KEY
