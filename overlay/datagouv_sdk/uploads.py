"""Upload a file as a dataset resource, or replace a resource's file, through the Main API: parts
re-sent safely, resumable after the process died, the result checked against the source.

    from datagouv_sdk.uploads import upload_resource
    resource = upload_resource(dg, dataset_id, "data.csv")                       # new resource
    resource = upload_resource(dg, dataset_id, "v2.csv", resource=resource["id"])  # replace its file
    upload_resource(dg, dataset_id, "big.csv", chunk_size=8 << 20, resume=True,
                    progress=lambda done, total: print(done, "/", total))

What the server (udata 17.18, ``core/storages/api.py: handle_upload``) expects, on
``POST /api/1/datasets/{dataset}/upload/`` (new resource, 201) and
``POST /api/1/datasets/{dataset}/resources/{rid}/upload/`` (replace, 200):

- one request: multipart field ``file``;
- chunked (``totalparts`` > 1): one request per part with ``file`` (the part), ``uuid`` (ours, shared
  by the parts), ``filename``, ``partindex`` (0-based), ``totalparts`` and ``chunksize`` (the part's
  exact size, checked: a mismatch answers 400 ``{"success": false, "error": "Chunk size mismatch"}``)
  — each answered ``200 {"success": true}`` — then one last request with the same fields and no
  ``file``, which assembles the parts and answers with the resource (``filesize``, and ``checksum``:
  the SHA-1 of what it stored).

How udata keeps parts, and what this module does about it (all seen on the peer:
tests/test_uploads_faults.py):

- A part is stored as ``chunks/<uuid>/<partindex>`` with no overwrite. A re-sent part the server never
  stored is accepted; a re-sent part it did store (its answer was lost) is refused with a 500 (the
  storage's ``FileExists``), a body identical to any other 500. So a part whose earlier answer was
  lost (connection broken after sending, or a 502/504 gateway answer) and whose re-send is answered
  500 is counted as stored ("presumed"): re-sending every part sent so far under a new ``uuid`` would
  cost the whole prefix of a big file for each lost answer. A plain 500 (udata failing) is retried as
  such and never presumed. If the assembling request then keeps failing (a presumed part was missing:
  udata answers 500), every part is sent again under a new ``uuid``, once.
- Parts stay until assembled, or until the ``purge-chunks`` job removes uploads whose last part is
  older than ``UPLOAD_MAX_RETENTION`` (24 h): a resumed upload older than that starts over.
- The assembled file is stored at ``<dataset slug>/<UTC second>/<normalised file name>``, no
  overwrite; a failed assembling leaves a partial file there, so a new attempt within the same UTC
  second fails with ``FileExists`` too. Final requests are re-sent at least a second apart.
- A successful assembling deletes the parts: sent again, it fails. So after an assembling (or a
  one-request upload) whose outcome is unknown, the dataset is read first: a resource that was not
  there before (or the replaced one) with our size and SHA-1 is the result.

Retries follow the client's `RetryPolicy` (attempts, backoff, Retry-After and its ceiling), with POST
treated as re-sendable for parts, made safe by the rules above; the transport's own retries are
off for these requests so that one policy counts the attempts.

Resume: a chunked upload keeps a small state file (see upload_state.py; in the user's cache folder
or ``state_dir``), updated after each acknowledged part and removed on success (also without
``resume``, so that a run killed without it can be resumed). ``resume=True`` reuses
it: parts the server acknowledged are skipped (their bytes are read again locally to check the
source is unchanged and to compute the SHA-1); a source whose size, modification time or content
changed, another part size, or parts past the server's retention start over, with an event saying
why.

Verified: the resource's ``filesize`` and SHA-1 ``checksum`` are compared with the source;
a difference raises `UploadVerificationError` naming both values and keeps the state, so that
``resume=True`` uploads again into the same resource instead of adding another.

Memory: a part is streamed from disk (upload_body.py), one 256 KiB read at a time, whatever the part
size. ``progress(done, total)`` counts bytes the server acknowledged. ``on_event(UploadEvent)``
receives the notable steps (resumed, started over, part retried, presumed stored, restarted,
result found, failure, done) with a message and the counters so far; without it they are logged
(logger ``datagouv_sdk``).

One sans-I/O core drives both twins: `_Uploader.run()` is a generator that yields what to do (send a
request, sleep, hash a file prefix) and receives the outcome; `upload_resource` and
`aupload_resource` only perform those steps.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import mimetypes
import os
import time
import uuid as _uuid
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TypedDict, Unpack

import attrs
import httpx

from datagouv_sdk import errors
from datagouv_sdk._steps import Driver
from datagouv_sdk.retry import NEVER_SENT, RetryPolicy
from datagouv_sdk.transport import LOGGER_NAME, RETRY_EXTENSION
from datagouv_sdk.upload_body import READ_SIZE, PartBody, SourceChangedError
from datagouv_sdk.upload_state import StateFile, UploadState, state_file_for

if TYPE_CHECKING:
    from datagouv_sdk.client import AsyncDataGouv, DataGouv

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "SERVER_PART_RETENTION",
    "SourceChangedError",
    "UploadEvent",
    "UploadFailedError",
    "UploadOptions",
    "UploadProgress",
    "UploadStats",
    "UploadVerificationError",
    "aupload_resource",
    "upload_resource",
]

# Files above this size are sent in parts of this size (udata's own web uploader uses 2 MB parts;
# bigger parts mean fewer round trips for scripts).
DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024
# udata's UPLOAD_MAX_RETENTION: parts are purged this long after the last one was received.
SERVER_PART_RETENTION = 24 * 3600.0
# Clocks differ and the purge job runs on its own schedule: parts older than this are not trusted.
_RETENTION_MARGIN = 3600.0
# udata names a stored file by its UTC second, and a failed final request leaves a partial file
# there: the next final request is sent at least this long after a failed one.
_ONE_SECOND = 1.0

UploadProgress = Callable[[int, int], None]
EventKind = Literal["resume", "start_over", "retry", "presumed", "restart", "found", "failed", "done"]
_WARNINGS = frozenset({"start_over", "presumed", "restart", "failed"})

logger = logging.getLogger(LOGGER_NAME)


class UploadFailedError(errors.DataGouvError):
    """The server refused a part with ``{"success": false, "error": ...}`` (a size mismatch)."""


class UploadVerificationError(errors.DataGouvError):
    """The server's file differs from the source (size or SHA-1)."""

    def __init__(self, message: str, *, resource: dict[str, Any]) -> None:
        super().__init__(message)
        self.resource = resource


