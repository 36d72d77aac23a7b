"""`dgv specs check`: has upstream changed since specs/lock.json? Reads only; writes nothing.

For every API of specs/sources.json: fetch (live, or the mirror folder), hash the normalised document
and compare with the lock. A document the lock does not know is validated, then diffed against the
previously accepted one (specs/upstream/<name>.json, if it is still the locked one); without it the
report says what the lock knows: hash, version and counts.
"""

from __future__ import annotations

import os
from pathlib import Path

import attrs
import httpx
from datagouv_sdk.codegen.inventory import count_document
from datagouv_sdk.codegen.swagger2 import SwaggerConversionError
from datagouv_sdk.drift.documents import SpecDocument, diff_specs, parse_document, prepare
from datagouv_sdk.drift.report import ApiReport, Side, Status

from tools.specpipeline.errors import SpecError
from tools.specpipeline.fetch import fetch_document, resolve_mirror
from tools.specpipeline.layout import RepoLayout
from tools.specpipeline.lock import LockEntry, load_lock
from tools.specpipeline.sources import Source, load_sources
from tools.specpipeline.validate import validate_document

__all__ = ["EXIT_CHANGED", "EXIT_FAILED", "EXIT_UNCHANGED", "Fetched", "check_specs", "collect", "exit_code"]

EXIT_UNCHANGED, EXIT_CHANGED, EXIT_FAILED = 0, 1, 2


@attrs.frozen
class Fetched:
    """One API after a check: its report, and the new document when it could be fetched."""

    source: Source
    report: ApiReport
    document: SpecDocument | None


def check_specs(
    layout: RepoLayout,
    mirror: str | os.PathLike[str] | None = None,
    *,
    client: httpx.Client | None = None,
) -> list[ApiReport]:
    return [f.report for f in collect(layout, mirror, client=client)]


def exit_code(reports: list[ApiReport]) -> int:
    """2 if any API failed, else 1 if any changed, else 0."""
    if any(r.status is Status.ERROR for r in reports):
        return EXIT_FAILED
    if any(r.status is Status.CHANGED for r in reports):
        return EXIT_CHANGED
    return EXIT_UNCHANGED


def collect(
    layout: RepoLayout,
    mirror: str | os.PathLike[str] | None = None,
    *,
    client: httpx.Client | None = None,
) -> list[Fetched]:
    """Fetch, validate and compare every API with the lock; one entry per source, in sources.json order."""
    lock = load_lock(layout)
    folder = resolve_mirror(mirror)
    return [_one(source, layout, lock, folder, client) for source in load_sources(layout).values()]


def _one(
    source: Source,
    layout: RepoLayout,
    lock: dict[str, LockEntry],
    folder: Path | None,
    client: httpx.Client | None,
) -> Fetched:
    origin = str(folder / source.mirror) if folder is not None else source.url
    entry = lock.get(source.name)
    try:
        raw = fetch_document(source, folder, use_env=False, client=client)
        new = prepare(raw, origin=origin)
        # A document hashing to the lock was validated when it was accepted: only new ones are
        # validated again (the Main spec takes seconds).
        if entry is None or entry.sha256 != new.sha256:
            validate_document(raw, source.format, name=source.name)
    except (SpecError, SwaggerConversionError) as exc:  # unreachable, invalid, or not convertible
        return Fetched(source, ApiReport(source.name, Status.ERROR, note=str(exc)), None)
    new_side = Side(origin, new.version, new.sha256, count_document(new.upstream))
    if entry is not None and entry.sha256 == new.sha256:
        return Fetched(source, ApiReport(source.name, Status.UNCHANGED, new=new_side), new)
    if entry is None:
        report = ApiReport(source.name, Status.CHANGED, new=new_side, note="no entry in specs/lock.json yet")
        return Fetched(source, report, new)

    lock_side = Side("specs/lock.json", entry.version or None, entry.sha256, entry.counts)
    baseline, why_not = _baseline(layout, source.name, entry)
    if baseline is None:
        report = ApiReport(source.name, Status.CHANGED, lock_side, new_side, note=why_not)
        return Fetched(source, report, new)
    old_side = Side(baseline.origin, baseline.version, baseline.sha256, entry.counts)
    result = diff_specs(baseline, new)
    # udata renders some enums from sets: their order, and so the hash, can move alone.
    quiet = None if result.changes else "the hash moved but nothing a client can observe changed"
    report = ApiReport(source.name, Status.CHANGED, old_side, new_side, result, quiet)
    return Fetched(source, report, new)


def _baseline(layout: RepoLayout, name: str, entry: LockEntry) -> tuple[SpecDocument | None, str]:
    """The locked document from specs/upstream/<name>.json, or None and the reason it cannot serve."""
    path = layout.upstream_path(name)
    shown = f"specs/upstream/{path.name}"
    if not path.is_file():
        return None, f"{shown} is absent: hash, version and counts only"
    try:
        old = prepare(parse_document(path.read_bytes(), origin=str(path)), origin=shown)
    except (OSError, SpecError, SwaggerConversionError) as exc:
        return None, f"{shown} is unreadable ({exc}): hash, version and counts only"
    if old.sha256 != entry.sha256:
        return (
            None,
            f"{shown} is not the locked document (sha256:{old.sha256[:12]}): hash, version and counts only",
        )
    return old, ""
