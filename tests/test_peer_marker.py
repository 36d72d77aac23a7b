"""The `peer` marker is set from the fixtures a test uses (tests/conftest.py), never by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PEER_FIXTURES, _fixtures_defined_in


def test_fixtures_are_found_by_reading_the_module(tmp_path: Path) -> None:
    module = tmp_path / "some_fixtures.py"
    module.write_text(
        "import pytest\n"
        "@pytest.fixture\ndef plain(): ...\n"
        "@pytest.fixture(scope='session')\ndef session_wide(): ...\n"
        "@pytest.fixture\nasync def asynchronous(): ...\n"
        "def helper(): ...\n"
        "@staticmethod\ndef decorated_otherwise(): ...\n"
    )
    assert _fixtures_defined_in(module) == {"plain", "session_wide", "asynchronous"}


def test_every_peer_plugin_fixture_marks_its_users() -> None:
    assert {
        "udata_peer",
        "pg_gateway",
        "tabular_peer",
        "metrics_peer",
        "legacy_tabular_peer",
    } <= PEER_FIXTURES
    assert {"udata_17_10_spec", "swagger2openapi"} <= PEER_FIXTURES
    assert not PEER_FIXTURES & {"tmp_path", "specs_mirror", "spec_server", "api_server"}


def test_a_test_without_peer_fixtures_is_unmarked(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("peer") is None


@pytest.fixture
def udata_peer() -> str:
    """Overrides the real peer in this module: nothing starts, but the name is the peer's."""
    return "stand-in"


@pytest.fixture
def through_another(udata_peer: str) -> str:
    return udata_peer


def test_a_test_reaching_a_peer_fixture_through_another_is_marked(
    through_another: str, request: pytest.FixtureRequest
) -> None:
    # Deselected by `make unit` (that is the point); checked by the full suite.
    assert request.node.get_closest_marker("peer") is not None
