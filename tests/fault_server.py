"""A small, real, threaded HTTP/1.1 server on 127.0.0.1 that misbehaves on cue.

Each path gets a script: a list of steps played one per request, the last step repeating. Steps:
`Reply` (any status/body/headers), `ResetMidBody` (headers and part of the body, then a TCP reset),
`Truncated` (Content-Length larger than what is sent, then a clean close), `CloseDelimited` (no
Content-Length: the body ends when the connection closes, so a cut body looks complete to HTTP),
`Redirect`. Every request received is recorded (method, path, headers, body) for assertions.

    with FaultServer() as server:
        server.script("/x", Reply(503), Reply(200, b"{}"))
        httpx.get(server.url + "/x")

The server shuts itself down after `max_lifetime` seconds even if a test forgets to.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    @classmethod
    def json(cls, status: int, payload: Any, **headers: str) -> Reply:
        return cls(status, json.dumps(payload).encode(), {k.replace("_", "-"): v for k, v in headers.items()})


@dataclass(frozen=True)
class ResetMidBody:
    sent: bytes = b'{"data": [1, 2, 3'
    declared: int = 1000
    status: int = 200


@dataclass(frozen=True)
class Truncated:
    sent: bytes = b'{"data": [1, 2, 3'
    declared: int = 1000
    status: int = 200


@dataclass(frozen=True)
class CloseDelimited:
    body: bytes = b'{"data": [1, 2, 3'
    status: int = 200


@dataclass(frozen=True)
class Redirect:
    location: str
    status: int = 302


Step = Reply | ResetMidBody | Truncated | CloseDelimited | Redirect


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes


class FaultServer:
    def __init__(self, max_lifetime: float = 120.0) -> None:
        self._scripts: dict[str, list[Step]] = {}
        self._played: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        self.received: list[Received] = []
        self._max_lifetime = max_lifetime
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None

    # -- scripting -------------------------------------------------------------------------
    def script(self, path: str, *steps: Step) -> None:
        if not steps:
            raise ValueError("a script needs at least one step")
        with self._lock:
            self._scripts[path] = list(steps)
            self._played[path] = 0

    def hits(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path.split("?")[0] == path]

    def _next_step(self, path: str) -> Step | None:
        with self._lock:
            steps = self._scripts.get(path)
            if steps is None:
                return None
            index = min(self._played[path], len(steps) - 1)
            self._played[path] += 1
            return steps[index]

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        handler = type("_BoundHandler", (_Handler,), {"fault_server": self})
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self._timer = threading.Timer(self._max_lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fault_server: FaultServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle + delayed ACK add 40 ms each.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        server = self.fault_server
        with server._lock:
            server.received.append(
                Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
        step = server._next_step(self.path.split("?")[0])
        if step is None:
            step = Reply.json(404, {"message": f"no script for {self.path}"})
        if isinstance(step, Reply):
            self._head(
                step.status,
                {"Content-Type": step.content_type, "Content-Length": str(len(step.body)), **step.headers},
            )
            if self.command != "HEAD":
                self.wfile.write(step.body)
        elif isinstance(step, Redirect):
            self._head(step.status, {"Location": step.location, "Content-Length": "0"})
        elif isinstance(step, Truncated):
            self._head(
                step.status, {"Content-Type": "application/json", "Content-Length": str(step.declared)}
            )
            self.wfile.write(step.sent)
            self.close_connection = True
        elif isinstance(step, ResetMidBody):
            self._head(
                step.status, {"Content-Type": "application/json", "Content-Length": str(step.declared)}
            )
            self.wfile.write(step.sent)
            time.sleep(0.05)  # let the client read the status line and the partial body first
            # SO_LINGER 0: close() sends RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif isinstance(step, CloseDelimited):
            self._head(step.status, {"Content-Type": "application/json", "Connection": "close"})
            self.wfile.write(step.body)
            self.close_connection = True

    def _head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle
