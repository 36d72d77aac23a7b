"""`dgv specs update`: accept upstream as it is now.

Everything is fetched and validated first; only if every API succeeded are the files written, each
atomically: specs/upstream/<name>.json (canonical bytes of the normalised document, whose sha256 is
the lock's), then specs/lock.json, then a CHANGELOG.md entry summarising the semantic diff.
`make update-specs` then regenerates and tests.
"""

from __future__ import annotations

import datetime as dt
import os

import attrs
import httpx
from datagouv_sdk.codegen.normalise import canonical_bytes
from datagouv_sdk.drift.report import ApiReport, Status

from tools.specpipeline.changelog import prepend_entry, render_entry
from tools.specpipeline.check import collect
from tools.specpipeline.errors import SpecFetchError
from tools.specpipeline.layout import RepoLayout, atomic_write_bytes
from tools.specpipeline.lock import load_lock, make_entry, write_lock

__all__ = ["UpdateResult", "update_specs"]


@attrs.frozen
class UpdateResult:
    reports: tuple[ApiReport, ...]
    written: tuple[str, ...]  # files (re)written, relative to the repository root
    changelog_entry: str  # empty when no API changed


def update_specs(
    layout: RepoLayout,
    mirror: str | os.PathLike[str] | None = None,
    *,
    client: httpx.Client | None = None,
    now: dt.datetime | None = None,
) -> UpdateResult:
    """Fetch every API and accept it. SpecFetchError (nothing written) if any API failed."""
    fetched = collect(layout, mirror, client=client)
    failed = [f.report for f in fetched if f.report.status is Status.ERROR]
    if failed:
        details = "; ".join(f"{r.api}: {r.note}" for r in failed)
        raise SpecFetchError(f"nothing updated, {len(failed)} API(s) failed: {details}")
    moment = now or dt.datetime.now(dt.UTC)
    written: list[str] = []

    for item in fetched:
        assert item.document is not None  # only ERROR reports lack a document
        path = layout.upstream_path(item.source.name)
        data = canonical_bytes(item.document.upstream)
        if not path.is_file() or path.read_bytes() != data:
            atomic_write_bytes(path, data)
            written.append(str(path.relative_to(layout.root)))

    lock = load_lock(layout)
    entries = dict(lock)
    for item in fetched:
        assert item.document is not None
        entries[item.source.name] = make_entry(
            item.source, item.document.upstream, previous=lock.get(item.source.name), now=moment
        )
    if entries != lock:
        write_lock(entries, layout)
        written.append(str(layout.lock_path.relative_to(layout.root)))

    reports = tuple(f.report for f in fetched)
    entry = render_entry(reports, moment.date())
    if entry:
        path = layout.root / "CHANGELOG.md"
        prepend_entry(path, entry)
        written.append(path.name)
    return UpdateResult(reports, tuple(written), entry)
