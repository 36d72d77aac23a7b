"""The operations an OpenAPI 3 document describes, and the checks run on a call's arguments before
anything is sent (the base URL they are called at: base_url.py)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

import attrs

from datagouv_sdk.codegen.normalise import HTTP_METHODS
from datagouv_sdk.codegen.parameters import DEFAULT_STYLES
from datagouv_sdk.errors import UsageError

__all__ = [
    "HTTP_METHODS",
    "Operation",
    "Parameter",
    "RequestBody",
    "check_arguments",
    "find_operation",
    "list_operations",
    "resolve_ref",
]

_LOCATIONS = ("path", "query", "header", "cookie")
# OAS: header parameters with these names "SHALL be ignored" (Accept and Content-Type come from the
# media types, Authorization from the security schemes; the caller passes credentials in headers=).
_IGNORED_HEADERS = ("accept", "content-type", "authorization")
_MAX_REF_HOPS = 32


@attrs.frozen
class Parameter:
    name: str
    location: str  # path, query, header, cookie
    required: bool
    schema: dict[str, Any] = attrs.field(factory=dict, repr=False)
    description: str | None = attrs.field(default=None, repr=False)
    # how the value is written (OAS `style`, `explode`, `allowReserved`; the location's defaults when absent)
    style: str | None = attrs.field(default=None, repr=False)
    explode: bool | None = attrs.field(default=None, repr=False)
    allow_reserved: bool = attrs.field(default=False, repr=False)

    @property
    def serialisation(self) -> tuple[str, bool, bool]:
        """(style, explode, allowReserved), defaults filled in."""
        style = self.style or DEFAULT_STYLES[self.location][0]
        explode = (style == "form") if self.explode is None else self.explode
        return style, explode, self.allow_reserved

    @property
    def type(self) -> str | None:
        """The schema's type for display: "integer", "array[string]", "string|null"…"""
        return _type_label(self.schema)

    def describe(self) -> str:
        parts = [self.location, self.type or "any"]
        if self.required:
            parts.append("required")
        enum = self.schema.get("enum")
        if isinstance(enum, list) and enum:
            parts.append("one of " + ", ".join(map(str, enum[:10])))
        return f"{self.name} ({', '.join(parts)})"


@attrs.frozen
class RequestBody:
    required: bool
    content_types: tuple[str, ...]
    schema: dict[str, Any] | None = attrs.field(default=None, repr=False)


@attrs.frozen
class Operation:
    method: str  # upper case
    path: str
    operation_id: str | None
    summary: str | None
    parameters: tuple[Parameter, ...] = ()
    request_body: RequestBody | None = None
    tags: tuple[str, ...] = ()
    deprecated: bool = False

    @property
    def name(self) -> str:
        """operationId when the document gives one, else "METHOD /path"."""
        return self.operation_id or f"{self.method} {self.path}"

    def describe(self) -> str:
        return f"{self.name} ({self.method} {self.path})" if self.operation_id else self.name


def list_operations(spec: Mapping[str, Any]) -> list[Operation]:
    """Every operation, in document order, with path-level parameters merged in and $refs resolved."""
    operations: list[Operation] = []
    paths = spec.get("paths")
    if not isinstance(paths, Mapping):
        return operations
    for path, raw_item in paths.items():
        item = resolve_ref(spec, raw_item)
        if not isinstance(item, Mapping):
            continue
        shared = _parameters(spec, item.get("parameters"))
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, Mapping):
                continue
            own = _parameters(spec, op.get("parameters"))
            merged = {(p.name, p.location): p for p in shared}
            merged.update({(p.name, p.location): p for p in own})  # the operation's own win
            operations.append(
                Operation(
                    method=method.upper(),
                    path=str(path),
                    operation_id=_str_or_none(op.get("operationId")),
                    summary=_str_or_none(op.get("summary")) or _first_line(op.get("description")),
                    parameters=tuple(merged.values()),
                    request_body=_request_body(spec, op.get("requestBody")),
                    tags=tuple(str(t) for t in op.get("tags") or () if isinstance(t, (str, int))),
                    deprecated=bool(op.get("deprecated", False)),
                )
            )
    return operations


