"""A small HTTP/1.1 proxy on 127.0.0.1 in front of a real server (the udata peer) that breaks chosen
upload requests, and counts every request it sees.

Requests are classified by what they carry: ``part:<index>`` (a chunked upload's part: multipart with
a ``partindex`` field), ``assemble`` (a chunked upload's last request: ``uuid``, no part), ``single``
(a one-request upload), ``dataset`` (GET of a dataset), ``other``. `fail(kind, *faults)` queues
faults for the next requests of that kind, one per request; requests without a queued fault are
forwarded unchanged (the Host header rewritten to the upstream's). Faults:

- `REFUSE_503`: answered 503 (``Retry-After: 0``) without forwarding: the server never sees it.
- `REFUSE_429`: answered 429 with ``Retry-After: 1`` without forwarding.
- `REFUSE_500`: answered 500 without forwarding (a server error on a request it never got).
- `RESET_BEFORE`: the whole request read, then the connection reset (TCP RST), nothing forwarded.
- `RESET_DURING`: half the body read, then the connection reset.
- `RESET_AFTER`: forwarded (the server acts on it), then the connection reset: the answer is lost.
- `CORRUPT`: forwarded with one byte of the uploaded part flipped (same length).
- `HOLD`: not forwarded; `held` is set and the request waits until `release()` (or the proxy stops),
  then the connection is reset. For killing the client while a request is in flight.

`seen` lists every request (kind, method, path, upload uuid, fault applied, upstream status). The
proxy (a `tests._http_server.LoopbackServer`) stops by itself after `max_lifetime` seconds. It logs
nothing (the API key passes through it).
"""

from __future__ import annotations

import http.client
import re
import socket
import struct
import threading
from collections import defaultdict, deque
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from tests._http_server import LoopbackHandler, LoopbackServer

REFUSE_503 = "refuse-503"
REFUSE_429 = "refuse-429"
REFUSE_500 = "refuse-500"
RESET_BEFORE = "reset-before"
RESET_DURING = "reset-during"
RESET_AFTER = "reset-after"
CORRUPT = "corrupt"
HOLD = "hold"


@dataclass(frozen=True)
class Seen:
    kind: str
    method: str
    path: str
    uuid: str | None
    fault: str | None
    status: int | None  # the upstream's status when forwarded


_FIELD = re.compile(
    rb'content-disposition: form-data; name="([^"]+)"(?:; filename="[^"]*")?\r\n(?:[^\r\n]+\r\n)*\r\n',
    re.IGNORECASE,
)


