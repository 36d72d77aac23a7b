"""specs/lock.json: the upstream documents we accepted, by hash. Generation refuses anything else.

One entry per API: url, format, sha256 of the normalised upstream document, info.version, counts and
fetched_at. fetched_at only moves when the hash does, so re-fetching an unchanged spec rewrites nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import attrs
from datagouv_sdk.codegen.inventory import Counts, count_document
from datagouv_sdk.codegen.normalise import canonical_bytes, sha256_hex

from tools.specpipeline.errors import SpecInvalidError, SpecLockMismatchError
from tools.specpipeline.layout import RepoLayout, atomic_write_bytes, default_layout
from tools.specpipeline.sources import Source

__all__ = [
    "ACCEPT_HINT",
    "LockEntry",
    "check_against_lock",
    "load_lock",
    "make_entry",
    "write_lock",
]

ACCEPT_HINT = "run `make update-specs` or `.venv/bin/python scripts/fetch_specs.py --accept`"


@attrs.frozen
class LockEntry:
    url: str
    format: str
    sha256: str
    version: str
    counts: Counts
    fetched_at: str  # UTC, ISO 8601 to the second

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, name: str, data: Any) -> LockEntry:
        try:
            return cls(
                url=str(data["url"]),
                format=str(data["format"]),
                sha256=str(data["sha256"]),
                version=str(data["version"]),
                counts=Counts(**data["counts"]),
                fetched_at=str(data["fetched_at"]),
            )
        except (KeyError, TypeError) as exc:
            raise SpecInvalidError(f"lock entry {name!r} is malformed: {exc!r}") from exc


def load_lock(layout: RepoLayout | None = None) -> dict[str, LockEntry]:
    """Entries by API name; empty when there is no lock file yet."""
    path = (layout or default_layout()).lock_path
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SpecInvalidError(f"cannot read {path}: {exc}") from exc
    apis = raw.get("apis") if isinstance(raw, dict) else None
    if not isinstance(apis, dict):
        raise SpecInvalidError(f'{path}: expected {{"apis": {{name: entry}}}}')
    return {name: LockEntry.from_json(name, entry) for name, entry in apis.items()}


def write_lock(entries: dict[str, LockEntry], layout: RepoLayout | None = None) -> None:
    path = (layout or default_layout()).lock_path
    body = {"apis": {name: entries[name].to_json() for name in sorted(entries)}}
    atomic_write_bytes(path, canonical_bytes(body))


def make_entry(
    source: Source,
    doc: dict[str, Any],
    *,
    previous: LockEntry | None = None,
    now: dt.datetime | None = None,
) -> LockEntry:
    """The lock entry for a normalised upstream document; keeps `previous.fetched_at` if the hash is unchanged."""
    sha = sha256_hex(doc)
    if previous is not None and previous.sha256 == sha:
        fetched_at = previous.fetched_at
    else:
        moment = now or dt.datetime.now(dt.UTC)
        fetched_at = moment.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    version = (doc.get("info") or {}).get("version")
    return LockEntry(
        url=source.url,
        format=source.format,
        sha256=sha,
        version=str(version) if version is not None else "",
        counts=count_document(doc),
        fetched_at=fetched_at,
    )


def check_against_lock(name: str, doc: dict[str, Any], lock: dict[str, LockEntry]) -> LockEntry:
    """The lock entry of `name` if the normalised `doc` hashes to it; else SpecLockMismatchError saying
    how to accept."""
    entry = lock.get(name)
    sha = sha256_hex(doc)
    if entry is None:
        raise SpecLockMismatchError(
            f"{name}: no entry in specs/lock.json for sha256:{sha[:12]}; {ACCEPT_HINT}"
        )
    if entry.sha256 != sha:
        version = (doc.get("info") or {}).get("version")
        raise SpecLockMismatchError(
            f"{name}: specs/upstream/{name}.json (sha256:{sha[:12]}, version {version}) differs from the "
            f"locked spec (sha256:{entry.sha256[:12]}, version {entry.version}, fetched {entry.fetched_at}); "
            f"review the change (`dgv specs diff`), then {ACCEPT_HINT}"
        )
    return entry
