"""`dgv auth`: login, status, logout, tokens — against the real udata peer's API tokens."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from datagouv_sdk.cli import cli
from datagouv_sdk.credentials import stored_key

from tests.peers.udata_fixtures import UdataPeer

pytestmark = pytest.mark.peer


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATAGOUV_CONFIG_DIR", str(tmp_path))
    monkeypatch.delenv("DATAGOUV_API_KEY", raising=False)
    return tmp_path


def dgv(peer: UdataPeer, *args: str, input: str | None = None, key: str | None = None) -> Result:
    options = ["--base-url", peer.base_url] + (["--api-key", key] if key else [])
    env = {"DATAGOUV_API_KEY": None, "DATAGOUV_BASE_URL": None}
    return CliRunner().invoke(cli, [*options, *args], input=input, env=env, catch_exceptions=False)


def _new_key(peer: UdataPeer, name: str) -> str:
    response = httpx.post(
        peer.api_v1 + "/me/api_tokens/", json={"name": name}, headers={"X-API-KEY": peer.api_key}, timeout=30
    )
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def _accepted(peer: UdataPeer, key: str) -> bool:
    return httpx.get(peer.api_v1 + "/me/", headers={"X-API-KEY": key}, timeout=30).status_code == 200


def test_login_checks_the_key_with_the_server_then_stores_it_privately(
    udata_peer: UdataPeer, config_dir: Path
) -> None:
    key = _new_key(udata_peer, "cli login")
    result = dgv(udata_peer, "auth", "login", "--with-token", input=key + "\n")
    assert result.exit_code == 0, result.output
    assert "Logged in to" in result.output and "Olivia Owner" in result.output and key not in result.output
    path = config_dir / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = stored_key(udata_peer.base_url)
    assert stored is not None and stored.api_key == key and stored.token_id  # found among the tokens

    status = dgv(udata_peer, "--json", "auth", "status")
    assert status.exit_code == 0, status.output
    report = json.loads(status.output)
    assert report["valid"] is True and report["user"].startswith("Olivia Owner")
    assert report["source"].startswith("stored in") and report["key"] == key[:14] + "…"
    assert report["token"]["name"] == "cli login"

    # Commands use the stored key: a call that needs one works without --api-key.
    listed = dgv(udata_peer, "--json", "auth", "token", "list")
    assert listed.exit_code == 0 and "cli login" in listed.output


def test_flag_and_variable_win_over_the_stored_key(
    udata_peer: UdataPeer, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert dgv(udata_peer, "auth", "login", "--with-token", input=udata_peer.api_key).exit_code == 0
    report = json.loads(dgv(udata_peer, "--json", "auth", "status", key=udata_peer.other_api_key).output)
    assert report["source"] == "--api-key" and report["user"].startswith("Oscar Other")
    monkeypatch.setenv("DATAGOUV_API_KEY", udata_peer.other_api_key)
    runner = CliRunner()
    from_env = runner.invoke(cli, ["--base-url", udata_peer.base_url, "--json", "auth", "status"])
    assert json.loads(from_env.output)["source"] == "DATAGOUV_API_KEY"


def test_a_key_the_server_refuses_is_not_stored(udata_peer: UdataPeer, config_dir: Path) -> None:
    key = _new_key(udata_peer, "revoked before login")
    assert dgv(udata_peer, "auth", "token", "revoke", key, key=udata_peer.api_key).exit_code == 0
    result = dgv(udata_peer, "auth", "login", "--with-token", input=key)
    assert result.exit_code == 1 and "refuses this key" in result.output and "Revoked" in result.output
    assert not (config_dir / "credentials.json").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("https://www.data.gouv.fr/fr/admin/me/", "looks like a URL"),
        ("udata_abc def", "whitespace"),
        ("", "empty"),
    ],
)
def test_impossible_keys_are_refused_before_any_request(
    udata_peer: UdataPeer, config_dir: Path, text: str, message: str
) -> None:
    # Nothing listens on port 9: a request would fail with a connection error (exit 1), not exit 2.
    result = CliRunner().invoke(
        cli, ["--base-url", "http://127.0.0.1:9", "auth", "login", "--with-token"], input=text, env={}
    )
    assert result.exit_code == 2 and message in result.output, result.output
    assert not (config_dir / "credentials.json").exists()


def test_logout_revoke_makes_the_key_useless_and_forgets_it(udata_peer: UdataPeer, config_dir: Path) -> None:
    key = _new_key(udata_peer, "to log out")
    assert dgv(udata_peer, "auth", "login", "--with-token", input=key).exit_code == 0
    result = dgv(udata_peer, "auth", "logout", "--revoke")
    assert result.exit_code == 0, result.output
    assert "revoked on the server" in result.output
    assert stored_key(udata_peer.base_url) is None
    assert not _accepted(udata_peer, key)
    again = dgv(udata_peer, "auth", "logout")
    assert again.exit_code == 1 and "no key is stored" in again.output
    status = dgv(udata_peer, "auth", "status")
    assert status.exit_code == 1 and "not logged in" in status.output


def test_logout_without_revoke_keeps_the_key_valid(udata_peer: UdataPeer, config_dir: Path) -> None:
    key = _new_key(udata_peer, "kept valid")
    assert dgv(udata_peer, "auth", "login", "--with-token", input=key).exit_code == 0
    assert dgv(udata_peer, "auth", "logout").exit_code == 0
    assert stored_key(udata_peer.base_url) is None and _accepted(udata_peer, key)


def test_token_create_prints_the_key_once_and_revoke_by_id(udata_peer: UdataPeer, config_dir: Path) -> None:
    created = dgv(
        udata_peer, "auth", "token", "create", "nightly", "--expires", "2031-01-31", key=udata_peer.api_key
    )
    assert created.exit_code == 0, created.output
    key = created.stdout.strip()
    assert key.startswith("udata_") and "\n" not in key and _accepted(udata_peer, key)
    listed = dgv(udata_peer, "--json", "auth", "token", "list", key=udata_peer.api_key)
    tokens: list[dict[str, Any]] = [json.loads(line) for line in listed.output.splitlines()]
    (mine,) = [t for t in tokens if key.startswith(t["token_prefix"])]
    assert mine["name"] == "nightly" and mine["expires_at"].startswith("2031-01-31")
    assert all("token" not in t for t in tokens)  # the plaintext is never listed
    assert dgv(udata_peer, "auth", "token", "revoke", mine["id"], key=udata_peer.api_key).exit_code == 0
    assert not _accepted(udata_peer, key)
    twice = dgv(udata_peer, "auth", "token", "revoke", mine["id"], key=udata_peer.api_key)
    assert twice.exit_code == 1 and "410" in twice.output


def test_token_create_refuses_a_past_expiry_before_sending(udata_peer: UdataPeer, config_dir: Path) -> None:
    result = dgv(
        udata_peer, "auth", "token", "create", "old", "--expires", "2001-01-01", key=udata_peer.api_key
    )
    assert result.exit_code == 2 and "not in the future" in result.output
