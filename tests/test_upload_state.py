"""The upload state file: round trip, atomic replacement, unusable files, where it lives."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from datagouv_sdk.upload_state import StateFile, UploadState, default_state_dir, state_file_for

KEY = ["https://www.data.gouv.fr/api/1/", "my-dataset", "", "/home/me/big.csv", "big.csv"]


def state(**changes: object) -> UploadState:
    base = UploadState(
        key=list(KEY), size=10, mtime_ns=1, chunk_size=4, parts=3, uuid="u-1", started_at=100.0
    )
    for name, value in changes.items():
        setattr(base, name, value)
    return base


def test_round_trip(tmp_path: Path) -> None:
    store = state_file_for(tmp_path, KEY)
    saved = state(parts_done=2, presumed=[1], last_ack=123.5, phase="assembling", resources_before=["r1"])
    store.save(saved)
    assert store.load() == saved
    assert store.path.parent == tmp_path and "big" not in store.path.name  # no path in the name
    assert state_file_for(tmp_path, list(KEY)).path == store.path  # stable
    assert state_file_for(tmp_path, [*KEY[:2], "a-resource", *KEY[3:]]).path != store.path
    store.remove()
    store.remove()  # twice is fine
    assert store.load() is None and store.problem == ""


def test_a_failed_write_leaves_the_previous_state_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = StateFile(tmp_path / "s.json")
    store.save(state(parts_done=1))

    def broken_dump(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(json, "dump", broken_dump)  # the module upload_state writes with
    with pytest.raises(OSError, match="disk full"):
        store.save(state(parts_done=2))
    monkeypatch.undo()
    loaded = store.load()
    assert loaded is not None and loaded.parts_done == 1
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "is unusable"),
        (json.dumps({"version": 99}), "not a version 1 upload state"),
        (json.dumps([1, 2]), "not a version 1 upload state"),
        (json.dumps({"version": 1, "size": 3}), "is unusable"),  # fields missing
    ],
)
def test_unusable_files_are_reported_not_raised(tmp_path: Path, text: str, problem: str) -> None:
    store = StateFile(tmp_path / "s.json")
    store.path.write_text(text)
    assert store.load() is None and problem in store.problem and str(store.path) in store.problem


def test_unknown_fields_of_a_newer_writer_are_ignored(tmp_path: Path) -> None:
    store = StateFile(tmp_path / "s.json")
    store.path.write_text(json.dumps({**state().to_json(), "added_later": True}))
    assert store.load() == state()


def test_the_default_folder_is_the_user_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_state_dir() == tmp_path / "datagouv-sdk" / "uploads"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_state_dir() == tmp_path / "home" / ".cache" / "datagouv-sdk" / "uploads"
    assert state_file_for(None, KEY).path.parent == default_state_dir()
