"""Pure functions: base URL choice, URL policy, argument checks on schema shapes the e2e API lacks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from datagouv_sdk.discovery import UnsafeURLError, check_arguments, choose_base_url, list_operations
from datagouv_sdk.discovery.calls import build_url
from datagouv_sdk.discovery.urls import check_url, is_loopback_host, same_origin
from datagouv_sdk.errors import UsageError

DOC_URL = "https://docs.example.org/specs/v2/openapi.json"


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        (
            {"openapi": "3.0.0", "servers": [{"url": "https://api.example.org/v1"}]},
            ("https://api.example.org/v1", "servers"),
        ),
        (
            {"openapi": "3.0.0", "servers": [{"url": "../api"}]},
            ("https://docs.example.org/specs/api", "servers"),
        ),
        (
            {
                "openapi": "3.1.0",
                "servers": [
                    {
                        "url": "https://{region}.example.org/{v}",
                        "variables": {"region": {"default": "eu"}, "v": {"default": "v3"}},
                    }
                ],
            },
            ("https://eu.example.org/v3", "servers"),
        ),
        ({"openapi": "3.0.0", "servers": [{"url": "/"}]}, ("https://fallback.example.org", "base_api_url")),
        ({"openapi": "3.0.0"}, ("https://fallback.example.org", "base_api_url")),
        (
            {"swagger": "2.0", "host": "api.example.org", "basePath": "/v2/", "schemes": ["http", "https"]},
            ("https://api.example.org/v2", "host"),
        ),
        ({"swagger": "2.0", "basePath": "/base"}, ("https://docs.example.org/base", "host")),
        ({"swagger": "2.0"}, ("https://fallback.example.org", "base_api_url")),
    ],
)
def test_base_url_choice(original: dict[str, Any], expected: tuple[str, str]) -> None:
    chosen = choose_base_url(
        original, original, document_url=DOC_URL, base_api_url="https://fallback.example.org"
    )
    assert (chosen.url, chosen.source) == expected


def test_no_server_and_no_base_api_url_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="names no server"):
        choose_base_url({"openapi": "3.0.0"}, {"openapi": "3.0.0"}, document_url=DOC_URL, base_api_url=None)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("http://127.0.0.1:8000/x", True),
        ("http://127.9.9.9/x", True),
        ("http://[::1]:8080/x", True),
        ("http://localhost/x", True),
        ("https://api.example.org/x", True),
        ("http://api.example.org/x", False),
        ("http://10.0.0.1/x", False),
        ("file:///etc/passwd", False),
        ("gopher://127.0.0.1/x", False),
        ("https:///nohost", False),
    ],
)
def test_url_policy(url: str, ok: bool) -> None:
    if ok:
        check_url(url)
    else:
        with pytest.raises(UnsafeURLError):
            check_url(url)


def test_url_policy_opt_in_and_origins() -> None:
    assert check_url("http://api.example.org/x", allow_insecure_http=True).host == "api.example.org"
    assert is_loopback_host("[::1]") and not is_loopback_host("127.example.org")
    a = httpx.URL("http://127.0.0.1:80/a")
    assert same_origin(a, httpx.URL("http://127.0.0.1/b"))
    assert not same_origin(a, httpx.URL("http://127.0.0.2/a"))
    assert not same_origin(a, httpx.URL("https://127.0.0.1/a"))


SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "paths": {
        "/things/{id}": {
            "post": {
                "operationId": "mix",
                "parameters": [
                    {"name": "id", "in": "path", "schema": {"type": "integer"}},  # required even if not said
                    {"name": "when", "in": "query", "schema": {"type": ["string", "null"]}},
                    {
                        "name": "mode",
                        "in": "query",
                        "schema": {"oneOf": [{"type": "integer"}, {"enum": ["auto"]}]},
                    },
                    {"name": "ratio", "in": "query", "schema": {"$ref": "#/components/schemas/Ratio"}},
                    {"name": "X-Trace", "in": "header", "required": True, "schema": {"type": "boolean"}},
                ],
            }
        }
    },
    "components": {"schemas": {"Ratio": {"type": "number"}}},
}


def test_argument_checks_on_31_types_refs_and_combinators() -> None:
    op = list_operations(SPEC)[0]
    assert [p.required for p in op.parameters] == [True, False, False, False, True]
    checked = check_arguments(
        SPEC,
        op,
        {"id": "7", "when": "2024", "mode": "auto", "ratio": "0.5", "X-Trace": "yes"},
        from_strings=True,
    )
    assert checked == {"id": 7, "when": "2024", "mode": "auto", "ratio": 0.5, "X-Trace": True}
    assert check_arguments(SPEC, op, {"id": 1, "when": None, "mode": 3, "X-Trace": False})["mode"] == 3
    with pytest.raises(UsageError) as info:
        check_arguments(SPEC, op, {"id": True, "mode": "manual", "ratio": "x", "X-Trace": 1})
    text = str(info.value)
    assert "parameter id (path, integer, required): expected an integer, got True" in text
    assert "parameter mode (query, any)" in text and "'manual' is not one of 'auto'" in text
    assert "parameter ratio (query, number): expected a number, got 'x'" in text
    assert "parameter X-Trace (header, boolean, required): expected true or false, got 1" in text
    with pytest.raises(UsageError, match="this operation takes no request body"):
        check_arguments(SPEC, op, {"id": 1, "X-Trace": True}, body={"a": 1})


def test_build_url_encodes_every_reserved_character() -> None:
    op = list_operations(SPEC)[0]
    assert build_url("https://h/api/", op, {"id": "../a b/%"}) == "https://h/api/things/..%2Fa%20b%2F%25"
