"""The maintainer's `check` (exit 0/1/2, writes nothing) and `update` (upstream + lock + CHANGELOG):
`python -m tools.specpipeline check|update`, run by `make check-specs|update-specs`."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from datagouv_sdk.codegen.errors import SpecFetchError

from tests.drift.spec_server import running_spec_server
from tests.specpipeline.fixtures import REPO as ROOT
from tools.specpipeline.changelog import prepend_entry
from tools.specpipeline.check import check_specs, exit_code
from tools.specpipeline.commands import check_main, update_main
from tools.specpipeline.layout import RepoLayout
from tools.specpipeline.lock import load_lock
from tools.specpipeline.update import update_specs

SPEC_FILES = ("main.json", "main-v2.json", "metrics.yaml", "tabular.yaml")


def _snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder` (absent folder: empty)."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _mirror(tmp_path: Path, specs_mirror: Path, **replace: Path | bytes) -> Path:
    """A copy of the mirror with some files replaced (by another file, or by raw bytes)."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    for name in SPEC_FILES:
        shutil.copyfile(specs_mirror / name, folder / name)
    for key, value in replace.items():
        target = folder / key.replace("_", ".")
        if isinstance(value, bytes):
            target.write_bytes(value)
        else:
            shutil.copyfile(value, target)
    return folder


@pytest.fixture
def specs_unchanged() -> Iterator[None]:
    """Assert the files of the repository's specs/ that check could touch are byte-identical after the test.

    specs/patches/ and specs/config/ are left out: colleagues edit them while tests run, and the
    drift code never opens them.
    """
    watched = ROOT / "specs"

    def snapshot() -> dict[str, str]:
        return {k: v for k, v in _snapshot(watched).items() if not k.startswith(("patches/", "config/"))}

    before = snapshot()
    yield
    after = snapshot()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"specs/ was modified: {changed}"


