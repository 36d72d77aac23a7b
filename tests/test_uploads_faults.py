"""Chunked uploads that survive: the real udata peer behind a fault-injecting proxy (fault_proxy.py).

What udata 17.18 does with parts, as these tests rely on it: a part it never stored can be re-sent
under the same uuid/partindex; a part it stored is refused on a re-send (500, FileExists); parts are
deleted once assembled; a failed assembling leaves a partial file named by the UTC second.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from datagouv_sdk import AsyncDataGouv, DataGouv, RetryPolicy, errors
from datagouv_sdk.upload_state import state_file_for
from datagouv_sdk.uploads import (
    SERVER_PART_RETENTION,
    UploadEvent,
    UploadVerificationError,
    aupload_resource,
    upload_resource,
)

from tests.fault_proxy import (
    CORRUPT,
    REFUSE_429,
    REFUSE_500,
    REFUSE_503,
    RESET_AFTER,
    RESET_BEFORE,
    RESET_DURING,
    FaultProxy,
)

MiB = 1024 * 1024
# Fast backoff; the one-second floor between final requests (udata's file names) stays real.
FAST = RetryPolicy(initial_backoff=0.01, max_backoff=0.05, jitter="none")


@pytest.fixture
def proxy(udata_peer: Any) -> Iterator[FaultProxy]:
    with FaultProxy(udata_peer.base_url, max_lifetime=300) as running:
        yield running


@pytest.fixture
def via_proxy(proxy: FaultProxy, udata_peer: Any) -> Iterator[DataGouv]:
    with DataGouv(base_url=proxy.url, api_key=udata_peer.api_key, retry=FAST) as client:
        yield client


@pytest.fixture
def dataset(dg: DataGouv) -> Iterator[str]:
    ident: str = dg.datasets.create({"title": "uploads under faults", "description": "t"}, raw=True)["id"]
    yield ident
    dg.datasets.delete(ident)


def random_file(path: Path, size: int) -> Path:
    with open(path, "wb") as out:
        for start in range(0, size, MiB):
            out.write(os.urandom(min(MiB, size - start)))
    return path


def served(resource: dict[str, Any], udata_peer: Any) -> bytes:
    assert resource["url"].startswith(udata_peer.base_url + "/"), resource["url"]
    return httpx.get(resource["url"], timeout=60).content


def resource_ids(dg: DataGouv, dataset: str) -> list[str]:
    return [r["id"] for r in dg.datasets.get(dataset, raw=True)["resources"]]


def test_64_mib_in_4_mib_parts_survives_resets_and_refusals(
    via_proxy: DataGouv, proxy: FaultProxy, dg: DataGouv, dataset: str, tmp_path: Path, udata_peer: Any
) -> None:
    source = random_file(tmp_path / "big.zip", 64 * MiB)
    proxy.fail("part:2", REFUSE_503)  # never reached udata: re-sent, accepted
    proxy.fail("part:5", RESET_BEFORE)  # reset before forwarding: re-sent under the same index, accepted
    proxy.fail("part:8", RESET_AFTER)  # stored, answer lost: the re-send is refused (FileExists)
    proxy.fail("part:11", REFUSE_429)  # Retry-After: 1
    proxy.fail("part:13", RESET_DURING)  # cut in the middle of the body
    proxy.fail("assemble", RESET_AFTER)  # assembled, answer lost: found, not sent again
    events: list[UploadEvent] = []
    progress: list[int] = []
    started = time.monotonic()
    resource = upload_resource(
        via_proxy,
        dataset,
        source,
        chunk_size=4 * MiB,
        state_dir=tmp_path / "state",
        on_event=events.append,
        progress=lambda done, total: progress.append(done),
    )
    elapsed = time.monotonic() - started
    assert served(resource, udata_peer) == source.read_bytes()
    assert resource["checksum"]["value"] == hashlib.sha1(source.read_bytes()).hexdigest()
    assert resource_ids(dg, dataset) == [resource["id"]]  # the lost assembling answer made no duplicate

    parts = proxy.parts_sent()
    assert sorted(set(parts)) == list(range(16))
    assert [p for p in range(16) if parts.count(p) > 1] == [2, 5, 8, 11, 13]
    assert len(parts) == 21 and proxy.count("assemble") == 1
    done = events[-1]
    assert done.kind == "done"
    assert (done.stats.parts, done.stats.part_requests, done.stats.parts_retried) == (16, 21, 5)
    assert done.stats.parts_presumed == 1 and done.stats.restarts == 0
    assert "5 parts retried" in done.message and "1 presumed stored" in done.message
    assert [e.kind for e in events].count("presumed") == 1 and "part 9/16" in next(
        e.message for e in events if e.kind == "presumed"
    )
    assert any(e.kind == "found" for e in events)
    # progress counts acknowledged bytes: one call per part, increasing, ending at the size
    assert progress == [min((i + 1) * 4 * MiB, 64 * MiB) for i in range(16)]
    assert not list((tmp_path / "state").glob("*.json"))  # state removed on success
    assert all(udata_peer.api_key not in e.message for e in events)
    assert elapsed < 60


def test_a_part_counted_as_stored_that_was_not_restarts_under_a_new_uuid(
    via_proxy: DataGouv, proxy: FaultProxy, dataset: str, tmp_path: Path, udata_peer: Any
) -> None:
    source = random_file(tmp_path / "restart.zip", 6 * 64 * 1024)
    # Part 3: reset before forwarding (maybe stored, as far as the client can tell), then a 500 that
    # never came from udata: counted as stored, wrongly. Assembling then fails (udata: 500).
    proxy.fail("part:3", RESET_BEFORE, REFUSE_500)
    events: list[UploadEvent] = []
    resource = upload_resource(
        via_proxy, dataset, source, chunk_size=64 * 1024, state_dir=tmp_path, on_event=events.append
    )
    assert served(resource, udata_peer) == source.read_bytes()
    kinds = [e.kind for e in events]
    assert kinds.count("presumed") == 1 and kinds.count("restart") == 1 and kinds[-1] == "done"
    uuids = [s.uuid for s in proxy.seen if s.kind == "part:0"]
    assert len(set(uuids)) == 2  # every part sent again under a new id
    assert events[-1].stats.restarts == 1
    assert proxy.count("assemble") == 3 + 1  # the policy's 3 attempts, then the restarted upload's


def test_failed_parts_are_resumed_without_resending_acknowledged_ones(
    udata_peer: Any, proxy: FaultProxy, dataset: str, tmp_path: Path
) -> None:
    source = random_file(tmp_path / "resume.zip", 10 * 128 * 1024 + 5)  # 11 parts, the last 5 bytes
    proxy.fail("part:6", REFUSE_503, REFUSE_503)
    events: list[UploadEvent] = []
    common: dict[str, Any] = {
        "chunk_size": 128 * 1024,
        "state_dir": tmp_path / "s",
        "on_event": events.append,
    }
    retry = RetryPolicy(max_attempts=2, initial_backoff=0.01, jitter="none")
    with DataGouv(base_url=proxy.url, api_key=udata_peer.api_key, retry=retry) as client:
        with pytest.raises(errors.RateLimitError):
            upload_resource(client, dataset, source, **common)
        failed = events[-1]
        assert failed.kind == "failed" and "6 of 11 parts are on the server" in failed.message
        first_uuid = proxy.seen[0].uuid
        before = len(proxy.seen)
        progress: list[int] = []
        resource = upload_resource(
            client, dataset, source, resume=True, progress=lambda d, t: progress.append(d), **common
        )
    assert served(resource, udata_peer) == source.read_bytes()
    resumed = proxy.seen[before:]
    assert [s.kind for s in resumed if s.kind.startswith("part:")] == [f"part:{i}" for i in range(6, 11)]
    assert {s.uuid for s in resumed if s.uuid} == {first_uuid}
    assert progress[0] == 6 * 128 * 1024 and progress[-1] == source.stat().st_size
    resume_event = next(e for e in events if e.kind == "resume")
    assert "6 of 11 parts" in resume_event.message and events[-1].stats.parts_resumed == 6


def _interrupted(client: DataGouv, proxy: FaultProxy, dataset: str, source: Path, state_dir: Path) -> str:
    """Send parts 0-2 of `source` (64 KiB parts) and fail on part 3; the upload's uuid."""
    proxy.fail("part:3", REFUSE_503, REFUSE_503, REFUSE_503)
    with pytest.raises(errors.RateLimitError):
        upload_resource(client, dataset, source, chunk_size=64 * 1024, state_dir=state_dir)
    uuid = proxy.seen[-1].uuid
    assert uuid is not None
    return uuid