@attrs.frozen
class UploadStats:
    """Counters of one upload call."""

    size: int
    parts: int
    part_requests: int = 0  # part requests sent, re-sends included
    parts_retried: int = 0  # parts that needed more than one request
    parts_presumed: int = 0  # parts counted as stored when their re-send was refused
    parts_resumed: int = 0  # parts skipped: acknowledged before the process died
    restarts: int = 0  # times every part was sent again under a new upload id
    bytes_acknowledged: int = 0


@attrs.frozen
class UploadEvent:
    kind: EventKind
    message: str
    stats: UploadStats

    @property
    def is_warning(self) -> bool:
        return self.kind in _WARNINGS

    def __str__(self) -> str:
        return self.message


# --- what the core asks its driver to do ------------------------------------------------------------


@attrs.frozen
class _Send:
    """An HTTP request on the Main API client; the outcome is the response or the SDK error."""

    method: str
    url: str
    body: PartBody | None = None
    form: dict[str, str] | None = None
    timeout: httpx.Timeout | None = None
    transport_retries: bool = False  # GETs keep the transport's retries; the core retries POSTs


@attrs.frozen
class _Sleep:
    seconds: float


@attrs.frozen
class _Digest:
    """The SHA-1 (a hashlib object) of the first `length` bytes of `path`."""

    path: str
    length: int


_Command = _Send | _Sleep | _Digest
_Steps = Generator[_Command, Any, Any]


def _digest_prefix(command: _Digest) -> Any:
    digest = hashlib.sha1()
    left = command.length
    with open(command.path, "rb") as file:
        while left > 0:
            data = file.read(min(READ_SIZE, left))
            if not data:
                break
            digest.update(data)
            left -= len(data)
    return digest


