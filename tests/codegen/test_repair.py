"""codegen.repair: each fix-up family on the smallest document showing its defect (taken from the
corpus of real documents, tests/discovery/corpus/), what it changes, and what it leaves alone."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from datagouv_sdk.codegen.repair import (
    FIXUPS,
    REASONS,
    content_type_overrides,
    iter_schemas,
    repair_document,
)


def doc(paths: dict[str, Any], schemas: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": paths}
    if schemas is not None:
        out["components"] = {"schemas": schemas}
    return out


def get(schema: Any) -> dict[str, Any]:
    return {
        "get": {
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}}
        }
    }


def families(spec: dict[str, Any]) -> dict[str, int]:
    _fixed, repairs = repair_document(spec)
    counts: dict[str, int] = {}
    for r in repairs:
        counts[r.family] = counts.get(r.family, 0) + 1
    return counts


def test_every_family_says_why() -> None:
    assert {f.family for f in FIXUPS} <= set(REASONS)
    assert all(len(reason) > 30 for reason in REASONS.values())


def test_a_sound_document_is_left_alone() -> None:
    spec = doc(
        {"/a": get({"$ref": "#/components/schemas/A"})},
        {"A": {"type": "object", "properties": {"x": {"type": "string"}}}},
    )
    fixed, repairs = repair_document(spec)
    assert repairs == () and fixed == spec
    assert fixed is not spec  # a copy: the caller's document is never changed


def test_invalid_types_become_what_they_mean() -> None:
    # apigouv-old--api-rna.json (timestamp), apientreprise--entreprise-v3.yaml (date), statut-etudiant (date)
    spec = doc(
        {"/a": get({"$ref": "#/components/schemas/A"})},
        {
            "A": {
                "type": "object",
                "properties": {
                    "created_at": {"type": "timestamp"},
                    "born": {"type": "date", "format": "date"},
                    "payload": {"type": "json"},
                    "n": {"type": ["int", "null"]},
                },
            }
        },
    )
    fixed, repairs = repair_document(spec)
    props = fixed["components"]["schemas"]["A"]["properties"]
    assert props["created_at"] == {"type": "string", "format": "date-time"}
    assert props["born"] == {"type": "string", "format": "date"}
    assert props["payload"] == {}
    assert props["n"] == {"type": ["integer", "null"]}
    assert {r.where for r in repairs} >= {"/components/schemas/A/properties/created_at/type"}


def test_security_scheme_types_are_not_schemas() -> None:
    spec = doc({"/a": get({"type": "string"})})
    spec["components"] = {"securitySchemes": {"k": {"type": "apiKey", "in": "header", "name": "X"}}}
    assert families(spec) == {}
    assert all(s.get("type") != "apiKey" for s, _p in iter_schemas(spec))


def test_operation_without_responses_gets_a_default_one() -> None:
    # grist--grist.yaml: POST /docs/{docId}/states/remove has no `responses`
    spec = doc({"/a": {"post": {"operationId": "remove"}}})
    fixed, _ = repair_document(spec)
    assert fixed["paths"]["/a"]["post"]["responses"] == {"default": {"description": "(not documented)"}}


def test_references_to_nothing_are_dropped_or_typed_any() -> None:
    # apicarto--corse.yaml: '#/definitions/Geometry' (missing); grist: https://specs.frictionlessdata.io/...
    spec = doc(
        {
            "/a": {
                "parameters": [{"$ref": "#/components/parameters/Missing"}],
                "get": {
                    "parameters": [
                        {"name": "q", "in": "query", "schema": {"$ref": "#/components/schemas/Gone"}}
                    ],
                    "responses": {
                        "200": {"$ref": "#/components/responses/Nope"},
                        "201": {
                            "description": "x",
                            "content": {"application/json": {"schema": {"$ref": "other.yaml#/X"}}},
                        },
                    },
                },
            }
        },
        {"A": {"type": "object", "properties": {"d": {"$ref": "https://example.org/dialect.json"}}}},
    )
    fixed, repairs = repair_document(spec)
    op = fixed["paths"]["/a"]["get"]
    assert fixed["paths"]["/a"]["parameters"] == []
    assert "$ref" not in op["parameters"][0]["schema"]
    assert "$ref" not in op["responses"]["200"] and "description" in op["responses"]["200"]
    assert "$ref" not in fixed["components"]["schemas"]["A"]["properties"]["d"]
    assert all(r.family == "unresolvable-ref" for r in repairs) and len(repairs) == 5


@pytest.mark.parametrize(
    ("key", "schema", "expected"),
    [
        ("pplication/json", {"type": "object"}, "application/json"),  # apicarto--nature.yaml
        ("*/*", {"$ref": "#/components/schemas/A"}, "application/json"),  # apigouv--api-r2p.json
        ("*/*", {"type": "string", "format": "binary"}, "application/octet-stream"),
        ("application/*", {"type": "array", "items": {}}, "application/json"),
    ],
)
def test_media_types_that_are_not_are_replaced(key: str, schema: dict[str, Any], expected: str) -> None:
    spec = doc(
        {"/a": {"get": {"responses": {"200": {"description": "ok", "content": {key: {"schema": schema}}}}}}},
        {"A": {}},
    )
    fixed, repairs = repair_document(spec)
    assert list(fixed["paths"]["/a"]["get"]["responses"]["200"]["content"]) == [expected]
    assert [r.family for r in repairs] == ["media-type"]


def test_a_schema_in_place_of_the_media_type() -> None:
    # apicarto--aoc.yaml: `content: {schema: {...}}`
    spec = doc(
        {
            "/a": {
                "get": {
                    "responses": {"400": {"description": "bad", "content": {"schema": {"type": "object"}}}}
                }
            }
        }
    )
    fixed, _ = repair_document(spec)
    assert fixed["paths"]["/a"]["get"]["responses"]["400"]["content"] == {
        "application/json": {"schema": {"type": "object"}}
    }


def test_ignored_header_parameters_are_removed() -> None:
    # apigouv--api-rial.json & co: a required `Authorization` header parameter; OAS: "SHALL be ignored"
    params = [
        {"name": "Authorization", "in": "header", "required": True, "schema": {"type": "string"}},
        {"name": "X-Correlation-ID", "in": "header", "required": True, "schema": {"type": "string"}},
        {"name": "content-type", "in": "header", "schema": {"type": "string"}},
    ]
    spec = doc({"/a": {"get": {"parameters": params, "responses": {"200": {"description": "ok"}}}}})
    fixed, repairs = repair_document(spec)
    assert [p["name"] for p in fixed["paths"]["/a"]["get"]["parameters"]] == ["X-Correlation-ID"]
    assert len(repairs) == 2


def test_colliding_names_and_titles_are_made_distinct() -> None:
    # apigouv-old--judilibre-public.json: two components titled "Type d'objet `searchQuery`."
    spec = doc(
        {"/a": get({"$ref": "#/components/schemas/item"})},
        {
            "Item": {"type": "object"},
            "item": {"type": "object", "properties": {"x": {"$ref": "#/components/schemas/Item"}}},
            "searchQuery": {"title": "Type d'objet `searchQuery`.", "type": "object"},
            "other": {"title": "Type d'objet `searchQuery`.", "type": "object"},
        },
    )
    fixed, repairs = repair_document(spec)
    schemas = fixed["components"]["schemas"]
    assert list(schemas) == ["Item", "item2", "searchQuery", "other"]
    assert fixed["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/item2"
    }
    assert "title" in schemas["searchQuery"] and "title" not in schemas["other"]
    assert sorted(r.family for r in repairs) == ["colliding-schema-names", "colliding-titles"]


def test_nullable_models_are_referenced_as_model_or_null() -> None:
    # rdv-service-public--v1.json: `user` is a nullable object holding an inline object
    spec = doc(
        {"/a": get({"$ref": "#/components/schemas/user"})},
        {
            "user": {
                "type": "object",
                "nullable": True,
                "properties": {"r": {"type": "object", "nullable": True}},
            }
        },
    )
    fixed, _ = repair_document(spec)
    assert "nullable" not in fixed["components"]["schemas"]["user"]
    assert fixed["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "anyOf": [{"$ref": "#/components/schemas/user"}, {"type": "null"}]
    }


def test_unsupported_enums_arrays_without_items_and_null_defaults() -> None:
    # apientreprise: enum [false, true]; rdv visioplainte: array without items; rdv v1: default null
    spec = doc(
        {
            "/a": get(
                {
                    "type": "object",
                    "properties": {
                        "flag": {"type": "boolean", "nullable": True, "enum": [False, True]},
                        "mixed": {"enum": [1, "a"]},
                        "fine": {"type": "string", "enum": ["a", "b", None]},
                        "list": {"type": "array"},
                        "none": {"type": "object", "default": None},
                    },
                }
            )
        }
    )
    fixed, repairs = repair_document(spec)
    props = fixed["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"]["schema"][
        "properties"
    ]
    assert (
        "enum" not in props["flag"]
        and "enum" not in props["mixed"]
        and props["fine"]["enum"] == ["a", "b", None]
    )
    assert props["list"]["items"] == {}
    assert "default" not in props["none"]
    assert sorted({r.family for r in repairs}) == ["array-without-items", "null-default", "unsupported-enum"]


def test_unsupported_media_types_are_passed_as_bytes() -> None:
    # apigouv--api-ingres-noyau-v2.json (application/xml), api-si-amiante.yaml (text/plain bodies)
    spec = doc(
        {
            "/a": {
                "post": {
                    "requestBody": {"content": {"text/plain": {"schema": {"type": "string"}}}},
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/xml": {"schema": {"type": "string"}}},
                        },
                        "201": {"description": "ok", "content": {"text/csv": {"schema": {"type": "string"}}}},
                    },
                }
            }
        }
    )
    before = copy.deepcopy(spec)
    overrides, repairs = content_type_overrides(spec)
    assert overrides == {
        "text/plain": "application/octet-stream",
        "application/xml": "application/octet-stream",
    }
    assert spec == before and len(repairs) == 2  # config for the generator; the document is unchanged


def test_a_swagger_2_response_schema_in_an_openapi_3_document() -> None:
    # apicarto--aoc.yaml: `500: {description, schema: {$ref}}`, no `content`
    schema = {"$ref": "#/components/schemas/Error"}
    spec = doc(
        {"/a": {"post": {"responses": {"500": {"description": "x", "schema": schema}}}}}, {"Error": {}}
    )
    fixed, repairs = repair_document(spec)
    assert fixed["paths"]["/a"]["post"]["responses"]["500"] == {
        "description": "x",
        "content": {"application/json": {"schema": schema}},
    }
    assert [r.family for r in repairs] == ["swagger2-response-schema"]
