"""`make bench`: the performance targets of the SDK, each against a baseline measured in the same run.

Rows (target → how it is measured):
1. imports: whole `python -c "import …"` processes, alternated with the baseline
   `import httpx, attrs, dateutil`, median of RUNS; `dgv --help` likewise.
2. one 100-item datasets page from the real local udata peer: typed (`dg.call(list_datasets…)`) and
   raw (`raw=True`) vs a plain `httpx.Client.get(...).json()` on the same URL, in-process medians.
3. streaming export of a >= 500 MB CSV body from a local server: our exporter vs a raw httpx
   `iter_bytes` loop writing the same file, each in its own process (peak RSS from the kernel).
4. 2,000 items in pages of 50 behind 50 ms of injected server latency: prefetch vs sequential.
5. regenerating all four packages from the fetched specs: wall time.
6. a 1,000,000-row resource: hydra's Parquet read (bytes fetched, speed vs paging the API) and the
   peak memory of a Parquet export (benchmarks/dataframe_rows.py).

Usage: .venv/bin/python benchmarks/run.py [--runs N] [--only 1,2,...] [--export-mb N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dataframe_rows import bench_parquet
from harness import (
    ROOT,
    VENV_PY,
    Row,
    child_peak_rss_mib,
    interleaved_process_seconds,
    median_seconds,
    print_table,
)

BASELINE_IMPORT = "import httpx, attrs, dateutil"


# --- 1. imports -------------------------------------------------------------------------------


def bench_imports(runs: int) -> list[Row]:
    base = [VENV_PY, "-c", BASELINE_IMPORT]
    rows = []
    for label, code, baseline_code in (
        ("import datagouv_sdk", "import datagouv_sdk", BASELINE_IMPORT),
        ("import datagouv_main", "import datagouv_main", BASELINE_IMPORT),
        ("from datagouv_sdk import DataGouv", "from datagouv_sdk import DataGouv", BASELINE_IMPORT),
        (
            "typed call path: import list_datasets + Dataset model",
            "from datagouv_main.api.datasets import list_datasets; from datagouv_main.models import Dataset",
            BASELINE_IMPORT,
        ),
        # Building any httpx client loads the CA bundle (an SSL context): compare like with like.
        (
            "DataGouv().http('main') vs httpx.Client() (both build TLS ctx)",
            "from datagouv_sdk import DataGouv; DataGouv().http('main')",
            BASELINE_IMPORT + "; httpx.Client()",
        ),
    ):
        baseline_argv = base if baseline_code == BASELINE_IMPORT else [VENV_PY, "-c", baseline_code]
        ours, baseline = interleaved_process_seconds([VENV_PY, "-c", code], baseline_argv, runs)
        rows.append(Row(f"1. {label}", ours, baseline, "s", "le", 1.5))
    dgv = os.path.join(ROOT, ".venv", "bin", "dgv")
    ours, baseline = interleaved_process_seconds([dgv, "--help"], base, runs)
    rows.append(Row("1. dgv --help", ours, baseline, "s", "le", 2.0))
    return rows


# --- 2. one typed page from the udata peer -----------------------------------------------------


def _alternated_medians(fns: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Median seconds of each function, sampled in turn so load drift hits all alike."""
    import statistics

    samples: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn()
    for _ in range(runs):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


class _ReplayHandler(BaseHTTPRequestHandler):
    """Serves one captured body: the server's own cost drops out, the client's is all that is left."""

    protocol_version = "HTTP/1.1"
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


