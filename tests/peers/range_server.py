"""A static file server on 127.0.0.1 that honours Range requests and counts the bytes it sends.

Stands for the object storage that serves hydra's Parquet files and the resources' original files
in production (both answer ``Accept-Ranges: bytes``, ``ETag``, ``Last-Modified``, 206 for a
``Range``). Built on the tests' one loopback server (tests/_http_server.py); HTTP/1.1 keep-alive.

    with RangeServer(folder) as server:
        server.url_for("x.parquet")               # http://127.0.0.1:PORT/x.parquet
        server.bytes_sent("x.parquet")            # body bytes sent for that file since reset()
        server.requests("x.parquet")              # [(method, range header or None), ...]

Served: GET and HEAD of files directly in the folder; one ``bytes=a-b`` / ``a-`` / ``-n`` range
(a multi-range request is answered with the whole file, as RFC 9110 allows); 416 past the end;
``If-None-Match`` / ``If-Modified-Since`` → 304. Stops by itself after ``max_lifetime`` seconds.
"""

from __future__ import annotations

import email.utils
import hashlib
import os
import re
from collections import defaultdict
from pathlib import Path
from typing import Self

from tests._http_server import LoopbackHandler, LoopbackServer, Received

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_TYPES = {".parquet": "application/vnd.apache.parquet", ".csv": "text/csv", ".json": "application/json"}


class _FileServer(LoopbackServer):
    folder: Path
    sent: defaultdict[str, int]


class _RangeHandler(LoopbackHandler):
    server: _FileServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle, a small body then waits for the client's
    # delayed ACK (40 ms a request on Linux loopback).
    disable_nagle_algorithm = True

    def respond(self, request: Received) -> None:
        name = request.route.lstrip("/")
        path = self.server.folder / name
        if request.method not in ("GET", "HEAD"):
            self.send_bytes(b"", "text/plain", status=405)
            return
        if "/" in name or not name or not path.is_file():
            self.send_bytes(b"not found", "text/plain", status=404)
            return
        stat = path.stat()
        etag = '"' + hashlib.sha1(f"{name}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest() + '"'
        last_modified = email.utils.formatdate(stat.st_mtime, usegmt=True)
        headers = {"Accept-Ranges": "bytes", "ETag": etag, "Last-Modified": last_modified}
        kind = _TYPES.get(path.suffix, "application/octet-stream")
        if request.headers.get("if-none-match") == etag or (
            request.headers.get("if-modified-since") == last_modified
            and "if-none-match" not in request.headers
        ):
            self.start_response(304, headers)
            return
        size = stat.st_size
        start, end, status = 0, size - 1, 200
        match = _RANGE.match(request.headers.get("range", "").strip())
        if match and (match.group(1) or match.group(2)):
            first, last = match.group(1), match.group(2)
            if first:
                start = int(first)
                end = min(int(last), size - 1) if last else size - 1
            else:  # suffix range: the last n bytes
                start = max(size - int(last), 0)
            if start >= size or start > end:
                self.send_bytes(
                    b"", kind, status=416, headers={**headers, "Content-Range": f"bytes */{size}"}
                )
                return
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        with open(path, "rb") as f:
            f.seek(start)
            body = f.read(end - start + 1)
        try:
            self.send_bytes(body, kind, status=status, headers=headers)
        except (BrokenPipeError, ConnectionResetError):
            return
        if request.method == "GET":
            with self.server.lock:
                self.server.sent[name] += len(body)


class RangeServer:
    def __init__(self, folder: str | os.PathLike[str], *, max_lifetime: float = 3 * 3600.0) -> None:
        self.folder = Path(folder)
        self._server = _FileServer(_RangeHandler, max_lifetime=max_lifetime)
        self._server.folder = self.folder
        self._server.sent = defaultdict(int)
        self.url = self._server.origin

    def start(self) -> Self:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def url_for(self, name: str) -> str:
        return f"{self.url}/{name}"

    def bytes_sent(self, name: str) -> int:
        with self._server.lock:
            return self._server.sent[name]

    def requests(self, name: str) -> list[tuple[str, str | None]]:
        return [(r.method, r.headers.get("range")) for r in self._server.requests_to(f"/{name}")]

    def reset(self) -> None:
        with self._server.lock:
            self._server.sent.clear()
            self._server.received.clear()
