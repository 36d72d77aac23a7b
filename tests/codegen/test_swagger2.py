"""Swagger 2.0 → OpenAPI 3.0 converter: one small hand-written fixture per feature, then the real Main API.

The fixtures live in tests/codegen/fixtures/swagger2/; the real documents are the fetched ones
(specs/upstream/, written by `make specs`) or, failing that, $DATAGOUV_SPECS_MIRROR.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from datagouv_sdk.codegen.errors import SpecInvalidError
from datagouv_sdk.codegen.swagger2 import (
    SwaggerConversionError,
    component_name,
    component_names,
    convert,
    is_swagger2,
)
from openapi_spec_validator import OpenAPIV30SpecValidator

from tools.specpipeline.layout import default_layout

FIXTURES = Path(__file__).parent / "fixtures" / "swagger2"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch")


def fixture(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return doc


def upstream_document(name: str) -> dict[str, Any]:
    """The fetched upstream document `name` (main, main-v2): specs/upstream first, then the mirror."""
    candidates = [default_layout().upstream_path(name)]
    mirror = os.environ.get("DATAGOUV_SPECS_MIRROR")
    if mirror:
        candidates.append(Path(mirror) / f"{name}.json")
    for path in candidates:
        if path.exists():
            doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return doc
    pytest.fail(
        f"{name}: no upstream document in {[str(c) for c in candidates]}; "
        "run `make specs` (offline: DATAGOUV_SPECS_MIRROR=DIR make specs)"
    )


def iter_refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from iter_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from iter_refs(value)


def resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for token in ref[2:].split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def strict_errors(doc: dict[str, Any]) -> list[str]:
    return sorted(e.message for e in OpenAPIV30SpecValidator(doc).iter_errors())


# -- detection and errors ------------------------------------------------------------------------


def test_is_swagger2() -> None:
    assert is_swagger2({"swagger": "2.0", "paths": {}})
    assert not is_swagger2({"openapi": "3.0.3", "paths": {}})
    assert not is_swagger2({"swagger": "1.2"})
    assert not is_swagger2(["swagger", "2.0"])


def test_convert_rejects_openapi3_with_a_spec_error() -> None:
    with pytest.raises(SwaggerConversionError, match=r"not a Swagger 2.0 document \(found version '3.0.3'\)"):
        convert({"openapi": "3.0.3", "info": {}, "paths": {}})
    assert issubclass(SwaggerConversionError, SpecInvalidError)


def test_dangling_ref_is_named() -> None:
    doc = fixture("definitions")
    doc["definitions"]["Tag"]["items"] = {"$ref": "#/definitions/Missing%20One"}
    with pytest.raises(SwaggerConversionError, match="Missing%20One"):
        convert(doc)


def test_two_body_parameters_are_refused() -> None:
    doc = fixture("parameters")
    body = {"name": "other", "in": "body", "schema": {"type": "object"}}
    doc["paths"]["/items/{item}/"]["post"]["parameters"].append(body)
    with pytest.raises(SwaggerConversionError, match=r"POST /items/\{item\}/: has 2 body parameters"):
        convert(doc)


def test_pure_and_deterministic() -> None:
    doc = fixture("definitions")
    before = copy.deepcopy(doc)
    first = convert(doc)
    assert doc == before  # input untouched
    assert json.dumps(convert(doc)) == json.dumps(first)
    # Reordered definitions give the same names (collision suffixes are assigned in sorted order).
    reordered = dict(doc, definitions=dict(reversed(list(doc["definitions"].items()))))
    assert set(convert(reordered)["components"]["schemas"]) == set(first["components"]["schemas"])


# -- component names -----------------------------------------------------------------------------


def test_component_name_rule() -> None:
    assert component_name("Dataset (read)") == "Dataset_read"
    assert component_name("Geo Zone/Level (v2)") == "Geo_Zone_Level_v2"
    assert component_name("Already.valid-Name_1") == "Already.valid-Name_1"
    assert component_name("(((") == "Schema"


def test_component_names_are_collision_free_and_keep_valid_names() -> None:
    names = component_names(["User (read)", "User_read", "User [read]", "Dataset (read)"])
    assert names == {
        "User_read": "User_read",  # valid names are reserved first
        "Dataset (read)": "Dataset_read",
        "User (read)": "User_read_2",  # sorted order: "User (read)" < "User [read]"
        "User [read]": "User_read_3",
    }
    assert all(re.fullmatch(r"[a-zA-Z0-9._-]+", v) for v in names.values())


# -- parameters ----------------------------------------------------------------------------------


def test_parameters() -> None:
    out = convert(fixture("parameters"))
    item = out["paths"]["/items/{item}/"]
    assert item["parameters"] == [
        {
            "name": "item",
            "in": "path",
            "description": "The item id",
            "required": True,
            "schema": {"type": "string"},
        },
        {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["fr", "en"]}},
    ]
    params = {p.get("name", p.get("$ref")): p for p in item["get"]["parameters"]}
    assert params["X-Fields"] == {
        "name": "X-Fields",
        "in": "header",
        "description": "An optional fields mask",
        "schema": {"type": "string", "format": "mask"},
    }  # a field mask: kept, optional
    assert (params["tag"]["style"], params["tag"]["explode"]) == ("form", True)  # multi
    assert (params["ids"]["style"], params["ids"]["explode"]) == ("form", False)  # csv, Swagger's default
    assert params["ids"]["schema"] == {"type": "array", "items": {"type": "integer"}}
    assert (params["words"]["style"], params["words"]["explode"]) == ("spaceDelimited", False)
    assert (params["flags"]["style"], params["flags"]["explode"]) == ("pipeDelimited", False)
    assert (params["X-Tags"]["style"], params["X-Tags"]["explode"]) == ("simple", False)
    assert params["lang"]["required"] is True  # the operation's own `lang` overrides the path-level one
    assert params["#/components/parameters/pageParam"] == {"$ref": "#/components/parameters/pageParam"}
    assert out["components"]["parameters"] == {
        "pageParam": {
            "name": "page",
            "in": "query",
            "schema": {"type": "integer", "default": 1, "minimum": 1},
        }
    }  # the body parameter is inlined where used, never a component parameter
    assert out["servers"] == [{"url": "https://api.example.org/v1"}]  # no schemes: https


def test_body_parameters_become_request_bodies() -> None:
    out = convert(fixture("parameters"))
    item = out["paths"]["/items/{item}/"]
    assert "parameters" not in item["put"]  # the only parameter was the body
    assert item["put"]["requestBody"] == {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
        "required": True,
    }
    assert item["post"]["requestBody"] == {
        "description": "The new item",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Item"}},
            "application/xml": {"schema": {"$ref": "#/components/schemas/Item"}},
        },
    }


def test_form_data_and_files() -> None:
    out = convert(fixture("forms"))
    upload = out["paths"]["/upload/"]["post"]
    assert [p["name"] for p in upload["parameters"]] == ["X-Fields"]
    assert upload["requestBody"] == {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "The file"},
                        "partindex": {"type": "integer"},
                    },
                    "required": ["file"],
                }
            }
        },
        "required": True,
    }
    # A file with no form type in `consumes` (the document says JSON) still needs multipart.
    assert list(out["paths"]["/upload/"]["put"]["requestBody"]["content"]) == ["multipart/form-data"]
    login = out["paths"]["/login/"]["post"]["requestBody"]["content"]
    assert list(login) == ["application/x-www-form-urlencoded"]
    assert login["application/x-www-form-urlencoded"]["encoding"] == {
        "scopes": {"style": "form", "explode": False}
    }
    assert login["application/x-www-form-urlencoded"]["schema"]["required"] == ["user"]


def test_file_response_and_relative_server() -> None:
    out = convert(fixture("forms"))
    download = out["paths"]["/download/"]["get"]["responses"]["200"]
    assert download["content"] == {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
    }
    assert out["servers"] == [{"url": "/"}]


# -- definitions, references, responses ----------------------------------------------------------


def test_definitions_names_and_refs() -> None:
    out = convert(fixture("definitions"))
    schemas = out["components"]["schemas"]
    assert list(schemas) == [
        "Dataset_read",
        "User_read_2",
        "User_read",
        "Organization_read",
        "Tag",
        "BaseReference",
    ]
    dataset = schemas["Dataset_read"]["properties"]
    # raw and percent-encoded refs end at the same sanitised component
    assert dataset["owner"] == {
        "allOf": [{"$ref": "#/components/schemas/User_read_2"}],
        "description": "The owner",
        "readOnly": True,
    }
    assert dataset["organization"] == {"$ref": "#/components/schemas/Organization_read"}
    assert dataset["parent"] == {"$ref": "#/components/schemas/Dataset_read"}
    assert dataset["tags"]["items"] == {"$ref": "#/components/schemas/Tag"}
    assert dataset["extras"]["additionalProperties"] == {"$ref": "#/components/schemas/Tag"}
    assert dataset["id"] == {"type": "string", "readOnly": True}
    assert dataset["archived"] == {"type": "string", "format": "date-time", "nullable": True}
    assert schemas["Tag"] == {"type": "string", "example": "transport"}  # x-nullable false: nothing to say
    assert schemas["BaseReference"]["discriminator"] == {"propertyName": "class"}
    for ref in iter_refs(out):
        assert ref.startswith("#/components/"), ref
        resolve(out, ref)
    assert out["servers"] == [{"url": "/api/1"}]  # no host: relative basePath


def test_nullable_reference_is_wrapped_so_openapi3_honours_it() -> None:
    doc = fixture("definitions")
    doc["definitions"]["Dataset (read)"]["properties"]["organization"]["x-nullable"] = True
    out = convert(doc)
    assert out["components"]["schemas"]["Dataset_read"]["properties"]["organization"] == {
        "allOf": [{"$ref": "#/components/schemas/Organization_read"}],
        "nullable": True,
    }


def test_path_level_body_and_extensions() -> None:
    doc = fixture("parameters")
    doc["paths"]["x-internal"] = {"note": "kept as is"}
    item = doc["paths"]["/items/{item}/"]
    item["parameters"].append({"name": "payload", "in": "body", "schema": {"type": "object"}})
    item["delete"] = {"operationId": "delete_item", "responses": {"204": {"description": "Gone"}}}
    out = convert(doc)
    assert out["paths"]["x-internal"] == {"note": "kept as is"}
    converted = out["paths"]["/items/{item}/"]
    assert [p["name"] for p in converted["parameters"]] == ["item", "lang"]  # the body moved out
    assert converted["delete"]["requestBody"] == {
        "content": {"application/json": {"schema": {"type": "object"}}}
    }
    # an operation's own body overrides the path-level one
    assert converted["post"]["requestBody"]["description"] == "The new item"


def test_responses_headers_examples_and_component_responses() -> None:
    out = convert(fixture("definitions"))
    responses = out["paths"]["/datasets/{id}/"]["get"]["responses"]
    assert responses["200"] == {
        "description": "The dataset",
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/Dataset_read"},
                "example": {"id": "abc"},
            }
        },
        "headers": {"X-Total": {"description": "Total count", "schema": {"type": "integer"}}},
    }
    assert responses["403"] == {"$ref": "#/components/responses/PermissionDenied_error"}
    assert out["components"]["responses"]["PermissionDenied_error"] == {
        "description": "Permission denied",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Tag"}}},
    }


def test_security_and_servers() -> None:
    out = convert(fixture("security"))
    assert out["components"]["securitySchemes"] == {
        "apikey": {"type": "apiKey", "name": "X-API-KEY", "in": "header"},
        "basic": {"type": "http", "scheme": "basic", "description": "Login"},
        "oauth": {
            "type": "oauth2",
            "flows": {
                "authorizationCode": {
                    "scopes": {"default": "Default scope"},
                    "authorizationUrl": "https://www.example.org/oauth/authorize",
                    "tokenUrl": "https://www.example.org/oauth/token",
                }
            },
        },
    }
    assert out["security"] == [{"apikey": []}]
    assert out["paths"]["/me/"]["get"]["security"] == [{"oauth": ["default"]}]
    assert out["servers"] == [
        {"url": "https://www.example.org/api/2"},
        {"url": "http://www.example.org/api/2"},
    ]


@pytest.mark.parametrize(
    ("fields", "servers"),
    [
        ({"host": "h.example", "basePath": "/api"}, ["https://h.example/api"]),
        ({"host": "h.example"}, ["https://h.example"]),
        ({"host": "h.example", "basePath": "/", "schemes": ["http"]}, ["http://h.example"]),
        ({"basePath": "api/3"}, ["/api/3"]),
        ({}, ["/"]),
    ],
)
def test_servers(fields: dict[str, Any], servers: list[str]) -> None:
    doc = {"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}, **fields}
    assert [s["url"] for s in convert(doc)["servers"]] == servers


@pytest.mark.parametrize("name", ["parameters", "forms", "definitions", "security", "quirks"])
def test_fixture_outputs_are_valid_openapi_30(name: str) -> None:
    out = convert(fixture(name))
    assert out["openapi"] == "3.0.3"
    assert strict_errors(out) == []


# -- the real Main API ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def main_source() -> dict[str, Any]:
    return upstream_document("main")


@pytest.fixture(scope="module")
def main_converted(main_source: dict[str, Any]) -> dict[str, Any]:
    return convert(main_source)


def test_main_operations_and_schemas_survive(
    main_source: dict[str, Any], main_converted: dict[str, Any]
) -> None:
    source_ops = {
        (path, method) for path, item in main_source["paths"].items() for method in item if method in METHODS
    }
    assert len(source_ops) == 247
    assert {(path, method) for path, method, _ in operations(main_converted)} == source_ops
    assert len(main_source["definitions"]) == 181
    assert len(main_converted["components"]["schemas"]) == 181
    assert all(re.fullmatch(r"[a-zA-Z0-9._-]+", name) for name in main_converted["components"]["schemas"])
    assert "Dataset_read" in main_converted["components"]["schemas"]


def test_main_refs_all_resolve(main_converted: dict[str, Any]) -> None:
    text = json.dumps(main_converted)
    assert "#/definitions" not in text and "#/responses" not in text and "#/parameters" not in text
    refs = list(iter_refs(main_converted))
    assert len(refs) > 400
    for ref in refs:
        resolve(main_converted, ref)


def test_main_security_and_servers(main_converted: dict[str, Any]) -> None:
    assert main_converted["servers"] == [{"url": "https://www.data.gouv.fr/api/1"}]
    assert main_converted["components"]["securitySchemes"] == {
        "apikey": {"type": "apiKey", "name": "X-API-KEY", "in": "header"}
    }


def test_main_uploads_are_multipart_with_binary_files(main_converted: dict[str, Any]) -> None:
    multipart = {}
    for path, method, op in operations(main_converted):
        content = op.get("requestBody", {}).get("content", {})
        if "multipart/form-data" in content:
            multipart[(method, path)] = content["multipart/form-data"]["schema"]
    assert len(multipart) == 13
    for schema in multipart.values():
        files = [p for p in schema["properties"].values() if p.get("format") == "binary"]
        assert files and all(f["type"] == "string" for f in files)


def test_main_parameters_have_no_body_or_form_data_left(main_converted: dict[str, Any]) -> None:
    locations = set()
    masks = 0
    for item in main_converted["paths"].values():
        for param in item.get("parameters", []):
            locations.add(param["in"])
        for method, op in item.items():
            if method not in METHODS:
                continue
            for param in op.get("parameters", []):
                locations.add(param["in"])
                if param["name"] == "X-Fields":
                    masks += 1
                    assert not param.get("required") and param["schema"] == {
                        "type": "string",
                        "format": "mask",
                    }
    assert locations == {"query", "path", "header"}
    assert masks == 164
    bodies = sum("requestBody" in op for _, _, op in operations(main_converted))
    assert bodies == 52 + 13  # body parameters + multipart uploads


def test_main_discriminator_and_multi(main_converted: dict[str, Any]) -> None:
    assert main_converted["components"]["schemas"]["BaseReference"]["discriminator"] == {
        "propertyName": "class"
    }
    tag = next(p for p in main_converted["paths"]["/datasets/"]["get"]["parameters"] if p["name"] == "tag")
    assert (tag["style"], tag["explode"], tag["schema"]["type"]) == ("form", True, "array")


def test_main_converted_validates_except_upstream_defaults(main_converted: dict[str, Any]) -> None:
    # The only findings are udata's own defaults that contradict their types; specs/patches/main.json
    # fixes both (see tests/specpipeline/test_patches_main.py, which validates the patched document cleanly).
    assert strict_errors(main_converted) == ["'other' is not of type 'object'", "10 is not of type 'string'"]


def test_main_v2_converts() -> None:
    source = upstream_document("main-v2")
    out = convert(source)
    count = sum(1 for _ in operations(out))
    assert count == sum(1 for item in source["paths"].values() for m in item if m in METHODS) == 36
    assert len(out["components"]["schemas"]) == len(source["definitions"]) == 59
    assert out["servers"] == [{"url": "https://www.data.gouv.fr/api/2"}]
    for ref in iter_refs(out):
        resolve(out, ref)


def test_third_party_quirks() -> None:
    # A numeric `swagger: 2.0`, bare-name refs ("$ref": "Animal") and tuple-style `items`.
    out = convert(fixture("quirks"))
    schemas = out["components"]["schemas"]
    assert schemas["NewAnimal"]["allOf"][0] == {"$ref": "#/components/schemas/Animal"}
    assert schemas["AnimalList"]["properties"]["items"]["items"] == {"$ref": "#/components/schemas/Animal"}
    add = out["paths"]["/animals"]["post"]
    assert add["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NewAnimal"
    }
    assert add["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Animal"
    }
    assert strict_errors(out) == []
