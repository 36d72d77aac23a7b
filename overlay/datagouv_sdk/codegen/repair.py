"""Fix-ups for third-party OpenAPI 3 documents, applied before a client is generated from them.

Real documents of catalogued APIs carry defects that make the generator reject a whole API for one
bad endpoint: `type: date`, operations without `responses`, `$ref`s to files that were never
published, misspelled media types... Each family of defect has one fix-up here, with the reason the
user is shown; every change made is recorded as a `Repair` (family, JSON pointer, what changed).
Our own four specs never come here: their fixes are `specs/patches/`, and their generation stays
strict (`--fail-on-warning`).

The fix-ups only make explicit what the document evidently means (a `date` type is a string in
date format) or drop what cannot be used (a reference to nothing); they never invent an API.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs

from datagouv_sdk.codegen.normalise import HTTP_METHODS

__all__ = ["FIXUPS", "FixUp", "Repair", "content_type_overrides", "iter_schemas", "repair_document"]

JSON_TYPES = ("string", "number", "integer", "boolean", "array", "object", "null")


@attrs.frozen
class Repair:
    family: str
    where: str  # JSON pointer into the document
    change: str

    def __str__(self) -> str:
        return f"{self.family} at {self.where}: {self.change}"


@attrs.frozen
class FixUp:
    family: str
    reason: str  # why this is changed, as the user reads it
    run: Callable[[dict[str, Any]], list[Repair]] = attrs.field(repr=False)


# -- walking the document ---------------------------------------------------------------------------

_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMA_ONE = ("items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else")


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def iter_operations(spec: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], str]]:
    """(path, method, operation, pointer) for every operation."""
    paths = spec.get("paths")
    if not isinstance(paths, Mapping):
        return
    for path, item in paths.items():
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            op = item.get(method)
            if isinstance(op, dict):
                yield path, method, op, f"/paths/{_escape(path)}/{method}"


def _components(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    found = spec.get("components")
    return found if isinstance(found, Mapping) else {}


def _parameter_holders(spec: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """Path items and operations (what has `parameters`), each with its pointer."""
    for path, item in (spec.get("paths") or {}).items():
        if isinstance(item, dict):
            yield item, f"/paths/{_escape(path)}"
    for _path, _method, op, pointer in iter_operations(spec):
        yield op, pointer


def _filter_parameters(spec: dict[str, Any], keep: Callable[[Any, str], bool]) -> None:
    """Drop the parameters `keep(parameter, pointer)` refuses, everywhere."""
    for holder, pointer in list(_parameter_holders(spec)):
        params = holder.get("parameters")
        if isinstance(params, list):
            holder["parameters"] = [p for i, p in enumerate(params) if keep(p, f"{pointer}/parameters/{i}")]


def _media_maps(spec: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """Every `content` mapping (request bodies, responses, parameters, headers) and its pointer."""
    components = _components(spec)
    holders: list[tuple[Any, str]] = []
    for name, body in (components.get("requestBodies") or {}).items():
        holders.append((body, f"/components/requestBodies/{_escape(name)}"))
    for name, response in (components.get("responses") or {}).items():
        holders.append((response, f"/components/responses/{_escape(name)}"))
    for name, param in (components.get("parameters") or {}).items():
        holders.append((param, f"/components/parameters/{_escape(name)}"))
    for path, item in (spec.get("paths") or {}).items():
        if not isinstance(item, Mapping):
            continue
        for i, param in enumerate(item.get("parameters") or ()):
            holders.append((param, f"/paths/{_escape(path)}/parameters/{i}"))
    for _path, _method, op, pointer in iter_operations(spec):
        holders.append((op.get("requestBody"), f"{pointer}/requestBody"))
        for i, param in enumerate(op.get("parameters") or ()):
            holders.append((param, f"{pointer}/parameters/{i}"))
        responses = op.get("responses")
        if isinstance(responses, Mapping):
            for code, response in responses.items():
                holders.append((response, f"{pointer}/responses/{_escape(str(code))}"))
    for holder, pointer in holders:
        if isinstance(holder, dict) and isinstance(holder.get("content"), dict):
            yield holder["content"], f"{pointer}/content"


def _schema_roots(spec: Mapping[str, Any]) -> Iterator[tuple[Any, str]]:
    components = _components(spec)
    for name, schema in (components.get("schemas") or {}).items():
        yield schema, f"/components/schemas/{_escape(name)}"
    for content, pointer in _media_maps(spec):
        for media, value in content.items():
            if isinstance(value, Mapping):
                yield value.get("schema"), f"{pointer}/{_escape(media)}/schema"
    params: list[tuple[Any, str]] = []
    for name, param in (components.get("parameters") or {}).items():
        params.append((param, f"/components/parameters/{_escape(name)}"))
    for name, header in (components.get("headers") or {}).items():
        params.append((header, f"/components/headers/{_escape(name)}"))
    for path, item in (spec.get("paths") or {}).items():
        if isinstance(item, Mapping):
            for i, param in enumerate(item.get("parameters") or ()):
                params.append((param, f"/paths/{_escape(path)}/parameters/{i}"))
    for _path, _method, op, pointer in iter_operations(spec):
        for i, param in enumerate(op.get("parameters") or ()):
            params.append((param, f"{pointer}/parameters/{i}"))
    for param, pointer in params:
        if isinstance(param, Mapping):
            yield param.get("schema"), f"{pointer}/schema"


def iter_schemas(spec: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """Every schema object of the document (components, media types, parameters, and all their
    subschemas), each once, with a pointer to it. Security schemes, examples, links are not schemas."""
    seen: set[int] = set()
    stack = [(s, p) for s, p in _schema_roots(spec)]
    stack.reverse()
    while stack:
        schema, pointer = stack.pop()
        if not isinstance(schema, dict) or id(schema) in seen:
            continue
        seen.add(id(schema))
        yield schema, pointer
        children: list[tuple[Any, str]] = []
        for key in _SUBSCHEMA_MAPS:
            sub = schema.get(key)
            if isinstance(sub, Mapping):
                children += [(v, f"{pointer}/{key}/{_escape(str(k))}") for k, v in sub.items()]
        for key in _SUBSCHEMA_LISTS:
            sub = schema.get(key)
            if isinstance(sub, list):
                children += [(v, f"{pointer}/{key}/{i}") for i, v in enumerate(sub)]
        for key in _SUBSCHEMA_ONE:
            if isinstance(schema.get(key), dict):
                children.append((schema[key], f"{pointer}/{key}"))
        stack.extend(reversed(children))


def resolve_pointer(spec: Mapping[str, Any], ref: str) -> Any:
    """The target of a local `$ref` ("#/a/b"), or None when it names nothing."""
    if not ref.startswith("#"):
        return None
    target: Any = spec
    for raw in ref[1:].split("/")[1:]:
        part = re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), raw)
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(target, Mapping) and part in target:
            target = target[part]
        elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
            target = target[int(part)]
        else:
            return None
    return target


# -- the fix-ups ------------------------------------------------------------------------------------

_IGNORED_HEADERS = ("accept", "content-type", "authorization")


def _ignored_header_parameters(spec: dict[str, Any]) -> list[Repair]:
    repairs: list[Repair] = []

    def keep(param: Any, pointer: str) -> bool:
        target = (
            resolve_pointer(spec, param["$ref"]) if isinstance(param, Mapping) and "$ref" in param else param
        )
        if (
            isinstance(target, Mapping)
            and target.get("in") == "header"
            and str(target.get("name", "")).lower() in _IGNORED_HEADERS
        ):
            repairs.append(Repair("ignored-header-parameter", pointer, f"header {target['name']!r} removed"))
            return False
        return True

    _filter_parameters(spec, keep)
    return repairs


# `type` values seen in real documents, grouped by the JSON Schema (type, format) they evidently mean;
# (None, None): any JSON value.
_MEANINGS: dict[tuple[str | None, str | None], tuple[str, ...]] = {
    ("string", "date"): ("date",),
    ("string", "date-time"): ("datetime", "date-time", "timestamp"),
    ("string", "time"): ("time",),
    ("string", "uuid"): ("uuid",),
    ("string", "email"): ("email",),
    ("string", "uri"): ("uri", "url"),
    ("string", None): ("str", "text", "char"),
    ("string", "binary"): ("file", "binary"),
    ("integer", None): ("int",),
    ("integer", "int32"): ("int32",),
    ("integer", "int64"): ("int64", "long"),
    ("number", "float"): ("float",),
    ("number", "double"): ("double",),
    ("number", None): ("decimal",),
    ("boolean", None): ("bool",),
    ("array", None): ("list",),
    ("object", None): ("dict", "map"),
    (None, None): ("json", "any"),
}
INVALID_TYPES: dict[str, tuple[str | None, str | None]] = {
    name: meaning for meaning, names in _MEANINGS.items() for name in names
}


def _invalid_types(spec: dict[str, Any]) -> list[Repair]:
    repairs: list[Repair] = []
    for schema, pointer in iter_schemas(spec):
        declared = schema.get("type")
        values = declared if isinstance(declared, list) else [declared] if declared is not None else []
        if all(isinstance(v, str) and v in JSON_TYPES for v in values):
            continue
        fixed: list[str] = []
        fmt: str | None = None
        for value in values:
            key = str(value).strip().lower()
            if key in JSON_TYPES:
                fixed.append(key)
                continue
            kind, fmt_for = INVALID_TYPES.get(key, (None, None))
            if kind is not None and kind not in fixed:
                fixed.append(kind)
            fmt = fmt or fmt_for
        if fmt and "format" not in schema:
            schema["format"] = fmt
        if not fixed:
            del schema["type"]
            change = f"type {declared!r} removed (any value)"
        else:
            schema["type"] = fixed if isinstance(declared, list) else fixed[0]
            change = f"type {declared!r} → {schema['type']!r}" + (f", format {fmt!r}" if fmt else "")
        if isinstance(schema.get("items"), Mapping) and "array" not in fixed:
            del schema["items"]
        repairs.append(Repair("invalid-type", f"{pointer}/type", change))
    return repairs


def _missing_responses(spec: dict[str, Any]) -> list[Repair]:
    repairs: list[Repair] = []
    for _path, _method, op, pointer in iter_operations(spec):
        responses = op.get("responses")
        if not isinstance(responses, Mapping) or not responses:
            op["responses"] = {"default": {"description": "(not documented)"}}
            repairs.append(
                Repair("missing-responses", f"{pointer}/responses", "an undocumented default response")
            )
    return repairs


def _unresolvable_refs(spec: dict[str, Any]) -> list[Repair]:
    """`$ref`s to other files, URLs, or local targets that do not exist."""
    repairs: list[Repair] = []

    def broken(value: Any) -> str | None:
        ref = value.get("$ref") if isinstance(value, Mapping) else None
        if isinstance(ref, str) and resolve_pointer(spec, ref) is None:
            return ref
        return None

    # parameters, request bodies and responses first: those are dropped or emptied, not typed "any"
    def keep(param: Any, pointer: str) -> bool:
        ref = broken(param)
        if ref is not None:
            repairs.append(Repair("unresolvable-ref", pointer, f"parameter {ref!r} removed"))
        return ref is None

    _filter_parameters(spec, keep)
    for holder, pointer in _parameter_holders(spec):
        ref = broken(holder.get("requestBody"))
        if ref is not None:
            del holder["requestBody"]
            repairs.append(Repair("unresolvable-ref", f"{pointer}/requestBody", f"body {ref!r} removed"))
        responses = holder.get("responses")
        if isinstance(responses, dict):
            for code, response in list(responses.items()):
                ref = broken(response)
                if ref is not None:
                    responses[code] = {"description": f"(described in {ref}, which cannot be read)"}
                    repairs.append(
                        Repair("unresolvable-ref", f"{pointer}/responses/{code}", f"response {ref!r} untyped")
                    )
    for schema, pointer in list(iter_schemas(spec)):
        ref = broken(schema)
        if ref is not None:
            description = schema.get("description")
            schema.clear()
            schema["description"] = description or f"(described in {ref}, which cannot be read)"
            repairs.append(Repair("unresolvable-ref", pointer, f"schema {ref!r} → any value"))
    return repairs


KNOWN_MEDIA_TYPES = (
    "application/json",
    "application/xml",
    "application/pdf",
    "application/octet-stream",
    "application/x-www-form-urlencoded",
    "application/geo+json",
    "application/problem+json",
    "multipart/form-data",
    "text/plain",
    "text/csv",
    "text/html",
    "text/xml",
)
_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(\s*;.*)?$")


_TOP_LEVEL_TYPES = (
    "application",
    "audio",
    "font",
    "example",
    "image",
    "message",
    "model",
    "multipart",
    "text",
    "video",
)


def _valid_media_type(key: str) -> bool:
    return bool(_MEDIA_TYPE.match(key)) and key.split("/", 1)[0].strip().lower() in _TOP_LEVEL_TYPES


def _looks_json(schema: Any) -> bool:
    return isinstance(schema, Mapping) and bool(
        "$ref" in schema or schema.get("type") in ("object", "array") or "properties" in schema
    )


def _media_types(spec: dict[str, Any]) -> list[Repair]:
    """Media-type keys that are not media types: wildcards, misspellings, a schema put in their place."""
    repairs: list[Repair] = []
    for content, pointer in list(_media_maps(spec)):
        for key in list(content):
            value = content[key]
            target: str | None = None
            if key == "schema" and isinstance(value, Mapping) and "schema" not in value:
                value = {"schema": value}  # `content: {schema: ...}`: the media type was forgotten
                target = "application/json"
            elif "*" in key:  # a wildcard: what the schema says the body is
                schema = value.get("schema") if isinstance(value, Mapping) else None
                target = "application/json" if _looks_json(schema) else "application/octet-stream"
            elif not _valid_media_type(key):
                close = difflib.get_close_matches(key.lower(), KNOWN_MEDIA_TYPES, n=1, cutoff=0.8)
                schema = value.get("schema") if isinstance(value, Mapping) else None
                fallback = (
                    "application/json" if _looks_json(schema) or "json" in key else "application/octet-stream"
                )
                target = close[0] if close else fallback
            if target is None:
                continue
            del content[key]
            if target in content:
                repairs.append(
                    Repair("media-type", f"{pointer}/{_escape(key)}", f"{key!r} removed ({target} given)")
                )
                continue
            content[target] = value
            repairs.append(Repair("media-type", f"{pointer}/{_escape(key)}", f"{key!r} → {target!r}"))
    return repairs


def _swagger2_response_schemas(spec: dict[str, Any]) -> list[Repair]:
    repairs: list[Repair] = []
    for _path, _method, op, pointer in iter_operations(spec):
        responses = op.get("responses")
        if not isinstance(responses, Mapping):
            continue
        for code, response in responses.items():
            if isinstance(response, dict) and "schema" in response and "content" not in response:
                response["content"] = {"application/json": {"schema": response.pop("schema")}}
                repairs.append(
                    Repair(
                        "swagger2-response-schema",
                        f"{pointer}/responses/{_escape(str(code))}",
                        "content added",
                    )
                )
    return repairs


def _arrays_without_items(spec: dict[str, Any]) -> list[Repair]:
    repairs: list[Repair] = []
    for schema, pointer in iter_schemas(spec):
        declared = schema.get("type")
        is_array = declared == "array" or (isinstance(declared, list) and "array" in declared)
        if is_array and not isinstance(schema.get("items"), Mapping) and "prefixItems" not in schema:
            schema["items"] = {}
            repairs.append(Repair("array-without-items", pointer, "items: any value"))
    return repairs


def _null_defaults(spec: dict[str, Any]) -> list[Repair]:
    """`default: null` says nothing a missing default does not; the generator rejects it on objects."""
    repairs: list[Repair] = []
    for schema, pointer in iter_schemas(spec):
        if "default" in schema and schema["default"] is None:
            del schema["default"]
            repairs.append(Repair("null-default", f"{pointer}/default", "default: null removed"))
    return repairs


def _class_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _colliding_schema_names(spec: dict[str, Any]) -> list[Repair]:
    """Component schemas whose names differ only by case or punctuation ("Item" and "item", "Foo_Bar"
    and "FooBar") become the same Python class and module: every one after the first is renamed."""
    components = spec.get("components")
    if not isinstance(components, dict) or not isinstance(components.get("schemas"), dict):
        return []
    schemas: dict[str, Any] = components["schemas"]
    taken = {_class_key(n) for n in schemas}
    seen: set[str] = set()
    renames: dict[str, str] = {}
    for name in schemas:
        key = _class_key(name)
        if key in seen:
            n = 2
            while _class_key(f"{name}{n}") in taken:
                n += 1
            renames[name] = f"{name}{n}"
            taken.add(_class_key(renames[name]))
        seen.add(key)
    if not renames:
        return []
    components["schemas"] = {renames.get(n, n): s for n, s in schemas.items()}
    old_refs = {
        f"#/components/schemas/{_escape(o)}": f"#/components/schemas/{_escape(n)}" for o, n in renames.items()
    }

    def rewrite(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref in old_refs:
                node["$ref"] = old_refs[ref]
            for value in node.values():
                rewrite(value)
        elif isinstance(node, list):
            for value in node:
                rewrite(value)

    rewrite(spec)
    return [
        Repair("colliding-schema-names", f"/components/schemas/{_escape(o)}", f"renamed {n!r}")
        for o, n in renames.items()
    ]


def _enum_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def _unsupported_enums(spec: dict[str, Any]) -> list[Repair]:
    """Enums the generator cannot make a type of (booleans, values of mixed types, objects, an empty
    list) are dropped: the schema's `type` still says what the values are."""
    repairs: list[Repair] = []
    for schema, pointer in iter_schemas(spec):
        enum = schema.get("enum")
        if enum is None:
            continue
        values = [v for v in enum if v is not None] if isinstance(enum, list) else []
        kinds = {_enum_kind(v) for v in values}
        if not isinstance(enum, list) or not values or len(kinds) > 1 or not kinds <= {"str", "number"}:
            del schema["enum"]
            repairs.append(Repair("unsupported-enum", f"{pointer}/enum", f"enum {enum!r} dropped"[:200]))
    return repairs


