"""Start the real udata (Main API v1 + v2) on 127.0.0.1: configure, seed, serve.

Run with the peer's own interpreter: `.peers/udata/bin/python tests/peers/udata/launcher.py`.
It binds a free loopback port first (so SERVER_NAME is known before the app exists and no other
process can take the port in between), seeds mongomock with udata's factories, then prints ONE
line on stdout, `UDATA_PEER_READY {json}`, with the port, the seed ids and the API keys, and
serves until it is terminated, its stdin closes (the parent went away), or --max-seconds pass.
Logs go to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
READY_PREFIX = "UDATA_PEER_READY "


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 (default): any free port")
    parser.add_argument("--workdir", help="uploads and settings go here (default: a temp dir)")
    parser.add_argument("--max-seconds", type=float, default=3600.0, help="stop after this long")
    parser.add_argument("--watch-stdin", action="store_true", help="stop when stdin closes")
    parser.add_argument(
        "--seed",
        default="default",
        help="what the database holds: 'default' (seed.py) or 'random:<number>' (seed_random.py)",
    )
    return parser.parse_args()


def _seeder(name: str) -> Any:
    """The seeding function named by --seed (imported once the app exists, as udata needs)."""
    if name == "default":
        from seed import seed

        return seed
    kind, _, number = name.partition(":")
    if kind == "random" and number.isdigit():
        from seed_random import seed as seed_random

        return lambda: seed_random(int(number))
    raise SystemExit(f"unknown --seed {name!r}: expected 'default' or 'random:<number>'")


def _stop_after(seconds: float, reason: str) -> None:
    def stop() -> None:
        print(f"udata peer: stopping ({reason})", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGTERM)

    timer = threading.Timer(seconds, stop)
    timer.daemon = True
    timer.start()


def _stop_on_stdin_eof() -> None:
    def watch() -> None:
        while sys.stdin.buffer.read(4096):
            pass
        print("udata peer: stdin closed, stopping", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True).start()


# udata jobs a test may run, as production's scheduler (celery beat) would; nothing else is exposed.
PEER_JOBS = ("export-csv",)


def _add_job_hook(app: object) -> None:
    """``POST /_peer/jobs/<name>``: run one of udata's own jobs now, inline (the peer's Celery is
    eager), and answer ``{"job": name, "status": "SUCCESS"|...}``. Production runs ``export-csv``
    daily; tests run it after changing the catalog, to get fresh ``/site/*.csv`` exports."""
    from flask import abort, jsonify

    def run_job(name: str) -> object:
        if name not in PEER_JOBS:
            abort(404)
        from udata.core.dataset.tasks import export_csv

        result = export_csv.apply()
        error = None if result.successful() else repr(result.result)
        return jsonify({"job": name, "status": result.status, "error": error})

    app.add_url_rule("/_peer/jobs/<name>", "peer_run_job", run_job, methods=["POST"])  # type: ignore[attr-defined]


def main() -> int:
    args = _parse_args()
    started = time.monotonic()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="udata-peer-"))
    (workdir / "fs").mkdir(parents=True, exist_ok=True)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(128)
    port = sock.getsockname()[1]
    server_name = f"127.0.0.1:{port}"

    os.environ["UDATA_SETTINGS"] = str(HERE / "settings.py")
    os.environ["UDATA_PEER_SERVER_NAME"] = server_name
    os.environ["UDATA_PEER_FS_ROOT"] = str(workdir / "fs")

    # Sibling modules (this script's folder is on sys.path), imported once the env is set.
    import search_fallback
    import search_service

    search = search_service.start()  # the Elasticsearch stand-in, on a thread of this process
    os.environ["UDATA_PEER_ELASTICSEARCH_URL"] = search.url

    search_fallback.install()

    from udata.app import create_app, standalone

    app = standalone(create_app())
    app.instance_path = str(workdir)

    from search_indexing import index_all, index_in_background, init_indices

    seed = _seeder(args.seed)
    with app.app_context(), app.test_request_context(base_url=f"http://{server_name}"):
        init_indices()
        seeded = seed()
        indexing = time.monotonic()
        indexed = index_all()
        indexing = time.monotonic() - indexing
        index_in_background()

    _add_job_hook(app)

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", port, app, threaded=True, fd=sock.fileno())
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    if args.watch_stdin:
        _stop_on_stdin_eof()
    _stop_after(args.max_seconds, f"--max-seconds {args.max_seconds:g} reached")

    ready = {
        "base_url": f"http://{server_name}",
        "server_name": server_name,
        "port": port,
        "pid": os.getpid(),
        "workdir": str(workdir),
        "startup_seconds": round(time.monotonic() - started, 3),
        "seed": seeded,
        "search_service": {"url": search.url, "indexed": indexed, "seconds": round(indexing, 3)},
    }
    sys.stdout.write(READY_PREFIX + json.dumps(ready) + "\n")
    sys.stdout.flush()
    server.serve_forever()
    print("udata peer: stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
