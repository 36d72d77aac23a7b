"""Reports of spec drift, per API: the human text and the stable JSON form.

JSON schema (`"format": "datagouv-sdk/spec-diff"`, `"version": 1`); new keys may be added, the
existing ones keep their meaning::

    {
      "format": "datagouv-sdk/spec-diff",
      "version": 1,
      "apis": [
        {
          "api": "metrics",                      # sources.json name, or the document's title for `diff`
          "status": "changed",                   # "unchanged" | "changed" | "error"
          "note": null,                          # why the report is partial, or the error message
          "old": {"origin": "...", "version": "1.0.0", "sha256": "…",
                  "counts": {"paths": 5, "operations": 5, "schemas": 9}},   # or null (counts may be null)
          "new": {... same shape ...},
          "summary": {"breaking": 1, "non_breaking": 1,
                      "operations_added": 0, "operations_removed": 0,
                      "schemas_added": 0, "schemas_removed": 0, "schemas_changed": 1},   # or null
          "operations": {"added": ["GET /x/"], "removed": []},                    # or null
          "schemas": {"added": [], "removed": [], "changed": ["Health"]},         # or null
          "changes": [
            {
              "kind": "response-property-removed",      # stable identifier, see drift.compare
              "severity": "breaking",                   # "breaking" | "non-breaking" (for a client)
              "direction": "response",                  # "request" | "response" | null
              "path": null, "method": null,             # set for operation-level / inline changes
              "parameter": null, "parameter_in": null,
              "status": null, "media_type": null,
              "schema": "Health",                       # upstream component name, verbatim
              "property": "uptime_seconds",             # dotted path inside it; "[]" = array items
              "old": null, "new": null,                 # the values that changed, when meaningful
              "operations": ["GET /health/"],           # where a component change is reached
              "message": "response Health.uptime_seconds: property removed"
            }
          ]
        }
      ]
    }

`changes` is sorted by location, so two runs over the same documents print the same bytes.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable
from typing import Any

import attrs

from datagouv_sdk.codegen.inventory import Counts
from datagouv_sdk.drift.changes import ApiDiff, Change

__all__ = ["ApiReport", "Side", "Status", "render_json", "render_text", "to_json"]

JSON_FORMAT = "datagouv-sdk/spec-diff"
JSON_VERSION = 1
# Operations listed after a component change in the text report; the JSON lists them all.
_SHOWN_OPERATIONS = 3


class Status(enum.StrEnum):
    UNCHANGED = "unchanged"
    CHANGED = "changed"
    ERROR = "error"


@attrs.frozen
class Side:
    """One of the two documents compared."""

    origin: str
    version: str | None
    sha256: str | None
    counts: Counts | None = None

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)  # origin, version, sha256, counts (an object, or None)

    def label(self) -> str:
        sha = f"sha256:{self.sha256[:12]}" if self.sha256 else "no hash"
        return f"{self.version or '?'} ({sha})"


@attrs.frozen
class ApiReport:
    """What happened to one API: compared (diff), only hashed (diff None, note says why), or failed."""

    api: str
    status: Status
    old: Side | None = None
    new: Side | None = None
    diff: ApiDiff | None = None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        head = {"api": self.api, "status": self.status.value, "note": self.note}
        sides = {
            "old": self.old.to_json() if self.old else None,
            "new": self.new.to_json() if self.new else None,
        }
        return head | sides | _diff_json(self.diff)


def _diff_json(d: ApiDiff | None) -> dict[str, Any]:
    if d is None:
        return {"summary": None, "operations": None, "schemas": None, "changes": []}
    summary = {"breaking": len(d.breaking), "non_breaking": len(d.non_breaking)}
    lists = ("operations_added", "operations_removed", "schemas_added", "schemas_removed", "schemas_changed")
    return {
        "summary": summary | {name: len(getattr(d, name)) for name in lists},
        "operations": {"added": list(d.operations_added), "removed": list(d.operations_removed)},
        "schemas": {
            "added": list(d.schemas_added),
            "removed": list(d.schemas_removed),
            "changed": list(d.schemas_changed),
        },
        "changes": [c.to_json() for c in d.changes],
    }


def to_json(reports: Iterable[ApiReport]) -> dict[str, Any]:
    return {"format": JSON_FORMAT, "version": JSON_VERSION, "apis": [r.to_json() for r in reports]}


def render_json(reports: Iterable[ApiReport]) -> str:
    return json.dumps(to_json(reports), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def render_text(reports: Iterable[ApiReport]) -> str:
    """Grouped by API, then severity (breaking first)."""
    lines: list[str] = []
    for report in reports:
        lines.extend(_api_lines(report))
    return "\n".join(lines) + "\n"


def _api_lines(report: ApiReport) -> list[str]:
    head = f"{report.api}: {report.status.value}"
    if report.old and report.new:
        head += f", {report.old.label()} -> {report.new.label()}"
    elif report.new:
        head += f", {report.new.label()}"
    lines = [head]
    if report.note:
        lines.append(f"  note: {report.note}")
    if report.status is not Status.CHANGED:
        return lines
    if report.diff is None:
        if report.old and report.new and report.old.counts and report.new.counts:
            o, n = report.old.counts, report.new.counts
            lines.append(
                f"  paths {o.paths} -> {n.paths}, operations {o.operations} -> {n.operations}, "
                f"schemas {o.schemas} -> {n.schemas}"
            )
        return lines
    d = report.diff
    lines.append(
        f"  {len(d.breaking)} breaking, {len(d.non_breaking)} non-breaking; "
        f"operations +{len(d.operations_added)} -{len(d.operations_removed)}; "
        f"schemas +{len(d.schemas_added)} -{len(d.schemas_removed)} ~{len(d.schemas_changed)}"
    )
    for title, changes in (("BREAKING", d.breaking), ("NON-BREAKING", d.non_breaking)):
        if changes:
            lines.append(f"  {title} ({len(changes)})")
            lines.extend(f"    {change_line(c)}" for c in changes)
    if d.schemas_added or d.schemas_removed:
        lines.append(f"  schemas added: {', '.join(d.schemas_added) or '-'}")
        lines.append(f"  schemas removed: {', '.join(d.schemas_removed) or '-'}")
    return lines


def change_line(change: Change) -> str:
    """One change in one line: its message, then where a component change is reached."""
    text = change.message
    ops = change.operations
    if ops:
        shown = ", ".join(ops[:_SHOWN_OPERATIONS])
        more = f", +{len(ops) - _SHOWN_OPERATIONS} more" if len(ops) > _SHOWN_OPERATIONS else ""
        text += f" [{shown}{more}]"
    return f"{text} ({change.kind})"