# --- the plan --------------------------------------------------------------------------------------


@attrs.frozen
class _Plan:
    path: str
    filename: str
    size: int
    mtime_ns: int
    chunk_size: int
    mime: str

    @property
    def parts(self) -> int:
        return max(1, math.ceil(self.size / self.chunk_size))

    def part_length(self, index: int) -> int:
        return min(self.chunk_size, self.size - index * self.chunk_size)


def _plan(path: str | os.PathLike[str], filename: str | None, chunk_size: int | None) -> _Plan:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise errors.UsageError(f"{path!r} is not a file")
    if chunk_size is not None and chunk_size <= 0:
        raise errors.UsageError(f"chunk_size must be a positive number of bytes, got {chunk_size}")
    name = filename or os.path.basename(path)
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    stat = os.stat(path)
    return _Plan(
        os.path.abspath(path), name, stat.st_size, stat.st_mtime_ns, chunk_size or DEFAULT_CHUNK_SIZE, mime
    )


def _endpoint(dataset: str, resource: str | None) -> str:
    if resource is None:
        return f"datasets/{dataset}/upload/"
    return f"datasets/{dataset}/resources/{resource}/upload/"


# --- how outcomes are read -------------------------------------------------------------------------


def _cause(outcome: httpx.Response | errors.DataGouvError) -> httpx.Response | BaseException:
    """What the retry policy judges: the response, or the httpx error behind an SDK error."""
    if isinstance(outcome, httpx.Response):
        return outcome
    cause = outcome.__cause__
    return cause if isinstance(cause, httpx.TransportError) else outcome


def _answer_lost(cause: httpx.Response | BaseException) -> bool:
    """Whether the request may have been carried out with its answer lost on the way back: the
    connection broke after it was sent, or a gateway gave up waiting for the server."""
    if isinstance(cause, httpx.Response):
        return cause.status_code in (502, 504)
    return isinstance(cause, httpx.TransportError) and not isinstance(cause, NEVER_SENT)


def _may_have_acted(cause: httpx.Response | BaseException) -> bool:
    """Whether the server may have carried the request out although it did not answer with success
    (a 500 included: udata may fail after creating the resource)."""
    return _answer_lost(cause) or (isinstance(cause, httpx.Response) and cause.status_code == 500)


def _raise(outcome: httpx.Response | errors.DataGouvError) -> NoReturn:
    if isinstance(outcome, httpx.Response):
        errors.raise_for_status(outcome)
        raise errors.ResponseDecodeError(
            f"unexpected answer {outcome.status_code} to {outcome.request.method} {outcome.request.url}",
            response=outcome,
        )
    raise outcome


def _json_object(response: httpx.Response) -> dict[str, Any]:
    errors.raise_for_status(response)
    body = errors.decode_json(response)
    if not isinstance(body, dict):
        raise errors.ResponseDecodeError("the answer is not a JSON object", response=response)
    return body


def _checksum(resource: dict[str, Any]) -> tuple[str, str] | None:
    checksum = resource.get("checksum")
    if isinstance(checksum, dict) and checksum.get("value"):
        return str(checksum.get("type") or "").lower(), str(checksum["value"]).lower()
    return None


def _differences(resource: dict[str, Any], size: int, sha1: str) -> list[str]:
    """How the server's file differs from ours (what the server reports; absent fields are not
    compared, a checksum of another type neither)."""
    found = []
    filesize = resource.get("filesize")
    if filesize is not None and filesize != size:
        found.append(f"filesize {filesize} on the server, {size} here")
    checksum = _checksum(resource)
    if checksum is not None and checksum[0] == "sha1" and checksum[1] != sha1:
        found.append(f"sha1 {checksum[1]} on the server, {sha1} here")
    return found


