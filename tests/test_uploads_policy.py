"""The upload core's decisions without a server: an in-memory stand-in for udata's chunk protocol
on httpx.MockTransport (parts parsed by the standard library's MIME parser), with scripted faults.
Sync and async run the same scripts and must send the same requests and report the same events.
The real server's behaviour is tested in test_uploads.py and test_uploads_faults.py (udata peer)."""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections import defaultdict
from collections.abc import Callable
from email import policy
from email.message import Message
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from datagouv_sdk import AsyncDataGouv, DataGouv, RetryPolicy, errors
from datagouv_sdk.upload_state import StateFile
from datagouv_sdk.uploads import UploadEvent, UploadFailedError, aupload_resource, upload_resource

BASE = "https://data.example.org"


def form_of(request: httpx.Request) -> tuple[dict[str, str], bytes | None]:
    body = request.read()
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/x-www-form-urlencoded"):
        return {k: v[0] for k, v in parse_qs(body.decode()).items()}, None
    message = BytesParser(policy=policy.HTTP).parsebytes(f"Content-Type: {kind}\r\n\r\n".encode() + body)
    fields: dict[str, str] = {}
    data = None
    for part in message.iter_parts():
        assert isinstance(part, Message)
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        if part.get_param("filename", header="content-disposition") is not None:
            data = payload
        else:
            fields[str(part.get_param("name", header="content-disposition"))] = payload.decode()
    return fields, data


class FakeUdata:
    """Parts stored once (a re-send of a stored part: 500), assembled on the last request (a missing
    part: 500), resources listed on GET of the dataset. `faults[kind]` plays one action per request
    of that kind ("part:N", "assemble", "single", "dataset"): a status (or (status, Retry-After))
    answered without acting,
    "lost" (acted on, then httpx.ReadError), "reset" (ReadError without acting), "connect"."""

    def __init__(self) -> None:
        self.parts: dict[str, dict[int, bytes]] = defaultdict(dict)
        self.resources: list[dict[str, Any]] = []
        self.faults: dict[str, list[Any]] = defaultdict(list)
        self.log: list[str] = []

    def kind(self, request: httpx.Request, fields: dict[str, str]) -> str:
        if request.method == "GET":
            return "dataset"
        if "partindex" in fields:
            return f"part:{fields['partindex']}"
        return "assemble" if "uuid" in fields else "single"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        fields, data = form_of(request) if request.method == "POST" else ({}, None)
        kind = self.kind(request, fields)
        self.log.append(kind)
        fault = self.faults[kind].pop(0) if self.faults[kind] else None
        if isinstance(fault, int | tuple):
            status, wait = fault if isinstance(fault, tuple) else (fault, "0")
            return httpx.Response(status, json={"message": "scripted"}, headers={"Retry-After": wait})
        if fault == "reset":
            raise httpx.ReadError("reset", request=request)
        if fault == "connect":
            raise httpx.ConnectError("refused", request=request)
        response = self.act(request, kind, fields, data)
        if fault == "lost":
            raise httpx.ReadError("answer lost", request=request)
        return response

    def act(
        self, request: httpx.Request, kind: str, fields: dict[str, str], data: bytes | None
    ) -> httpx.Response:
        if kind == "dataset":
            public = [{k: v for k, v in r.items() if k != "content"} for r in self.resources]
            return httpx.Response(200, json={"id": "ds", "resources": public})
        if kind.startswith("part:"):
            assert data is not None
            if len(data) != int(fields["chunksize"]):
                return httpx.Response(400, json={"success": False, "error": "Chunk size mismatch"})
            stored = self.parts[fields["uuid"]]
            index = int(fields["partindex"])
            if index in stored:
                return httpx.Response(500, json={"message": "Internal Server Error"})  # FileExists
            stored[index] = data
            return httpx.Response(200, json={"success": True, "error": None})
        if kind == "assemble":
            stored = self.parts.pop(fields["uuid"], {})
            if set(stored) != set(range(int(fields["totalparts"]))):
                return httpx.Response(500, json={"message": "Internal Server Error"})
            data = b"".join(stored[i] for i in range(len(stored)))
        assert data is not None
        resource = {
            "id": f"r{len(self.resources)}",
            "title": fields.get("filename", "single"),
            "filesize": len(data),
            "checksum": {"type": "sha1", "value": hashlib.sha1(data).hexdigest()},
            "content": data,
        }
        self.resources.append(resource)
        return httpx.Response(201, json={k: v for k, v in resource.items() if k != "content"})


