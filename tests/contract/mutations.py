"""Schema-driven mutations of response bodies, for the lenient/strict parsing of the generated packages.

For every operation of a prepared OAS 3 document (the generator's own input) and every documented
response with a JSON schema, `valid_body` builds a body from the schema (every property present,
one item per array, one additional property where a schema allows a typed one) and records the
sites a mutation can hit: each property of each object and each array's item, with the schema
that governs it. `mutations` then turns each site into the changes a real server makes (null,
removed, an unknown enum value, another JSON type, a malformed date or UUID, an extra property,
the body itself of another type), each with the deviation the spec says it is, or None when the
spec allows it. Sites are deduplicated by (schema, property, kind) across a package: a schema is
mutated once, in the first body that holds it.

What "the spec allows" mirrors JSON Schema as OpenAPI 3.0 and openapi-python-client read it:
`nullable`, `anyOf`/`oneOf` (any member), `allOf` (all parts, merged), `enum` (null in the list
allows null), no `type` (anything), `number` accepts integers, `additionalProperties: false`
forbids extra keys. One limit: a change inside one member of a union of several objects is taken
to be a deviation, though another member may accept the result (valid JSON, and the lenient parse
rightly records nothing). The four packages have no such union; run over the 41 third-party
documents of the discovery corpus that generate, 16,313 mutations gave 27 such cases and nothing
else (no raise, no changed round trip).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.contract.main_operations import request_line

JSON = Any
EXTRA = "zz_extra_property"
UNKNOWN_ENUM = "zz-unknown-enum-value"
BAD_FORMAT = "zz-not-a-date-nor-a-uuid"
_PARAM = re.compile(r"\{[^}]*\}")
MAX_DEPTH = 12


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The schema a $ref points to (following chains), and the component name it had."""
    name = None
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema, name


