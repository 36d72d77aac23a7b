"""The one real HTTP server of the tests: threaded, on a loopback address, bounded in time.

`LoopbackServer` binds a free port on 127.0.0.x, serves from daemon threads, records every request
(`Received`), and stops when its `with` block ends, or by itself after `max_lifetime` seconds if a
test forgets. What a request gets back is its handler's business: a `LoopbackHandler` subclass reads
and records the request, then answers it in `respond`.

    class Hello(LoopbackHandler):
        def respond(self, request: Received) -> None:
            self.send_json({"hello": request.route})

    with LoopbackServer(Hello) as server:
        httpx.get(server.origin + "/x")

Built on it: tests/fault_server.py (scripted faults), tests/discovery/servers.py (a third-party API
and its documents), tests/drift/spec_server.py (spec documents, from routes or a folder).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

__all__ = ["LoopbackHandler", "LoopbackServer", "Received"]


@dataclass(frozen=True)
class Received:
    method: str
    path: str  # as requested, with the query string
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def route(self) -> str:
        """The path without its query string."""
        return self.path.split("?", 1)[0]


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() does not wait for handlers stuck on a slow client

    def __init__(
        self,
        handler: type[LoopbackHandler],
        *,
        host: str = "127.0.0.1",
        max_lifetime: float = 120.0,
        poll_interval: float = 0.05,  # shutdown() waits up to this long, once per server
    ) -> None:
        super().__init__((host, 0), handler)
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self._max_lifetime = max_lifetime
        self._poll_interval = poll_interval
        self._thread: threading.Thread | None = None
        self._watchdog: threading.Timer | None = None

    @property
    def origin(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def requests_to(self, route: str) -> list[Received]:
        """The requests received for `route` (a path without query string), oldest first."""
        with self.lock:
            return [r for r in self.received if r.route == route]

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": self._poll_interval}, daemon=True
        )
        self._thread.start()
        self._watchdog = threading.Timer(self._max_lifetime, self.shutdown)
        self._watchdog.daemon = True
        self._watchdog.start()
        return self

    def stop(self) -> None:
        """Idempotent; shutdown() is only called on a started server (it would wait forever otherwise)."""
        if self._watchdog is not None:
            self._watchdog.cancel()
        thread, self._thread = self._thread, None
        if thread is not None:
            self.shutdown()
            thread.join(timeout=5)
            self.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class LoopbackHandler(BaseHTTPRequestHandler):
    server: LoopbackServer

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def respond(self, request: Received) -> None:
        raise NotImplementedError

    def _receive(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        with self.server.lock:
            self.server.received.append(request)
        self.respond(request)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _receive

    def start_response(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def send_bytes(
        self, data: bytes, content_type: str, *, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        self.start_response(
            status, {"Content-Type": content_type, "Content-Length": str(len(data)), **(headers or {})}
        )
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_json(self, payload: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.send_bytes(json.dumps(payload).encode(), "application/json", status=status, headers=headers)
