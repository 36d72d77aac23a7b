"""A real HTTP/1.1 server on 127.0.0.1 (tests/_http_server.py) that misbehaves on cue.

Each path gets a script: a list of steps played one per request, the last step repeating. Steps:
`Reply` (any status/body/headers), `ResetMidBody` (headers and part of the body, then a TCP reset),
`Truncated` (Content-Length larger than what is sent, then a clean close), `CloseDelimited` (no
Content-Length: the body ends when the connection closes, so a cut body looks complete to HTTP),
`Redirect`. Every request received is recorded (`hits(path)`: method, path, headers, body).

    with FaultServer() as server:
        server.script("/x", Reply(503), Reply(200, b"{}"))
        httpx.get(server.url + "/x")

The server shuts itself down after `max_lifetime` seconds even if a test forgets to.
"""

from __future__ import annotations

import json
import socket
import struct
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from tests._http_server import LoopbackHandler, LoopbackServer, Received

__all__ = [
    "CloseDelimited",
    "FaultServer",
    "Received",
    "Redirect",
    "Reply",
    "ResetMidBody",
    "Step",
    "Truncated",
]


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


class FaultServer(LoopbackServer):
    def __init__(self, max_lifetime: float = 120.0) -> None:
        super().__init__(_Handler, max_lifetime=max_lifetime)
        self._scripts: dict[str, list[Step]] = {}
        self._played: dict[str, int] = defaultdict(int)

    @property
    def url(self) -> str:
        return self.origin

    def script(self, path: str, *steps: Step) -> None:
        if not steps:
            raise ValueError("a script needs at least one step")
        with self.lock:
            self._scripts[path] = list(steps)
            self._played[path] = 0

    def hits(self, path: str) -> list[Received]:
        return self.requests_to(path)

    def next_step(self, path: str) -> Step | None:
        with self.lock:
            steps = self._scripts.get(path)
            if steps is None:
                return None
            index = min(self._played[path], len(steps) - 1)
            self._played[path] += 1
            return steps[index]


class _Handler(LoopbackHandler):
    protocol_version = "HTTP/1.1"
    server: FaultServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle + delayed ACK add 40 ms each.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def respond(self, request: Received) -> None:
        step = self.server.next_step(request.route)
        if step is None:
            step = Reply.json(404, {"message": f"no script for {self.path}"})
        if isinstance(step, Reply):
            self.send_bytes(step.body, step.content_type, status=step.status, headers=step.headers)
        elif isinstance(step, Redirect):
            self.start_response(step.status, {"Location": step.location, "Content-Length": "0"})
        elif isinstance(step, Truncated):
            self.start_response(
                step.status, {"Content-Type": "application/json", "Content-Length": str(step.declared)}
            )
            self.wfile.write(step.sent)
            self.close_connection = True
        elif isinstance(step, ResetMidBody):
            self.start_response(
                step.status, {"Content-Type": "application/json", "Content-Length": str(step.declared)}
            )
            self.wfile.write(step.sent)
            time.sleep(0.05)  # let the client read the status line and the partial body first
            # SO_LINGER 0: close() sends RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif isinstance(step, CloseDelimited):
            self.start_response(step.status, {"Content-Type": "application/json", "Connection": "close"})
            self.wfile.write(step.body)
            self.close_connection = True