def run_one(
    mode: str, server: FakeUdata, path: Path, retry: RetryPolicy, options: dict[str, Any]
) -> tuple[Any, list[str], list[float]]:
    """One upload, sync or async, against `server`: (result or error, event kinds, sleeps)."""
    events: list[str] = []
    sleeps: list[float] = []
    options = {**options, "on_event": lambda e: events.append(e.kind)}
    transport = httpx.MockTransport(server)

    async def asleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def arun() -> Any:
        async with AsyncDataGouv(
            base_url=BASE, api_key="k", retry=retry, transport=transport, sleep=asleep
        ) as adg:
            return await aupload_resource(adg, "ds", path, **options)

    try:
        if mode == "async":
            return asyncio.run(arun()), events, sleeps
        with DataGouv(
            base_url=BASE, api_key="k", retry=retry, transport=transport, sleep=sleeps.append
        ) as dg:
            return upload_resource(dg, "ds", path, **options), events, sleeps
    except errors.DataGouvError as exc:
        return exc, events, sleeps


def run_both(
    tmp_path: Path, server_factory: Callable[[], FakeUdata], path: Path, retry: RetryPolicy, **options: Any
) -> list[tuple[FakeUdata, Any, list[str], list[float]]]:
    """The sync and the async upload against fresh servers, which must agree on every request and
    event: [(server, result or error, event kinds, sleeps)] for each."""
    outcomes = []
    for mode in ("sync", "async"):
        server = server_factory()
        outcomes.append(
            (server, *run_one(mode, server, path, retry, {"state_dir": tmp_path / mode, **options}))
        )
    (s1, r1, e1, z1), (s2, r2, e2, z2) = outcomes
    assert s1.log == s2.log and e1 == e2 and type(r1) is type(r2), (s1.log, s2.log, e1, e2, r1, r2)
    assert len(z1) == len(z2)
    return outcomes


FAST = RetryPolicy(initial_backoff=0.5, jitter="none")


