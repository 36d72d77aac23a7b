"""Pure functions: argument checks on schema shapes the e2e API lacks, URL building
(the base URL choice and the URL policy: test_base_url.py)."""

from __future__ import annotations

from typing import Any

import pytest
from datagouv_sdk.discovery import check_arguments, list_operations
from datagouv_sdk.discovery.calls import build_url
from datagouv_sdk.errors import UsageError

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
