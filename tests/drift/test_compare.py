"""Each change kind of the semantic diff, on small hand-written OpenAPI 3 documents."""

from __future__ import annotations

from typing import Any

import pytest
from datagouv_sdk.drift.changes import Severity

from tests.drift.builders import diff, json_body, kinds, obj, ok, param, ref, spec

B, NB = "breaking", "non-breaking"
STR: dict[str, Any] = {"type": "string"}


def get(**op: Any) -> dict[str, Any]:
    return {"get": {"responses": {"200": {"description": "ok"}}, **op}}


def post_body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"post": {"requestBody": json_body(schema, required), "responses": {"204": {"description": "ok"}}}}


def test_identical_documents_have_no_change() -> None:
    doc = spec({"/a": get(parameters=[param("q")])}, {"A": obj(x=STR)})
    result = diff(doc, doc)
    assert result.changes == () and result.empty


# ---- operations ------------------------------------------------------------------------------


def test_operation_added_is_non_breaking_and_removed_is_breaking() -> None:
    old = spec({"/a": get(), "/b": get()})
    new = spec({"/a": get(), "/c": {**get(), "post": {"responses": {}}}})
    result = diff(old, new)
    assert result.operations_added == ("GET /c", "POST /c")
    assert result.operations_removed == ("GET /b",)
    assert kinds(result) == {("operation-added", NB), ("operation-removed", B)}
    removed = [c for c in result.changes if c.kind == "operation-removed"]
    assert [(c.method, c.path) for c in removed] == [("GET", "/b")]


def test_renamed_path_parameter_is_the_same_operation() -> None:
    old = spec({"/d/{id}": get(parameters=[param("id", "path", True)])})
    new = spec({"/d/{dataset}": get(parameters=[param("dataset", "path", True)])})
    result = diff(old, new)
    assert result.operations_added == () and result.operations_removed == ()
    assert kinds(result) == {("parameter-added", B), ("parameter-removed", B)}
    assert {c.path for c in result.changes} == {"/d/{dataset}"}


def test_path_level_parameters_belong_to_every_operation() -> None:
    old = spec({"/a": {**get(), "parameters": [param("lang")]}})
    new = spec({"/a": get()})
    result = diff(old, new)
    assert [(c.kind, c.parameter) for c in result.changes] == [("parameter-removed", "lang")]


# ---- parameters ------------------------------------------------------------------------------


@pytest.mark.parametrize(("required", "severity"), [(False, NB), (True, B)])
def test_parameter_added(required: bool, severity: str) -> None:
    result = diff(spec({"/a": get()}), spec({"/a": get(parameters=[param("page", required=required)])}))
    (change,) = result.changes
    assert (change.kind, change.severity.value, change.parameter, change.parameter_in) == (
        "parameter-added",
        severity,
        "page",
        "query",
    )
    assert (change.method, change.path) == ("GET", "/a")


def test_parameter_removed_is_breaking() -> None:
    result = diff(spec({"/a": get(parameters=[param("page")])}), spec({"/a": get()}))
    assert kinds(result) == {("parameter-removed", B)}


@pytest.mark.parametrize(
    ("was", "now", "kind", "severity"),
    [
        (False, True, "parameter-became-required", B),
        (True, False, "parameter-became-optional", NB),
    ],
)
def test_parameter_required_flag(was: bool, now: bool, kind: str, severity: str) -> None:
    result = diff(
        spec({"/a": get(parameters=[param("q", required=was)])}),
        spec({"/a": get(parameters=[param("q", required=now)])}),
    )
    assert kinds(result) == {(kind, severity)}


def test_parameter_location_change_is_one_breaking_change() -> None:
    result = diff(
        spec({"/a": get(parameters=[param("token", "query")])}),
        spec({"/a": get(parameters=[param("token", "header")])}),
    )
    (change,) = result.changes
    assert (change.kind, change.severity, change.old, change.new) == (
        "parameter-location-changed",
        Severity.BREAKING,
        "query",
        "header",
    )


