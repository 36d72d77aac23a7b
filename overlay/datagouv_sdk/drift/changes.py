"""What a spec diff produces: one `Change` per difference a client can observe, and the per-API
`ApiDiff` that carries them with the operation and schema counts.

Severity is judged from the CLIENT's side of the wire. A request may accept more than before
(widening) and a response may produce less than before (narrowing) without breaking anyone; the
opposite directions break someone; drift.compare applies that rule.
"""

from __future__ import annotations

import builtins
import enum
from typing import Any

import attrs

__all__ = ["ApiDiff", "Change", "Direction", "Severity"]


class Severity(enum.StrEnum):
    BREAKING = "breaking"
    NON_BREAKING = "non-breaking"


class Direction(enum.StrEnum):
    """Which way the data flows: `request` (the client sends it) or `response` (the client reads it)."""

    REQUEST = "request"
    RESPONSE = "response"


@attrs.frozen
class Change:
    """One observable difference. Every name is copied verbatim from the documents.

    `path`/`method` locate an operation-level change or an inline schema; a change inside a named
    component schema has `schema` set and lists in `operations` every "METHOD /path" that reaches it
    in that direction (the change is reported once, not once per operation).
    """

    kind: str
    severity: Severity
    message: str
    direction: Direction | None = None
    path: str | None = None
    method: str | None = None
    parameter: str | None = None
    parameter_in: str | None = None
    status: str | None = None
    media_type: str | None = None
    schema: str | None = None
    property: str | None = None
    old: Any = None
    new: Any = None
    operations: tuple[str, ...] = ()

    # `property` is a field name here (the JSON key), so the decorator is spelled in full.
    @builtins.property
    def breaking(self) -> bool:
        return self.severity is Severity.BREAKING

    def location(self) -> str:
        """Where the change is, in one short human string (used by the text report and CHANGELOG)."""
        parts: list[str] = []
        if self.method and self.path:
            parts.append(f"{self.method} {self.path}")
        if self.parameter:
            parts.append(f"parameter {self.parameter!r} ({self.parameter_in})")
        if self.status:
            parts.append(f"status {self.status}")
        if self.schema:
            parts.append(self.schema + (f".{self.property}" if self.property else ""))
        elif self.property:
            parts.append(self.property)
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """The stable JSON form (see drift.report for the documented schema)."""
        return {
            "kind": self.kind,
            "severity": self.severity.value,
            "direction": self.direction.value if self.direction else None,
            "path": self.path,
            "method": self.method,
            "parameter": self.parameter,
            "parameter_in": self.parameter_in,
            "status": self.status,
            "media_type": self.media_type,
            "schema": self.schema,
            "property": self.property,
            "old": self.old,
            "new": self.new,
            "operations": list(self.operations),
            "message": self.message,
        }


@attrs.frozen
class ApiDiff:
    """The semantic diff of one API's two documents."""

    changes: tuple[Change, ...]
    operations_added: tuple[str, ...]
    operations_removed: tuple[str, ...]
    schemas_added: tuple[str, ...]
    schemas_removed: tuple[str, ...]
    schemas_changed: tuple[str, ...]
    old_version: str | None = None
    new_version: str | None = None

    @property
    def breaking(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.breaking)

    @property
    def non_breaking(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if not c.breaking)

    @property
    def empty(self) -> bool:
        return not (self.changes or self.schemas_added or self.schemas_removed or self.schemas_changed)
