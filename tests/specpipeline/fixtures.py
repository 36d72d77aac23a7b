"""Fixtures for the spec pipeline tests: a throwaway copy of the repository's specs/ folder, a real
local HTTP server standing in for the spec URLs, and (once per session) generated Metrics and Tabular
packages."""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from datagouv_sdk.codegen.commands import fetch_specs, generate_all
from datagouv_sdk.codegen.generate import GenerationResult, tree_sha256
from datagouv_sdk.codegen.layout import RepoLayout

REPO = Path(__file__).resolve().parents[2]
MIRROR = Path(os.environ.get("DATAGOUV_TEST_SPECS_MIRROR", REPO.parent / "shared" / "specs"))
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


@pytest.fixture(scope="session")
def mirror() -> Path:
    if not (MIRROR / "tabular.yaml").exists():
        pytest.fail(f"offline spec mirror not found at {MIRROR} (set DATAGOUV_TEST_SPECS_MIRROR)")
    return MIRROR


@pytest.fixture
def layout(tmp_path: Path) -> RepoLayout:
    return copy_layout(tmp_path / "repo")


@attrs.define
class SpecServer:
    """A real HTTP server on 127.0.0.1 serving a folder; `fail_first[path] = [500, ...]` answers those
    statuses to the first requests for `path`; `hits` counts requests per path."""

    base_url: str
    fail_first: dict[str, list[int]] = attrs.field(factory=dict)
    hits: dict[str, int] = attrs.field(factory=dict)


@pytest.fixture
def spec_server(mirror: Path) -> Iterator[SpecServer]:
    state = SpecServer(base_url="")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(mirror), **kwargs)

        def do_GET(self) -> None:
            state.hits[self.path] = state.hits.get(self.path, 0) + 1
            pending = state.fail_first.get(self.path)
            if pending:
                self.send_error(pending.pop(0), "injected failure")
                return
            super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.timeout = 5
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


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
def generated(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> GeneratedRun:
    """Metrics and Tabular generated twice (in process, then via the script) from the mirror."""
    layout = copy_layout(tmp_path_factory.mktemp("generated") / "repo")
    outcomes = fetch_specs(["metrics", "tabular"], mirror=mirror, layout=layout)
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


__all__ = ["MIRROR", "REPO", "GeneratedRun", "SpecServer", "copy_layout", "run_script", "tree_sha256"]