@pytest.mark.parametrize(
    ("old", "new", "severity"),
    [
        ({"type": "string"}, {"type": "integer"}, B),
        ({"type": "integer"}, {"type": "number"}, NB),  # every integer is still accepted
        ({"type": "number"}, {"type": "integer"}, B),
    ],
)
def test_parameter_type_change(old: dict[str, Any], new: dict[str, Any], severity: str) -> None:
    result = diff(
        spec({"/a": get(parameters=[param("n", **old)])}), spec({"/a": get(parameters=[param("n", **new)])})
    )
    (change,) = result.changes
    assert (change.kind, change.severity.value, change.parameter) == ("parameter-type-changed", severity, "n")


def test_parameter_enum_narrowed_is_breaking_widened_is_not() -> None:
    base = spec({"/a": get(parameters=[param("sort", type="string", enum=["asc", "desc"])])})
    narrowed = spec({"/a": get(parameters=[param("sort", type="string", enum=["asc"])])})
    widened = spec({"/a": get(parameters=[param("sort", type="string", enum=["asc", "desc", "rand"])])})
    (narrow,) = diff(base, narrowed).changes
    assert (narrow.kind, narrow.severity.value, narrow.old) == ("parameter-enum-values-removed", B, ["desc"])
    (widen,) = diff(base, widened).changes
    assert (widen.kind, widen.severity.value, widen.new) == ("parameter-enum-values-added", NB, ["rand"])


def test_array_parameter_item_enum_is_followed() -> None:
    old = spec(
        {"/a": get(parameters=[param("f", type="array", items={"type": "string", "enum": ["a", "b"]})])}
    )
    new = spec({"/a": get(parameters=[param("f", type="array", items={"type": "string", "enum": ["a"]})])})
    (change,) = diff(old, new).changes
    assert (change.kind, change.property, change.severity.value) == ("parameter-enum-values-removed", "[]", B)


# ---- request bodies --------------------------------------------------------------------------


@pytest.mark.parametrize(("required", "severity"), [(True, B), (False, NB)])
def test_request_property_added(required: bool, severity: str) -> None:
    req = ("b",) if required else ()
    result = diff(spec({"/a": post_body(obj(a=STR))}), spec({"/a": post_body(obj(req, a=STR, b=STR))}))
    (change,) = result.changes
    assert (change.kind, change.severity.value, change.property, change.direction) == (
        "request-property-added",
        severity,
        "b",
        "request",
    )


def test_request_property_removed_and_required_changes() -> None:
    old = spec({"/a": post_body(obj(("x",), x=STR, y=STR, z=STR))})
    new = spec({"/a": post_body(obj(("y",), x=STR, y=STR))})
    assert kinds(diff(old, new)) == {
        ("request-property-removed", B),
        ("request-property-became-optional", NB),
        ("request-property-became-required", B),
    }


def test_request_body_added_removed_and_required() -> None:
    no_body = spec({"/a": {"post": {"responses": {"204": {"description": "ok"}}}}})
    optional = spec({"/a": post_body(obj(a=STR), required=False)})
    required = spec({"/a": post_body(obj(a=STR), required=True)})
    assert kinds(diff(no_body, optional)) == {("request-body-added", NB)}
    assert kinds(diff(no_body, required)) == {("request-body-added", B)}
    assert kinds(diff(required, no_body)) == {("request-body-removed", B)}
    assert kinds(diff(optional, required)) == {("request-body-became-required", B)}
    assert kinds(diff(required, optional)) == {("request-body-became-optional", NB)}


def test_request_media_type_removed_is_breaking() -> None:
    old = spec(
        {
            "/a": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {"schema": STR},
                            "multipart/form-data": {"schema": STR},
                        }
                    },
                    "responses": {},
                }
            }
        }
    )
    new = spec(
        {"/a": {"post": {"requestBody": {"content": {"application/json": {"schema": STR}}}, "responses": {}}}}
    )
    (change,) = diff(old, new).changes
    assert (change.kind, change.media_type, change.severity.value) == (
        "request-media-type-removed",
        "multipart/form-data",
        B,
    )


