"""Canonical form of a spec document, so upstream formatting (key order, indentation, YAML vs JSON,
unquoted status codes) never changes what we hash, lock or generate from."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from datagouv_sdk.codegen.errors import SpecInvalidError

__all__ = ["HTTP_METHODS", "canonical_bytes", "normalise", "sha256_hex"]

# The operations a path item may hold (OpenAPI 3; Swagger 2.0 has all but "trace"), in spec order.
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def normalise(doc: Any) -> Any:
    """A copy of `doc` with every mapping key a string, keys sorted, and `enum` value lists sorted.

    YAML turns unquoted status codes (`200:` in the Tabular spec) into integer keys; OpenAPI requires
    strings, and JSON would stringify them anyway, so this is the one place they become "200".
    Enum order means nothing in JSON Schema, and udata renders some enums from Python sets, so their
    order (and the document's hash) changes from one render to the next with nothing else changed.
    """
    if isinstance(doc, dict):
        out: dict[str, Any] = {}
        for raw in doc:
            key = _key(raw)
            if key in out:
                raise SpecInvalidError(
                    f"duplicate key {key!r} once keys are strings (e.g. both 200 and '200')"
                )
            value = normalise(doc[raw])
            if key == "enum" and isinstance(value, list):
                value = sorted(value, key=_enum_order)
            out[key] = value
        return dict(sorted(out.items()))
    if isinstance(doc, (list, tuple)):
        return [normalise(item) for item in doc]
    return doc


def canonical_bytes(doc: Any) -> bytes:
    """Sorted keys, 2-space indent, UTF-8 (no \\u escapes), trailing newline."""
    text = json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False, separators=(",", ": "))
    return (text + "\n").encode("utf-8")


def sha256_hex(doc: Any) -> str:
    """sha256 of the canonical bytes of `doc` (normalise it first if it may hold non-string keys)."""
    return hashlib.sha256(canonical_bytes(doc)).hexdigest()


def _enum_order(value: Any) -> str:
    # Mixed types (e.g. a nullable enum's None among strings) sort by their JSON text.
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _key(key: Any) -> str:
    if isinstance(key, bool):  # YAML 1.1 `yes:`/`on:`: keep JSON's spelling rather than Python's
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)