def _size_text(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024 or unit == "GiB":
            break
    return f"{value:.1f} {unit}"


# --- the core --------------------------------------------------------------------------------------


class _Uploader:
    """One upload call, as a generator of steps (see the module docstring)."""

    def __init__(
        self,
        plan: _Plan,
        *,
        dataset: str,
        resource: str | None,
        api_url: str,
        policy: RetryPolicy,
        timeout: httpx.Timeout,
        progress: UploadProgress | None,
        on_event: Callable[[UploadEvent], None] | None,
        resume: bool,
        state_dir: str | os.PathLike[str] | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not dataset:
            raise errors.UsageError("a dataset id or slug is required")
        self.plan = plan
        self.dataset = dataset
        self.resource = resource
        # POST is re-sent for parts and, after checking, for final requests (see the docstring).
        self.policy = attrs.evolve(policy, idempotent_methods=policy.idempotent_methods | {"POST"})
        self.timeout = timeout
        self.progress = progress
        self.on_event = on_event
        self.resume = resume
        self.clock = clock
        self.key = [api_url, dataset, resource or "", plan.path, plan.filename]
        self.store: StateFile | None = state_file_for(state_dir, self.key) if plan.parts > 1 else None
        self.stats = UploadStats(plan.size, plan.parts)
        self.state = self._fresh_state(resource)
        self.digest: Any = hashlib.sha1()
        self.resumed = False
        self.monotonic = time.monotonic
        self.final_not_before = 0.0  # see _ONE_SECOND

    # events and counters
    def _count(self, **changes: int) -> None:
        self.stats = attrs.evolve(
            self.stats, **{name: getattr(self.stats, name) + delta for name, delta in changes.items()}
        )

    def _emit(self, kind: EventKind, message: str) -> None:
        event = UploadEvent(kind, message, self.stats)
        if self.on_event is not None:
            self.on_event(event)
        else:
            logger.log(logging.WARNING if event.is_warning else logging.INFO, "%s", message)

    def _acknowledged(self, done_bytes: int) -> None:
        self.stats = attrs.evolve(self.stats, bytes_acknowledged=done_bytes)
        if self.progress is not None:
            self.progress(done_bytes, self.plan.size)

    # state
    def _fresh_state(self, target: str | None) -> UploadState:
        plan = self.plan
        return UploadState(
            key=self.key,
            size=plan.size,
            mtime_ns=plan.mtime_ns,
            chunk_size=plan.chunk_size,
            parts=plan.parts,
            uuid=str(_uuid.uuid4()),
            started_at=self.clock(),
            target=target,
        )

    def _save(self) -> None:
        if self.store is not None:
            self.store.save(self.state)

    def _done_bytes(self) -> int:
        return min(self.plan.size, self.state.parts_done * self.plan.chunk_size)

    def _url(self) -> str:
        return _endpoint(self.dataset, self.state.target)

    def _final_timeout(self) -> httpx.Timeout:
        # Assembling copies and hashes the whole file on the server before it answers.
        read = self.timeout.read
        if read is not None:
            read = max(read, 120.0 + self.plan.size / 10e6)
        return httpx.Timeout(
            connect=self.timeout.connect, read=read, write=self.timeout.write, pool=self.timeout.pool
        )

    # the whole call
    def run(self) -> _Steps:
        if self.plan.parts == 1:
            return (yield from self._single())
        found = yield from self._start()
        if found is not None:
            return self._verified(found)
        while True:
            if self.state.phase == "parts":
                yield from self._send_parts()
            try:
                resource = yield from self._assemble()
            except _StartAgain as again:
                self._emit("restart", str(again))
                self._count(restarts=1)
                self.state = self._fresh_state(self.state.target)
                self.digest, self.resumed = hashlib.sha1(), False
                self._acknowledged(0)
                continue
            return self._verified(resource)

    def _single(self) -> _Steps:
        body: PartBody | None = None

        def request() -> _Send:
            nonlocal body
            plan = self.plan
            body = PartBody(plan.path, 0, plan.size, {}, plan.filename, plan.mime, hashlib.sha1())
            return _Send("POST", self._url(), body=body, timeout=self._final_timeout())

        def sha1() -> str | None:
            return body.digest.hexdigest() if body is not None and body.complete else None

        yield from self._note_resources_before()
        resource = yield from self._final_request(request, sha1)
        assert body is not None
        problems = _differences(resource, self.plan.size, body.digest.hexdigest())
        if problems:
            raise UploadVerificationError(self._mismatch_text(resource, problems), resource=resource)
        self._acknowledged(self.plan.size)
        return resource

    # resume
    def _start(self) -> _Steps:
        """Pick up the state of an earlier run of the same upload when it can be trusted; returns
        the resource when that run's assembling turns out to have succeeded."""
        assert self.store is not None
        old = self.store.load()
        name = self.plan.filename
        if old is None:
            if self.store.problem:
                self._emit("start_over", f"{self.store.problem}: starting a new upload")
            return None
        if old.phase == "mismatch":
            if self.resume:
                self._emit(
                    "start_over",
                    f"the last upload of {name} gave a different file on the server: uploading it again "
                    f"into resource {old.target}",
                )
                self.state = self._fresh_state(old.target)
            else:
                self._emit(
                    "start_over",
                    f"the last upload of {name} gave a different file on the server (resource {old.target}): "
                    "starting a new one (resume=True, or dgv --resume, uploads into that resource instead)",
                )
            return None
        if not self.resume:
            if old.parts_done:
                self._emit(
                    "start_over",
                    f"an interrupted upload of {name} exists ({old.parts_done} of {old.parts} parts on the "
                    "server): starting a new one (resume=True, or dgv --resume, continues it)",
                )
            return None
        changed = self._changed(old)
        if changed:
            self._emit("start_over", f"cannot resume the upload of {name}: {changed}; starting over")
            return None
        done = min(self.plan.size, old.parts_done * self.plan.chunk_size)
        digest = yield _Digest(self.plan.path, done)
        if digest.hexdigest() != old.prefix_sha1:
            self._emit(
                "start_over",
                f"cannot resume the upload of {name}: the content of its first {done} bytes changed since "
                "they were sent; starting over",
            )
            return None
        expired = self._expired(old)
        if old.phase == "assembling":  # whatever its age: the file may be on the server already
            self.state, self.digest = old, digest
            found = yield from self._find_result(digest.hexdigest())
            if found is not None:
                self._emit("found", f"{name} was assembled by the server before the interruption")
                return found
        if expired:
            self._emit("start_over", f"cannot resume the upload of {name}: {expired}; starting over")
            self.state, self.digest = self._fresh_state(self.resource), hashlib.sha1()
            return None
        self.state, self.digest, self.resumed = old, digest, True
        self._count(parts_resumed=old.parts_done)
        self._emit(
            "resume",
            f"resuming the upload of {name}: {old.parts_done} of {old.parts} parts ({_size_text(done)}) "
            "are already on the server",
        )
        self._acknowledged(done)
        return None

    def _changed(self, old: UploadState) -> str:
        """Why the parts of `old` do not line up with the file any more ("" when they do)."""
        plan = self.plan
        if old.key != self.key:
            return "its state describes another upload"
        if old.size != plan.size or old.mtime_ns != plan.mtime_ns:
            return (
                f"the file changed since the interrupted upload (size {old.size} → {plan.size} bytes, "
                f"modified {_when(old.mtime_ns / 1e9)} → {_when(plan.mtime_ns / 1e9)})"
            )
        if old.chunk_size != plan.chunk_size:
            return f"the part size differs ({old.chunk_size} then, {plan.chunk_size} now): parts would not line up"
        return ""

    def _expired(self, old: UploadState) -> str:
        """Why the server may have deleted the parts of `old` ("" when it keeps them still)."""
        if old.last_ack is None:
            return ""
        age = self.clock() - old.last_ack
        if age <= SERVER_PART_RETENTION - _RETENTION_MARGIN:
            return ""
        return (
            f"its last part was sent {age / 3600:.1f} h ago; the server deletes parts "
            f"{SERVER_PART_RETENTION / 3600:.0f} h after the last one"
        )

    # parts
    def _send_parts(self) -> _Steps:
        for index in range(self.state.parts_done, self.plan.parts):
            yield from self._send_part(index)
        if os.stat(self.plan.path).st_mtime_ns != self.plan.mtime_ns:
            raise SourceChangedError(f"{self.plan.path} was modified while it was being uploaded")

    def _part_fields(self, index: int | None) -> dict[str, str]:
        fields = {"uuid": self.state.uuid, "filename": self.plan.filename, "totalparts": str(self.plan.parts)}
        if index is not None:
            fields.update(partindex=str(index), chunksize=str(self.plan.part_length(index)))
        return fields

    def _send_part(self, index: int) -> _Steps:
        plan, total = self.plan, self.plan.parts
        maybe_stored = False
        attempt = 0
        while True:
            attempt += 1
            body = PartBody(
                plan.path,
                index * plan.chunk_size,
                plan.part_length(index),
                self._part_fields(index),
                plan.filename,
                plan.mime,
                self.digest.copy(),
            )
            outcome = yield _Send("POST", self._url(), body=body)
            self._count(part_requests=1)
            if isinstance(outcome, httpx.Response) and (
                outcome.status_code < 300 or outcome.status_code == 400
            ):
                self._check_part_answer(outcome, index)
                return self._ack(index, body, presumed=False)
            if (
                maybe_stored
                and body.complete
                and isinstance(outcome, httpx.Response)
                and outcome.status_code == 500
            ):
                self._emit(
                    "presumed",
                    f"part {index + 1}/{total}: its re-send was refused (500) after the answer to an earlier "
                    "attempt was lost; udata refuses to store a part twice, so it is counted as stored "
                    "(checked when the parts are assembled)",
                )
                return self._ack(index, body, presumed=True)
            cause = _cause(outcome)
            maybe_stored = maybe_stored or _answer_lost(cause)
            decision = self.policy.decide("POST", attempt, cause, self.clock())
            if not decision.retry:
                self._interrupted(f"part {index + 1}/{total} failed after {attempt} attempt(s)")
                _raise(outcome)
            if attempt == 1:
                self._count(parts_retried=1)
            self._emit(
                "retry",
                f"part {index + 1}/{total}: {decision.reason}; sending it again in {decision.wait:.1f} s",
            )
            yield _Sleep(decision.wait)

    def _check_part_answer(self, response: httpx.Response, index: int) -> None:
        """Raise unless `response` (2xx or 400) acknowledges the part: udata answers
        ``{"success": true}``, or 400 ``{"success": false, "error": ...}`` (a size mismatch)."""
        try:
            body = errors.decode_json(response)
        except errors.ResponseDecodeError:
            body = None
        if isinstance(body, dict) and body.get("success") is True and response.status_code < 300:
            return
        self._interrupted(f"part {index + 1}/{self.plan.parts} was refused")
        if not (isinstance(body, dict) and "success" in body):
            _raise(response)  # a 400 of another kind (BadRequestError), or a 2xx we do not understand
        raise UploadFailedError(
            f"part {index + 1}/{self.plan.parts} was refused by the server ({response.status_code}): "
            f"{body.get('error')}"
        )

    def _ack(self, index: int, body: PartBody, *, presumed: bool) -> None:
        self.digest = body.digest
        state = self.state
        state.parts_done = index + 1
        state.prefix_sha1 = self.digest.hexdigest()
        state.last_ack = self.clock()
        if presumed:
            state.presumed.append(index)
            self._count(parts_presumed=1)
        self._save()
        self._acknowledged(self._done_bytes())

    def _interrupted(self, what: str) -> None:
        """Say how to continue, when there is something to continue."""
        if self.store is None or not self.state.parts_done:
            return
        self._emit(
            "failed",
            f"{what}; {self.state.parts_done} of {self.plan.parts} parts are on the server: "
            "the same upload with resume=True (dgv: --resume) continues from there",
        )

    # assembling
    def _assemble(self) -> _Steps:
        state = self.state
        if state.phase != "assembling":
            yield from self._note_resources_before()
            state.phase = "assembling"
            self._save()
        sha1 = self.digest.hexdigest()
        try:
            return (
                yield from self._final_request(
                    lambda: _Send(
                        "POST", self._url(), form=self._part_fields(None), timeout=self._final_timeout()
                    ),
                    lambda: sha1,
                )
            )
        except errors.DataGouvError as exc:
            # A missing part gives a 500 (udata: FileNotFound while reading the parts).
            missing = isinstance(exc, errors.ServerError) and (state.presumed or self.resumed)
            if missing and self.stats.restarts == 0:
                raise _StartAgain(
                    f"the server could not assemble {self.plan.filename} ({exc}); a part counted as stored "
                    "may be missing: sending every part again under a new upload id"
                ) from exc
            self._interrupted("assembling the parts failed")
            raise

    def _final_request(self, request: Callable[[], _Send], sha1: Callable[[], str | None]) -> _Steps:
        """The request that creates or replaces the resource, re-sent only after checking that the
        previous attempt left no result."""
        attempt = 0
        while True:
            attempt += 1
            early = self.final_not_before - self.monotonic()
            if early > 0:
                yield _Sleep(early)
            outcome = yield request()
            if isinstance(outcome, httpx.Response) and outcome.status_code < 300:
                return _json_object(outcome)
            self.final_not_before = self.monotonic() + _ONE_SECOND
            cause = _cause(outcome)
            digest = sha1()
            if _may_have_acted(cause) and digest is not None:
                found = yield from self._find_result(digest)
                if found is not None:
                    self._emit(
                        "found",
                        f"the answer to {self.plan.filename}'s last request was lost, but the server has the file",
                    )
                    return found
            decision = self.policy.decide("POST", attempt, cause, self.clock())
            if not decision.retry:
                _raise(outcome)
            self._emit(
                "retry",
                f"{self.plan.filename}: {decision.reason}; sending the last request again "
                f"in {max(decision.wait, _ONE_SECOND):.1f} s",
            )
            yield _Sleep(decision.wait)

    def _dataset_resources(self) -> _Steps:
        outcome = yield _Send("GET", f"datasets/{self.dataset}/", transport_retries=True)
        if not isinstance(outcome, httpx.Response):
            raise outcome
        resources = _json_object(outcome).get("resources")
        return [r for r in resources if isinstance(r, dict)] if isinstance(resources, list) else []

    def _note_resources_before(self) -> _Steps:
        """Before creating a resource that may have to be found again: the ids the dataset has now, so
        that a new one can be told apart. Always for chunked uploads (a resumed upload may have to look
        for its result), for one request only when it may be re-sent."""
        if self.state.target is None and (self.store is not None or self.policy.max_attempts > 1):
            resources = yield from self._dataset_resources()
            self.state.resources_before = [str(r.get("id")) for r in resources]

    def _find_result(self, sha1: str) -> _Steps:
        """The resource our last request created or replaced, if the server carried it out."""
        target, before = self.state.target, self.state.resources_before
        if target is None and before is None:
            return None
        for candidate in (yield from self._dataset_resources()):
            ident = str(candidate.get("id"))
            mine = ident == target if target is not None else ident not in (before or ())
            if (
                mine
                and _checksum(candidate) is not None
                and not _differences(candidate, self.plan.size, sha1)
            ):
                return candidate
        return None

    def _verified(self, resource: dict[str, Any]) -> dict[str, Any]:
        problems = _differences(resource, self.plan.size, self.digest.hexdigest())
        if problems:
            self.state.phase = "mismatch"
            self.state.target = str(resource.get("id")) if resource.get("id") else self.state.target
            self._save()
            raise UploadVerificationError(
                self._mismatch_text(resource, problems)
                + "; the same upload with resume=True (dgv: --resume) uploads it again into that resource",
                resource=resource,
            )
        assert self.store is not None
        self.store.remove()
        stats = self.stats
        self._emit(
            "done",
            f"uploaded {self.plan.filename} ({_size_text(self.plan.size)}) in {stats.parts} parts: "
            f"{stats.part_requests} part requests, {stats.parts_retried} parts retried, "
            f"{stats.parts_presumed} presumed stored, {stats.parts_resumed} resumed, {stats.restarts} restarts; "
            "size and SHA-1 verified",
        )
        return resource

    def _mismatch_text(self, resource: dict[str, Any], problems: list[str]) -> str:
        return (
            f"the server's copy of {self.plan.filename} (resource {resource.get('id')}) differs: "
            + "; ".join(problems)
        )


class _StartAgain(Exception):
    """Internal: the parts must all be sent again under a new upload id."""


def _when(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


# --- the two drivers -----------------------------------------------------------------------------


def _request_args(command: _Send) -> dict[str, Any]:
    args: dict[str, Any] = {"method": command.method, "url": command.url}
    if command.body is not None:
        args["headers"] = command.body.headers
    if command.form is not None:
        args["data"] = command.form
    if command.timeout is not None:
        args["timeout"] = command.timeout
    if not command.transport_retries:
        args["extensions"] = {RETRY_EXTENSION: RetryPolicy.none()}
    return args


class UploadOptions(TypedDict, total=False):
    """The keywords of `upload_resource`, `aupload_resource` and ``dg.resources.upload``: ``resource``
    (replace this resource's file instead of adding one), ``filename`` (the name the server keeps;
    default the file's), ``chunk_size`` (parts above it; default `DEFAULT_CHUNK_SIZE`),
    ``progress(done, total)``, ``resume``, ``state_dir`` (default the user's cache folder) and
    ``on_event(UploadEvent)``; see `upload_resource`."""

    resource: str | None
    filename: str | None
    chunk_size: int | None
    progress: UploadProgress | None
    resume: bool
    state_dir: str | os.PathLike[str] | None
    on_event: Callable[[UploadEvent], None] | None


def _uploader(
    dg: DataGouv | AsyncDataGouv,
    dataset: str,
    path: str | os.PathLike[str],
    *,
    resource: str | None = None,
    filename: str | None = None,
    chunk_size: int | None = None,
    progress: UploadProgress | None = None,
    resume: bool = False,
    state_dir: str | os.PathLike[str] | None = None,
    on_event: Callable[[UploadEvent], None] | None = None,
) -> Driver[_Command, dict[str, Any]]:
    """The core of one upload (its keywords: `UploadOptions`, checked here), ready to be driven."""
    return Driver(
        _Uploader(
            _plan(path, filename, chunk_size),
            dataset=dataset,
            resource=resource,
            api_url=dg.config.main_api_url,
            policy=dg.config.retry,
            timeout=dg.config.timeout,
            progress=progress,
            on_event=on_event,
            resume=resume,
            state_dir=state_dir,
        ).run()
    )


def upload_resource(
    dg: DataGouv, dataset: str, path: str | os.PathLike[str], **options: Unpack[UploadOptions]
) -> dict[str, Any]:
    """Upload ``path`` as a new resource of ``dataset`` (or as the new file of ``resource``).

    Files larger than ``chunk_size`` (default `DEFAULT_CHUNK_SIZE`) go in parts; ``resume=True``
    continues an interrupted chunked upload of the same file (state in ``state_dir``, default the
    user's cache folder). Returns the resource as the server describes it (a dict: ``id``,
    ``title``, ``url``, ``filesize``, ``checksum`` …), checked against the file. Needs an API key
    with edit rights on the dataset. The keywords: `UploadOptions`. See the module docstring.
    """
    driver = _uploader(dg, dataset, path, **options)
    http = dg.http("main")
    sleep: Callable[[float], None] = getattr(dg, "_sleep", None) or time.sleep  # the client's (tests: none)
    for command in driver:
        if isinstance(command, _Sleep):
            sleep(command.seconds)
        elif isinstance(command, _Digest):
            driver.outcome = _digest_prefix(command)
        else:
            content = command.body.sync_chunks() if command.body is not None else None
            try:
                driver.outcome = http.request(content=content, **_request_args(command))
            except errors.DataGouvError as exc:
                driver.outcome = exc
    return driver.result


async def aupload_resource(
    dg: AsyncDataGouv, dataset: str, path: str | os.PathLike[str], **options: Unpack[UploadOptions]
) -> dict[str, Any]:
    """The async twin of `upload_resource` (file reads and hashing in worker threads)."""
    driver = _uploader(dg, dataset, path, **options)
    http = dg.http("main")
    sleep = getattr(dg, "_sleep", None) or asyncio.sleep
    for command in driver:
        if isinstance(command, _Sleep):
            await sleep(command.seconds)
        elif isinstance(command, _Digest):
            driver.outcome = await asyncio.to_thread(_digest_prefix, command)
        else:
            content = command.body.async_chunks() if command.body is not None else None
            try:
                driver.outcome = await http.request(content=content, **_request_args(command))
            except errors.DataGouvError as exc:
                driver.outcome = exc
    return driver.result
