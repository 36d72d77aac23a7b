"""Client generation from third-party documents (discovery.generation): repaired, diagnosed,
generated, imported before it is handed over; what is skipped or repaired is reported; parameters
are sent as the document says by the generated code too (our endpoint templates)."""

from __future__ import annotations

import importlib
import json
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from datagouv_sdk.discovery import ClientGenerationError, load_document
from datagouv_sdk.discovery.generation import GeneratedClient, generate_package

from tests._http_server import Received
from tests.discovery import request_oracle as oracle


def document(paths: dict[str, Any], schemas: dict[str, Any] | None = None) -> Any:
    spec: dict[str, Any] = {"openapi": "3.0.3", "info": {"title": "Gen test", "version": "1"}, "paths": paths}
    if schemas:
        spec["components"] = {"schemas": schemas}
    return load_document(json.dumps(spec).encode(), url="https://api.example.org/openapi.json")


OK = {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}


@pytest.fixture
def importable(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("gen_")]:
            del sys.modules[name]


def unique() -> str:
    return "gen_" + uuid.uuid4().hex[:8]


STYLED: list[dict[str, Any]] = [
    {
        "name": "key",
        "in": "path",
        "required": True,
        "style": "matrix",
        "explode": True,
        "schema": {"type": "array", "items": {"type": "string"}},
    },
    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
    {
        "name": "ids",
        "in": "query",
        "explode": False,
        "schema": {"type": "array", "items": {"type": "integer"}},
    },
    {
        "name": "tags",
        "in": "query",
        "style": "pipeDelimited",
        "explode": False,
        "schema": {"type": "array", "items": {"type": "string"}},
    },
    {
        "name": "words",
        "in": "query",
        "style": "spaceDelimited",
        "explode": False,
        "schema": {"type": "array", "items": {"type": "string"}},
    },
    {"name": "many", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}},
    {
        "name": "filter",
        "in": "query",
        "style": "deepObject",
        "explode": True,
        "schema": {"type": "object", "properties": {"R": {"type": "integer"}, "G": {"type": "integer"}}},
    },
    {"name": "q", "in": "query", "schema": {"type": "string"}},
    {"name": "X-Trace", "in": "header", "required": True, "schema": {"type": "string", "format": "uuid"}},
    {"name": "session", "in": "cookie", "schema": {"type": "string"}},
]
VALUES: dict[str, Any] = {
    "key": ["a b", "c/d"],
    "id": "x/y z",
    "ids": [1, 2],
    "tags": ["p,q", "r"],
    "words": ["s", "t"],
    "many": ["m1", "m2"],
    "filter": {"R": 100, "G": 200},
    "q": "é & ?",
    "X-Trace": "123e4567-e89b-12d3-a456-426614174000",
    "session": "s 1",
}


def test_generated_client_sends_parameters_as_the_document_says(importable: Path) -> None:
    doc = document(
        {"/items/{key}/{id}": {"get": {"operationId": "styled", "parameters": STYLED, "responses": OK}}}
    )
    package = unique()
    generated = generate_package(doc, importable, package=package)
    assert generated.operations == 1 and generated.skipped == ()
    module = importlib.import_module(f"{package}.api.default.styled")
    models = importlib.import_module(f"{package}.models")
    client_module = importlib.import_module(f"{package}.client")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    client = client_module.Client(
        base_url="https://api.example.org/v1", httpx_args={"transport": httpx.MockTransport(handler)}
    )
    filter_cls = next(getattr(models, n) for n in models.__all__ if n.endswith("Filter"))
    module.sync_detailed(
        VALUES["key"],
        VALUES["id"],
        client=client,
        ids=VALUES["ids"],
        tags=VALUES["tags"],
        words=VALUES["words"],
        many=VALUES["many"],
        filter_=filter_cls.from_dict(VALUES["filter"]),
        q=VALUES["q"],
        x_trace=uuid.UUID(VALUES["X-Trace"]),
        session=VALUES["session"],
    )
    args = [(oracle.Param.from_spec(p), VALUES[str(p["name"])]) for p in STYLED]
    expected = oracle.expected_request("get", "/v1", "/items/{key}/{id}", args)
    request = seen[0]
    received = Received(
        request.method,
        request.url.raw_path.decode(),
        {k.lower(): v for k, v in request.headers.items()},
        request.content,
    )
    assert oracle.differences(expected, received) == []
    assert received.path.startswith("/v1/items/;key=a%20b;key=c%2Fd/x%2Fy%20z?")


def test_optional_body_in_three_media_types_imports_and_is_sent_as_json(importable: Path) -> None:
    """openapi-python-client annotates it `... | Unset = UNSET` without importing Unset (NameError
    at import), and its separate `if isinstance` per media type let multipart overwrite JSON."""
    ref = {"schema": {"$ref": "#/components/schemas/Canteen"}}
    body = {
        "content": {
            "application/json": ref,
            "application/x-www-form-urlencoded": ref,
            "multipart/form-data": ref,
        }
    }
    doc = document(
        {"/canteens": {"post": {"operationId": "create", "requestBody": body, "responses": OK}}},
        {"Canteen": {"type": "object", "properties": {"name": {"type": "string"}}}},
    )
    package = unique()
    generate_package(doc, importable, package=package)
    module = importlib.import_module(f"{package}.api.default.create")
    canteen = importlib.import_module(f"{package}.models.canteen").Canteen
    kwargs = module.request_kwargs(body=canteen(name="école"))
    assert kwargs["json"] == {"name": "école"} and "data" not in kwargs and "files" not in kwargs
    assert kwargs["headers"]["Content-Type"] == "application/json"


