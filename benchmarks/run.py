"""`make bench`: the performance targets of the SDK, each against a baseline measured in the same run.

Rows (target → how it is measured):
1. imports: whole `python -c "import …"` processes, alternated with the baseline
   `import httpx, attrs, dateutil`, median of RUNS; `dgv --help` likewise.
2. one 100-item datasets page from the real local udata peer: typed (`dg.call(list_datasets…)`) and
   raw (`raw=True`) vs a plain `httpx.Client.get(...).json()` on the same URL, in-process medians;
   and the cost of lenient parsing: our models' `DatasetPage.from_dict` on the captured page vs the
   same model generated, in the same run, with openapi-python-client's own templates.
3. streaming export of a >= 500 MB CSV body from a local server: our exporter vs a raw httpx
   `iter_bytes` loop writing the same file, each in its own process (peak RSS from the kernel).
4. 2,000 items in pages of 50 behind 50 ms of injected server latency: prefetch vs sequential.
5. regenerating all four packages from the fetched specs: wall time.
6. a via="pages" export of the 10,000-row resource from the real api_tabular 0.4.1 peer (configured
   as production: pages of up to 200 rows) with the learned page size vs pages of 50 (the old
   hard-coded size, and Metrics' limit): data requests and seconds, alternated medians.
8. a fresh process's first call (import, client, an 80-dataset listing) against the official
   datagouv-client, each in its own venv; bytes a field mask saves (see first_call.py).
9. a 1,000,000-row resource: hydra's Parquet read (bytes fetched, speed vs paging the API) and the
   peak memory of a Parquet export (benchmarks/dataframe_rows.py).

Usage: .venv/bin/python benchmarks/run.py [--runs N] [--only 1,2,...] [--export-mb N] [--upload-mb N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dataframe_rows import bench_parquet
from first_call import bench_first_call
from harness import (
    ROOT,
    VENV_PY,
    Row,
    alternated_peak_rss,
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
        # Building an httpx client loads the CA bundle (an SSL context); ours loads it on the first https
        # request (connections.py), so it is built here explicitly: compare like with like.
        (
            "DataGouv().http('main') + TLS ctx vs httpx.Client()",
            "from datagouv_sdk import DataGouv; DataGouv().http('main');"
            " from datagouv_sdk.connections import tls_context; tls_context()",
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
    parse = _lenient_parse_cost(json.loads(_ReplayHandler.body), runs)
    return [
        Row(
            "2. lenient from_dict, same page, vs upstream-template models",
            parse["ours"],
            parse["upstream"],
            "s",
            "le",
            1.1,
        ),
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


def _lenient_parse_cost(body: object, runs: int) -> dict[str, float]:
    """Our DatasetPage.from_dict against the same model generated, now, from the same prepared
    document with openapi-python-client's own templates (what the SDK parsed with before lenient
    parsing): the baseline is measured in the same run, not remembered."""
    import importlib

    from datagouv_sdk.codegen.generate import document_stamp, generate_client, load_config

    from tools.specpipeline.pipeline import load_upstream, prepare

    package = "bench_upstream_main"
    document = prepare("main", load_upstream("main"))
    with tempfile.TemporaryDirectory(prefix="bench-upstream-") as root:
        generate_client(
            document,
            package=package,
            output_dir=Path(root) / package,
            config=load_config(None, package=package),
            stamp=document_stamp("main", document, "0" * 64),
            templates=None,
        )
        sys.path.insert(0, root)
        try:
            upstream = importlib.import_module(f"{package}.models").DatasetPage
            ours = importlib.import_module("datagouv_main.models").DatasetPage
            assert ours.from_dict(body).to_dict() == upstream.from_dict(body).to_dict() == body
            return _alternated_medians(
                {"ours": lambda: ours.from_dict(body), "upstream": lambda: upstream.from_dict(body)},
                10 * runs,  # ~1-3 ms each: many samples are cheap
            )
        finally:
            sys.path.remove(root)


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

    @classmethod
    def rows(cls) -> int:
        return cls.blocks() * _ROWS.count(b"\n")

    def do_GET(self) -> None:
        if "/data/?" in self.path:  # the count an export checks its rows against (as /data/ gives it)
            body = json.dumps({"data": [], "meta": {"total": self.rows()}, "links": {}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
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
    # validate=False: the bench server serves only the CSV body and its count, no profile.
    result = TabularResource(dg, rid).export(out, validate=False)  # rows counted and checked (default)
    assert result.bytes > 0 and result.rows
"""


