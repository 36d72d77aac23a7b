"""A static file server on 127.0.0.1 that honours Range requests and counts the bytes it sends.

Stands for the object storage that serves hydra's Parquet files and the resources' original files
in production (both answer ``Accept-Ranges: bytes``, ``ETag``, ``Last-Modified``, 206 for a
``Range``). Stdlib only; one thread per connection; HTTP/1.1 keep-alive.

    with RangeServer(folder) as server:
        server.url_for("x.parquet")               # http://127.0.0.1:PORT/x.parquet
        server.bytes_sent("x.parquet")            # body bytes sent for that file since reset()
        server.requests("x.parquet")              # [(method, range header or None), ...]

Served: GET and HEAD of files directly in the folder; one ``bytes=a-b`` / ``a-`` / ``-n`` range
(a multi-range request is answered with the whole file, as RFC 9110 allows); 416 past the end;
``If-None-Match`` / ``If-Modified-Since`` → 304; ``.csv.gz``-style names are served as stored
(``Content-Encoding`` is never added). Stops by itself after ``max_lifetime`` seconds.
"""

from __future__ import annotations

import email.utils
import hashlib
import os
import re
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_TYPES = {".parquet": "application/vnd.apache.parquet", ".csv": "text/csv", ".json": "application/json"}


class RangeServer:
    def __init__(self, folder: str | os.PathLike[str], *, max_lifetime: float = 3 * 3600.0) -> None:
        self.folder = Path(folder)
        self._lock = threading.Lock()
        self._sent: dict[str, int] = defaultdict(int)
        self._requests: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: with Nagle, a small body then waits for the
            # client's delayed ACK (40 ms a request on Linux loopback).
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_HEAD(self) -> None:
                server._serve(self, head=True)

            def do_GET(self) -> None:
                server._serve(self, head=False)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._timer = threading.Timer(max_lifetime, self.stop)
        self._timer.daemon = True

    def start(self) -> Self:
        self._thread.start()
        self._timer.start()
        return self

    def stop(self) -> None:
        self._timer.cancel()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what tests read
    def url_for(self, name: str) -> str:
        return f"{self.url}/{name}"

    def bytes_sent(self, name: str) -> int:
        with self._lock:
            return self._sent[name]

    def requests(self, name: str) -> list[tuple[str, str | None]]:
        with self._lock:
            return list(self._requests[name])

    def reset(self) -> None:
        with self._lock:
            self._sent.clear()
            self._requests.clear()

    # --- serving
    def _serve(self, handler: BaseHTTPRequestHandler, *, head: bool) -> None:
        name = handler.path.split("?", 1)[0].lstrip("/")
        path = self.folder / name
        with self._lock:
            self._requests[name].append((handler.command, handler.headers.get("Range")))
        if "/" in name or not name or not path.is_file():
            self._reply(handler, 404, b"not found", {"Content-Type": "text/plain"}, head=head, name=name)
            return
        stat = path.stat()
        etag = '"' + hashlib.sha1(f"{name}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest() + '"'
        last_modified = email.utils.formatdate(stat.st_mtime, usegmt=True)
        headers = {
            "Accept-Ranges": "bytes",
            "ETag": etag,
            "Last-Modified": last_modified,
            "Content-Type": _TYPES.get(path.suffix, "application/octet-stream"),
        }
        if handler.headers.get("If-None-Match") == etag or (
            handler.headers.get("If-Modified-Since") == last_modified
            and handler.headers.get("If-None-Match") is None
        ):
            self._reply(handler, 304, b"", headers, head=True, name=name)
            return
        size = stat.st_size
        start, end = 0, size - 1
        status = 200
        wanted = handler.headers.get("Range")
        match = _RANGE.match(wanted.strip()) if wanted else None
        if match and (match.group(1) or match.group(2)):
            first, last = match.group(1), match.group(2)
            if first:
                start = int(first)
                end = min(int(last), size - 1) if last else size - 1
            else:  # suffix range: the last n bytes
                start = max(size - int(last), 0)
            if start >= size or start > end:
                headers["Content-Range"] = f"bytes */{size}"
                self._reply(handler, 416, b"", headers, head=head, name=name)
                return
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        with open(path, "rb") as f:
            f.seek(start)
            body = f.read(end - start + 1)
        self._reply(handler, status, body, headers, head=head, name=name)

    def _reply(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        headers: dict[str, str],
        *,
        head: bool,
        name: str,
    ) -> None:
        handler.send_response(status)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if not head and body:
            try:
                handler.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                return
            with self._lock:
                self._sent[name] += len(body)
