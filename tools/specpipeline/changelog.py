"""CHANGELOG.md entries written from a spec diff, never by hand: newest first, below the preamble."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from datagouv_sdk.drift.report import ApiReport, Status, change_line

from tools.specpipeline.layout import atomic_write_bytes

__all__ = ["TITLE", "prepend_entry", "render_entry"]

TITLE = "# Changelog"


def render_entry(reports: Iterable[ApiReport], day: dt.date) -> str:
    """The Markdown entry for the APIs whose spec changed; empty string when none did."""
    changed = [r for r in reports if r.status is Status.CHANGED]
    if not changed:
        return ""
    lines = [f"## {day.isoformat()}: upstream API specs updated", ""]
    for report in changed:
        old = report.old.label() if report.old else "not locked before"
        new = report.new.label() if report.new else "?"
        lines.append(f"### {report.api}: {old} → {new}")
        lines.append("")
        d = report.diff
        if d is None:
            lines.append(f"No semantic diff: {report.note or 'previous document unavailable'}.")
            if report.old and report.new and report.old.counts and report.new.counts:
                o, n = report.old.counts, report.new.counts
                lines.append(
                    f"Operations {o.operations} → {n.operations}, schemas {o.schemas} → {n.schemas}."
                )
            lines.append("")
            continue
        lines.append(
            f"{len(d.breaking)} breaking, {len(d.non_breaking)} non-breaking changes; "
            f"operations +{len(d.operations_added)} -{len(d.operations_removed)}; "
            f"schemas +{len(d.schemas_added)} -{len(d.schemas_removed)} ~{len(d.schemas_changed)}."
        )
        lines.append("")
        if d.breaking:
            lines.append("Breaking changes:")
            lines.append("")
            lines.extend(f"- {change_line(c)}" for c in d.breaking)
            lines.append("")
    return "\n".join(lines) + "\n"


def prepend_entry(path: Path, entry: str) -> None:
    """Insert `entry` above the newest entry (the first `## ` heading), keeping the title and any
    preamble above it; creates the file if needed. Atomic."""
    if not entry:
        return
    text = path.read_text(encoding="utf-8") if path.exists() else f"{TITLE}\n"
    newest = 0 if text.startswith("## ") else text.find("\n## ") + 1  # 0: no entry (or one at the top)
    if newest == 0 and not text.startswith("## "):
        body = text.rstrip("\n") + "\n\n" + entry
    else:
        body = text[:newest] + entry + "\n" + text[newest:]
    atomic_write_bytes(path, body.encode("utf-8"))