def bench_export(megabytes: int, runs: int) -> list[Row]:
    import statistics

    _CsvHandler.min_bytes = megabytes * 1024 * 1024
    rid = "aaaaaaaa-1111-bbbb-2222-cccccccccccc"
    complete = True
    with _serve(_CsvHandler) as base, tempfile.TemporaryDirectory(prefix="dgv-bench-") as tmp:
        url = f"{base}/api/resources/{rid}/data/csv/"
        raw_out, our_out = os.path.join(tmp, "raw.csv"), os.path.join(tmp, "ours.csv")

        def check() -> None:
            nonlocal complete
            complete = complete and os.path.getsize(our_out) == _CsvHandler.body_size()
            os.unlink(our_out)

        raw_walls, raw_rss, our_walls, our_rss = alternated_peak_rss(
            [VENV_PY, "-c", _RAW_EXPORT, url, raw_out],
            [VENV_PY, "-c", _OUR_EXPORT, base, rid, our_out],
            runs,
            check,
        )
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


# --- 6. pages export: the learned page size ------------------------------------------------------------


def bench_tabular_pages(runs: int) -> list[Row]:
    import httpx

    sys.path.insert(0, ROOT)
    from datagouv_sdk import DataGouv
    from datagouv_sdk.tabular import TabularResource

    from tests.peers.tabular import seed
    from tests.peers.tabular.launcher import TabularStack

    stack = TabularStack()
    try:
        stack.start_database()
        base = stack.start_app("tabular")
        requests: dict[int | None, int] = {}

        def export(page_size: int | None) -> None:
            with DataGouv(base_url="http://127.0.0.1:9/unused", tabular_url=base) as dg:
                sent: list[httpx.URL] = []
                dg.http("tabular").event_hooks["request"].append(lambda r: sent.append(r.url))
                resource = TabularResource(dg, seed.RESOURCES["large"])
                with tempfile.TemporaryDirectory() as tmp:
                    result = _pages_export(resource, page_size, os.path.join(tmp, "large.csv"))
                if result != 10_000:
                    raise AssertionError(f"page_size={page_size}: {result} rows exported, expected 10000")
                requests[page_size] = sum(1 for u in sent if u.path.endswith("/data/"))

        seconds = _alternated_medians({"200": lambda: export(None), "50": lambda: export(50)}, runs)
    finally:
        stack.stop()
    return [
        Row(
            "6. pages export of 10,000 rows: data requests, learned size (200) vs 50",
            requests[None],
            requests[50],
            "req",
            "le",
            0.25,
        ),
        Row(
            "6. pages export of 10,000 rows: seconds, learned size (200) vs 50",
            seconds["200"],
            seconds["50"],
            "s",
            "le",
            1.0,
        ),
    ]


def _pages_export(resource: Any, page_size: int | None, dest: str) -> int:
    """What `export(via="pages")` does, with the page size forced (50: the old fixed size)."""
    from datagouv_sdk.export.files import write_rows

    if page_size is None:
        return int(resource.export(dest, via="pages", validate=False).rows or 0)
    result = write_rows(dest, resource.rows(page_size=page_size, validate=False), "csv")
    return int(result.rows or 0)


# --- 7. chunked upload ------------------------------------------------------------------------------


class _UploadSink(BaseHTTPRequestHandler):
    """udata's upload protocol, minus the storage: parts (in order) are hashed as they arrive, the
    assembling request answers with the size and SHA-1 of what was received (which the SDK checks);
    GET of the dataset answers an empty resource list. Bodies are read whole: this process is not
    the one measured."""

    protocol_version = "HTTP/1.1"
    uploads: ClassVar[dict[str, tuple[int, int, Any]]] = {}  # uuid -> (next part, size so far, sha1)
    lock = threading.Lock()

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._reply(200, {"id": "bench", "resources": []})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        kind = self.headers.get("Content-Type", "")
        fields: dict[str, str] = {}
        data = None
        if kind.startswith("application/x-www-form-urlencoded"):
            fields = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        else:
            boundary = b"--" + re.search(r"boundary=([^;]+)", kind).group(1).encode()  # type: ignore[union-attr]
            for piece in body.split(boundary)[1:-1]:
                head, _, value = piece[2:].partition(b"\r\n\r\n")
                name = re.search(rb'name="([^"]+)"', head).group(1).decode()  # type: ignore[union-attr]
                if b"filename=" in head:
                    data = value[:-2]
                else:
                    fields[name] = value[:-2].decode()
        if int(fields.get("totalparts") or 1) <= 1:
            assert data is not None
            return self._reply(201, _sink_resource(len(data), hashlib.sha1(data).hexdigest()))
        with self.lock:
            upload = self.uploads.get(fields["uuid"], (0, 0, hashlib.sha1()))
            if data is None:
                self.uploads.pop(fields["uuid"], None)
                return self._reply(201, _sink_resource(upload[1], upload[2].hexdigest()))
            if int(fields["partindex"]) != upload[0] or len(data) != int(fields["chunksize"]):
                return self._reply(500, {"message": "part out of order or of the wrong size"})
            upload[2].update(data)
            self.uploads[fields["uuid"]] = (upload[0] + 1, upload[1] + len(data), upload[2])
        self._reply(200, {"success": True, "error": None})

    def log_message(self, *args: object) -> None:
        pass


