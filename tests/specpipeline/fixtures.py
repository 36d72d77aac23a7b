"""Fixtures for the spec pipeline tests: a throwaway copy of the repository's specs/ folder, a real
local HTTP server standing in for the spec URLs, and (once per session) generated Metrics and Tabular
packages."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from datagouv_sdk.codegen.generate import GenerationResult, tree_sha256

from tests.drift.spec_server import SpecServer, running_spec_server
from tools.specpipeline.commands import fetch_specs, generate_all
from tools.specpipeline.layout import RepoLayout

REPO = Path(__file__).resolve().parents[2]
# Committed pipeline inputs a test layout needs (specs/upstream is rebuilt from the mirror).
_SPEC_INPUTS = ("sources.json", "lock.json", "patches", "config")


def copy_layout(root: Path) -> RepoLayout:
    """A RepoLayout at `root` holding a copy of this repository's committed specs/ inputs."""
    specs = root / "specs"
    specs.mkdir(parents=True)
    for name in _SPEC_INPUTS:
        source = REPO / "specs" / name
        if source.is_dir():
            shutil.copytree(source, specs / name)
        elif source.exists():
            shutil.copy2(source, specs / name)
    return RepoLayout(root)


@pytest.fixture
def layout(tmp_path: Path) -> RepoLayout:
    return copy_layout(tmp_path / "repo")


@pytest.fixture
def spec_server(specs_mirror: Path) -> Iterator[SpecServer]:
    """The mirror's files over real HTTP, standing in for the spec URLs."""
    with running_spec_server(folder=specs_mirror) as server:
        yield server


@attrs.frozen
class GeneratedRun:
    layout: RepoLayout
    first: dict[str, GenerationResult]  # generate_all() in process, into <root>/run1
    second_root: Path  # scripts/generate.py in a subprocess, into <root>/run2
    script_output: str


def run_script(
    script: str, *args: str, root: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run scripts/<script> against the layout at `root` (DATAGOUV_SDK_ROOT), like `make` would."""
    full_env = {k: v for k, v in os.environ.items() if k != "DATAGOUV_SPECS_MIRROR"}
    full_env.update({"DATAGOUV_SDK_ROOT": str(root), **(env or {})})
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / script), *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory, specs_mirror: Path) -> GeneratedRun:
    """Metrics and Tabular generated twice (in process, then via the script) from the mirror."""
    layout = copy_layout(tmp_path_factory.mktemp("generated") / "repo")
    outcomes = fetch_specs(["metrics", "tabular"], mirror=specs_mirror, layout=layout)
    assert all(o.ok for o in outcomes), [o.status for o in outcomes]
    results = generate_all(["metrics", "tabular"], layout=layout, output_root=layout.root / "run1")
    failures = [r for r in results if not isinstance(r, GenerationResult)]
    assert not failures, failures
    first = {r.package: r for r in results if isinstance(r, GenerationResult)}
    done = run_script(
        "generate.py", "metrics", "tabular", "--output", str(layout.root / "run2"), root=layout.root
    )
    assert done.returncode == 0, done.stderr
    return GeneratedRun(
        layout=layout, first=first, second_root=layout.root / "run2", script_output=done.stdout
    )


__all__ = ["REPO", "GeneratedRun", "copy_layout", "run_script", "tree_sha256"]
