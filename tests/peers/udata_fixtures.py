"""Fixtures for the real udata peer (session scope): see tests/peers/udata/README.md.

`udata_peer` starts udata 17.18.0 (its own venv, .peers/udata/, built by `make peers`) on a free
127.0.0.1 port, seeded with udata's factories, and stops it at the end of the session.
`start_udata_peer()` is the same as a plain context manager, for scripts (the null census).
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PEER_PYTHON = ROOT / ".peers" / "udata" / "bin" / "python"
LAUNCHER = Path(__file__).resolve().parent / "udata" / "launcher.py"
READY_PREFIX = "UDATA_PEER_READY "
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
# The server stops by itself after this long even if nobody stops it (a killed test session).
MAX_LIFETIME = 3 * 3600.0


class UdataPeerError(RuntimeError):
    """The udata peer could not be started (not installed, crashed, or not ready in time)."""


@dataclass(frozen=True)
class UdataPeer:
    base_url: str  # "http://127.0.0.1:PORT": API v1 at base_url + "/api/1", v2 at "/api/2"
    api_key: str  # user `owner`, admin of organization `org` (seed["organizations"][0])
    other_api_key: str  # user `other`, unrelated to `org`: for 403 tests
    admin_api_key: str  # a sysadmin
    seed: dict[str, Any]  # ids/slugs of what was seeded (see tests/peers/udata/seed.py)
    server_name: str  # "127.0.0.1:PORT"
    editor_api_key: str = ""  # user `editor`, editor (not admin) of `org`
    search_service_url: str = ""  # the Elasticsearch stand-in udata's v2 search talks to
    startup_seconds: float = 0.0  # launch to ready, measured by this process
    pid: int = 0
    stderr_path: str = field(default="", repr=False)

    @property
    def api_v1(self) -> str:
        return self.base_url + "/api/1"

    @property
    def api_v2(self) -> str:
        return self.base_url + "/api/2"


def _stderr_tail(path: Path, limit: int = 4000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no stderr captured)"
    return text[-limit:]


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


def _read_ready_line(process: subprocess.Popen[bytes], timeout: float) -> dict[str, Any]:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"not ready after {timeout:g} s")
            if not selector.select(timeout=remaining):
                continue
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                raise EOFError(f"exited with code {process.wait(timeout=STOP_TIMEOUT)} before being ready")
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                text = line.decode("utf-8", errors="replace")
                if text.startswith(READY_PREFIX):
                    ready: dict[str, Any] = json.loads(text[len(READY_PREFIX) :])
                    return ready


@contextmanager
def start_udata_peer(timeout: float = START_TIMEOUT) -> Iterator[UdataPeer]:
    """Start the seeded udata peer, yield it once it serves, stop it (terminate, then kill)."""
    if not PEER_PYTHON.is_file():
        raise UdataPeerError(
            f"{PEER_PYTHON.relative_to(ROOT)} is missing: install the peers with `make peers` "
            "(scripts/install_peers.py)"
        )
    workdir = Path(tempfile.mkdtemp(prefix="udata-peer-"))
    stderr_path = workdir / "stderr.log"
    started = time.monotonic()
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            [
                str(PEER_PYTHON),
                str(LAUNCHER),
                "--workdir",
                str(workdir),
                "--watch-stdin",
                "--max-seconds",
                str(MAX_LIFETIME),
            ],
            stdin=subprocess.PIPE,  # closed when we exit, whatever the cause: the peer then stops
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=workdir,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        try:
            ready = _read_ready_line(process, timeout)
        except (TimeoutError, EOFError, ValueError) as exc:
            _stop(process)
            raise UdataPeerError(
                f"udata peer {exc}; its stderr ends with:\n{_stderr_tail(stderr_path)}"
            ) from exc
        seed = ready["seed"]
        keys = seed["keys"]
        yield UdataPeer(
            base_url=ready["base_url"],
            api_key=keys["owner"],
            other_api_key=keys["other"],
            admin_api_key=keys["admin"],
            editor_api_key=keys["editor"],
            seed=seed,
            server_name=ready["server_name"],
            search_service_url=ready.get("search_service", {}).get("url", ""),
            startup_seconds=round(time.monotonic() - started, 3),
            pid=process.pid,
            stderr_path=str(stderr_path),
        )
    finally:
        _stop(process)
        if process.stdin is not None:
            process.stdin.close()
        if process.stdout is not None:
            process.stdout.close()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def udata_peer() -> Iterator[UdataPeer]:
    """The real udata 17.18.0, seeded, on 127.0.0.1 (one per test session)."""
    try:
        with start_udata_peer() as peer:
            yield peer
    except UdataPeerError as exc:
        pytest.fail(str(exc), pytrace=False)