# ---- responses -------------------------------------------------------------------------------


def test_response_property_added_removed_and_required() -> None:
    old = spec({"/a": get(responses=ok(obj(("a",), a=STR, b=STR, c=STR)))})
    new = spec({"/a": get(responses=ok(obj(("c",), a=STR, c=STR, d=STR)))})
    result = diff(old, new)
    assert kinds(result) == {
        ("response-property-added", NB),
        ("response-property-removed", B),
        ("response-property-became-optional", B),  # the client may now find it missing
        ("response-property-became-required", NB),
    }
    removed = next(c for c in result.changes if c.kind == "response-property-removed")
    assert (removed.method, removed.path, removed.status, removed.property) == ("GET", "/a", "200", "b")


def test_response_enum_widened_is_breaking_narrowed_is_not() -> None:
    base = spec({"/a": get(responses=ok({"type": "string", "enum": ["a", "b"]}))})
    wide = spec({"/a": get(responses=ok({"type": "string", "enum": ["a", "b", "c"]}))})
    narrow = spec({"/a": get(responses=ok({"type": "string", "enum": ["a"]}))})
    assert kinds(diff(base, wide)) == {("response-enum-values-added", B)}
    assert kinds(diff(base, narrow)) == {("response-enum-values-removed", NB)}


def test_enum_appearing_or_disappearing_depends_on_direction() -> None:
    plain = {"type": "string"}
    enum = {"type": "string", "enum": ["a"]}
    assert kinds(diff(spec({"/a": get(responses=ok(plain))}), spec({"/a": get(responses=ok(enum))}))) == {
        ("response-enum-added", NB)
    }
    assert kinds(diff(spec({"/a": post_body(plain)}), spec({"/a": post_body(enum)}))) == {
        ("request-enum-added", B)
    }
    assert kinds(diff(spec({"/a": post_body(enum)}), spec({"/a": post_body(plain)}))) == {
        ("request-enum-removed", NB)
    }


def test_type_change_in_response_property() -> None:
    old = spec({"/a": get(responses=ok(obj(n={"type": "number"}, i={"type": "number"})))})
    new = spec({"/a": get(responses=ok(obj(n={"type": "string"}, i={"type": "integer"})))})
    result = diff(old, new)
    by_prop = {c.property: (c.kind, c.severity.value, c.old, c.new) for c in result.changes}
    assert by_prop == {
        "n": ("response-type-changed", B, "number", "string"),
        "i": ("response-type-changed", NB, "number", "integer"),  # fewer values than before
    }


@pytest.mark.parametrize(
    ("direction", "becomes", "severity"),
    [
        ("response", True, B),
        ("response", False, NB),
        ("request", True, NB),
        ("request", False, B),
    ],
)
def test_nullable_change_depends_on_direction(direction: str, becomes: bool, severity: str) -> None:
    nullable = {"type": "string", "nullable": True}
    before, after = (STR, nullable) if becomes else (nullable, STR)
    if direction == "response":
        old, new = (
            spec({"/a": get(responses=ok(obj(v=before)))}),
            spec({"/a": get(responses=ok(obj(v=after)))}),
        )
    else:
        old, new = spec({"/a": post_body(obj(v=before))}), spec({"/a": post_body(obj(v=after))})
    assert kinds(diff(old, new)) == {(f"{direction}-nullable-changed", severity)}


