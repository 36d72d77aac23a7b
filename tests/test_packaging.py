"""The wheel ships what users import and nothing else: the overlay, the four generated clients
(gitignored build output, so easy to drop by accident), their type markers and the `dgv` entry point,
without the maintainer tooling (tools/specpipeline) and without any path into a source checkout.

The wheel is then installed without extras into a fresh venv (its dependencies from the package
registry, as a user's pip would get them) and used from outside the checkout."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("datagouv_sdk", "datagouv_main", "datagouv_main_v2", "datagouv_metrics", "datagouv_tabular")
# What discovery and TabularResource.generate_client need at runtime stays in the package.
RUNTIME_CODEGEN = (
    "diagnose",
    "errors",
    "generate",
    "inventory",
    "normalise",
    "parameters",
    "repair",
    "swagger2",
)
# The maintainer pipeline: tools/specpipeline, never in the wheel.
MAINTAINER_MODULES = (
    "changelog",
    "check",
    "commands",
    "fetch",
    "layout",
    "lock",
    "patches",
    "pipeline",
    "sources",
    "update",
    "validate",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            str(ROOT),
            "-w",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("datagouv_sdk-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ of a fresh venv holding the wheel, installed without extras."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True).create(env_dir)
    done = subprocess.run(
        [str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return env_dir / "bin"


def _run(bin_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # Outside the checkout, with nothing of it on the path: what a user of the wheel has.
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(cwd), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [str(bin_dir / args[0]), *args[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_wheel_contains_overlay_and_generated_clients(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for package in PACKAGES:
        assert f"{package}/__init__.py" in names, f"{package} missing from the wheel"
        assert f"{package}/py.typed" in names, f"{package} has no py.typed marker in the wheel"
    generated_modules = [n for n in names if n.startswith("datagouv_main/api/") and n.endswith(".py")]
    assert len(generated_modules) > 200  # every Main API endpoint module
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "dgv = datagouv_sdk.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_wheel_leaves_the_maintainer_tooling_out(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == set(PACKAGES)  # no tools/, tests/, scripts/
    for module in RUNTIME_CODEGEN:
        assert f"datagouv_sdk/codegen/{module}.py" in names
    assert any(n.startswith("datagouv_sdk/codegen/templates/") and n.endswith(".jinja") for n in names)
    shipped = {Path(n).stem for n in names if n.startswith(("datagouv_sdk/codegen/", "datagouv_sdk/drift/"))}
    assert not shipped & set(MAINTAINER_MODULES)


def test_nothing_in_the_wheel_imports_tools_or_resolves_paths_into_a_checkout(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    sources = {
        n: archive.read(n).decode()
        for n in archive.namelist()
        if n.startswith("datagouv_sdk/") and n.endswith(".py")
    }
    imports_tools = [
        n for n, text in sources.items() if re.search(r"^\s*(from|import) tools\b", text, re.MULTILINE)
    ]
    assert imports_tools == []
    # The only path derived from a module's location is the templates folder, inside the package.
    located = sorted(n for n, text in sources.items() if "__file__" in text)
    assert located == ["datagouv_sdk/codegen/generate.py"]
    assert 'Path(__file__).resolve().parent / "templates"' in sources["datagouv_sdk/codegen/generate.py"]
    assert not any("parents[" in text for text in sources.values())


def test_version_has_one_source(wheel: Path) -> None:
    version = re.search(r'__version__ = "([^"]+)"', (ROOT / "overlay/datagouv_sdk/_version.py").read_text())
    assert version is not None
    assert wheel.name.startswith(f"datagouv_sdk-{version.group(1)}-")
    assert "version =" not in (ROOT / "pyproject.toml").read_text().split("[project]")[1].split("\n[")[0]


def test_plain_install_imports_every_module_and_builds_a_client(installed: Path, tmp_path: Path) -> None:
    script = """
import importlib, importlib.util, json, pkgutil, sys
import datagouv_sdk
from datagouv_sdk import DataGouv
from datagouv_sdk.discovery import Discovery, load_document
modules = [m.name for m in pkgutil.walk_packages(datagouv_sdk.__path__, "datagouv_sdk.")]
for name in modules:
    importlib.import_module(name)
with DataGouv() as dg:
    datasets = type(dg.datasets).__name__
print(json.dumps({
    "file": datagouv_sdk.__file__,
    "modules": modules,
    "datasets": datasets,
    "tools": importlib.util.find_spec("tools") is not None,
    "openapi_python_client": importlib.util.find_spec("openapi_python_client") is not None,
}))
"""
    done = _run(installed, "python", "-c", script, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout)
    assert found["file"].startswith(str(installed.parent)), found["file"]
    assert (
        "datagouv_sdk.drift.documents" in found["modules"]
        and "datagouv_sdk.codegen.generate" in found["modules"]
    )
    pipeline = [m for m in found["modules"] if m.startswith(("datagouv_sdk.codegen.", "datagouv_sdk.drift."))]
    assert len(pipeline) == len(RUNTIME_CODEGEN) + 5  # drift: changes, compare, documents, live_check, report
    assert not any(m.rsplit(".", 1)[-1] in MAINTAINER_MODULES for m in pipeline)
    assert found["datasets"] and found["tools"] is False
    assert found["openapi_python_client"] is False  # no extras: generation is the `codegen` extra's


def test_plain_install_runs_dgv_help_and_specs_diff(installed: Path, tmp_path: Path) -> None:
    assert _run(installed, "dgv", "--help", cwd=tmp_path).returncode == 0
    old = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {"/a": {"get": {"responses": {}}}},
    }
    (tmp_path / "old.json").write_text(json.dumps(old))
    # YAML: the guarded loader is discovery's, imported on demand.
    (tmp_path / "new.yaml").write_text("openapi: 3.0.3\ninfo: {title: t, version: '2'}\npaths: {}\n")
    done = _run(installed, "dgv", "--json", "specs", "diff", "old.json", "new.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [api] = json.loads(done.stdout)["apis"]
    assert api["operations"] == {"added": [], "removed": ["GET /a"]}
    assert api["summary"]["breaking"] == 1 and api["new"]["version"] == "2"


@pytest.mark.parametrize("command", ["check", "update"])
def test_plain_install_says_where_maintainer_commands_are(
    installed: Path, tmp_path: Path, command: str
) -> None:
    done = _run(installed, "dgv", "specs", command, cwd=tmp_path)
    assert done.returncode == 2
    assert "maintainer command of a datagouv-sdk source checkout" in done.stderr
    assert "Traceback" not in done.stderr
    assert not os.listdir(tmp_path)  # wrote nothing
