"""datagouv_sdk.credentials: which keys are refused before any request, and the stored-key file."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import httpx
import pytest
from datagouv_sdk import DataGouv, errors
from datagouv_sdk.config import Config
from datagouv_sdk.credentials import (
    check_api_key,
    credentials_path,
    forget_key,
    key_hint,
    store_key,
    stored_key,
)

PROD = "https://www.data.gouv.fr"
DEMO = "https://demo.data.gouv.fr"
PORTAL = "https://data.example.org"
# Shaped like udata's tokens: "udata_" + secrets.token_urlsafe(48).
KEY = "udata_Q2hhbmdlTWUtdGhpcy1pcy1ub3QtYS1yZWFsLWtleS0wMTIzNDU2Nzg5YWJjZGVm"
OTHER_KEY = "udata_T3RoZXIta2V5LWZvci1kZW1vLW5vdC1yZWFsLTAxMjM0NTY3ODlhYmNkZWZnaGlq"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (KEY, KEY),
        (f"  {KEY}\n", KEY),  # from a file or a copy: surrounding whitespace goes
    ],
)
def test_plausible_keys_pass(value: str, expected: str) -> None:
    assert check_api_key(value, base_url=PROD) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (f"{KEY[:20]} {KEY[20:]}", "whitespace"),
        (f"{KEY[:20]}\t{KEY[20:]}", "whitespace"),
        (f"{KEY}\x00", "control"),
        (f'"{KEY}"', "quotes"),
        (f"'{KEY}'", "quotes"),
        ("https://www.data.gouv.fr/api/1/datasets/", "looks like a URL"),
        ("www.data.gouv.fr", "looks like a URL"),
        (f"X-API-KEY: {KEY}", "header name"),
        (f"Bearer {KEY}", "header name"),
        ("eyJhbGciOiJIUzUxMiJ9.bGVnYWN5", "does not start with 'udata_'"),  # a pre-udata-16 key
        (KEY[:30] + "+/=" + KEY[33:], "characters"),
    ],
)
def test_impossible_keys_are_refused_without_echoing_them(value: str, message: str) -> None:
    with pytest.raises(errors.UsageError, match=message) as caught:
        check_api_key(value, base_url=PROD)
    secret = value.strip()[8:]
    assert not secret or secret not in str(caught.value)


def test_other_portals_only_get_the_shape_checked() -> None:
    legacy = "eyJhbGciOiJIUzUxMiJ9.bGVnYWN5"
    assert check_api_key(legacy, base_url=PORTAL) == legacy
    with pytest.raises(errors.UsageError, match="whitespace"):
        check_api_key("two words", base_url=PORTAL)
    with pytest.raises(errors.UsageError, match="does not start"):
        check_api_key(legacy, base_url=DEMO)


def test_config_refuses_impossible_keys_and_names_the_variable() -> None:
    with pytest.raises(errors.UsageError, match="looks like a URL"):
        Config(api_key="https://www.data.gouv.fr/")
    with pytest.raises(errors.UsageError, match="DATAGOUV_API_KEY"):
        Config.from_env(environ={"DATAGOUV_API_KEY": "not a key"})
    assert Config(base_url=PORTAL, api_key="any-shape.123").api_key == "any-shape.123"


def test_a_refused_key_sends_nothing() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    transport = httpx.MockTransport(handler)
    with pytest.raises(errors.UsageError):
        DataGouv(api_key=f"X-API-KEY: {KEY}", transport=transport)
    assert seen == []


def test_key_hint_is_what_udata_shows() -> None:
    assert key_hint(KEY) == KEY[:14] + "…"
    assert key_hint("short") == "***"


# -- the credentials file ------------------------------------------------------------------------


@pytest.fixture
def path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATAGOUV_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config" / "credentials.json"


def test_credentials_path_follows_the_override_then_platformdirs(
    path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert credentials_path() == path
    monkeypatch.delenv("DATAGOUV_CONFIG_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert credentials_path() == tmp_path / "xdg" / "datagouv-sdk" / "credentials.json"


def test_store_read_forget_per_portal(path: Path) -> None:
    assert stored_key(PROD) is None
    stored = store_key(PROD, f" {KEY}\n", user="Olivia Owner (olivia)", token_id="abc")
    store_key(DEMO, OTHER_KEY)
    assert stored.api_key == KEY and KEY not in repr(stored)
    again = stored_key(PROD)
    assert again is not None and (again.api_key, again.user, again.token_id) == (
        KEY,
        "Olivia Owner (olivia)",
        "abc",
    )
    assert stored_key(DEMO) is not None and stored_key(DEMO).api_key == OTHER_KEY  # type: ignore[union-attr]
    assert forget_key(PROD) is not None and stored_key(PROD) is None
    assert forget_key(PROD) is None
    assert stored_key(DEMO) is not None  # the other portal's key stays


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_the_file_is_private_and_written_atomically(path: Path) -> None:
    store_key(PROD, KEY)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    store_key(DEMO, OTHER_KEY)
    assert sorted(p.name for p in path.parent.iterdir()) == ["credentials.json"]  # no temp file left
    assert set(json.loads(path.read_text())["portals"]) == {PROD, DEMO}


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_file_others_can_read_is_refused(path: Path) -> None:
    store_key(PROD, KEY)
    path.chmod(0o644)
    with pytest.raises(errors.UsageError, match="chmod 600"):
        stored_key(PROD)


def test_a_corrupt_file_is_refused_with_what_to_do(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    path.chmod(0o600)
    with pytest.raises(errors.UsageError, match="delete it"):
        stored_key(PROD)
    path.write_text(json.dumps({"version": 1, "portals": {PROD: {"api_key": "has space"}}}))
    with pytest.raises(errors.UsageError, match="stored in"):
        stored_key(PROD)


def test_store_refuses_an_impossible_key_and_keeps_the_file(path: Path) -> None:
    store_key(PROD, KEY)
    before = path.read_bytes()
    with pytest.raises(errors.UsageError):
        store_key(PROD, "https://www.data.gouv.fr/")
    assert path.read_bytes() == before


# -- precedence: argument, environment, stored ----------------------------------------------------


def test_precedence_explicit_then_env_then_stored(path: Path) -> None:
    store_key(PROD, KEY)
    store_key(DEMO, OTHER_KEY)
    env_key = "udata_" + "e" * 64
    flag_key = "udata_" + "f" * 64
    environ = {"DATAGOUV_CONFIG_DIR": str(path.parent)}
    assert Config.from_env(environ=environ).api_key == KEY
    assert Config.from_env("demo", environ=environ).api_key == OTHER_KEY  # each portal its own key
    assert Config.from_env(environ={**environ, "DATAGOUV_API_KEY": env_key}).api_key == env_key
    assert (
        Config.from_env(environ={**environ, "DATAGOUV_API_KEY": env_key}, api_key=flag_key).api_key
        == flag_key
    )
    assert Config.from_env(environ=environ, use_stored_key=False).api_key is None
    assert Config.from_env(environ=environ, base_url=PORTAL).api_key is None  # no key stored for it


def test_the_stored_key_goes_to_its_portal_only(path: Path) -> None:
    store_key(PROD, KEY)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": [], "page": 1, "page_size": 1, "total": 0})

    with DataGouv(transport=httpx.MockTransport(handler), tabular_url="https://tabular.example.org") as dg:
        dg.http("main").get("/datasets/")
        dg.http("tabular").get("/api/resources/x/data/")
    assert [(r.url.host, r.headers.get("X-API-KEY")) for r in seen] == [
        ("www.data.gouv.fr", KEY),
        ("tabular.example.org", None),
    ]
