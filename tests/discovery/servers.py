"""Small real HTTP servers on loopback for the discovery tests: a third-party API with its documents
(well-formed and hostile), which records every request's headers.

Each server is a tests/_http_server.py `LoopbackServer` on 127.0.0.x that stops itself after
`MAX_LIFETIME` seconds if nobody stops it; every slow handler gives up after `MAX_TRICKLE` seconds.
"""

from __future__ import annotations

import functools
import gzip
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from tests._http_server import LoopbackHandler, LoopbackServer, Received

MAX_LIFETIME = 300.0
MAX_TRICKLE = 30.0
MB = 1024 * 1024

Route = Callable[["Handler"], None]


class RecordingServer(LoopbackServer):
    def __init__(self, host: str) -> None:
        super().__init__(Handler, host=host, max_lifetime=MAX_LIFETIME, poll_interval=0.1)
        self.routes: dict[str, Route] = {}

    @property
    def requests(self) -> list[Received]:
        return self.received

    def url(self, path: str) -> str:
        return self.origin + path

    def headers_for(self, path_prefix: str) -> list[dict[str, str]]:
        with self.lock:
            return [r.headers for r in self.received if r.path.startswith(path_prefix)]

    def all_headers(self) -> list[dict[str, str]]:
        with self.lock:
            return [r.headers for r in self.received]


class Handler(LoopbackHandler):
    server: RecordingServer
    protocol_version = "HTTP/1.0"  # one request per connection; bodies end at close when unsized
    body = b""  # the request's, for routes

    def respond(self, request: Received) -> None:
        self.body = request.body
        path = request.route
        route = self.server.routes.get(f"{self.command} {path}") or self.server.routes.get(path)
        if route is None:
            prefix = max(
                (p for p in self.server.routes if p.endswith("*") and path.startswith(p[:-1])),
                default=None,
                key=len,
            )
            route = self.server.routes.get(prefix) if prefix else None
        if route is None:
            self.send_json({"message": f"no route {path}"}, status=404)
            return
        with suppress(BrokenPipeError, ConnectionResetError):
            route(self)

    def redirect(self, location: str, status: int = 302) -> None:
        self.start_response(status, {"Location": location, "Content-Length": "0"})


@contextmanager
def running(host: str = "127.0.0.1") -> Iterator[RecordingServer]:
    with RecordingServer(host) as server:
        yield server


# -- hostile routes -------------------------------------------------------------------------------


def oversized_unsized(h: Handler) -> None:
    """11 MB of JSON-looking bytes with no Content-Length: the cap must trip while streaming."""
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.end_headers()
    chunk = b" " * (256 * 1024)
    h.wfile.write(b'{"openapi": "3.0.3", "x-pad": "')
    for _ in range(44):
        h.wfile.write(chunk)
    h.wfile.write(b'"}')


def oversized_declared(h: Handler) -> None:
    """Declares 50 MB; refused from the header, before any body is read."""
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(50 * MB))
    h.end_headers()
    h.wfile.write(b"{")


@functools.lru_cache(maxsize=1)
def gzip_bomb_bytes() -> bytes:
    """~40 KB that inflates to 40 MB (computed once: compressing takes a moment)."""
    return gzip.compress(b'{"openapi": "3.0.3", "x": "' + b"0" * (40 * MB) + b'"}', compresslevel=6)


def gzip_bomb(h: Handler) -> None:
    """Served with Content-Encoding: gzip: the cap must count decoded bytes."""
    h.send_bytes(gzip_bomb_bytes(), "application/json", headers={"Content-Encoding": "gzip"})


def trickle_body(h: Handler) -> None:
    """Headers at once, then one byte every 0.2 s: no read ever times out."""
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.end_headers()
    h.wfile.write(b"{")
    h.wfile.flush()
    stop = time.monotonic() + MAX_TRICKLE
    while time.monotonic() < stop:
        time.sleep(0.2)
        h.wfile.write(b" ")
        h.wfile.flush()


def trickle_headers(h: Handler) -> None:
    """The status line, then header bytes one at a time."""
    h.wfile.write(b"HTTP/1.0 200 OK\r\n")
    h.wfile.flush()
    stop = time.monotonic() + MAX_TRICKLE
    while time.monotonic() < stop:
        time.sleep(0.2)
        h.wfile.write(b"X")
        h.wfile.flush()


BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
openapi: 3.0.3
info: {title: bomb, version: "1"}
paths: {}
x-boom: *i
"""


def broken_off(h: Handler) -> None:
    """Promises 100 000 bytes, sends 20, hangs up."""
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", "100000")
    h.end_headers()
    h.wfile.write(b'{"openapi": "3.0.3",')
    h.wfile.flush()
    h.close_connection = True


def huge_header(h: Handler) -> None:
    """A 200 KB header line: past what the HTTP parser accepts."""
    h.send_response(200)
    h.send_header("X-Filler", "x" * 200_000)
    h.send_header("Content-Length", "2")
    h.end_headers()
    h.wfile.write(b"{}")
