"""A spec server on 127.0.0.1 (tests/_http_server.py) for the drift and spec pipeline tests.

It answers GETs from `routes` (path → status, body, content type; tests change them while it runs),
else from the files of `folder`; `fail_first[path]` lists statuses answered to the first requests for
`path` (one each, then the document); `hits` counts the requests per path.
"""

from __future__ import annotations

import mimetypes
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests._http_server import LoopbackHandler, LoopbackServer, Received


class SpecServer(LoopbackServer):
    def __init__(self, folder: Path | None = None, *, max_lifetime: float = 120.0) -> None:
        super().__init__(_Handler, max_lifetime=max_lifetime)
        self.folder = folder
        self.routes: dict[str, tuple[int, bytes, str]] = {}
        self.fail_first: dict[str, list[int]] = {}

    @property
    def base_url(self) -> str:
        return self.origin

    @property
    def hits(self) -> Counter[str]:
        with self.lock:
            return Counter(r.path for r in self.received)

    def serve(self, path: str, body: bytes, status: int = 200, content_type: str = "application/json") -> str:
        self.routes[path] = (status, body, content_type)
        return self.base_url + path


class _Handler(LoopbackHandler):
    server: SpecServer

    def respond(self, request: Received) -> None:
        with self.server.lock:
            pending = self.server.fail_first.get(request.path)
            failure = pending.pop(0) if pending else None
        if failure is not None:
            self.send_bytes(b"injected failure", "text/plain", status=failure)
            return
        route = self.server.routes.get(request.path)
        if route is None:
            route = self._file(request.route)
        status, body, content_type = route
        self.send_bytes(body, content_type, status=status)

    def _file(self, route: str) -> tuple[int, bytes, str]:
        folder = self.server.folder
        path = (folder / route.lstrip("/")).resolve() if folder is not None else None
        if folder is None or path is None or not path.is_relative_to(folder.resolve()) or not path.is_file():
            return 404, b"not found", "text/plain"
        return 200, path.read_bytes(), mimetypes.guess_type(path.name)[0] or "application/octet-stream"


@contextmanager
def running_spec_server(max_seconds: float = 120.0, folder: Path | None = None) -> Iterator[SpecServer]:
    """Start on a free loopback port; stopped on exit, or after `max_seconds` at the latest."""
    with SpecServer(folder, max_lifetime=max_seconds) as server:
        yield server
