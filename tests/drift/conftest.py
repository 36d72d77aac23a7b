"""Fixture of the drift tests: an older Main spec rendered by udata 17.10.0 (the mirror is tests/conftest.py's)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OLD_UDATA = ROOT / ".peers" / "udata_17_10"
OLD_UDATA_VERSION = "17.10.0"
# `udata api swagger` needs these three settings (and nothing else: no MongoDB, no Redis):
# SECRET_KEY and API_TOKEN_SECRET are checked at start-up, SERVER_NAME lets it build URLs outside a
# request. The output path must contain a directory (udata calls os.makedirs(dirname)).
_SETTINGS = (
    'SECRET_KEY = "drift-tests-only"\n'
    'API_TOKEN_SECRET = "drift-tests-only"\n'
    'SERVER_NAME = "www.data.gouv.fr"\n'
)
_RENDER_TIMEOUT = 120


@pytest.fixture(scope="session")
def udata_17_10_spec() -> Path:
    """The Main API Swagger document as udata 17.10.0 renders it, cached in .peers/udata_17_10/.

    The document is upstream's text: it stays under .peers/ (gitignored), only our expectations are
    committed. The venv comes from tests/peers/udata_17_10/requirements.txt (`make peers`).
    """
    udata = OLD_UDATA / "bin" / "udata"
    if not udata.exists():
        raise RuntimeError(f"{udata} is missing: run `make peers` (scripts/install_peers.py)")
    cached = OLD_UDATA / "swagger-main.json"
    if cached.is_file():
        return cached
    version = subprocess.run(
        [
            str(OLD_UDATA / "bin" / "python"),
            "-c",
            "import importlib.metadata as m; print(m.version('udata'))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=_RENDER_TIMEOUT,
    ).stdout.strip()
    if version != OLD_UDATA_VERSION:
        raise RuntimeError(f"{OLD_UDATA} holds udata {version}, expected {OLD_UDATA_VERSION}")
    with tempfile.TemporaryDirectory(dir=OLD_UDATA) as tmp:
        settings = Path(tmp) / "settings.cfg"
        settings.write_text(_SETTINGS)
        out = Path(tmp) / "swagger.json"
        # udata lists some enums from sets: a fixed hash seed makes the rendered bytes reproducible.
        env = {**os.environ, "UDATA_SETTINGS": str(settings), "PYTHONHASHSEED": "0"}
        done = subprocess.run(
            [str(udata), "api", "swagger", str(out)],
            env=env,
            cwd=tmp,
            check=False,
            capture_output=True,
            text=True,
            timeout=_RENDER_TIMEOUT,
        )
        if done.returncode != 0 or not out.is_file():
            raise RuntimeError(f"`udata api swagger` failed ({done.returncode}): {done.stderr[-2000:]}")
        os.replace(out, cached)  # same filesystem: atomic, and concurrent sessions agree
    return cached
