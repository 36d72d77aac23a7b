"""Peak memory of a large export stays flat: a subprocess exports a large CSV served by a local
server, under /usr/bin/time -v; its peak RSS is compared with the same export of a small body."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._http_server import LoopbackHandler, LoopbackServer, Received

LARGE_MB = 120
SMALL_MB = 1
# Extra peak memory allowed for the large export over the small one: the body is 120x larger.
MAX_GROWTH_MB = 20
ROW = b"%08d,some label with words,12345.678,2024-01-01 00:00:00\n"
BLOCK = b"".join(ROW % i for i in range(1000))

EXPORT_SCRIPT = """
import resource, sys
from datagouv_sdk import DataGouv
from datagouv_sdk.tabular import MetricsModel
with DataGouv(metrics_url=sys.argv[1]) as dg:
    result = MetricsModel(dg, sys.argv[2]).export(sys.argv[3], validate=False, count_rows=True)
print(result.rows, result.bytes)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)  # KiB on Linux
"""


class _Handler(LoopbackHandler):
    protocol_version = "HTTP/1.1"

    def respond(self, request: Received) -> None:
        megabytes = LARGE_MB if "/large/" in request.path else SMALL_MB
        blocks = megabytes * 1024 * 1024 // len(BLOCK)
        header = b"id,label,value,when\n"
        if "/csv/" not in request.path:  # the count a counted export checks against (meta.total)
            meta = {"page": 1, "total": blocks * 1000}
            self.send_json({"data": [], "links": {"next": None, "prev": None}, "meta": meta})
            return
        self.start_response(
            200, {"Content-Type": "text/csv", "Content-Length": str(len(header) + blocks * len(BLOCK))}
        )
        self.wfile.write(header)
        for _ in range(blocks):
            self.wfile.write(BLOCK)


@pytest.fixture
def big_body_server() -> Iterator[str]:
    with LoopbackServer(_Handler) as server:
        yield server.origin


def peak_rss_mb(url: str, model: str, dest: Path) -> tuple[float, str]:
    """GNU time's figure when installed, else the child's own getrusage (same kernel counter)."""
    timer = ["/usr/bin/time", "-v"] if shutil.which("/usr/bin/time") else []
    proc = subprocess.run(
        [*timer, sys.executable, "-c", EXPORT_SCRIPT, url, model, str(dest)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr) or re.match(
        r"(\d+)", proc.stderr
    )
    assert match, proc.stderr
    return int(match.group(1)) / 1024, proc.stdout.strip()


def test_large_export_runs_in_constant_memory(big_body_server: str, tmp_path: Path) -> None:
    small, _ = peak_rss_mb(big_body_server, "small", tmp_path / "small.csv")
    large, out = peak_rss_mb(big_body_server, "large", tmp_path / "large.csv")
    size = (tmp_path / "large.csv").stat().st_size
    rows = (size - len(b"id,label,value,when\n")) // len(ROW % 0)
    assert out == f"{rows} {size}"
    assert size > LARGE_MB * 1024 * 1024 * 0.99
    print(f"\npeak RSS: {small:.1f} MB for {SMALL_MB} MB, {large:.1f} MB for {size / 2**20:.0f} MB")
    assert large - small < MAX_GROWTH_MB, f"peak RSS {large:.1f} MB vs {small:.1f} MB for a small export"