def _form_fields(content_type: str, body: bytes) -> tuple[dict[str, str], tuple[int, int] | None]:
    """The form fields of a request body, and the span of the uploaded file's bytes (multipart)."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        return {k: v[0] for k, v in parse_qs(body.decode()).items()}, None
    match = re.search(r"boundary=([^;]+)", content_type)
    if not content_type.startswith("multipart/form-data") or match is None:
        return {}, None
    boundary = b"--" + match.group(1).strip('"').encode()
    fields: dict[str, str] = {}
    file_span = None
    position = body.find(boundary)
    while position >= 0:
        start = position + len(boundary) + 2
        header = _FIELD.match(body, start)
        end = body.find(b"\r\n" + boundary, start)
        if header is None or end < 0:
            break
        name = header.group(1).decode()
        if b"filename=" in header.group(0):
            file_span = (header.end(), end)
        else:
            fields[name] = body[header.end() : end].decode()
        position = end + 2
    return fields, file_span


class FaultProxy(LoopbackServer):
    """See the module docstring. Requests are not kept in `received` (parts are megabytes): `seen`."""

    def __init__(self, upstream: str, max_lifetime: float = 300.0) -> None:
        super().__init__(_ProxyHandler, max_lifetime=max_lifetime)
        parts = urlsplit(upstream)
        assert parts.hostname == "127.0.0.1", "the proxy only forwards to loopback"
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.seen: list[Seen] = []
        self.held = threading.Event()
        self._release = threading.Event()
        self._faults: dict[str, deque[str]] = defaultdict(deque)

    @property
    def url(self) -> str:
        return self.origin

    def fail(self, kind: str, *faults: str) -> None:
        with self.lock:
            self._faults[kind].extend(faults)

    def release(self) -> None:
        self._release.set()

    def count(self, kind_prefix: str, uuid: str | None = None) -> int:
        with self.lock:
            return sum(1 for s in self.seen if s.kind.startswith(kind_prefix) and uuid in (None, s.uuid))

    def parts_sent(self, uuid: str | None = None) -> list[int]:
        with self.lock:
            return [
                int(s.kind.split(":")[1])
                for s in self.seen
                if s.kind.startswith("part:") and uuid in (None, s.uuid)
            ]

    def next_fault(self, kind: str) -> str | None:
        with self.lock:
            queue = self._faults.get(kind)
            return queue.popleft() if queue else None

    def record(self, seen: Seen) -> None:
        with self.lock:
            self.seen.append(seen)

    def stop(self) -> None:
        self._release.set()  # a HOLD must not keep its thread past the proxy
        super().stop()


class _ProxyHandler(LoopbackHandler):
    server: FaultProxy

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _reset(self) -> None:
        # SO_LINGER 0: close() sends RST instead of FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _classify(self, body: bytes) -> tuple[str, str | None, tuple[int, int] | None]:
        path = self.path.split("?")[0]
        if self.command == "GET" and re.fullmatch(r"/api/1/datasets/[^/]+/", path):
            return "dataset", None, None
        if self.command != "POST" or not path.endswith("/upload/"):
            return "other", None, None
        fields, span = _form_fields(self.headers.get("content-type", ""), body)
        if "partindex" in fields:
            return f"part:{fields['partindex']}", fields.get("uuid"), span
        if "uuid" in fields:
            return "assemble", fields["uuid"], None
        return "single", None, span

    def _receive(self) -> None:  # not LoopbackHandler's: a fault may cut the body half-way
        proxy = self.server
        length = int(self.headers.get("content-length") or 0)
        # The form fields come first: the first bytes say which request this is.
        head = self.rfile.read(min(length, 4096)) if length else b""
        kind, uuid, _ = self._classify(head)
        fault = proxy.next_fault(kind)
        if fault == RESET_DURING:
            self.rfile.read((length - len(head)) // 2)
            proxy.record(Seen(kind, self.command, self.path, uuid, fault, None))
            return self._reset()
        body = head + self.rfile.read(length - len(head))
        kind, uuid, span = self._classify(body)
        if fault in (REFUSE_503, REFUSE_429, REFUSE_500):
            status = {REFUSE_503: 503, REFUSE_429: 429, REFUSE_500: 500}[fault]
            retry_after = {500: {}, 503: {"Retry-After": "0"}, 429: {"Retry-After": "1"}}[status]
            proxy.record(Seen(kind, self.command, self.path, uuid, fault, None))
            return self.send_json({"message": "injected"}, status=status, headers=retry_after)
        if fault in (RESET_BEFORE, HOLD):
            proxy.record(Seen(kind, self.command, self.path, uuid, fault, None))
            if fault == HOLD:
                proxy.held.set()
                proxy._release.wait(timeout=120)
            return self._reset()
        if fault == CORRUPT and span is not None:
            flip = (span[0] + span[1]) // 2
            body = body[:flip] + bytes([body[flip] ^ 0xFF]) + body[flip + 1 :]
        status, headers, answer = self._forward(body)
        proxy.record(Seen(kind, self.command, self.path, uuid, fault, status))
        if fault == RESET_AFTER:
            return self._reset()
        self.send_bytes(
            answer, headers.pop("Content-Type", "application/json"), status=status, headers=headers
        )

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _receive

    def _forward(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        proxy = self.server
        upstream = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=120)
        try:
            skip = ("host", "connection", "keep-alive")
            headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
            headers["Host"] = f"{proxy.upstream_host}:{proxy.upstream_port}"
            headers["Connection"] = "close"
            upstream.request(self.command, self.path, body=body or None, headers=headers)
            response = upstream.getresponse()
            answer = response.read()
            dropped = ("content-length", "transfer-encoding", "connection", "keep-alive")
            kept = {k: v for k, v in response.getheaders() if k.lower() not in dropped}
            return response.status, kept, answer
        finally:
            upstream.close()
