"""`scripts/fetch_specs.py` / commands.fetch_specs: writing specs/upstream, the lock rules, atomicity."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from datagouv_sdk.codegen.normalise import canonical_bytes, normalise

from tests.drift.spec_server import SpecServer
from tests.specpipeline.fixtures import run_script
from tools.specpipeline.commands import fetch_specs
from tools.specpipeline.layout import RepoLayout
from tools.specpipeline.lock import load_lock


def _mirror_copy(specs_mirror: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "mirror"
    folder.mkdir()
    for name in ("metrics.yaml", "tabular.yaml"):
        shutil.copy(specs_mirror / name, folder / name)
    return folder


def test_fetch_writes_canonical_upstream_and_matches_committed_lock(
    layout: RepoLayout, specs_mirror: Path
) -> None:
    lock_before = layout.lock_path.read_bytes()
    outcomes = fetch_specs(["metrics", "tabular"], mirror=specs_mirror, layout=layout)
    assert [(o.name, o.status) for o in outcomes] == [("metrics", "unchanged"), ("tabular", "unchanged")]
    written = layout.upstream_path("tabular").read_bytes()
    assert written == canonical_bytes(normalise(json.loads(written)))
    assert b'"200": {' in written
    assert layout.lock_path.read_bytes() == lock_before  # unchanged doc: lock not rewritten


def test_first_fetch_creates_lock_entries(layout: RepoLayout, specs_mirror: Path) -> None:
    layout.lock_path.unlink()
    fetch_specs(["metrics"], mirror=specs_mirror, layout=layout)
    first = layout.lock_path.read_bytes()
    assert set(load_lock(layout)) == {"metrics"}
    fetch_specs(["metrics"], mirror=specs_mirror, layout=layout)  # re-fetch: fetched_at kept, bytes identical
    assert layout.lock_path.read_bytes() == first


def test_changed_spec_needs_accept(layout: RepoLayout, specs_mirror: Path, tmp_path: Path) -> None:
    folder = _mirror_copy(specs_mirror, tmp_path)
    text = (folder / "metrics.yaml").read_text().replace("version: 1.0.0", "version: 1.1.0")
    (folder / "metrics.yaml").write_text(text)
    locked, tabular = load_lock(layout)["metrics"], load_lock(layout)["tabular"]
    [outcome] = fetch_specs(["metrics"], mirror=folder, layout=layout)
    assert outcome.ok and outcome.status.startswith("DIFFERS from lock")
    assert "fetch_specs.py --accept" in outcome.status
    assert load_lock(layout)["metrics"] == locked
    [outcome] = fetch_specs(["metrics"], mirror=folder, layout=layout, accept=True)
    assert outcome.status.startswith("accepted")
    assert load_lock(layout)["metrics"].version == "1.1.0"
    assert load_lock(layout)["tabular"] == tabular  # accepting one API leaves the others alone


def test_invalid_document_keeps_previous_file_and_exits_non_zero(
    layout: RepoLayout, specs_mirror: Path, tmp_path: Path
) -> None:
    ok = run_script("fetch_specs.py", "metrics", "tabular", "--mirror", str(specs_mirror), root=layout.root)
    assert ok.returncode == 0, ok.stderr
    previous = layout.upstream_path("tabular").read_bytes()
    lock_before = layout.lock_path.read_bytes()
    folder = _mirror_copy(specs_mirror, tmp_path)
    broken = (folder / "tabular.yaml").read_text().replace("    get:\n", "    got:\n", 1)
    (folder / "tabular.yaml").write_text(broken)
    failed = run_script(
        "fetch_specs.py", "metrics", "tabular", root=layout.root, env={"DATAGOUV_SPECS_MIRROR": str(folder)}
    )
    assert failed.returncode == 1
    assert "tabular: invalid openapi-3.0 document" in failed.stderr and "previous files kept" in failed.stderr
    assert "metrics: version 1.0.0" in failed.stdout  # the other API still went through
    assert layout.upstream_path("tabular").read_bytes() == previous
    assert layout.lock_path.read_bytes() == lock_before
    assert not list(layout.upstream_dir.glob(".*.tmp"))  # no temporary file left behind


def test_unknown_api_name_is_a_usage_error(layout: RepoLayout, specs_mirror: Path) -> None:
    done = run_script("fetch_specs.py", "nope", "--mirror", str(specs_mirror), root=layout.root)
    assert done.returncode == 2
    assert "unknown API nope; known: main, main-v2, metrics, tabular" in done.stderr


def test_live_mode_fetches_the_urls_even_with_a_mirror_set(
    layout: RepoLayout, spec_server: SpecServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sources = json.loads(layout.sources_path.read_text())
    for entry in sources["sources"]:
        entry["url"] = f"{spec_server.base_url}/{entry['mirror']}"
    layout.sources_path.write_text(json.dumps(sources))
    monkeypatch.setenv("DATAGOUV_SPECS_MIRROR", str(tmp_path / "empty"))
    outcomes = fetch_specs(["metrics", "tabular"], live=True, layout=layout)
    assert [o.status for o in outcomes] == ["unchanged", "unchanged"]
    assert spec_server.hits == {"/metrics.yaml": 1, "/tabular.yaml": 1}
    [failed] = fetch_specs(["metrics"], layout=layout)  # without --live the (empty) mirror is used
    assert not failed.ok and str(tmp_path / "empty" / "metrics.yaml") in failed.status