@pytest.mark.parametrize(
    "change", ["content-same-mtime", "appended", "expired", "other-chunk-size", "no-resume"]
)
def test_resume_starts_over_when_it_cannot_trust_the_parts(
    change: str, via_proxy: DataGouv, proxy: FaultProxy, dataset: str, tmp_path: Path, udata_peer: Any
) -> None:
    source = random_file(tmp_path / "changing.zip", 8 * 64 * 1024)
    old_uuid = _interrupted(via_proxy, proxy, dataset, source, tmp_path)
    chunk_size = 64 * 1024
    if change == "content-same-mtime":
        stat = source.stat()
        with open(source, "r+b") as out:
            out.write(b"X")
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    elif change == "appended":
        with open(source, "ab") as out:
            out.write(b"more")
    elif change == "expired":
        store = state_file_for(
            tmp_path, [via_proxy.config.main_api_url, dataset, "", str(source), source.name]
        )
        state = store.load()
        assert state is not None and state.parts_done == 3
        state.last_ack = time.time() - SERVER_PART_RETENTION - 60
        store.save(state)
    elif change == "other-chunk-size":
        chunk_size = 32 * 1024
    events: list[UploadEvent] = []
    resource = upload_resource(
        via_proxy,
        dataset,
        source,
        chunk_size=chunk_size,
        state_dir=tmp_path,
        resume=change != "no-resume",
        on_event=events.append,
    )
    assert served(resource, udata_peer) == source.read_bytes()
    start_over = [e.message for e in events if e.kind == "start_over"]
    expected = {
        "content-same-mtime": "content of its first 196608 bytes changed",
        "appended": "the file changed since the interrupted upload (size 524288 → 524292 bytes",
        "expired": "the server deletes parts 24 h after the last one",
        "other-chunk-size": "the part size differs (65536 then, 32768 now)",
        "no-resume": "an interrupted upload of changing.zip exists (3 of 8 parts on the server)",
    }[change]
    assert len(start_over) == 1 and expected in start_over[0], start_over
    new_parts = [s for s in proxy.seen if s.kind == "part:0" and s.uuid != old_uuid]
    assert len(new_parts) == 1 and not any(e.kind == "resume" for e in events)


