"""`make bench` row 8: a fresh process's first call, ours against the official client, and what a
field mask saves.

- 8. `python FILE BASE`: import, build a client, iterate an 80-dataset listing (4 pages of 20) on the
  real udata peer; ours (datagouv-sdk, installed from its wheel into its own venv with its runtime
  dependencies only, as a user gets it) against the official `datagouv-client` (PyPI, pinned, in its
  own venv), alternated, medians of whole processes. Both venvs live in `.bench/` (gitignored),
  are built on first use (the package registry) and precompiled, like the project's. An info row
  gives ours from the project's dev venv too: there httpx also imports `rich` (openapi-python-client
  pulls it in), which a user's install does not have.
- 8. bytes of a 100-dataset page, `fields=["id", "title"]` against the full page (target: 5x fewer).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from harness import ROOT, VENV_PY, Row

OFFICIAL = "datagouv-client==0.5.1"
BENCH_DIR = Path(ROOT) / ".bench"
TAG = "bench-first-call"
ITEMS = 80

OURS = f"""
import sys
from datagouv_sdk import DataGouv
with DataGouv(base_url=sys.argv[1]) as dg:
    n = sum(1 for _ in dg.datasets.list(tag="{TAG}"))
assert n == {ITEMS}, n
"""

OFFICIAL_CODE = f"""
import sys
from datagouv import Client
client = Client()
client.base_url = sys.argv[1]  # the client knows www/demo/dev only: point it at the peer
n = sum(1 for _ in client.get_all_from_api_query("api/1/datasets/?tag={TAG}"))
assert n == {ITEMS}, n
"""


def _run(argv: list[str], env: dict[str, str] | None = None) -> None:
    done = subprocess.run(argv, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    if done.returncode != 0:
        raise RuntimeError(
            f"{argv[:4]} failed ({done.returncode}): {done.stderr.decode(errors='replace')[-2000:]}"
        )


def _venv(name: str) -> Path:
    path = BENCH_DIR / name
    python = path / "bin" / "python"
    if not python.exists():
        _run([sys.executable, "-m", "venv", str(path)])
    return python


def _precompile(python: Path) -> None:
    # This machine may set PYTHONDONTWRITEBYTECODE: without .pyc files, every run would compile.
    _run([str(python), "-m", "compileall", "-q", str(python.parent.parent / "lib")])


def prepare_venvs() -> tuple[Path, Path]:
    """(our venv's python, the official client's): ours reinstalled from a fresh wheel every run."""
    wheels = BENCH_DIR / "wheels"
    for old in wheels.glob("*.whl"):
        old.unlink()
    _run([VENV_PY, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), ROOT])
    (wheel,) = wheels.glob("datagouv_sdk-*.whl")
    ours = _venv("sdk")
    if subprocess.run([str(ours), "-c", "import httpx"], capture_output=True).returncode != 0:
        _run([str(ours), "-m", "pip", "install", "-q", str(wheel)])  # with its dependencies
    _run([str(ours), "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", str(wheel)])
    official = _venv("official")
    if subprocess.run([str(official), "-c", "import datagouv"], capture_output=True).returncode != 0:
        _run([str(official), "-m", "pip", "install", "-q", OFFICIAL])
    for python in (ours, official):
        _precompile(python)
    return ours, official


def _alternated(commands: dict[str, list[str]], runs: int, env: dict[str, str]) -> dict[str, float]:
    """Medians of whole processes, run in turn so load drift hits all alike."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for argv in commands.values():  # warm the page cache
        _run(argv, env)
    for _ in range(runs):
        for name, argv in commands.items():
            start = time.perf_counter()
            _run(argv, env)
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def bench_first_call(runs: int) -> list[Row]:
    import httpx

    sys.path.insert(0, ROOT)
    from tests.peers.udata_fixtures import start_udata_peer

    ours, official = prepare_venvs()
    with start_udata_peer() as peer:
        with httpx.Client(headers={"X-API-KEY": peer.api_key}, timeout=60) as setup:
            for index in range(ITEMS):
                payload = {
                    "title": f"first call {index}",
                    "description": "listed by the bench",
                    "tags": [TAG],
                }
                setup.post(peer.api_v1 + "/datasets/", json=payload).raise_for_status()
            total = httpx.get(peer.api_v1 + "/datasets/", params={"page_size": 1}).json()["total"]
            for index in range(max(0, 100 - total)):  # the masked page must hold 100 datasets
                payload = {"title": f"mask filler {index}", "description": "a page of 100"}
                setup.post(peer.api_v1 + "/datasets/", json=payload).raise_for_status()
        env = {**os.environ, "XDG_CONFIG_HOME": str(BENCH_DIR / "config")}  # no stored key, ever
        medians = _alternated(
            {
                "ours": [str(ours), "-c", OURS, peer.base_url],
                "official": [str(official), "-c", OFFICIAL_CODE, peer.base_url],
                "ours-dev": [VENV_PY, "-c", OURS, peer.base_url],
            },
            runs,
            env,
        )
        full, masked = _page_bytes(peer.base_url)
    return [
        Row(
            "8. first call: import, client, 80 datasets; vs datagouv-client",
            medians["ours"],
            medians["official"],
            "s",
            "le",
            1.0,
        ),
        Row(
            "8. info: the same from the dev venv (httpx imports rich)",
            medians["ours-dev"],
            medians["official"],
            "s",
            "info",
            0,
        ),
        Row(
            '8. bytes of a 100-dataset page: fields=["id","title"] vs full',
            masked,
            full,
            "B",
            "ge",
            5.0,
        ),
    ]


def _page_bytes(base_url: str) -> tuple[float, float]:
    from datagouv_sdk import DataGouv

    with DataGouv(base_url=base_url) as dg:
        full = dg.with_response.datasets.list(page_size=100)
        masked = dg.with_response.datasets.list(page_size=100, fields=["id", "title"])
    assert len(full.json()["data"]) == len(masked.json()["data"]) == 100
    return float(len(full.content)), float(len(masked.content))