def _nullable(schema: Mapping[str, Any]) -> bool:
    declared = schema.get("type")
    return schema.get("nullable") is True or (isinstance(declared, list) and "null" in declared)


def _nullable_models(spec: dict[str, Any]) -> list[Repair]:
    """A component model declared nullable is made a plain model, and each reference to it says
    "this model or null" instead: the same meaning, in the form the generator handles (it fails on
    nullable models that hold inline objects)."""
    components = spec.get("components")
    schemas = components.get("schemas") if isinstance(components, dict) else None
    if not isinstance(schemas, dict):
        return []
    models: set[str] = set()
    repairs: list[Repair] = []
    for name, schema in schemas.items():
        if not isinstance(schema, dict) or not _nullable(schema):
            continue
        declared = schema.get("type")
        kinds = declared if isinstance(declared, list) else [declared]
        if "object" not in kinds and "properties" not in schema:
            continue
        schema.pop("nullable", None)
        if isinstance(declared, list):
            rest = [k for k in declared if k != "null"]
            schema["type"] = rest[0] if len(rest) == 1 else rest
        models.add(f"#/components/schemas/{_escape(name)}")
        repairs.append(
            Repair("nullable-model", f"/components/schemas/{_escape(name)}", "null moved to its references")
        )
    if not models:
        return []
    for schema, _pointer in list(iter_schemas(spec)):
        ref = schema.get("$ref")
        if ref in models:
            kept = {k: v for k, v in schema.items() if k != "$ref"}
            schema.clear()
            schema.update(kept)
            schema["anyOf"] = [{"$ref": ref}, {"type": "null"}]
    return repairs