def test_a_corrupted_part_fails_verification_and_resume_fixes_the_same_resource(
    via_proxy: DataGouv, proxy: FaultProxy, dg: DataGouv, dataset: str, tmp_path: Path, udata_peer: Any
) -> None:
    source = random_file(tmp_path / "corrupt.zip", 4 * 64 * 1024)
    proxy.fail("part:1", CORRUPT)
    options: dict[str, Any] = {"chunk_size": 64 * 1024, "state_dir": tmp_path}
    with pytest.raises(UploadVerificationError) as caught:
        upload_resource(via_proxy, dataset, source, **options)
    local = hashlib.sha1(source.read_bytes()).hexdigest()
    bad = caught.value.resource
    assert f"sha1 {bad['checksum']['value']} on the server, {local} here" in str(caught.value)
    assert bad["filesize"] == source.stat().st_size  # same size: only the SHA-1 tells
    assert "resume=True" in str(caught.value)
    events: list[UploadEvent] = []
    fixed = upload_resource(via_proxy, dataset, source, resume=True, on_event=events.append, **options)
    assert fixed["id"] == bad["id"] and served(fixed, udata_peer) == source.read_bytes()
    assert resource_ids(dg, dataset) == [bad["id"]]
    assert f"uploading it again into resource {bad['id']}" in events[0].message


