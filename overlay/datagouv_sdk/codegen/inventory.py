"""What a spec document contains: paths, operations and schemas, counted the same way everywhere
(the lock records these counts; generation checks one endpoint function per operation)."""

from __future__ import annotations

from typing import Any

import attrs

from datagouv_sdk.codegen.normalise import HTTP_METHODS

__all__ = ["HTTP_METHODS", "Counts", "count_document", "operations"]


@attrs.frozen
class Counts:
    paths: int
    operations: int
    schemas: int  # OAS3 components.schemas, or Swagger 2.0 definitions


def operations(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(METHOD, path) of every operation, in document order."""
    found: list[tuple[str, str]] = []
    for path, item in (doc.get("paths") or {}).items():
        if isinstance(item, dict):
            found.extend(
                (method.upper(), path) for method in HTTP_METHODS if isinstance(item.get(method), dict)
            )
    return found


def count_document(doc: dict[str, Any]) -> Counts:
    schemas = doc.get("definitions") if "swagger" in doc else (doc.get("components") or {}).get("schemas")
    return Counts(
        paths=len(doc.get("paths") or {}),
        operations=len(operations(doc)),
        schemas=len(schemas or {}),
    )
