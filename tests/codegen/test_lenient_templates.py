"""Our templates on every kind of property, including those the data.gouv.fr specs never use.

A small OAS 3.0 document (KINDS) declares dates, date-times, UUIDs, string and integer enums,
nullable and required variants, nested models, lists of models, dates, unions and lists, unions of
two models, allOf, free-form objects, `additionalProperties: false` and typed additional
properties, untyped properties and a recursive model. It is generated twice (literal enums, and
Enum classes), type-checked with mypy --strict, and put through the same schema-driven mutations
as the four real packages (tests/contract/mutations.py), plus the round trips of dates written
otherwise than Python writes them.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from datagouv_sdk.codegen.generate import document_stamp, generate_client, load_config

from tests.contract.mutations import apply, mutations, targets, valid_body
from tests.contract.test_mutations import _as_json, _check

ENUM = {"type": "string", "enum": ["alpha", "beta"]}


def _object(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = required
    return schema


SCHEMAS: dict[str, Any] = {
    "Leaf": _object({"name": {"type": "string"}, "size": {"type": "integer"}}, ["name"]),
    "Cat": _object(
        {"kind": {"type": "string", "enum": ["cat"]}, "meow": {"type": "string"}}, ["kind", "meow"]
    ),
    "Dog": _object(
        {"kind": {"type": "string", "enum": ["dog"]}, "bark": {"type": "integer"}}, ["kind", "bark"]
    ),
    "Node": _object(
        {
            "label": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
        },
        ["label"],
    ),
    "Closed": _object({"only": {"type": "string"}}, ["only"], additionalProperties=False),
    "Counts": _object({}, additionalProperties={"type": "integer"}),
    "Leaves": _object({}, additionalProperties={"$ref": "#/components/schemas/Leaf"}),
    "Color": {"type": "string", "enum": ["red", "green", "blue"]},
    "Level": {"type": "integer", "enum": [1, 2, 3]},
    "Kinds": _object(
        {
            "text": {"type": "string"},
            "count": {"type": "integer"},
            "ratio": {"type": "number"},
            "flag": {"type": "boolean"},
            "day": {"type": "string", "format": "date"},
            "moment": {"type": "string", "format": "date-time"},
            "ident": {"type": "string", "format": "uuid"},
            "choice": ENUM,
            "color": {"$ref": "#/components/schemas/Color"},
            "level": {"$ref": "#/components/schemas/Level"},
            "maybe_text": {"type": "string", "nullable": True},
            "maybe_day": {"type": "string", "format": "date", "nullable": True},
            "maybe_moment": {"type": "string", "format": "date-time", "nullable": True},
            "maybe_choice": {"type": "string", "enum": ["x", "y", None], "nullable": True},
            "leaf": {"$ref": "#/components/schemas/Leaf"},
            "maybe_leaf": {"allOf": [{"$ref": "#/components/schemas/Leaf"}], "nullable": True},
            "leaves": {"type": "array", "items": {"$ref": "#/components/schemas/Leaf"}},
            "days": {"type": "array", "items": {"type": "string", "format": "date"}},
            "grid": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
            "tags": {"type": "array", "items": {"type": "string"}},
            "id_or_leaf": {"anyOf": [{"type": "string"}, {"$ref": "#/components/schemas/Leaf"}]},
            "ids_or_leaves": {
                "type": "array",
                "items": {"anyOf": [{"type": "string"}, {"$ref": "#/components/schemas/Leaf"}]},
            },
            "number_or_words": {
                "anyOf": [{"type": "integer"}, {"type": "array", "items": {"type": "string"}}]
            },
            "pet": {"oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}]},
            "merged": {
                "allOf": [
                    _object({"a": {"type": "string"}}, ["a"]),
                    _object({"b": {"type": "integer"}}, ["b"]),
                ]
            },
            "free": {"type": "object", "additionalProperties": True},
            "anything": {"description": "no type at all"},
            "tree": {"$ref": "#/components/schemas/Node"},
            "closed": {"$ref": "#/components/schemas/Closed"},
            "counts": {"$ref": "#/components/schemas/Counts"},
            "leaves_by_name": {"$ref": "#/components/schemas/Leaves"},
        },
        ["text", "count", "day", "moment", "choice", "leaf", "leaves", "pet"],
    ),
}


def _get(path: str, operation_id: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        path: {
            "get": {
                "operationId": operation_id,
                "responses": {
                    "200": {"description": "ok", "content": {"application/json": {"schema": schema}}}
                },
            }
        }
    }


KINDS: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Kinds", "version": "1.0"},
    "paths": {
        **_get("/kinds/", "get_kinds", {"$ref": "#/components/schemas/Kinds"}),
        **_get("/many/", "list_kinds", {"type": "array", "items": {"$ref": "#/components/schemas/Kinds"}}),
        **_get(
            "/pet/",
            "get_pet",
            {"oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}]},
        ),
        **_get("/words/", "get_words", {"type": "array", "items": {"type": "string"}}),
    },
    "components": {"schemas": SCHEMAS},
}
PACKAGES = {"kinds_literal": True, "kinds_classes": False}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("kinds")
    for package, literal in PACKAGES.items():
        config = load_config(None, package=package)
        config["literal_enums"] = literal
        stamp = document_stamp("kinds", KINDS, "0" * 64, regenerate="the kinds test")
        result = generate_client(
            KINDS, package=package, output_dir=root / package, config=config, stamp=stamp
        )
        assert result.warnings == (), result.warnings
    sys.path.insert(0, str(root))
    try:
        yield root
    finally:
        sys.path.remove(str(root))
        for package in PACKAGES:
            for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
                del sys.modules[name]


def test_generated_kinds_type_check(generated: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "mypy"), *PACKAGES]
    done = subprocess.run(command, cwd=generated, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


@pytest.mark.parametrize("package", list(PACKAGES))
def test_every_kind_survives_every_mutation(generated: Path, package: str) -> None:
    module = importlib.import_module(package)
    clients = (
        module.Client(base_url="http://api.test"),
        module.Client(base_url="http://api.test", strict=True),
    )
    failures, tried = [], 0
    for target in targets(KINDS, package):
        built = valid_body(KINDS, target.schema, target.path)
        problem = _check(target, built.body, None, clients)
        assert problem is None, f"{target.path}, the valid body: {problem}"
        for mutation in mutations(KINDS, built):
            tried += 1
            problem = _check(target, apply(built.body, mutation), mutation.deviation, clients)
            if problem:
                failures.append(f"{target.path} {mutation.kind} at {mutation.path}: {problem}")
    assert not failures, f"{len(failures)} of {tried}:\n" + "\n".join(failures[:30])
    assert tried > 300


@pytest.mark.parametrize("package", list(PACKAGES))
def test_values_are_typed_and_dates_come_back_as_written(generated: Path, package: str) -> None:
    models = importlib.import_module(f"{package}.models")
    body = valid_body(KINDS, {"$ref": "#/components/schemas/Kinds"}, "kinds").body
    body.update(
        moment="2024-05-01T12:34:56Z",  # not isoformat()'s "+00:00"
        maybe_moment="2024-05-01 12:34:56.5+02:00",
        day="2012-W01-1",  # an ISO week date
        ident="0C8D6A6E-1F2B-4A3C-9D4E-5F6A7B8C9D0E",  # upper case
        days=["2012-01-01", "20120102"],
    )
    kinds = models.Kinds.from_dict(body)
    assert kinds.deviations == ()
    assert (kinds.moment.year, kinds.moment.utcoffset().total_seconds()) == (2024, 0)
    assert kinds.day.isoformat() == "2012-01-02" and str(kinds.ident) == body["ident"].lower()
    assert kinds.leaf.name == body["leaf"]["name"] and isinstance(kinds.pet, models.Cat)
    assert kinds.to_dict() == body
    later = kinds.moment.replace(year=2025)  # a changed value is written the Python way
    kinds.moment = later
    assert kinds.to_dict()["moment"] == "2025-05-01T12:34:56+00:00"
    if package == "kinds_classes":
        assert isinstance(kinds.color, models.Color) and kinds.to_dict()["color"] == body["color"]


def test_a_response_of_two_models_picks_the_one_that_fits(generated: Path) -> None:
    api = importlib.import_module("kinds_literal.api.default.get_pet")
    models = importlib.import_module("kinds_literal.models")
    client = importlib.import_module("kinds_literal").Client(base_url="http://api.test")
    request = httpx.Request("GET", "http://api.test/pet/")
    dog = api.build_response(
        client=client, response=httpx.Response(200, json={"kind": "dog", "bark": 3}, request=request)
    )
    assert isinstance(dog.parsed, models.Dog) and dog.deviations == ()
    odd = {"kind": "cat", "bark": 3}  # neither: the first model that took the object, with its deviations
    cat = api.build_response(client=client, response=httpx.Response(200, json=odd, request=request))
    assert isinstance(cat.parsed, models.Cat) and [d.json_path for d in cat.deviations] == ["$.meow"]
    assert _as_json(cat.parsed) == odd
    text = json.dumps(odd)
    assert json.loads(text) == cat.parsed.to_dict()
