"""specs/lock.json: entries, stable fetched_at, and the refusal when a spec differs."""

from __future__ import annotations

import datetime as dt

import pytest

from tools.specpipeline.errors import SpecLockMismatchError
from tools.specpipeline.layout import RepoLayout
from tools.specpipeline.lock import check_against_lock, load_lock, make_entry, write_lock
from tools.specpipeline.sources import load_sources

DOC = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1.2"},
    "paths": {"/a/": {"get": {}, "post": {}}},
}
T0 = dt.datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=dt.UTC)


def test_entry_contents_and_stable_fetched_at() -> None:
    source = load_sources()["metrics"]
    entry = make_entry(source, DOC, now=T0)
    assert (entry.version, entry.counts.paths, entry.counts.operations, entry.counts.schemas) == (
        "1.2",
        1,
        2,
        0,
    )
    assert entry.fetched_at == "2026-01-02T03:04:05Z"
    assert entry.url == source.url
    later = T0 + dt.timedelta(days=3)
    assert make_entry(source, DOC, previous=entry, now=later).fetched_at == entry.fetched_at
    changed = {**DOC, "info": {"title": "t", "version": "1.3"}}
    assert make_entry(source, changed, previous=entry, now=later).fetched_at == "2026-01-05T03:04:05Z"


def test_write_then_load_round_trips(layout: RepoLayout) -> None:
    entry = make_entry(load_sources()["metrics"], DOC, now=T0)
    write_lock({"metrics": entry}, layout)
    assert load_lock(layout) == {"metrics": entry}
    assert layout.lock_path.read_bytes().endswith(b"}\n")


def test_mismatch_is_refused_with_how_to_accept() -> None:
    lock = {"metrics": make_entry(load_sources()["metrics"], DOC, now=T0)}
    assert check_against_lock("metrics", DOC, lock) is lock["metrics"]
    changed = {**DOC, "info": {"title": "t", "version": "9"}}
    with pytest.raises(SpecLockMismatchError) as caught:
        check_against_lock("metrics", changed, lock)
    message = str(caught.value)
    assert "differs from the locked spec" in message and "version 9" in message
    assert "make update-specs" in message and "scripts/fetch_specs.py --accept" in message
    with pytest.raises(SpecLockMismatchError, match="no entry"):
        check_against_lock("tabular", DOC, lock)


def test_committed_lock_matches_the_mirror_counts() -> None:
    lock = load_lock()
    assert set(lock) == {"main", "main-v2", "metrics", "tabular"}
    assert (lock["main"].counts.paths, lock["main"].counts.operations, lock["main"].counts.schemas) == (
        178,
        247,
        181,
    )
    assert lock["metrics"].counts.operations == 3 and lock["tabular"].counts.operations == 8
