"""Canonical form: formatting, key order and YAML-vs-JSON never change the bytes we hash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from datagouv_sdk.codegen.errors import SpecInvalidError
from datagouv_sdk.codegen.normalise import canonical_bytes, normalise, sha256_hex
from datagouv_sdk.drift.documents import parse_document


def test_unquoted_status_codes_become_strings(specs_mirror: Path) -> None:
    doc = normalise(parse_document((specs_mirror / "tabular.yaml").read_bytes(), origin="tabular.yaml"))
    for path_item in doc["paths"].values():
        for operation in path_item.values():
            if isinstance(operation, dict) and "responses" in operation:
                assert all(isinstance(code, str) for code in operation["responses"])
    assert doc["paths"]["/api/resources/{rid}/"]["get"]["responses"]["200"]["description"]


def test_reformatted_input_gives_the_same_bytes(specs_mirror: Path) -> None:
    original = parse_document((specs_mirror / "tabular.yaml").read_bytes(), origin="tabular.yaml")
    # The same document as reversed-key, 7-space-indented JSON with quoted codes, and as flow YAML.
    as_json = json.dumps(_reverse_keys(normalise(original)), indent=7).encode()
    as_yaml = yaml.safe_dump(original, default_flow_style=True, sort_keys=False).encode()
    expected = canonical_bytes(normalise(original))
    assert canonical_bytes(normalise(parse_document(as_json, origin="j"))) == expected
    assert canonical_bytes(normalise(parse_document(as_yaml, origin="y"))) == expected


def test_canonical_bytes_format() -> None:
    data = canonical_bytes(normalise({"b": [1, {"é": "ü", "a": None}], "a": True, 200: "x"}))
    assert data == (
        b'{\n  "200": "x",\n  "a": true,\n  "b": [\n    1,\n    {\n      "a": null,\n'
        b'      "\xc3\xa9": "\xc3\xbc"\n    }\n  ]\n}\n'
    )
    assert sha256_hex({"a": 1, "b": 2}) == sha256_hex({"b": 2, "a": 1})


def test_normalise_does_not_modify_its_input() -> None:
    doc = {200: {"b": 1, "a": 2}}
    normalise(doc)
    assert doc == {200: {"b": 1, "a": 2}}


def test_key_collision_after_stringifying_is_an_error() -> None:
    with pytest.raises(SpecInvalidError, match="duplicate key '200'"):
        normalise({"responses": {200: {}, "200": {}}})


def _reverse_keys(value: object) -> object:
    if isinstance(value, dict):
        return {k: _reverse_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reverse_keys(v) for v in value]
    return value


def test_enum_lists_are_sorted_so_set_order_never_moves_the_hash() -> None:
    # udata renders some enums from Python sets: the same spec comes out in a different order.
    one = {"definitions": {"X": {"type": "string", "enum": ["b", "a", "c"]}}}
    two = {"definitions": {"X": {"enum": ["c", "b", "a"], "type": "string"}}}
    assert normalise(one) == normalise(two)
    assert sha256_hex(normalise(one)) == sha256_hex(normalise(two))
    assert normalise(one)["definitions"]["X"]["enum"] == ["a", "b", "c"]
    # nullable enums hold None beside strings; other lists keep their order
    assert normalise({"enum": ["b", None, "a"]})["enum"] == ["a", "b", None]
    assert normalise({"required": ["b", "a"]})["required"] == ["b", "a"]
