"""Small hand-written OpenAPI 3 documents for the drift unit tests."""

from __future__ import annotations

import copy
from typing import Any

from datagouv_sdk.drift.changes import ApiDiff
from datagouv_sdk.drift.compare import diff_documents


def spec(paths: dict[str, Any] | None = None, schemas: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": copy.deepcopy(paths or {}),
        "components": {"schemas": copy.deepcopy(schemas or {})},
    }


def param(name: str, where: str = "query", required: bool = False, **schema: Any) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "schema": schema or {"type": "string"}}


def json_body(schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def ok(schema: dict[str, Any]) -> dict[str, Any]:
    return {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: tuple[str, ...] = (), **props: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = list(required)
    return out


def kinds(diff: ApiDiff) -> set[tuple[str, str]]:
    """(kind, severity) of every change."""
    return {(c.kind, c.severity.value) for c in diff.changes}


def diff(old: dict[str, Any], new: dict[str, Any]) -> ApiDiff:
    return diff_documents(old, new)