def bench_typed_page(runs: int) -> list[Row]:
    import httpx

    sys.path.insert(0, ROOT)
    from datagouv_main.api.datasets import list_datasets
    from datagouv_sdk import DataGouv

    from tests.peers.udata_fixtures import start_udata_peer

    params = {"page": 1, "page_size": 100}  # exactly what the generated function sends

    def measure(base_url: str) -> dict[str, float]:
        url = base_url + "/api/1/datasets/"
        with httpx.Client() as raw_client, DataGouv(base_url=base_url) as dg:
            assert len(raw_client.get(url, params=params).json()["data"]) == 100
            return _alternated_medians(
                {
                    "raw": lambda: raw_client.get(url, params=params).json(),
                    "typed": lambda: dg.call(list_datasets.sync_detailed, page_size=100),
                    "untyped": lambda: dg.call(list_datasets.sync_detailed, page_size=100, raw=True),
                },
                runs,
            )

    with start_udata_peer() as peer:
        with httpx.Client(headers={"X-API-KEY": peer.api_key}) as setup:
            # counted anonymously, as the measured calls are (the owner also sees private/deleted ones)
            total = httpx.get(peer.api_v1 + "/datasets/", params={"page_size": 1}).json()["total"]
            for index in range(max(0, 100 - total)):  # the page must really hold 100 items
                payload = {
                    "title": f"bench dataset {index}",
                    "description": "benchmark filler",
                    "private": False,
                }
                setup.post(peer.api_v1 + "/datasets/", json=payload).raise_for_status()
        on_peer = measure(peer.base_url)
        _ReplayHandler.body = httpx.get(peer.api_v1 + "/datasets/", params=params).content
    with _serve(_ReplayHandler) as replay:
        replayed = measure(replay)
    kb = len(_ReplayHandler.body) / 1024
    return [
        Row(
            "2. typed 100-item datasets page (fetch + parse), udata peer",
            on_peer["typed"],
            on_peer["raw"],
            "s",
            "le",
            1.5,
        ),
        Row("2. raw/untyped mode, same page, udata peer", on_peer["untyped"], on_peer["raw"], "s", "le", 1.1),
        Row(
            f"2. info: typed, page replayed locally ({kb:.0f} KB, no server cost)",
            replayed["typed"],
            replayed["raw"],
            "s",
            "info",
            0,
        ),
        Row(
            "2. info: raw/untyped, page replayed locally",
            replayed["untyped"],
            replayed["raw"],
            "s",
            "info",
            0,
        ),
    ]


# --- 3. streaming export ------------------------------------------------------------------------

_HEADER = b"id,label,value,flag\n"
_ROWS = b"".join(b"%d,label %d,%d.5,t\n" % (i, i, i) for i in range(3000))  # ~80 KB of whole records