def find_operation(operations: Iterable[Operation], name: str) -> Operation:
    """By operationId, or by "METHOD /path" (method case-insensitive)."""
    ops = list(operations)
    for op in ops:
        if op.operation_id == name:
            return op
    method, _, path = name.strip().partition(" ")
    for op in ops:
        if path and op.method == method.upper() and op.path == path.strip():
            return op
    known = ", ".join(op.name for op in ops[:40]) or "none"
    more = f" (and {len(ops) - 40} more)" if len(ops) > 40 else ""
    raise UsageError(f"no operation {name!r} in this API; operations: {known}{more}")


def resolve_ref(spec: Mapping[str, Any], value: Any) -> Any:
    """Follow local `$ref`s (`#/components/...`); other references are left as they are."""
    hops = 0
    while isinstance(value, Mapping) and isinstance(value.get("$ref"), str):
        ref = value["$ref"]
        if not ref.startswith("#/") or hops >= _MAX_REF_HOPS:
            return value
        target: Any = spec
        for part in ref[2:].split("/"):
            part = unquote(part).replace("~1", "/").replace("~0", "~")
            if isinstance(target, Mapping) and part in target:
                target = target[part]
            elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                target = target[int(part)]
            else:
                return value
        value = target
        hops += 1
    return value


# -- argument checks -------------------------------------------------------------------------------


def check_arguments(
    spec: Mapping[str, Any],
    operation: Operation,
    arguments: Mapping[str, Any],
    *,
    body: Any = None,
    from_strings: bool = False,
) -> dict[str, Any]:
    """The arguments, converted to their schema types, or one UsageError listing every problem.

    `from_strings`: values typed on a command line ("3", "true") are converted to the declared type.
    """
    by_name: dict[str, Parameter] = {}
    for declared in operation.parameters:
        by_name.setdefault(declared.name, declared)  # a name used in two locations: the first is kept
    problems: list[str] = []
    checked: dict[str, Any] = {}
    for name, value in arguments.items():
        param = by_name.get(name)
        if param is None:
            problems.append(f"unknown parameter {name!r}")
            continue
        if value is None:
            if param.required:
                problems.append(f"parameter {param.describe()} may not be None")
            continue
        try:
            checked[name] = _check_value(spec, param.schema, value, from_strings)
        except _Invalid as exc:
            problems.append(f"parameter {param.describe()}: {exc}")
    for param in operation.parameters:
        if param.required and param.name not in arguments:
            problems.append(f"missing required parameter {param.describe()}")
    rb = operation.request_body
    if body is not None and rb is None:
        problems.append("this operation takes no request body")
    elif body is None and rb is not None and rb.required:
        types = ", ".join(rb.content_types) or "any content type"
        problems.append(f"a request body is required ({types})")
    if problems:
        expected = "; ".join(p.describe() for p in operation.parameters) or "no parameters"
        lines = "\n  - ".join(problems)
        raise UsageError(
            f"invalid arguments for {operation.describe()}:\n  - {lines}\nexpected parameters: {expected}"
        )
    return checked


class _Invalid(Exception):
    pass


def _check_value(
    spec: Mapping[str, Any], raw_schema: Any, value: Any, from_strings: bool, depth: int = 0
) -> Any:
    schema = resolve_ref(spec, raw_schema)
    if not isinstance(schema, Mapping) or depth > 16:
        return value
    for combinator in ("allOf",):
        parts = schema.get(combinator)
        if isinstance(parts, list):
            for part in parts:
                value = _check_value(spec, part, value, from_strings, depth + 1)
    for combinator in ("oneOf", "anyOf"):
        parts = schema.get(combinator)
        if isinstance(parts, list) and parts:
            errors: list[str] = []
            for part in parts:
                try:
                    return _check_value(spec, part, value, from_strings, depth + 1)
                except _Invalid as exc:
                    errors.append(str(exc))
            raise _Invalid(" or ".join(errors))
    declared = schema.get("type")
    types = [declared] if isinstance(declared, str) else [t for t in declared or () if isinstance(t, str)]
    if schema.get("nullable") and "null" not in types and types:
        types.append("null")
    if types:
        errors = []
        for kind in types:
            try:
                value = _as_type(spec, schema, kind, value, from_strings, depth)
                break
            except _Invalid as exc:
                errors.append(str(exc))
        else:
            raise _Invalid(
                errors[0] if len(errors) == 1 else "expected " + " or ".join(types) + f", got {value!r}"
            )
    enum = schema.get("enum")
    if isinstance(enum, list) and enum and value not in enum:
        raise _Invalid(f"{value!r} is not one of {', '.join(map(repr, enum[:20]))}")
    return value