def _colliding_titles(spec: dict[str, Any]) -> list[Repair]:
    """The generator names a component's class from its `title` when it has one: two components
    titled alike (or titled like another component's name) would be one class. Such titles are dropped:
    the class is then named from the component's own (unique) name."""
    components = spec.get("components")
    schemas = components.get("schemas") if isinstance(components, dict) else None
    if not isinstance(schemas, dict):
        return []
    names = {_class_key(n) for n in schemas}
    seen: set[str] = set()
    repairs: list[Repair] = []
    for name, schema in schemas.items():
        if not isinstance(schema, dict):
            continue
        title = schema.get("title")
        key = _class_key(title) if isinstance(title, str) and title else _class_key(name)
        collides = key in seen or (key != _class_key(name) and key in names)
        if collides and isinstance(title, str):
            del schema["title"]
            repairs.append(
                Repair(
                    "colliding-titles",
                    f"/components/schemas/{_escape(name)}/title",
                    f"title {title!r} dropped",
                )
            )
            key = _class_key(name)
        seen.add(key)
    return repairs


FIXUPS: tuple[FixUp, ...] = (
    FixUp(
        "ignored-header-parameter",
        "OpenAPI says header parameters named Accept, Content-Type or Authorization are ignored; "
        "pass credentials with headers= (or the generated client's headers)",
        _ignored_header_parameters,
    ),
    FixUp(
        "swagger2-response-schema",
        "a response with a Swagger 2.0 `schema` and no `content` in an OpenAPI 3 document is read as a "
        "JSON response with that schema",
        _swagger2_response_schemas,
    ),
    FixUp(
        "media-type",
        "a media type that is not one (*/*, a misspelling, a schema in its place) is replaced by the closest "
        "real one (application/json for JSON schemas, else application/octet-stream)",
        _media_types,
    ),
    FixUp(
        "unresolvable-ref",
        "a $ref names another file, a URL, or nothing in this document: a schema becomes 'any value', "
        "a parameter or body is dropped, a response is left untyped",
        _unresolvable_refs,
    ),
    FixUp(
        "invalid-type",
        "a schema `type` that JSON Schema does not define (date, timestamp, json...) is read as the type "
        "it evidently means (string with a format, any value)",
        _invalid_types,
    ),
    FixUp(
        "missing-responses",
        "an operation without `responses` (required) is given an undocumented default response",
        _missing_responses,
    ),
    FixUp("array-without-items", "an array schema without `items` holds any values", _arrays_without_items),
    FixUp(
        "null-default",
        "`default: null` is dropped (the generator refuses it; it means no default)",
        _null_defaults,
    ),
    FixUp(
        "colliding-schema-names",
        "schema names that differ only by case or punctuation would be one Python class: the later ones "
        "are renamed with a number",
        _colliding_schema_names,
    ),
    FixUp(
        "colliding-titles",
        "component schemas titled alike (or titled like another component) would be one Python class: "
        "their titles are dropped, so each class is named after its component",
        _colliding_titles,
    ),
    FixUp(
        "unsupported-enum",
        "an enum the generator cannot type (booleans, values of mixed types, an empty list) is dropped; "
        "the schema's type still holds",
        _unsupported_enums,
    ),
    FixUp(
        "nullable-model",
        "a nullable component model becomes a plain model referenced as 'the model or null' (same meaning; "
        "the generator fails on nullable models holding inline objects)",
        _nullable_models,
    ),
)