@pytest.mark.parametrize(
    ("direction", "old_f", "new_f", "severity"),
    [
        ("request", None, "date-time", B),
        ("request", "date-time", None, NB),
        ("response", None, "date-time", NB),
        ("response", "date-time", None, B),
        ("response", "date", "date-time", B),
    ],
)
def test_format_change(direction: str, old_f: str | None, new_f: str | None, severity: str) -> None:
    def schema(fmt: str | None) -> dict[str, Any]:
        return {"type": "string", **({"format": fmt} if fmt else {})}

    if direction == "response":
        old, new = (
            spec({"/a": get(responses=ok(schema(old_f)))}),
            spec({"/a": get(responses=ok(schema(new_f)))}),
        )
    else:
        old, new = spec({"/a": post_body(schema(old_f))}), spec({"/a": post_body(schema(new_f))})
    (change,) = diff(old, new).changes
    assert (change.kind, change.severity.value, change.old, change.new) == (
        f"{direction}-format-changed",
        severity,
        old_f,
        new_f,
    )


def test_response_status_added_and_removed() -> None:
    old = spec({"/a": {"get": {"responses": {"200": {"description": ""}, "404": {"description": ""}}}}})
    new = spec({"/a": {"get": {"responses": {"201": {"description": ""}}}}})
    result = diff(old, new)
    assert {(c.kind, c.status, c.severity.value) for c in result.changes} == {
        ("response-status-added", "201", NB),
        ("response-status-removed", "200", B),
        ("response-status-removed", "404", NB),
    }


# ---- $ref, components, cycles ----------------------------------------------------------------


def test_component_change_is_reported_once_with_every_operation_reaching_it() -> None:
    paths = {
        "/a": get(responses=ok(ref("Item"))),
        "/b": get(responses=ok({"type": "array", "items": ref("Item")})),
    }
    old = spec(paths, {"Item": obj(id=STR, gone=STR)})
    new = spec(paths, {"Item": obj(id=STR)})
    result = diff(old, new)
    (change,) = result.changes
    assert (change.kind, change.schema, change.property, change.path) == (
        "response-property-removed",
        "Item",
        "gone",
        None,
    )
    assert change.operations == ("GET /a", "GET /b")
    assert result.schemas_changed == ("Item",)


def test_component_used_both_ways_is_judged_per_direction() -> None:
    paths = {"/a": {"put": {"requestBody": json_body(ref("Item")), "responses": ok(ref("Item"))}}}
    old = spec(paths, {"Item": obj(kind={"type": "string", "enum": ["x", "y"]})})
    new = spec(paths, {"Item": obj(kind={"type": "string", "enum": ["x", "y", "z"]})})
    assert kinds(diff(old, new)) == {("request-enum-values-added", NB), ("response-enum-values-added", B)}


def test_changes_in_nested_components_list_the_operations_of_the_outer_one() -> None:
    paths = {"/page": get(responses=ok(ref("Page")))}
    schemas = {"Page": obj(data={"type": "array", "items": ref("Row")}), "Row": obj(v={"type": "integer"})}
    new_schemas = {**schemas, "Row": obj(v={"type": "string"})}
    (change,) = diff(spec(paths, schemas), spec(paths, new_schemas)).changes
    assert (change.schema, change.property, change.kind, change.operations) == (
        "Row",
        "v",
        "response-type-changed",
        ("GET /page",),
    )


def test_recursive_schema_terminates_and_reports_inner_change() -> None:
    node = obj(name=STR, children={"type": "array", "items": ref("Node")})
    node_new = obj(children={"type": "array", "items": ref("Node")})
    paths = {"/tree": get(responses=ok(ref("Node")))}
    (change,) = diff(spec(paths, {"Node": node}), spec(paths, {"Node": node_new})).changes
    assert (change.kind, change.schema, change.property) == ("response-property-removed", "Node", "name")


def test_mutually_recursive_schemas_terminate() -> None:
    schemas = {"A": obj(b=ref("B"), x=STR), "B": obj(a=ref("A"))}
    new_schemas = {"A": obj(b=ref("B"), x={"type": "integer"}), "B": obj(a=ref("A"))}
    paths = {"/a": get(responses=ok(ref("A"))), "/b": post_body(ref("B"))}
    result = diff(spec(paths, schemas), spec(paths, new_schemas))
    assert {(c.schema, c.property, c.direction, c.operations) for c in result.changes} == {
        ("A", "x", "response", ("GET /a",)),
        ("A", "x", "request", ("POST /b",)),
    }