def _as_type(
    spec: Mapping[str, Any], schema: Mapping[str, Any], kind: str, value: Any, from_strings: bool, depth: int
) -> Any:
    text = from_strings and isinstance(value, str)
    if kind == "integer":
        if text:
            try:
                return int(value.strip())
            except ValueError:
                raise _Invalid(f"expected an integer, got {value!r}") from None
        if isinstance(value, bool) or not (
            isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        ):
            raise _Invalid(f"expected an integer, got {value!r}")
        return int(value)
    if kind == "number":
        if text:
            try:
                number = float(value.strip())
            except ValueError:
                raise _Invalid(f"expected a number, got {value!r}") from None
            if not math.isfinite(number):
                raise _Invalid(f"expected a finite number, got {value!r}")
            return int(number) if number.is_integer() and "." not in value else number
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Invalid(f"expected a number, got {value!r}")
        return value
    if kind == "boolean":
        if text:
            lowered = value.strip().lower()
            if lowered in ("true", "1", "yes"):
                return True
            if lowered in ("false", "0", "no"):
                return False
        if not isinstance(value, bool):
            raise _Invalid(f"expected true or false, got {value!r}")
        return value
    if kind == "string":
        if not isinstance(value, str):
            raise _Invalid(f"expected a string, got {value!r}")
        return value
    if kind == "array":
        items = value.split(",") if text else value
        if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
            raise _Invalid(f"expected a list, got {value!r}")
        return [_check_value(spec, schema.get("items"), item, from_strings, depth + 1) for item in items]
    if kind == "object":
        if not isinstance(value, Mapping):
            raise _Invalid(f"expected an object, got {value!r}")
        return dict(value)
    if kind == "null":
        if value is not None:
            raise _Invalid(f"expected null, got {value!r}")
        return None
    return value


# -- helpers ---------------------------------------------------------------------------------------


def _parameters(spec: Mapping[str, Any], raw: Any) -> list[Parameter]:
    params: list[Parameter] = []
    if not isinstance(raw, list):
        return params
    for entry in raw:
        param = resolve_ref(spec, entry)
        if not isinstance(param, Mapping):
            continue
        name, location = param.get("name"), param.get("in")
        if not isinstance(name, str) or location not in _LOCATIONS:
            continue
        if location == "header" and name.lower() in _IGNORED_HEADERS:
            continue
        schema = resolve_ref(spec, param.get("schema"))
        if not isinstance(schema, Mapping):
            content = param.get("content")  # the `content` form: take its first media type's schema
            first = next(iter(content.values()), None) if isinstance(content, Mapping) and content else None
            schema = resolve_ref(spec, first.get("schema")) if isinstance(first, Mapping) else {}
        params.append(
            Parameter(
                name=name,
                location=str(location),
                required=bool(param.get("required", False)) or location == "path",
                schema=dict(schema) if isinstance(schema, Mapping) else {},
                description=_str_or_none(param.get("description")),
                style=_str_or_none(param.get("style")),
                explode=param["explode"] if isinstance(param.get("explode"), bool) else None,
                allow_reserved=param.get("allowReserved") is True,
            )
        )
    return params


def _request_body(spec: Mapping[str, Any], raw: Any) -> RequestBody | None:
    body = resolve_ref(spec, raw)
    if not isinstance(body, Mapping):
        return None
    content = body.get("content")
    types = tuple(str(k) for k in content) if isinstance(content, Mapping) else ()
    schema = None
    if isinstance(content, Mapping) and content:
        first = content.get("application/json") or next(iter(content.values()))
        if isinstance(first, Mapping):
            resolved = resolve_ref(spec, first.get("schema"))
            schema = dict(resolved) if isinstance(resolved, Mapping) else None
    return RequestBody(required=bool(body.get("required", False)), content_types=types, schema=schema)


def _type_label(schema: Mapping[str, Any]) -> str | None:
    declared = schema.get("type")
    if isinstance(declared, list):
        return "|".join(str(t) for t in declared) or None
    if declared == "array":
        items = schema.get("items")
        inner = _type_label(items) if isinstance(items, Mapping) else None
        return f"array[{inner}]" if inner else "array"
    if isinstance(declared, str):
        fmt = schema.get("format")
        return f"{declared}({fmt})" if isinstance(fmt, str) else declared
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    return None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _first_line(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().splitlines()[0][:200]