def _run(main: Callable[..., int], *args: str) -> tuple[int, str]:
    """Exit code and output (stdout, then stderr, as a terminal shows them) of a command."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(list(args), out=out)
    return code, out.getvalue() + err.getvalue()


def _check(*args: str) -> tuple[int, str]:
    return _run(check_main, *args)


# ---- check against the repository's own specs/ ----------------------------------------------


def test_check_exits_0_on_the_real_mirror(specs_mirror: Path, specs_unchanged: None) -> None:
    code, output = _check("--mirror", str(specs_mirror))
    assert code == 0, output
    assert [line.split(":")[0] for line in output.splitlines()] == ["main", "main-v2", "metrics", "tabular"]
    assert all(": unchanged" in line for line in output.splitlines())


def test_check_exits_1_when_tabular_went_back_a_release(
    tmp_path: Path, specs_mirror: Path, specs_unchanged: None
) -> None:
    mirror = _mirror(
        tmp_path, specs_mirror, tabular_yaml=specs_mirror / "history" / "tabular-2026-02-03.yaml"
    )
    code, output = _check("--mirror", str(mirror), "--json")
    assert code == 1, output
    apis = {a["api"]: a for a in json.loads(output)["apis"]}
    assert {name: a["status"] for name, a in apis.items()} == {
        "main": "unchanged",
        "main-v2": "unchanged",
        "metrics": "unchanged",
        "tabular": "changed",
    }
    assert apis["tabular"]["new"]["origin"] == str(mirror / "tabular.yaml")


def test_check_exits_2_on_an_invalid_document(
    tmp_path: Path, specs_mirror: Path, specs_unchanged: None
) -> None:
    mirror = _mirror(tmp_path, specs_mirror, metrics_yaml=b"openapi: 3.0.3\ninfo: {title: x}\npaths: 7\n")
    code, output = _check("--mirror", str(mirror))
    assert code == 2, output
    assert "metrics: error" in output and "invalid" in output


def test_check_exits_2_when_a_mirror_file_is_missing(
    tmp_path: Path, specs_mirror: Path, specs_unchanged: None
) -> None:
    mirror = _mirror(tmp_path, specs_mirror)
    (mirror / "main-v2.json").unlink()
    code, output = _check("--mirror", str(mirror))
    assert code == 2
    assert "main-v2: error" in output and "main-v2.json" in output


def test_make_check_specs_runs_the_check(specs_mirror: Path, specs_unchanged: None) -> None:
    env = {"PATH": "/usr/bin:/bin", "DATAGOUV_SPECS_MIRROR": str(specs_mirror)}
    done = subprocess.run(
        ["make", "-s", "check-specs"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tabular: unchanged" in done.stdout


# ---- check and update on a temporary repository ---------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> RepoLayout:
    """A repository root holding a copy of our specs/sources.json and specs/lock.json only."""
    root = tmp_path / "repo"
    (root / "specs").mkdir(parents=True)
    for name in ("sources.json", "lock.json"):
        shutil.copyfile(ROOT / "specs" / name, root / "specs" / name)
    return RepoLayout(root)


def test_check_diffs_against_the_previously_fetched_document(
    repo: RepoLayout, tmp_path: Path, specs_mirror: Path
) -> None:
    update_specs(repo, specs_mirror)  # writes specs/upstream/*.json, the locked documents
    mirror = _mirror(
        tmp_path, specs_mirror, metrics_yaml=specs_mirror / "history" / "metrics-2026-02-03.yaml"
    )
    before = _snapshot(repo.root)
    reports = {r.api: r for r in check_specs(repo, mirror)}
    assert exit_code(list(reports.values())) == 1
    diff = reports["metrics"].diff
    assert diff is not None
    # Going back a release: uptime_since disappears (breaking), uptime_seconds comes back.
    assert [(c.severity.value, c.property) for c in diff.changes] == [
        ("non-breaking", "uptime_seconds"),
        ("breaking", "uptime_since"),
    ]
    assert _snapshot(repo.root) == before


def test_check_without_previous_document_reports_hash_version_counts(
    repo: RepoLayout, tmp_path: Path, specs_mirror: Path
) -> None:
    mirror = _mirror(
        tmp_path, specs_mirror, metrics_yaml=specs_mirror / "history" / "metrics-2026-02-03.yaml"
    )
    code, output = _check("--root", str(repo.root), "--mirror", str(mirror))
    assert code == 1
    lock = load_lock(repo)
    assert f"metrics: changed, 1.0.0 (sha256:{lock['metrics'].sha256[:12]}) -> 1.0.0 (sha256:" in output
    assert "specs/upstream/metrics.json is absent" in output
    assert "operations 3 -> 3" in output


def test_update_accepts_changes_and_writes_a_changelog_entry(
    repo: RepoLayout, tmp_path: Path, specs_mirror: Path
) -> None:
    first = update_specs(repo, specs_mirror, now=dt.datetime(2026, 11, 20, tzinfo=dt.UTC))
    assert first.changelog_entry == "" and not (repo.root / "CHANGELOG.md").exists()
    assert set(first.written) == {
        f"specs/upstream/{n}.json" for n in ("main", "main-v2", "metrics", "tabular")
    }
    locked = load_lock(repo)

    history = _mirror(
        tmp_path, specs_mirror, tabular_yaml=specs_mirror / "history" / "tabular-2026-02-03.yaml"
    )
    code, output = _run(update_main, "--root", str(repo.root), "--mirror", str(history))
    assert code == 0, output
    assert "wrote specs/upstream/tabular.json" in output and "wrote CHANGELOG.md" in output

    lock = load_lock(repo)
    for name, entry in lock.items():  # coherent: each lock hash is the sha256 of the written document
        assert hashlib.sha256(repo.upstream_path(name).read_bytes()).hexdigest() == entry.sha256
    assert {n: e for n, e in lock.items() if n != "tabular"} == {
        n: e for n, e in locked.items() if n != "tabular"
    }
    assert lock["tabular"].sha256 != locked["tabular"].sha256
    assert lock["tabular"].fetched_at != locked["tabular"].fetched_at

    changelog = (repo.root / "CHANGELOG.md").read_text()
    assert changelog.startswith("# Changelog\n\n## ")
    assert (
        f"### tabular: 1.0.0 (sha256:{locked['tabular'].sha256[:12]}) → 1.0.0 (sha256:{lock['tabular'].sha256[:12]})"
        in changelog
    )
    assert "1 breaking, 1 non-breaking changes" in changelog
    assert (
        "- response Health.uptime_since: property removed [GET /health/] (response-property-removed)"
        in changelog
    )
    assert "metrics" not in changelog

    # Back to the current specs: a second entry, above the first; the check is then clean.
    again = update_specs(repo, specs_mirror, now=dt.datetime(2026, 11, 22, tzinfo=dt.UTC))
    assert again.changelog_entry.startswith("## 2026-11-22")
    text = (repo.root / "CHANGELOG.md").read_text()
    assert text.index("## 2026-11-22") < text.index("uptime_since: property removed")
    assert text.count("### tabular") == 2
    assert exit_code(check_specs(repo, specs_mirror)) == 0
    assert load_lock(repo)["tabular"].sha256 == locked["tabular"].sha256


def test_update_writes_nothing_when_a_spec_fails(
    repo: RepoLayout, tmp_path: Path, specs_mirror: Path
) -> None:
    update_specs(repo, specs_mirror)
    before = _snapshot(repo.root)
    broken = _mirror(
        tmp_path,
        specs_mirror,
        tabular_yaml=specs_mirror / "history" / "tabular-2026-02-03.yaml",
        main_json=b'{"swagger": "2.0", "paths": ',
    )
    with pytest.raises(SpecFetchError, match=r"nothing updated.*main"):
        update_specs(repo, broken)
    assert _snapshot(repo.root) == before
    code, output = _run(update_main, "--root", str(repo.root), "--mirror", str(broken))
    assert code == 2 and output.startswith("error: nothing updated")
    assert _snapshot(repo.root) == before


def test_changelog_entries_go_above_the_newest_below_the_preamble(tmp_path: Path) -> None:
    path = tmp_path / "CHANGELOG.md"
    prepend_entry(path, "## 2026-01-01: first\n\n- a\n")
    assert path.read_text() == "# Changelog\n\n## 2026-01-01: first\n\n- a\n"
    path.write_text("# Changelog\n\nPreamble.\n\n## 2026-01-01: first\n\n- a\n")
    prepend_entry(path, "## 2026-02-01: second\n\n- b\n")
    assert path.read_text() == (
        "# Changelog\n\nPreamble.\n\n## 2026-02-01: second\n\n- b\n\n## 2026-01-01: first\n\n- a\n"
    )
    prepend_entry(path, "")
    assert path.read_text().count("## ") == 2
    fresh = tmp_path / "NOENTRY.md"
    fresh.write_text("# Changelog\n\nPreamble only.\n")
    prepend_entry(fresh, "## 2026-03-01: third\n")
    assert fresh.read_text() == "# Changelog\n\nPreamble only.\n\n## 2026-03-01: third\n"


def test_a_hash_change_without_semantic_change_says_so(
    repo: RepoLayout, tmp_path: Path, specs_mirror: Path
) -> None:
    update_specs(repo, specs_mirror)
    doc = yaml.safe_load((specs_mirror / "tabular.yaml").read_text())
    doc["info"]["description"] = "Reworded upstream."
    mirror = _mirror(tmp_path, specs_mirror, tabular_yaml=yaml.safe_dump(doc).encode())
    reports = {r.api: r for r in check_specs(repo, mirror)}
    tabular = reports["tabular"]
    assert exit_code(list(reports.values())) == 1
    assert tabular.diff is not None and tabular.diff.changes == ()
    assert tabular.note == "the hash moved but nothing a client can observe changed"


def test_first_update_without_a_lock_records_every_api(repo: RepoLayout, specs_mirror: Path) -> None:
    repo.lock_path.unlink()
    assert exit_code(check_specs(repo, specs_mirror)) == 1
    result = update_specs(repo, specs_mirror, now=dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC))
    lock = load_lock(repo)
    assert sorted(lock) == ["main", "main-v2", "metrics", "tabular"]
    assert {e.fetched_at for e in lock.values()} == {"2026-11-21T12:00:00Z"}
    assert lock["main"].counts.operations == 247
    assert result.changelog_entry.count("not locked before →") == 4
    assert "No semantic diff: no entry in specs/lock.json yet." in result.changelog_entry
    assert exit_code(check_specs(repo, specs_mirror)) == 0


def test_live_check_and_update_against_a_local_server(
    repo: RepoLayout, specs_mirror: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATAGOUV_SPECS_MIRROR", raising=False)  # live: the URLs of sources.json
    with running_spec_server() as server:

        def publish(name: str, source: Path) -> str:
            # The live Metrics/Tabular servers serve their YAML spec as JSON.
            return server.serve(
                f"/{name}/swagger.json", json.dumps(yaml.safe_load(source.read_text())).encode()
            )

        sources = [
            {
                "name": name,
                "url": publish(name, specs_mirror / f"{name}.yaml"),
                "format": "openapi-3.0",
                "mirror": f"{name}.yaml",
                "package": f"datagouv_{name}",
            }
            for name in ("metrics", "tabular")
        ]
        repo.sources_path.write_text(json.dumps({"sources": sources}))
        repo.lock_path.unlink()
        update_specs(repo)
        assert sorted(load_lock(repo)) == ["metrics", "tabular"]
        assert exit_code(check_specs(repo)) == 0

        publish("tabular", specs_mirror / "history" / "tabular-2026-02-03.yaml")
        reports = {r.api: r for r in check_specs(repo)}
        assert reports["tabular"].status.value == "changed"
        assert reports["tabular"].diff is not None and len(reports["tabular"].diff.breaking) == 1

        server.routes.pop("/metrics/swagger.json")  # 404: no retry, exit 2
        code, output = _check("--root", str(repo.root))
        assert code == 2
        assert "metrics: error" in output and "HTTP 404" in output
        assert server.hits["/tabular/swagger.json"] == 4  # update, check, check, check