def test_an_assembling_whose_outcome_is_unknown_is_checked_before_anything_is_resent(
    udata_peer: Any, proxy: FaultProxy, dg: DataGouv, dataset: str, tmp_path: Path
) -> None:
    source = random_file(tmp_path / "assembled.zip", 3 * 64 * 1024)
    # The assembling answer is lost and the dataset cannot be read (503 on every GET the transport tries).
    proxy.fail("assemble", RESET_AFTER)
    proxy.fail("dataset", "none", REFUSE_503, REFUSE_503, REFUSE_503)  # the first GET is the snapshot
    retry = RetryPolicy(max_attempts=3, initial_backoff=0.01, jitter="none")
    options: dict[str, Any] = {"chunk_size": 64 * 1024, "state_dir": tmp_path}
    with DataGouv(base_url=proxy.url, api_key=udata_peer.api_key, retry=retry) as client:
        with pytest.raises(errors.RateLimitError):
            upload_resource(client, dataset, source, **options)
        state = json.loads(next(tmp_path.glob("*.json")).read_text())
        assert state["phase"] == "assembling" and state["parts_done"] == 3
        events: list[UploadEvent] = []
        resource = upload_resource(client, dataset, source, resume=True, on_event=events.append, **options)
    assert proxy.count("assemble") == 1 and proxy.count("part:") == 3  # nothing sent again
    assert served(resource, udata_peer) == source.read_bytes()
    assert resource_ids(dg, dataset) == [resource["id"]]
    assert [e.kind for e in events] == ["found", "done"]


def test_a_one_request_upload_whose_answer_is_lost_is_found_not_duplicated(
    via_proxy: DataGouv, proxy: FaultProxy, dg: DataGouv, dataset: str, tmp_path: Path, udata_peer: Any
) -> None:
    source = random_file(tmp_path / "single.zip", 100_000)
    proxy.fail("single", RESET_AFTER)
    resource = upload_resource(via_proxy, dataset, source)
    assert served(resource, udata_peer) == source.read_bytes()
    assert proxy.count("single") == 1 and resource_ids(dg, dataset) == [resource["id"]]
    proxy.fail("single", REFUSE_503)  # never reached udata: sent again, a second apart
    again = upload_resource(via_proxy, dataset, source, filename="single-2.zip")
    assert again["title"] == "single-2.zip" and proxy.count("single") == 3


async def test_async_twin_retries_presumes_and_resumes_alike(
    udata_peer: Any, proxy: FaultProxy, dataset: str, tmp_path: Path
) -> None:
    source = random_file(tmp_path / "async.zip", 6 * 64 * 1024)
    proxy.fail("part:1", RESET_AFTER)
    proxy.fail("part:4", REFUSE_503, REFUSE_503)
    events: list[UploadEvent] = []
    retry = RetryPolicy(max_attempts=2, initial_backoff=0.01, jitter="none")
    options: dict[str, Any] = {"chunk_size": 64 * 1024, "state_dir": tmp_path, "on_event": events.append}
    async with AsyncDataGouv(base_url=proxy.url, api_key=udata_peer.api_key, retry=retry) as adg:
        with pytest.raises(errors.RateLimitError):
            await aupload_resource(adg, dataset, source, **options)
        before = len(proxy.seen)
        resource = await adg.resources.upload(dataset, source, resume=True, **options)
    assert served(resource, udata_peer) == source.read_bytes()
    assert [s.kind for s in proxy.seen[before:] if s.kind.startswith("part:")] == ["part:4", "part:5"]
    assert [e.kind for e in events] == ["retry", "presumed", "retry", "failed", "resume", "done"]
