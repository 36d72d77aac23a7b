"""DataGouv / AsyncDataGouv over httpx.MockTransport, no server: with_options, what a real server does not
produce on demand (undocumented statuses, proxy pages, bodies that do not match the model), argument
checks before sending, closing, lazy thread-safe clients. The real udata peer: test_client_peer.py."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from datagouv_main.api.datasets import get_dataset, list_datasets
from datagouv_sdk import AsyncDataGouv, Config, DataGouv, RetryPolicy, errors


def test_with_options_shares_the_pool_and_changes_the_policy() -> None:
    attempts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(request.url.path)
        return httpx.Response(503, json={"message": "busy"})

    pool = httpx.MockTransport(handler)
    config = Config(base_url="http://127.0.0.1:9", retry=RetryPolicy(max_attempts=3))
    with DataGouv(config, transport=pool, sleep=lambda s: None) as dg:
        with pytest.raises(errors.ServerError):
            dg.datasets.get("x", raw=True)
        assert len(attempts) == 3
        attempts.clear()
        once = dg.with_options(retry=RetryPolicy.none(), timeout=2.0)
        assert once.config.timeout.read == 2.0 and once.http("main").timeout.read == 2.0
        with pytest.raises(errors.ServerError):
            once.datasets.get("x", raw=True)
        assert len(attempts) == 1
        once.close()
        attempts.clear()
        with pytest.raises(errors.ServerError):  # the original still works: closing the copy kept the pool
            dg.datasets.get("x", raw=True)
        assert len(attempts) == 3


# --- what a real server does not produce on demand: mocked transport ------------------------------


def _mocked(handler: Any) -> DataGouv:
    config = Config(base_url="http://127.0.0.1:9", retry=RetryPolicy.none())
    return DataGouv(config, transport=httpx.MockTransport(handler))


def test_undocumented_status_raises_never_none() -> None:
    with (
        _mocked(lambda r: httpx.Response(418, text="I'm a teapot")) as dg,
        pytest.raises(errors.APIStatusError) as caught,
    ):
        dg.datasets.get("x")
    assert caught.value.status_code == 418 and "teapot" in caught.value.message


def test_html_proxy_page_becomes_a_short_server_error() -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body>" + "x" * 5000 + "</body></html>"
    with _mocked(lambda r: httpx.Response(502, html=page)) as dg, pytest.raises(errors.ServerError) as caught:
        dg.datasets.list().first_page()
    assert caught.value.message == "502 Bad Gateway"


def test_body_not_matching_the_model_is_a_decode_error_and_raw_still_works() -> None:
    with _mocked(lambda r: httpx.Response(200, json={"data": "not a list", "page": 1})) as dg:
        with pytest.raises(errors.ResponseDecodeError) as caught:
            dg.datasets.list().first_page()
        assert caught.value.response is not None and caught.value.response.status_code == 200
        assert dg.call(list_datasets.sync_detailed, raw=True) == {"data": "not a list", "page": 1}


def test_empty_2xx_is_none_and_untyped_json_is_returned() -> None:
    with _mocked(lambda r: httpx.Response(204)) as dg:
        assert dg.datasets.delete("x") is None  # the None promised
    # 202 is not in get_dataset's spec: the generated parser returns None; we return the JSON.
    with _mocked(lambda r: httpx.Response(202, json={"odd": True})) as dg:
        assert dg.call(get_dataset.sync_detailed, "x") == {"odd": True}


def test_bad_arguments_fail_before_sending_as_usage_errors() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    with _mocked(handler) as dg:
        with pytest.raises(errors.UsageError, match=r"no_such_filter"):
            dg.datasets.list(no_such_filter="x").first_page()
        with pytest.raises(errors.UsageError, match=r"list_datasets"):
            dg.call(list_datasets.sync_detailed, "positional")
    assert sent == []


async def test_closed_clients_refuse_clearly() -> None:
    dg = _mocked(lambda r: httpx.Response(204))
    dg.datasets.delete("x")
    dg.close()
    dg.close()  # idempotent
    with pytest.raises(errors.UsageError, match=r"closed"):
        dg.datasets.delete("x")
    adg = AsyncDataGouv(
        Config(base_url="http://127.0.0.1:9"), transport=httpx.MockTransport(lambda r: httpx.Response(204))
    )
    await adg.datasets.delete("x")
    await adg.aclose()
    await adg.aclose()
    with pytest.raises(errors.UsageError, match=r"closed"):
        await adg.datasets.delete("x")


async def test_sync_and_async_functions_are_not_mixed_up() -> None:
    with (
        _mocked(lambda r: httpx.Response(200, json={})) as dg,
        pytest.raises(errors.UsageError, match=r"async"),
    ):
        dg.call(list_datasets.asyncio_detailed)
    async with AsyncDataGouv(
        Config(base_url="http://127.0.0.1:9"),
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json={})),
    ) as adg:
        with pytest.raises(errors.UsageError, match=r"not async"):
            await adg.call(list_datasets.sync_detailed)  # type: ignore[arg-type]  # the runtime check under test


def test_clients_are_created_once_even_from_many_threads() -> None:
    import threading

    dg = DataGouv(Config(base_url="http://127.0.0.1:9"))
    assert dg._connections is None  # nothing built before first use (the pool's TLS context costs ~50 ms)
    got: list[httpx.Client] = []
    barrier = threading.Barrier(8)

    def grab() -> None:
        barrier.wait()
        got.append(dg.http("main"))

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(got) == 8 and len({id(c) for c in got}) == 1
    copy = dg.with_options(timeout=3)
    assert copy._connections is dg._connections is not None
    dg.close()