def test_all_of_members_are_merged() -> None:
    schemas = {"Base": obj(("id",), id=STR, legacy=STR)}
    paths = {"/a": get(responses=ok({"allOf": [ref("Base"), obj(extra=STR)]}))}
    new_schemas = {"Base": obj(("id",), id=STR)}
    result = diff(spec(paths, schemas), spec(paths, new_schemas))
    assert [(c.kind, c.property) for c in result.changes] == [("response-property-removed", "legacy")]


def test_ref_to_another_component_is_a_rename() -> None:
    old = spec({"/a": get(responses=ok(ref("Job")))}, {"Job": obj(id=STR)})
    new = spec({"/a": get(responses=ok(ref("Task")))}, {"Task": obj(id=STR)})
    result = diff(old, new)
    assert kinds(result) == {("response-schema-renamed", NB)}
    assert result.schemas_added == ("Task",) and result.schemas_removed == ("Job",)


def test_schema_counts_include_changes_without_semantic_effect() -> None:
    old = spec({}, {"A": obj(x=STR), "Gone": STR})
    new = spec({}, {"A": {**obj(x=STR), "description": "now documented"}, "New": STR})
    result = diff(old, new)
    assert (result.schemas_added, result.schemas_removed, result.schemas_changed) == (
        ("New",),
        ("Gone",),
        ("A",),
    )
    assert result.changes == ()
    assert not result.empty


def test_read_only_properties_do_not_concern_requests() -> None:
    ro = {"type": "string", "readOnly": True}
    paths = {"/a": {"put": {"requestBody": json_body(ref("Item")), "responses": ok(ref("Item"))}}}
    old = spec(paths, {"Item": obj(id=ro, gone=ro, kept={"type": "integer", "readOnly": True})})
    new = spec(paths, {"Item": obj(id=ro, added=ro, kept={"type": "string", "readOnly": True})})
    result = diff(old, new)
    assert {(c.direction, c.kind, c.property) for c in result.changes} == {
        ("response", "response-property-removed", "gone"),
        ("response", "response-property-added", "added"),
        ("response", "response-type-changed", "kept"),
    }


@pytest.mark.parametrize(
    ("was", "now", "kind", "severity"),
    [
        (False, True, "request-property-became-read-only", B),
        (True, False, "request-property-became-writable", NB),
    ],
)
def test_property_becoming_read_only_takes_an_input_away(
    was: bool, now: bool, kind: str, severity: str
) -> None:
    def body(read_only: bool) -> dict[str, Any]:
        return spec({"/a": post_body(obj(title={"type": "string", "readOnly": read_only}))})

    assert kinds(diff(body(was), body(now))) == {(kind, severity)}


def test_write_only_property_removed_from_a_response_schema_is_not_reported() -> None:
    old = spec({"/a": get(responses=ok(obj(id=STR, password={"type": "string", "writeOnly": True})))})
    new = spec({"/a": get(responses=ok(obj(id=STR)))})
    assert diff(old, new).changes == ()


def test_all_of_including_itself_terminates() -> None:
    loop = {"allOf": [ref("Loop"), ref("Loop"), obj(x=STR)]}
    new_loop = {"allOf": [ref("Loop"), ref("Loop"), obj(x={"type": "integer"})]}
    paths = {"/a": get(responses=ok(ref("Loop")))}
    (change,) = diff(spec(paths, {"Loop": loop}), spec(paths, {"Loop": new_loop})).changes
    assert (change.kind, change.schema, change.property) == ("response-type-changed", "Loop", "x")


def test_deprecation_is_reported_as_non_breaking() -> None:
    (change,) = diff(spec({"/a": get()}), spec({"/a": get(deprecated=True)})).changes
    assert (change.kind, change.severity.value, change.method, change.path) == (
        "operation-deprecated",
        NB,
        "GET",
        "/a",
    )