def test_what_cannot_be_generated_is_skipped_and_said(tmp_path: Path) -> None:
    doc = document(
        {
            "/fine": {"get": {"operationId": "fine", "responses": OK}},
            "/typed": {
                "get": {
                    "operationId": "typed",
                    "parameters": [{"name": "d", "in": "query", "schema": {"type": "date"}}],
                    "responses": OK,
                }
            },
            # a path parameter the path does not have: the generator cannot place it
            "/broken": {
                "get": {
                    "operationId": "broken",
                    "parameters": [
                        {"name": "x", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": OK,
                }
            },
        }
    )
    generated = generate_package(doc, tmp_path, package=unique())
    assert isinstance(generated, GeneratedClient)
    assert generated.operations == 2
    assert [s.what for s in generated.skipped] == ["GET /broken"]
    assert "path" in generated.skipped[0].reason.lower()
    assert generated.repair_counts() == {"invalid-type": 1}
    text = generated.summary()
    assert "2 operations generated, 1 skipped" in text and "skipped GET /broken" in text
    assert "repaired invalid-type (1)" in text


def test_a_document_of_which_nothing_can_be_generated_is_an_error_naming_why(tmp_path: Path) -> None:
    param = {"name": "x", "in": "path", "required": True, "schema": {"type": "string"}}
    doc = document(
        {
            "/a": {"get": {"operationId": "a", "parameters": [param], "responses": OK}},
            "/b": {"get": {"operationId": "b", "parameters": [param], "responses": OK}},
        }
    )
    with pytest.raises(ClientGenerationError) as info:
        generate_package(doc, tmp_path, package=unique())
    assert "no operation of this document can be generated" in str(info.value)
    assert "Incorrect path templating for /a" in str(info.value)  # the generator's reason, for each
    assert "Incorrect path templating for /b" in str(info.value)
    assert [s.what for s in info.value.skipped] == ["GET /a", "GET /b"]
    assert [p.name for p in tmp_path.iterdir()] == []  # nothing half-written


def test_an_operation_whose_code_does_not_import_is_skipped_and_the_rest_regenerated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datagouv_sdk.codegen import generate

    real = generate.generate_client
    calls: list[int] = []

    def sabotage_once(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        if not calls:  # the generator's bug, simulated: one module that does not import
            module = result.output_dir / "api" / "default" / "bad.py"
            module.write_text(module.read_text() + "\nraise NameError('Unset')\n")
        calls.append(1)
        return result

    monkeypatch.setattr(generate, "generate_client", sabotage_once)
    doc = document(
        {
            "/good": {"get": {"operationId": "good", "responses": OK}},
            "/bad": {"get": {"operationId": "bad", "responses": OK}},
        }
    )
    generated = generate_package(doc, tmp_path, package=unique())
    assert len(calls) == 2
    assert generated.operations == 1
    assert [(s.what, "does not import" in s.reason) for s in generated.skipped] == [("GET /bad", True)]
    assert not (generated.path / "api" / "default" / "bad.py").exists()


def test_a_failed_generation_leaves_the_previous_package(tmp_path: Path) -> None:
    package = unique()
    previous = tmp_path / package
    previous.mkdir()
    (previous / "__init__.py").write_text("# the previous package\n")
    param = {"name": "x", "in": "path", "required": True, "schema": {"type": "string"}}
    doc = document({"/a": {"get": {"parameters": [param], "responses": OK}}})
    with pytest.raises(ClientGenerationError):
        generate_package(doc, tmp_path, package=package)
    assert (previous / "__init__.py").read_text() == "# the previous package\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [package]  # no staging folder left


def test_what_the_generators_own_validation_refuses_is_skipped_or_typed_any(tmp_path: Path) -> None:
    doc = document(
        {
            "/fine": {"get": {"operationId": "fine", "responses": OK}},
            # a response without its required `description`: the generator refuses the document
            "/nodesc": {"get": {"operationId": "nodesc", "responses": {"200": {"content": {}}}}},
            "/thing": {
                "get": {
                    "operationId": "thing",
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}
                            },
                        }
                    },
                }
            },
        },
        {"Thing": {"type": "object", "required": "name"}},  # `required` must be a list
    )
    generated = generate_package(doc, tmp_path, package=unique())
    assert generated.operations == 2
    reasons = {s.what: s.reason for s in generated.skipped}
    assert set(reasons) == {"GET /nodesc", "schema Thing"}
    assert "invalid in the document" in reasons["GET /nodesc"] and "description" in reasons["GET /nodesc"]
    assert reasons["schema Thing"].startswith("typed 'any value'")