def _merged(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """An object schema with its allOf parts folded in (properties, required, additionalProperties)."""
    schema, _ = _resolve(doc, schema)
    if "allOf" not in schema:
        return schema
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    properties: dict[str, Any] = dict(merged.get("properties", {}))
    required: list[str] = list(merged.get("required", []))
    for part in schema["allOf"]:
        part = _merged(doc, part)
        properties.update(part.get("properties", {}))
        required += part.get("required", [])
        for key in ("type", "additionalProperties", "enum", "format", "items"):
            if key in part and key not in merged:
                merged[key] = part[key]
    if properties:
        merged["properties"] = properties
    if required:
        merged["required"] = required
    return merged


def accepts(doc: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> set[str]:
    """The JSON kinds a value may have: object, array, string, integer, number, boolean, null, or any."""
    schema, _ = _resolve(doc, schema)
    kinds: set[str] = set()
    if schema.get("nullable"):
        kinds.add("null")
    members = schema.get("anyOf") or schema.get("oneOf")
    if members:
        for member in members:
            kinds |= accepts(doc, member, depth + 1)
        return kinds
    if "allOf" in schema:  # all parts at once: what they all accept (a part without a type restricts nothing)
        parts = [accepts(doc, part, depth + 1) for part in schema["allOf"]]
        restricting = [part for part in parts if "any" not in part]
        return kinds | (set.intersection(*restricting) if restricting else {"any"})
    if "enum" in schema:
        values = schema["enum"]
        if None in values:
            kinds.add("null")
        kinds |= {_kind(v) for v in values if v is not None}
        return kinds
    kind = schema.get("type")
    if kind is None:
        if "properties" in schema or "additionalProperties" in schema:
            return kinds | {"object"}
        return kinds | {"any"}
    if kind == "null":
        return kinds | {"null"}
    if kind == "number":
        return kinds | {"number", "integer"}
    if kind == "string" and schema.get("format") == "binary":
        return kinds | {"any"}  # a file: the generator keeps whatever comes
    return kinds | {kind}


def _kind(value: JSON) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _plain_string(doc: dict[str, Any], schema: dict[str, Any]) -> bool:
    """A member accepts any string (no enum, no date/uuid format)."""
    schema, _ = _resolve(doc, schema)
    members = schema.get("anyOf") or schema.get("oneOf")
    if members:
        return any(_plain_string(doc, m) for m in members)
    if "allOf" in schema:
        return all(_plain_string(doc, p) for p in schema["allOf"])
    if "enum" in schema:
        return False
    if schema.get("type") is None and "properties" not in schema:
        return True
    return schema.get("type") == "string" and schema.get("format") not in ("date", "date-time", "uuid")


def _string_schema(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any] | None:
    """The first string member of a schema (for enum and format mutations), resolved."""
    schema, _ = _resolve(doc, schema)
    for member in schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf") or []:
        found = _string_schema(doc, member)
        if found is not None:
            return found
    if "enum" in schema and any(isinstance(v, str) for v in schema["enum"]):
        return schema
    if schema.get("type") == "string":
        return schema
    return None


@dataclass
class Site:
    """A value of the built body a mutation can change."""

    path: tuple[str | int, ...]
    owner: str  # the schema holding it: a component name, or the inline schema's place
    name: str  # its property name ("[]" for an array's item, "" for the body itself)
    schema: dict[str, Any]
    required: bool = False
    in_object: bool = True


@dataclass
class ObjectSite:
    path: tuple[str | int, ...]
    owner: str
    additional: Any  # additionalProperties: True (absent), False, or a schema


@dataclass
class Built:
    body: JSON
    sites: list[Site] = field(default_factory=list)
    objects: list[ObjectSite] = field(default_factory=list)


def valid_body(doc: dict[str, Any], schema: dict[str, Any], where: str) -> Built:
    built = Built(body=None)
    built.body = _Builder(doc, built).value(schema, (), where, 0, ())
    built.sites.insert(0, Site((), where, "", schema, required=True, in_object=False))
    return built


@dataclass
class _Builder:
    """Builds a valid value for a schema, recording its sites in `built` as it goes."""

    doc: dict[str, Any]
    built: Built

    def value(
        self,
        schema: dict[str, Any],
        path: tuple[str | int, ...],
        owner: str,
        depth: int,
        refs: tuple[str, ...],
    ) -> JSON:
        doc = self.doc
        resolved, name = _resolve(doc, schema)
        if name is not None:
            owner = name
            refs = (*refs, name)
        members = resolved.get("anyOf") or resolved.get("oneOf")
        if members:
            typed = [m for m in members if accepts(doc, m) - {"null"}]
            return self.value(typed[0] if typed else members[0], path, owner, depth + 1, refs)
        if "allOf" in resolved:
            parts = resolved["allOf"]
            if len(parts) == 1 and "properties" not in resolved:
                return self.value(parts[0], path, owner, depth + 1, refs)
            resolved = _merged(doc, resolved)
        if "enum" in resolved:
            return next(v for v in resolved["enum"] if v is not None)
        kinds = accepts(doc, resolved) - {"null"}
        if "object" in kinds or "properties" in resolved:
            return self.object(resolved, path, owner, depth, refs)
        if "array" in kinds:
            items = resolved.get("items", {})
            if depth > MAX_DEPTH:
                return []
            name = f"{path[-1] if path else ''}[]"
            self.built.sites.append(Site((*path, 0), owner, name, items, in_object=False))
            return [self.value(items, (*path, 0), owner, depth + 1, refs)]
        if "string" in kinds:
            return {
                "date-time": "2024-05-01T12:34:56.789000+00:00",
                "date": "2012-01-01",
                "uuid": "0c8d6a6e-1f2b-4a3c-9d4e-5f6a7b8c9d0e",
            }.get(resolved.get("format", ""), "some text")
        if "integer" in kinds and "number" not in kinds:
            return 7
        if "number" in kinds:
            return 7.5
        if "boolean" in kinds:
            return True
        return "anything"

    def object(
        self,
        schema: dict[str, Any],
        path: tuple[str | int, ...],
        owner: str,
        depth: int,
        refs: tuple[str, ...],
    ) -> JSON:
        doc, built = self.doc, self.built
        value: dict[str, JSON] = {}
        required = set(schema.get("required", []))
        additional = schema.get("additionalProperties", True)
        built.objects.append(ObjectSite(path, owner, additional))
        for prop, prop_schema in sorted(schema.get("properties", {}).items()):
            target = _resolve(doc, prop_schema)[1]
            cyclic = target is not None and target in refs
            if (cyclic or depth > MAX_DEPTH) and prop not in required:
                continue  # keep recursive schemas finite: optional self-references are left out
            site_path = (*path, prop)
            built.sites.append(Site(site_path, owner, prop, prop_schema, required=prop in required))
            if cyclic and "null" in accepts(doc, prop_schema):
                value[prop] = None
            else:
                value[prop] = self.value(prop_schema, site_path, f"{owner}.{prop}", depth + 1, refs)
        if isinstance(additional, dict) and accepts(doc, additional) != {"any"}:
            site_path = (*path, "extra_key")
            built.sites.append(Site(site_path, owner, "{additional}", additional, in_object=False))
            value["extra_key"] = self.value(additional, site_path, owner, depth + 1, refs)
        return value


@dataclass(frozen=True)
class Mutation:
    kind: str  # null, removed, unknown-enum, wrong-type, bad-format, extra-property, body-type
    site: tuple[str, str]  # (owner, name): what it is about, deduplicated per package
    path: tuple[str | int, ...]  # where the value is
    value: JSON  # the new value (unused for removed)
    deviation: tuple[str | int, ...] | None  # the path strict parsing must name; None: allowed


def _wrong_value(kinds: set[str]) -> JSON | None:
    candidates: list[JSON] = []
    if "object" in kinds and "array" not in kinds:
        candidates.append(["a list, not an object"])
    if "array" in kinds and "object" not in kinds:
        candidates.append({"an": "object, not a list"})
    candidates += [12345, "some text", True, 1.5, {"an": "object"}, ["a list"]]
    for candidate in candidates:
        kind = _kind(candidate)
        if kind not in kinds and not (kind == "integer" and "number" in kinds):
            return candidate
    return None


def mutations(doc: dict[str, Any], built: Built) -> Iterator[Mutation]:
    for site in built.sites:
        kinds = accepts(doc, site.schema)
        key = (site.owner, site.name)
        anything = "any" in kinds
        if not site.path:  # the body itself
            wrong = None if anything else _wrong_value(kinds)
            if wrong is not None:
                yield Mutation("body-type", key, (), wrong, ())
            continue
        if not anything:
            yield Mutation("null", key, site.path, None, None if "null" in kinds else site.path)
            wrong = _wrong_value(kinds)
            if wrong is not None:
                yield Mutation("wrong-type", key, site.path, wrong, site.path)
            string = _string_schema(doc, site.schema)
            if string is not None and not _plain_string(doc, site.schema):
                if "enum" in string:
                    yield Mutation("unknown-enum", key, site.path, UNKNOWN_ENUM, site.path)
                elif string.get("format") in ("date", "date-time", "uuid"):
                    yield Mutation("bad-format", key, site.path, BAD_FORMAT, site.path)
        if site.in_object:
            yield Mutation("removed", key, site.path, None, site.path if site.required else None)
    for obj in built.objects:  # the extra property's value is 1: an integer
        allowed = obj.additional is not False and (
            not isinstance(obj.additional, dict) or {"any", "integer"} & accepts(doc, obj.additional)
        )
        expected = None if allowed else (*obj.path, EXTRA)
        yield Mutation("extra-property", (obj.owner, "{extra}"), (*obj.path, EXTRA), 1, expected)


def apply(body: JSON, mutation: Mutation) -> JSON:
    """A copy of the body with the mutation applied (only the spine of the path is copied)."""
    if not mutation.path:
        return mutation.value
    return _apply(body, mutation.path, mutation)


def _apply(node: JSON, path: tuple[str | int, ...], mutation: Mutation) -> JSON:
    head, rest = path[0], path[1:]
    copy: Any = list(node) if isinstance(node, list) else dict(node)
    if rest:
        copy[head] = _apply(node[head], rest, mutation)
    elif mutation.kind == "removed":
        del copy[head]
    else:
        copy[head] = mutation.value
    return copy


# --- the generated endpoints, matched to the document's operations --------------------------------


def endpoint_modules(package: str) -> dict[tuple[str, str], Any]:
    """(method, path with every parameter as {}) -> the generated endpoint module."""
    api = importlib.import_module(f"{package}.api")
    found: dict[tuple[str, str], Any] = {}
    for info in pkgutil.walk_packages(api.__path__, f"{api.__name__}."):
        if info.ispkg:
            continue
        module = importlib.import_module(info.name)
        if hasattr(module, "request_kwargs"):
            method, url = request_line(module)
            found[(method, _PARAM.sub("{}", url))] = module
    return found


@dataclass
class Target:
    """One documented response of one operation, and the generated module that parses it."""

    method: str
    path: str
    status: str
    schema: dict[str, Any]
    module: Any


def targets(doc: dict[str, Any], package: str) -> list[Target]:
    modules = endpoint_modules(package)
    found = []
    for path, item in sorted(doc["paths"].items()):
        for method, operation in sorted(item.items()):
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            module = modules[(method, _PARAM.sub("{}", path))]
            for status, response in sorted(operation["responses"].items()):
                media = (response.get("content") or {}).get("application/json")
                if status.isdigit() and media and "schema" in media:
                    found.append(Target(method, path, status, media["schema"], module))
    return found