REASONS: dict[str, str] = {f.family: f.reason for f in FIXUPS}


def repair_document(spec: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[Repair, ...]]:
    """A repaired copy of an OpenAPI 3 document, and every change made (in fix-up order)."""
    fixed = copy.deepcopy(dict(spec))
    repairs: list[Repair] = []
    for fixup in FIXUPS:
        repairs += fixup.run(fixed)
    return fixed, tuple(repairs)


# Media types the generator reads itself (JSON, forms, bytes; text/* responses as str).
_GENERATOR_BODY_TYPES = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")


def content_type_overrides(spec: Mapping[str, Any]) -> tuple[dict[str, str], tuple[Repair, ...]]:
    """Generator `content_type_overrides` for media types it cannot type (XML, spreadsheets, PDF,
    text request bodies...): their bodies and responses are passed as bytes (application/octet-stream),
    the Content-Type sent stays the document's."""
    overrides: dict[str, str] = {}
    repairs: list[Repair] = []
    for content, pointer in _media_maps(spec):
        in_body = "/requestBody/" in pointer + "/" or pointer.startswith("/components/requestBodies/")
        for key in content:
            base = key.split(";")[0].strip().lower()
            if base in _GENERATOR_BODY_TYPES or base.endswith("+json") or base == "application/octet-stream":
                continue
            if base.startswith("text/") and not in_body:
                continue  # text responses are read as str
            if key not in overrides:
                overrides[key] = "application/octet-stream"
                repairs.append(
                    Repair("unsupported-media-type", f"{pointer}/{_escape(key)}", f"{key!r} passed as bytes")
                )
    return overrides, tuple(repairs)


REASONS["long-names"] = (
    "a generated model name too long for a file name (an inline schema with a long title) is shortened, "
    "with a hash of the full name"
)
REASONS["colliding-operation-names"] = (
    "two operations the generator names alike would share one module: the later one gets its own operationId"
)
REASONS["unsupported-media-type"] = (
    "the generator only types JSON and forms: bodies and responses in other media types (XML, "
    "spreadsheets, PDF, text request bodies) are passed as bytes, with the document's Content-Type"
)
