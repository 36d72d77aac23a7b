"""A tiny spec server on 127.0.0.1 for the drift tests: serves fixed bodies, counts the requests."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class SpecServer:
    def __init__(self) -> None:
        # path -> (status, body, content type); tests change it while the server runs.
        self.routes: dict[str, tuple[int, bytes, str]] = {}
        self.hits: Counter[str] = Counter()
        self.base_url = ""

    def serve(self, path: str, body: bytes, status: int = 200, content_type: str = "application/json") -> str:
        self.routes[path] = (status, body, content_type)
        return self.base_url + path


@contextmanager
def running_spec_server(max_seconds: float = 120.0) -> Iterator[SpecServer]:
    """Start on a free loopback port; stopped on exit, or by a timer after `max_seconds` at the latest."""
    state = SpecServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits[self.path] += 1
            status, body, content_type = state.routes.get(self.path, (404, b"not found", "text/plain"))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # keep test output clean
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    # A short poll interval: shutdown() waits for it, once per test.
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="drift-spec-server", daemon=True
    )
    thread.start()
    deadline = threading.Timer(max_seconds, httpd.shutdown)
    deadline.daemon = True
    deadline.start()
    try:
        yield state
    finally:
        deadline.cancel()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
