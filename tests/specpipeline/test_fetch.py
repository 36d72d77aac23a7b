"""Fetching a source's spec document: over real HTTP (a local server, through the SDK's transport and
a RetryPolicy), or from a mirror folder. Parsing is drift.documents' (tests/drift/test_documents.py)."""

from __future__ import annotations

import socket
from pathlib import Path

import attrs
import pytest
from datagouv_sdk.codegen.errors import SpecFetchError
from datagouv_sdk.retry import RetryPolicy

from tests.drift.spec_server import SpecServer
from tools.specpipeline.fetch import MIRROR_ENV, fetch_document
from tools.specpipeline.sources import Source, load_sources


def _source(name: str, url: str) -> Source:
    return attrs.evolve(load_sources()[name], url=url)


def test_sources_file_lists_the_four_apis() -> None:
    sources = load_sources()
    assert list(sources) == ["main", "main-v2", "metrics", "tabular"]
    assert sources["main"].url == "https://www.data.gouv.fr/api/1/swagger.json"
    assert sources["main-v2"].format == "swagger-2.0"
    assert sources["tabular"].mirror == "tabular.yaml"
    assert sources["metrics"].package == "datagouv_metrics"


def test_live_fetch_over_http(spec_server: SpecServer) -> None:
    doc = fetch_document(_source("metrics", f"{spec_server.base_url}/metrics.yaml"), use_env=False)
    assert doc["openapi"] == "3.0.3"
    assert "/health/" in doc["paths"]


def test_live_fetch_retries_a_500_then_succeeds(spec_server: SpecServer) -> None:
    spec_server.fail_first["/tabular.yaml"] = [500, 503]
    sleeps: list[float] = []
    doc = fetch_document(
        _source("tabular", f"{spec_server.base_url}/tabular.yaml"),
        use_env=False,
        retry=RetryPolicy(max_attempts=4, jitter="none"),
        sleep=sleeps.append,
    )
    assert doc["info"]["title"] == "data.gouv.fr Tabular API"
    assert spec_server.hits["/tabular.yaml"] == 3
    assert sleeps == [0.5, 1.0]  # exponential backoff


def test_the_default_policy_makes_four_attempts_with_jitter(spec_server: SpecServer) -> None:
    spec_server.fail_first["/metrics.yaml"] = [503, 503, 503]
    sleeps: list[float] = []
    doc = fetch_document(
        _source("metrics", f"{spec_server.base_url}/metrics.yaml"), use_env=False, sleep=sleeps.append
    )
    assert doc["openapi"] == "3.0.3" and spec_server.hits["/metrics.yaml"] == 4
    # Bounded jitter: each wait within ±25 % of 0.5, 1, 2 s.
    assert len(sleeps) == 3 and all(
        0.75 * b <= s <= 1.25 * b for s, b in zip(sleeps, [0.5, 1, 2], strict=True)
    )


def test_live_fetch_gives_up_after_retries_naming_the_url(spec_server: SpecServer) -> None:
    spec_server.fail_first["/tabular.yaml"] = [502] * 5
    url = f"{spec_server.base_url}/tabular.yaml"
    with pytest.raises(SpecFetchError, match=r"HTTP 502 \(3 attempts at most\); offline\?") as caught:
        fetch_document(
            _source("tabular", url), use_env=False, retry=RetryPolicy(max_attempts=3), sleep=lambda s: None
        )
    assert url in str(caught.value) and caught.value.status == 502
    assert spec_server.hits["/tabular.yaml"] == 3


def test_live_fetch_does_not_retry_a_404(spec_server: SpecServer) -> None:
    url = f"{spec_server.base_url}/missing.json"
    with pytest.raises(SpecFetchError, match=r"HTTP 404$") as caught:  # no retry, no offline hint
        fetch_document(_source("tabular", url), use_env=False, sleep=lambda s: None)
    assert url in str(caught.value)
    assert spec_server.hits["/missing.json"] == 1


def test_unreachable_port_is_a_clear_error() -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/swagger.json"
    sleeps: list[float] = []
    with pytest.raises(SpecFetchError, match=r"ConnectError.*\(2 attempts\)") as caught:
        fetch_document(
            _source("metrics", url),
            use_env=False,
            retry=RetryPolicy(max_attempts=2, jitter="none"),
            sleep=sleeps.append,
        )
    assert url in str(caught.value)
    assert MIRROR_ENV in str(caught.value)  # says how to work offline
    assert sleeps == [0.5]


def test_mirror_argument_and_environment(specs_mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    unreachable = _source("tabular", "http://127.0.0.1:9/never-contacted")
    assert fetch_document(unreachable, specs_mirror)["openapi"] == "3.0.3"
    monkeypatch.setenv(MIRROR_ENV, str(specs_mirror))
    assert fetch_document(unreachable)["openapi"] == "3.0.3"
    with pytest.raises(SpecFetchError):  # use_env=False ignores the variable and goes live
        fetch_document(unreachable, use_env=False, retry=RetryPolicy.none())


def test_missing_mirror_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(SpecFetchError, match=str(tmp_path / "tabular.yaml")):
        fetch_document(load_sources()["tabular"], tmp_path)


def test_the_spec_client_sends_our_user_agent_and_no_api_key(
    spec_server: SpecServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATAGOUV_API_KEY", "secret-key")  # set for the SDK's clients, never for specs
    fetch_document(_source("metrics", f"{spec_server.base_url}/metrics.yaml"), use_env=False)
    [request] = spec_server.received
    assert (
        request.headers["user-agent"].startswith("datagouv-sdk/")
        and "(spec fetcher)" in request.headers["user-agent"]
    )
    assert "x-api-key" not in request.headers
