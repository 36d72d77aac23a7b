"""The wheel ships what users import: the overlay, the four generated clients (gitignored build
output, so easy to drop by accident), their type markers, and the `dgv` entry point."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("datagouv_sdk", "datagouv_main", "datagouv_main_v2", "datagouv_metrics", "datagouv_tabular")


def test_wheel_contains_overlay_and_generated_clients(tmp_path: Path) -> None:
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
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("datagouv_sdk-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for package in PACKAGES:
        assert f"{package}/__init__.py" in names, f"{package} missing from the wheel"
        assert f"{package}/py.typed" in names, f"{package} has no py.typed marker in the wheel"
    generated_modules = [n for n in names if n.startswith("datagouv_main/api/") and n.endswith(".py")]
    assert len(generated_modules) > 200  # every Main API endpoint module
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "dgv = datagouv_sdk.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
