"""Fetching spec documents: over real HTTP (a local server), from a mirror folder, and parsing them."""

from __future__ import annotations

import socket
from pathlib import Path

import attrs
import pytest
from datagouv_sdk.codegen.errors import SpecFetchError, SpecInvalidError
from datagouv_sdk.codegen.fetch import MIRROR_ENV, fetch_document, parse_document
from datagouv_sdk.codegen.sources import Source, load_sources

from tests.specpipeline.fixtures import SpecServer


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
        _source("tabular", f"{spec_server.base_url}/tabular.yaml"), use_env=False, sleep=sleeps.append
    )
    assert doc["info"]["title"] == "data.gouv.fr Tabular API"
    assert spec_server.hits["/tabular.yaml"] == 3
    assert sleeps == [0.5, 1.0]  # exponential backoff


def test_live_fetch_gives_up_after_retries_naming_the_url(spec_server: SpecServer) -> None:
    spec_server.fail_first["/tabular.yaml"] = [502] * 5
    url = f"{spec_server.base_url}/tabular.yaml"
    with pytest.raises(SpecFetchError, match=r"after 3 attempts.*HTTP 502") as caught:
        fetch_document(_source("tabular", url), use_env=False, retries=2, sleep=lambda s: None)
    assert url in str(caught.value)
    assert spec_server.hits["/tabular.yaml"] == 3


def test_live_fetch_does_not_retry_a_404(spec_server: SpecServer) -> None:
    url = f"{spec_server.base_url}/missing.json"
    with pytest.raises(SpecFetchError, match=r"HTTP 404") as caught:
        fetch_document(_source("tabular", url), use_env=False, sleep=lambda s: None)
    assert url in str(caught.value)
    assert spec_server.hits["/missing.json"] == 1


def test_unreachable_port_is_a_clear_error() -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/swagger.json"
    sleeps: list[float] = []
    with pytest.raises(SpecFetchError, match=r"ConnectError") as caught:
        fetch_document(_source("metrics", url), use_env=False, retries=1, sleep=sleeps.append)
    assert url in str(caught.value)
    assert MIRROR_ENV in str(caught.value)  # says how to work offline
    assert sleeps == [0.5]


def test_mirror_argument_and_environment(mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    unreachable = _source("tabular", "http://127.0.0.1:9/never-contacted")
    assert fetch_document(unreachable, mirror)["openapi"] == "3.0.3"
    monkeypatch.setenv(MIRROR_ENV, str(mirror))
    assert fetch_document(unreachable)["openapi"] == "3.0.3"
    with pytest.raises(SpecFetchError):  # use_env=False ignores the variable and goes live
        fetch_document(unreachable, use_env=False, retries=0)


def test_missing_mirror_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(SpecFetchError, match=str(tmp_path / "tabular.yaml")):
        fetch_document(load_sources()["tabular"], tmp_path)


def test_yaml_unquoted_status_codes_parse_as_integers_until_normalised(mirror: Path) -> None:
    doc = parse_document((mirror / "tabular.yaml").read_bytes(), origin="tabular.yaml")
    responses = doc["paths"]["/api/resources/{rid}/"]["get"]["responses"]
    assert 200 in responses and "200" not in responses  # what normalise() fixes (test_normalise)


def test_yaml_aliases_are_rejected() -> None:
    bomb = b"a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n"
    with pytest.raises(SpecInvalidError, match=r"aliases are not accepted"):
        parse_document(bomb, origin="bomb.yaml")


def test_yaml_dates_stay_strings() -> None:
    doc = parse_document(b"openapi: 3.0.3\ninfo: {version: 2026-02-03}\n", origin="x.yaml")
    assert doc["info"]["version"] == "2026-02-03"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"openapi": ', "invalid JSON"),
        (b"- just\n- a list\n", "expected a mapping"),
        (b"key: [unclosed\n", "invalid YAML"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_unparseable_documents(data: bytes, message: str) -> None:
    with pytest.raises(SpecInvalidError, match=message):
        parse_document(data, origin="doc")