@pytest.mark.parametrize("seed", [7, 20261130])
def test_random_sizes_and_part_sizes_reassemble_exactly(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    for case in range(6):
        chunk = rng.choice([1, 7, 1024, 4096, 65536])
        size = rng.choice(
            [0, 1, chunk - 1, chunk, chunk + 1, chunk * rng.randint(2, 9) + rng.randint(0, chunk)]
        )
        size = max(0, min(size, 300_000))
        path = tmp_path / f"case{case}.csv"
        path.write_bytes(rng.randbytes(size))
        for server, result, events, _ in run_both(
            tmp_path / f"{case}", FakeUdata, path, FAST, chunk_size=chunk
        ):
            assert server.resources[-1]["content"] == path.read_bytes(), (seed, case, size, chunk)
            assert result["filesize"] == size and len(server.resources) == 1
            parts = max(1, -(-size // chunk))
            assert server.log.count("assemble") == (1 if parts > 1 else 0)
            assert events == (["done"] if parts > 1 else [])


def factory(**faults: list[Any]) -> Callable[[], FakeUdata]:
    def make() -> FakeUdata:
        server = FakeUdata()
        for kind, actions in faults.items():
            server.faults[kind.replace("_", ":")] = list(actions)
        return server

    return make


def source(tmp_path: Path, size: int = 10_000) -> Path:
    path = tmp_path / "data.csv"
    path.write_bytes(random.Random(size).randbytes(size))
    return path


def test_a_server_that_fails_every_part_with_500_is_not_presumed_to_have_stored_it(tmp_path: Path) -> None:
    for server, result, events, sleeps in run_both(
        tmp_path, factory(part_1=[500, 500, 500]), source(tmp_path), FAST, chunk_size=4096
    ):
        assert isinstance(result, errors.ServerError)
        assert server.log == ["part:0", "part:1", "part:1", "part:1"]
        assert events == ["retry", "retry", "failed"] and sleeps == [0.5, 1.0]


def test_a_lost_answer_then_refused_resend_counts_the_part_as_stored(tmp_path: Path) -> None:
    for server, result, events, _ in run_both(
        tmp_path, factory(part_1=["lost"]), source(tmp_path), FAST, chunk_size=4096
    ):
        assert server.resources[0]["content"] == source(tmp_path).read_bytes()
        assert server.log == ["part:0", "part:1", "part:1", "part:2", "dataset", "assemble"]
        assert events == ["retry", "presumed", "done"] and result["id"] == "r0"


def test_a_retry_after_above_the_ceiling_is_not_slept(tmp_path: Path) -> None:
    for _, result, events, sleeps in run_both(
        tmp_path, factory(part_1=[(429, "3600")]), source(tmp_path), FAST, chunk_size=4096
    ):
        assert isinstance(result, errors.RateLimitError) and result.retry_after == 3600
        assert sleeps == [] and events == ["failed"]


def test_refusals_that_no_retry_can_fix_are_raised_at_once(tmp_path: Path) -> None:
    for server, result, _, sleeps in run_both(
        tmp_path, factory(part_0=[401]), source(tmp_path), FAST, chunk_size=4096
    ):
        assert isinstance(result, errors.AuthenticationError) and server.log == ["part:0"] and sleeps == []


def test_a_chunk_size_mismatch_is_an_upload_failure(tmp_path: Path) -> None:
    class Mismatch(FakeUdata):
        def act(
            self, request: httpx.Request, kind: str, fields: dict[str, str], data: bytes | None
        ) -> httpx.Response:
            if kind == "part:0":
                return httpx.Response(
                    400, json={"success": False, "error": "Chunk size mismatch", "message": ""}
                )
            return super().act(request, kind, fields, data)

    for _, result, events, _ in run_both(tmp_path, Mismatch, source(tmp_path), FAST, chunk_size=4096):
        assert isinstance(result, UploadFailedError) and "Chunk size mismatch" in str(result)
        assert events == []  # nothing on the server yet: nothing to resume


def test_connect_errors_are_retried_and_a_lost_assembling_answer_is_found(tmp_path: Path) -> None:
    for server, result, events, sleeps in run_both(
        tmp_path, factory(part_2=["connect"], assemble=["lost"]), source(tmp_path), FAST, chunk_size=4096
    ):
        assert server.log == ["part:0", "part:1", "part:2", "part:2", "dataset", "assemble", "dataset"]
        assert events == ["retry", "found", "done"] and len(server.resources) == 1 and sleeps == [0.5]
        assert result["id"] == "r0"


def test_final_requests_are_a_second_apart_and_checked_in_between(tmp_path: Path) -> None:
    for server, result, events, sleeps in run_both(
        tmp_path, factory(single=[500, 502]), source(tmp_path, 100), FAST
    ):
        # 500 and 502: the server may have acted, so the dataset is read before each re-send
        assert server.log == ["dataset", "single", "dataset", "single", "dataset", "single"]
        assert events == ["retry", "retry"] and result["filesize"] == 100
        assert len(sleeps) == 4 and sum(sleeps) >= 2.0  # the policy's waits topped up to a second


def test_progress_counts_acknowledged_bytes_only(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    path = source(tmp_path, 10_000)
    with DataGouv(
        base_url=BASE,
        api_key="k",
        retry=FAST,
        transport=httpx.MockTransport(factory(part_1=[503])()),
        sleep=lambda s: None,
    ) as dg:
        upload_resource(
            dg, "ds", path, chunk_size=4096, state_dir=tmp_path, progress=lambda d, t: calls.append((d, t))
        )
    assert calls == [(4096, 10_000), (8192, 10_000), (10_000, 10_000)]


def test_upload_event_reads_as_its_message() -> None:
    from datagouv_sdk.uploads import UploadStats

    event = UploadEvent("presumed", "part 2/3: counted as stored", UploadStats(10, 3))
    assert str(event) == "part 2/3: counted as stored" and event.is_warning
    assert not UploadEvent("done", "ok", UploadStats(10, 3)).is_warning


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_an_assembling_interrupted_long_ago_is_looked_for_before_starting_over(
    tmp_path: Path, mode: str
) -> None:
    path = source(tmp_path)
    server = factory(assemble=["lost"], dataset=["ok", 503, 503, 503])()  # the snapshot, then 3 refusals
    options: dict[str, Any] = {"state_dir": tmp_path / "state", "chunk_size": 4096}
    failed, events, _ = run_one(mode, server, path, FAST, options)
    assert isinstance(failed, errors.APIStatusError) and events == ["failed"]
    (state_path,) = (tmp_path / "state").glob("*.json")
    store = StateFile(state_path)
    state = store.load()
    assert state is not None and state.phase == "assembling"
    state.last_ack = time.time() - 30 * 3600  # long past the server's retention of parts
    store.save(state)
    sent = len(server.log)
    resource, events, _ = run_one(mode, server, path, FAST, {**options, "resume": True})
    assert server.log[sent:] == ["dataset"] and events == ["found", "done"]
    assert resource["id"] == "r0" and len(server.resources) == 1
