"""specs/patches/main.json and main-v2.json: each patch leaves the document in its intended shape.

Generation from the patched documents (every operation, zero warnings, mypy) is in
test_patches_main_generate.py, which is slower.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from datagouv_sdk.codegen.normalise import normalise
from datagouv_sdk.codegen.swagger2 import component_names, convert

from tests.codegen.test_swagger2 import METHODS, iter_refs, resolve, strict_errors, upstream_document
from tools.specpipeline.patches import load_patches
from tools.specpipeline.pipeline import prepare

PACKAGES = {"main": "datagouv_main", "main-v2": "datagouv_main_v2"}
OPERATIONS = {"main": 247, "main-v2": 36}
CLEAN_ID = re.compile(r"^[a-z][a-z0-9_]*$")
NULL_SEEN_REASON = "null seen on real udata 17.18.0 peer"
# The udata peer's census of properties returned as null (tests/peers/udata/README.md, "Null census").
NULL_CENSUS = Path(__file__).resolve().parents[1] / "peers" / "udata" / "null-census.json"


@pytest.fixture(scope="module")
def prepared() -> dict[str, dict[str, Any]]:
    """The documents the generator is fed: normalised upstream → converted → patched."""
    return {name: prepare(name, normalise(upstream_document(name))) for name in PACKAGES}


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, m, op) for path, item in doc["paths"].items() for m, op in item.items() if m in METHODS]


# -- the patch files themselves ------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PACKAGES))
def test_patch_files_parse_with_reasons(name: str) -> None:
    patch_set = load_patches(name)
    assert patch_set.api == name
    assert patch_set.patches, f"specs/patches/{name}.json is empty"
    for patch in patch_set.patches:
        assert len(patch.reason) >= 15, patch  # a real sentence, not a placeholder
        if NULL_SEEN_REASON in patch.reason:  # the nullability section: one property pointer per patch
            nullable_flag = patch.op == "add" and patch.path.endswith("/nullable") and patch.value is True
            null_in_enum = patch.op == "add" and patch.path.endswith("/enum/-") and patch.value is None
            wrapped_ref = (
                patch.op == "replace" and patch.value.get("nullable") is True and "allOf" in patch.value
            )
            assert nullable_flag or null_in_enum or wrapped_ref, patch


@pytest.mark.parametrize("name", list(PACKAGES))
def test_patched_documents_are_valid_openapi_30(name: str, prepared: dict[str, dict[str, Any]]) -> None:
    doc = prepared[name]
    assert strict_errors(doc) == []  # the upstream default/type contradictions are patched away
    for ref in iter_refs(doc):
        resolve(doc, ref)


def _schemas_with_ignored_siblings(node: Any, where: str = "#") -> list[str]:
    """Pointers where `nullable` sits beside a `$ref`: OpenAPI 3.0 (and the generator) ignore it there."""
    found = []
    if isinstance(node, dict):
        if "$ref" in node and "nullable" in node:
            found.append(where)
        for key, value in node.items():
            found += _schemas_with_ignored_siblings(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _schemas_with_ignored_siblings(value, f"{where}/{index}")
    return found


@pytest.mark.parametrize("name", list(PACKAGES))
def test_no_nullable_beside_a_ref(name: str, prepared: dict[str, dict[str, Any]]) -> None:
    # A nullability patch on a bare {"$ref"} property must replace it by {"allOf": [{"$ref"}], "nullable": true}.
    assert _schemas_with_ignored_siblings(prepared[name]) == []


# -- operation ids -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PACKAGES))
def test_operation_ids_are_unique_and_clean(name: str, prepared: dict[str, dict[str, Any]]) -> None:
    ids = [op["operationId"] for _, _, op in operations(prepared[name])]
    assert len(ids) == OPERATIONS[name] == len(set(ids))
    assert [i for i in ids if not CLEAN_ID.match(i)] == []
    raw = [op.get("operationId", "") for _, _, op in operations(convert(upstream_document(name)))]
    assert any("_api_/" in i for i in raw), "upstream fixed its operationIds: drop the patches"


def test_main_flask_restx_ids_are_renamed(prepared: dict[str, dict[str, Any]]) -> None:
    paths = prepared["main"]["paths"]
    assert paths["/dataservices/{dataservice}/datasets/{dataset}/"]["delete"]["operationId"] == (
        "delete_dataservice_dataset"
    )
    assert paths["/organizations/{org}/datasets.csv"]["get"]["operationId"] == "get_datasets_csv"
    assert (
        paths["/organizations/{org}/datasets-resources.csv"]["get"]["operationId"]
        == "get_datasets_resources_csv"
    )
    assert paths["/organizations/{org}/discussions.csv"]["get"]["operationId"] == "get_discussions_csv"
    assert paths["/organizations/{org}/membership/"]["post"]["operationId"] == "post_membership_request"
    v2 = prepared["main-v2"]["paths"]
    assert v2["/topics/{topic}/elements/{element_id}/"]["delete"]["operationId"] == "delete_topic_element"


# -- ResourceType --------------------------------------------------------------------------------


def test_resource_type_enum_has_its_own_component(prepared: dict[str, dict[str, Any]]) -> None:
    schemas = prepared["main"]["components"]["schemas"]
    assert schemas["ResourceType"]["type"] == "object"
    assert set(schemas["ResourceType"]["properties"]) == {"id", "label"}
    assert schemas["Resource"]["properties"]["type"] == {"$ref": "#/components/schemas/ResourceTypeId"}
    kind = schemas["ResourceTypeId"]
    assert kind["type"] == "string" and {"main", "documentation", "api"} <= set(kind["enum"])
    assert "type" in schemas["Resource"]["required"]
    # No other inline enum would be named ResourceType by the generator (class name = parent + property).
    clashes = [
        (name, prop)
        for name, schema in schemas.items()
        for prop, value in schema.get("properties", {}).items()
        if re.sub(r"[^a-z]", "", f"{name}{prop}".lower()) == "resourcetype" and "enum" in value
    ]
    assert clashes == []


# -- parameters ----------------------------------------------------------------------------------


def test_users_suggest_size_is_an_integer(prepared: dict[str, dict[str, Any]]) -> None:
    params = prepared["main"]["paths"]["/users/suggest/"]["get"]["parameters"]
    size = next(p for p in params if p["name"] == "size")
    assert size["schema"] == {"type": "integer", "default": 10}


# -- request bodies vs read-only properties ------------------------------------------------------


def test_dataset_bodies_use_the_write_model(prepared: dict[str, dict[str, Any]]) -> None:
    doc = prepared["main"]
    schemas = doc["components"]["schemas"]
    for path, method in (("/datasets/", "post"), ("/datasets/{dataset}/", "put")):
        body = doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/Dataset_write"}, (method, path)
    get = doc["paths"]["/datasets/{dataset}/"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    assert get == {"$ref": "#/components/schemas/Dataset"}
    # The read model stays strict; the write model is the same minus the server-set requirements.
    assert {"created_at", "last_modified"} <= set(schemas["Dataset"]["required"])
    assert set(schemas["Dataset_write"]["required"]) == set(schemas["Dataset"]["required"]) - {
        "created_at",
        "last_modified",
    }
    assert set(schemas["Dataset_write"]["properties"]) == set(schemas["Dataset"]["properties"])


@pytest.mark.parametrize("name", list(PACKAGES))
def test_no_request_body_requires_a_read_only_property(
    name: str, prepared: dict[str, dict[str, Any]]
) -> None:
    doc = prepared[name]
    offenders = []
    for path, method, op in operations(doc):
        for media in op.get("requestBody", {}).get("content", {}).values():
            schema = media["schema"]
            if "$ref" in schema:
                schema = resolve(doc, schema["$ref"])
            # The body's own object and the members it is composed of (udata's references use allOf).
            members = [
                schema,
                *(resolve(doc, m["$ref"]) if "$ref" in m else m for m in schema.get("allOf", [])),
            ]
            for member in members:
                props = member.get("properties", {})
                offenders += [
                    (method, path, p) for p in member.get("required", []) if props.get(p, {}).get("readOnly")
                ]
    assert offenders == []


# -- id-or-object fields (X-Get-Datasets-Full-Objects) -------------------------------------------


@pytest.mark.parametrize(
    ("name", "schema", "prop"),
    [
        ("main", "SpatialCoverage_read", "granularity"),
        ("main-v2", "SpatialCoverage_read", "granularity"),
        ("main-v2", "Dataset", "frequency"),
        ("main-v2", "Dataset", "license"),
    ],
)
def test_id_or_object_fields(name: str, schema: str, prop: str, prepared: dict[str, dict[str, Any]]) -> None:
    value = prepared[name]["components"]["schemas"][schema]["properties"][prop]
    assert "type" not in value and "default" not in value
    assert value["anyOf"] == [{"type": "string"}, {"type": "object", "additionalProperties": True}]
    assert "X-Get-Datasets-Full-Objects" in value["description"]


@pytest.mark.parametrize("name", list(PACKAGES))
def test_zones_are_lists_of_ids_or_objects(name: str, prepared: dict[str, dict[str, Any]]) -> None:
    zones = prepared[name]["components"]["schemas"]["SpatialCoverage_read"]["properties"]["zones"]
    assert zones["type"] == "array"
    assert zones["items"] == {"anyOf": [{"type": "string"}, {"type": "object", "additionalProperties": True}]}


# -- nullability (the last section of each patch file) -------------------------------------------


@pytest.mark.parametrize("name", list(PACKAGES))
def test_every_property_seen_null_is_nullable(name: str, prepared: dict[str, dict[str, Any]]) -> None:
    census = json.loads(NULL_CENSUS.read_text(encoding="utf-8"))["by_spec"][f"{name}.json"]["null_properties"]
    names = component_names(upstream_document(name)["definitions"])
    schemas = prepared[name]["components"]["schemas"]
    missing = []
    for definition, props in census.items():
        schema = schemas[names[definition]]
        members = [schema, *(m for m in schema.get("allOf", []) if "properties" in m)]
        for prop in props:
            found = next(m["properties"][prop] for m in members if prop in m.get("properties", {}))
            # OpenAPI 3.0: `nullable` lets null through, but an enum must also list it (else the
            # generated Literal check rejects None).
            if found.get("nullable") is not True or ("enum" in found and None not in found["enum"]):
                missing.append(f"{definition}.{prop}")
    assert missing == []
    assert sum(len(v) for v in census.values()) > 100  # the census is the real one, not an empty stub


@pytest.mark.parametrize("name", list(PACKAGES))
def test_nullability_patches_come_last(name: str) -> None:
    patches = load_patches(name).patches
    first = next(i for i, p in enumerate(patches) if NULL_SEEN_REASON in p.reason)
    rest = patches[first:]
    # After the first nullability patch only nullability patches and their guards follow.
    assert all(NULL_SEEN_REASON in p.reason or (p.op == "test" and "bare $ref" in p.reason) for p in rest)


@pytest.mark.parametrize("name", list(PACKAGES))
def test_properties_the_server_omits_are_not_required(name: str, prepared: dict[str, dict[str, Any]]) -> None:
    census = json.loads(NULL_CENSUS.read_text(encoding="utf-8"))["by_spec"][f"{name}.json"]
    names = component_names(upstream_document(name)["definitions"])
    schemas = prepared[name]["components"]["schemas"]
    still_required = [
        f"{definition}.{prop}"
        for definition, props in census["required_properties_seen_missing"].items()
        for prop in props
        if prop in schemas[names[definition]].get("required", [])
    ]
    assert still_required == []