def _sink_resource(size: int, sha1: str) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "filesize": size, "checksum": {"type": "sha1", "value": sha1}}


_RAW_UPLOAD = """
import math, os, sys, uuid, httpx
base, path = sys.argv[1], sys.argv[2]
size, chunk = os.path.getsize(path), 8 << 20
form = {"uuid": str(uuid.uuid4()), "filename": "bench.bin", "totalparts": str(math.ceil(size / chunk))}
with httpx.Client(base_url=base, timeout=60) as c, open(path, "rb") as f:
    for index in range(math.ceil(size / chunk)):
        data = f.read(chunk)
        part = {**form, "partindex": str(index), "chunksize": str(len(data))}
        c.post("datasets/d/upload/", data=part, files={"file": ("bench.bin", data)}).raise_for_status()
    assert c.post("datasets/d/upload/", data=form).json()["filesize"] == size
"""

_OUR_UPLOAD = """
import os, sys
from datagouv_sdk import DataGouv
from datagouv_sdk.uploads import upload_resource
base, path, state = sys.argv[1], sys.argv[2], sys.argv[3]
with DataGouv(base_url=base, api_key="bench") as dg:
    resource = upload_resource(dg, "d", path, chunk_size=8 << 20, state_dir=state)
    assert resource["filesize"] == os.path.getsize(path)
"""


def bench_upload(megabytes: int, runs: int) -> list[Row]:
    import statistics

    with _serve(_UploadSink) as base, tempfile.TemporaryDirectory(prefix="dgv-bench-") as tmp:
        source = os.path.join(tmp, "bench.bin")
        with open(source, "wb") as out:  # sparse: reads cost no disk, the client's work is all there is
            out.truncate(megabytes * 1024 * 1024)
        raw_walls, raw_rss, our_walls, our_rss = alternated_peak_rss(
            [VENV_PY, "-c", _RAW_UPLOAD, base, source], [VENV_PY, "-c", _OUR_UPLOAD, base, source, tmp], runs
        )
    mib = megabytes
    return [
        Row(
            f"7. upload {mib} MiB in 8 MiB parts: peak RSS (raw loop: context)",
            max(our_rss),
            max(raw_rss),
            "MiB",
            "abs_lt",
            100,
        ),
        Row(
            f"7. upload {mib} MiB: throughput vs raw loop (median; ours hashes)",
            mib / statistics.median(our_walls),
            mib / statistics.median(raw_walls),
            "MiB/s",
            "info",
            0,
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=9, help="repetitions per median (default 9)")
    parser.add_argument("--only", default="1,2,3,4,5,6,7,8,9", help="comma-separated row numbers")
    parser.add_argument("--export-mb", type=int, default=512, help="size of the export body (default 512)")
    parser.add_argument(
        "--upload-mb", type=int, default=1024, help="size of the uploaded file (default 1024)"
    )
    args = parser.parse_args()
    only = {int(x) for x in args.only.split(",")}
    print(
        f"make bench — {time.strftime('%Y-%m-%d %H:%M:%S')}, {os.cpu_count()} CPUs, python {sys.version.split()[0]}, "
        f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '(unset)')}, runs={args.runs}"
    )
    rows: list[Row] = []
    steps: dict[int, Callable[[], list[Row]]] = {
        1: lambda: bench_imports(args.runs),
        2: lambda: bench_typed_page(max(25, 3 * args.runs)),  # server noise: more samples
        3: lambda: bench_export(args.export_mb, max(5, args.runs // 2)),
        4: lambda: bench_prefetch(args.runs),
        5: bench_regenerate,
        6: lambda: bench_tabular_pages(max(3, args.runs // 3)),
        7: lambda: bench_upload(args.upload_mb, max(3, args.runs // 3)),
        8: lambda: bench_first_call(max(15, 2 * args.runs)),  # whole processes on a noisy machine
        9: lambda: bench_parquet(max(5, args.runs // 2)),
    }
    for number in sorted(only):
        print(f"  running row {number}…", file=sys.stderr, flush=True)
        rows.extend(steps[number]())
    print()
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