class _CsvHandler(BaseHTTPRequestHandler):
    """Serves a header and whole blocks of rows, at least `min_bytes` in all (an export must end on a
    record boundary: the SDK rejects a body cut mid-record)."""

    protocol_version = "HTTP/1.1"
    min_bytes = 0

    @classmethod
    def blocks(cls) -> int:
        return -(-cls.min_bytes // len(_ROWS))

    @classmethod
    def body_size(cls) -> int:
        return len(_HEADER) + cls.blocks() * len(_ROWS)

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/csv; charset=utf-8")
        self.send_header("Content-Length", str(self.body_size()))
        self.end_headers()
        self.wfile.write(_HEADER)
        for _ in range(self.blocks()):
            self.wfile.write(_ROWS)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


_RAW_EXPORT = """
import sys, httpx
url, out = sys.argv[1], sys.argv[2]
with httpx.Client(timeout=60) as c, c.stream("GET", url) as r, open(out, "wb") as f:
    r.raise_for_status()
    for chunk in r.iter_bytes():
        f.write(chunk)
"""

_OUR_EXPORT = """
import sys
from datagouv_sdk import DataGouv
from datagouv_sdk.tabular import TabularResource
base, rid, out = sys.argv[1], sys.argv[2], sys.argv[3]
with DataGouv(tabular_url=base) as dg:
    # validate=False: the bench server serves only the CSV body, no profile to validate against.
    result = TabularResource(dg, rid).export(out, validate=False)
    assert result.bytes > 0
"""


def bench_export(megabytes: int, runs: int) -> list[Row]:
    import statistics

    _CsvHandler.min_bytes = megabytes * 1024 * 1024
    rid = "aaaaaaaa-1111-bbbb-2222-cccccccccccc"
    raw_walls, our_walls, raw_rss, our_rss, complete = [], [], [], [], True
    with _serve(_CsvHandler) as base, tempfile.TemporaryDirectory(prefix="dgv-bench-") as tmp:
        url = f"{base}/api/resources/{rid}/data/csv/"
        raw_out, our_out = os.path.join(tmp, "raw.csv"), os.path.join(tmp, "ours.csv")
        for _ in range(runs):  # alternated, so load drift hits both alike
            wall, rss = child_peak_rss_mib([VENV_PY, "-c", _RAW_EXPORT, url, raw_out])
            raw_walls.append(wall)
            raw_rss.append(rss)
            wall, rss = child_peak_rss_mib([VENV_PY, "-c", _OUR_EXPORT, base, rid, our_out])
            our_walls.append(wall)
            our_rss.append(rss)
            complete = complete and os.path.getsize(our_out) == _CsvHandler.body_size()
            os.unlink(our_out)
    note = "" if complete else "our export did not produce the full file"
    mb = _CsvHandler.body_size() / 1024 / 1024
    return [
        Row(
            f"3. export {mb:.0f} MB: peak RSS, max of runs (raw loop: context)",
            max(our_rss),
            max(raw_rss),
            "MiB",
            "abs_lt",
            80,
            note,
        ),
        Row(
            f"3. export {mb:.0f} MB: throughput vs raw iter_bytes (median)",
            mb / statistics.median(our_walls),
            mb / statistics.median(raw_walls),
            "MB/s",
            "ge_ratio",
            0.9,
            note,
        ),
    ]


# --- 4. prefetch ----------------------------------------------------------------------------------

_ITEMS, _PAGE, _LATENCY = 2000, 50, 0.05


class _PagesHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    base_url = ""

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        page = int(query.get("page", ["1"])[0])
        size = int(query.get("page_size", [str(_PAGE)])[0])
        time.sleep(_LATENCY)
        start = (page - 1) * size
        data = [
            {"id": f"item-{i:05d}", "title": f"Item {i}"} for i in range(start, min(start + size, _ITEMS))
        ]
        if not data:
            body = json.dumps({"message": "Not Found"}).encode()
            self.send_response(404)
        else:
            last = start + size >= _ITEMS
            nxt = None if last else f"{self.base_url}/api/1/datasets/?page={page + 1}&page_size={size}"
            body = json.dumps(
                {
                    "data": data,
                    "page": page,
                    "page_size": size,
                    "total": _ITEMS,
                    "next_page": nxt,
                    "previous_page": None,
                }
            ).encode()
            self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def bench_prefetch(runs: int) -> list[Row]:
    from datagouv_sdk import DataGouv

    with _serve(_PagesHandler) as base:
        _PagesHandler.base_url = base
        with DataGouv(base_url=base) as dg:

            def listing(prefetch: int) -> list[str]:
                ids = [item["id"] for item in dg.datasets.list(page_size=_PAGE, prefetch=prefetch, raw=True)]
                expected = [f"item-{i:05d}" for i in range(_ITEMS)]
                if ids != expected:
                    raise AssertionError(f"prefetch={prefetch}: items out of order, missing or repeated")
                return ids

            sequential = median_seconds(lambda: listing(0), max(3, runs // 2))
            prefetched = median_seconds(lambda: listing(8), max(3, runs // 2))
    return [
        Row(
            "4. 2,000 items / pages of 50 / 50 ms: prefetch=8 speed-up",
            prefetched,
            sequential,
            "s",
            "ge",
            3.0,
        )
    ]


# --- 5. regeneration --------------------------------------------------------------------------------


def bench_regenerate() -> list[Row]:
    start = time.perf_counter()
    subprocess.run(
        [VENV_PY, os.path.join(ROOT, "scripts", "generate.py")], check=True, stdout=subprocess.DEVNULL
    )
    wall = time.perf_counter() - start
    return [Row("5. regenerate all four packages (wall, s)", wall, 30.0, "s", "abs_lt", 30.0)]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=9, help="repetitions per median (default 9)")
    parser.add_argument("--only", default="1,2,3,4,5,6", help="comma-separated row numbers")
    parser.add_argument("--export-mb", type=int, default=512, help="size of the export body (default 512)")
    args = parser.parse_args()
    only = {int(x) for x in args.only.split(",")}
    print(
        f"make bench — {time.strftime('%Y-%m-%d %H:%M:%S')}, {os.cpu_count()} CPUs, python {sys.version.split()[0]}, "
        f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '(unset)')}, runs={args.runs}"
    )
    rows: list[Row] = []
    steps = {
        1: lambda: bench_imports(args.runs),
        2: lambda: bench_typed_page(max(25, 3 * args.runs)),  # server noise: more samples
        3: lambda: bench_export(args.export_mb, max(5, args.runs // 2)),
        4: lambda: bench_prefetch(args.runs),
        5: bench_regenerate,
        6: lambda: bench_parquet(max(5, args.runs // 2)),
    }
    for number in sorted(only):
        print(f"  running row {number}…", file=sys.stderr, flush=True)
        rows.extend(steps[number]())
    print()
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
