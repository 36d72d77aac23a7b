"""Interrupted exports never leave a file that looks finished: a local fault server that breaks the
body, a mocked transport that dies mid-body (what no real server does on cue), Ctrl-C mid-export."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from datagouv_sdk import DataGouv
from datagouv_sdk.errors import ResponseDecodeError, ServerError
from datagouv_sdk.export import ExportResult
from datagouv_sdk.export.files import IncompleteExportError
from datagouv_sdk.query import Query
from datagouv_sdk.retry import RetryPolicy
from datagouv_sdk.tabular import MetricsModel, TabularResource

from tests.fault_server import CloseDelimited, FaultServer, Reply, ResetMidBody, Truncated

RID = "aaaaaaaa-1111-4bbb-8222-cccccccccccc"
CSV_PATH = f"/api/resources/{RID}/data/csv/"
CSV_BODY = b"__id,name\n" + b"".join(b"%d,row %d\n" % (i, i) for i in range(1, 2001))
DATA_PATH = f"/api/resources/{RID}/data/"
JSON_PATH = f"/api/resources/{RID}/data/json/"


def page_body(
    rows: list[dict[str, object]], total: int | None, next_page: int | None = None
) -> dict[str, object]:
    meta: dict[str, object] = {"page": 1, "page_size": 200}
    if total is not None:
        meta["total"] = total
    link = f"http://x{DATA_PATH}?page={next_page}&page_size=200" if next_page else None
    return {"data": rows, "links": {"next": link, "prev": None}, "meta": meta}


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer(max_lifetime=30) as s:
        # counted exports compare with meta.total, read from /data/ first
        s.script(DATA_PATH, Reply.json(200, page_body([], 2000)))
        yield s


def export(server: FaultServer, dest: Path) -> ExportResult:
    with DataGouv(tabular_url=server.url, retry=RetryPolicy.none()) as dg:
        return TabularResource(dg, RID).export(dest, validate=False, count_rows=True)


def assert_untouched(dest: Path, before: bytes | None) -> None:
    assert not dest.with_name(dest.name + ".part").exists()
    if before is None:
        assert not dest.exists()
    else:
        assert dest.read_bytes() == before


@pytest.mark.parametrize(
    "step",
    [
        ResetMidBody(sent=CSV_BODY[:5000], declared=len(CSV_BODY)),
        Truncated(sent=CSV_BODY[:5000], declared=len(CSV_BODY)),
        CloseDelimited(body=CSV_BODY[:5003]),  # looks complete to HTTP; ends mid-row
    ],
    ids=["reset", "truncated", "close-delimited"],
)
@pytest.mark.parametrize("existing", [None, b"previous complete export\n"], ids=["new", "overwrite"])
def test_broken_body_leaves_no_final_file(
    server: FaultServer, tmp_path: Path, step: object, existing: bytes | None
) -> None:
    server.script(CSV_PATH, step)  # type: ignore[arg-type]
    dest = tmp_path / "out.csv"
    if existing is not None:
        dest.write_bytes(existing)
    with pytest.raises(ResponseDecodeError):
        export(server, dest)
    assert_untouched(dest, existing)


def test_complete_body_is_renamed(server: FaultServer, tmp_path: Path) -> None:
    server.script(CSV_PATH, Reply(200, CSV_BODY, content_type="text/csv"))
    dest = tmp_path / "out.csv"
    result = export(server, dest)
    assert dest.read_bytes() == CSV_BODY and result.rows == 2000


def test_rows_are_checked_by_default_and_fsync_is_opt_in(
    server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Counting is the completeness check, so it is on unless given up (count_rows=False: ~15 % of
    # throughput on large exports); fsync costs as much and is asked for with durable=True.
    fsyncs: list[int] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        fsyncs.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    server.script(CSV_PATH, Reply(200, CSV_BODY, content_type="text/csv"))
    with DataGouv(tabular_url=server.url) as dg:
        checked = TabularResource(dg, RID).export(tmp_path / "checked.csv", validate=False)
        assert (checked.rows, fsyncs) == (2000, [])
        unchecked = TabularResource(dg, RID).export(tmp_path / "plain.csv", validate=False, count_rows=False)
        assert (unchecked.rows, fsyncs) == (None, [])
        TabularResource(dg, RID).export(tmp_path / "d.csv", validate=False, durable=True)
        assert len(fsyncs) == 1 and (tmp_path / "d.csv").read_bytes() == CSV_BODY
    assert len(server.hits(DATA_PATH)) == 2  # one count per checked export, none for count_rows=False


def test_a_short_stream_fails_by_default(server: FaultServer, tmp_path: Path) -> None:
    server.script(DATA_PATH, Reply.json(200, page_body([], 2001)))  # the server counts one more row
    server.script(CSV_PATH, Reply(200, CSV_BODY, content_type="text/csv"))
    dest = tmp_path / "out.csv"
    with DataGouv(tabular_url=server.url) as dg, pytest.raises(IncompleteExportError):
        TabularResource(dg, RID).export(dest, validate=False)
    assert list(tmp_path.iterdir()) == []


def test_a_short_json_stream_fails_by_default(server: FaultServer, tmp_path: Path) -> None:
    # Well-formed JSON, one row short of the server's count: only counting the objects sees it.
    server.script(DATA_PATH, Reply.json(200, page_body([], 3)))
    body = b'[{"__id":1,"name":"a }"}, \n {"__id":2,"name":"[b"}]\n'
    server.script(JSON_PATH, Reply(200, body, content_type="application/json"))
    dest = tmp_path / "out.json"
    with DataGouv(tabular_url=server.url) as dg:
        with pytest.raises(IncompleteExportError, match="has 2 rows where the server counts 3"):
            TabularResource(dg, RID).export(dest, format="json", validate=False)
        assert list(tmp_path.iterdir()) == []
        server.script(DATA_PATH, Reply.json(200, page_body([], 2)))
        assert TabularResource(dg, RID).export(dest, format="json", validate=False).rows == 2
    assert dest.read_bytes() == body


def test_error_status_creates_no_file(server: FaultServer, tmp_path: Path) -> None:
    server.script(CSV_PATH, Reply.json(502, {"message": "bad gateway"}))
    dest = tmp_path / "out.csv"
    with pytest.raises(ServerError):
        export(server, dest)
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_mid_export_removes_the_part(server: FaultServer, tmp_path: Path) -> None:
    server.script(CSV_PATH, Reply(200, CSV_BODY * 20, content_type="text/csv"))
    dest = tmp_path / "out.csv"

    def interrupt(done: int, rows: int | None) -> None:
        assert dest.with_name("out.csv.part").exists() and not dest.exists()  # written as .part
        raise KeyboardInterrupt

    with DataGouv(tabular_url=server.url) as dg, pytest.raises(KeyboardInterrupt):
        TabularResource(dg, RID).export(dest, validate=False, progress=interrupt)
    assert list(tmp_path.iterdir()) == []


class _DiesMidBody(httpx.SyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        yield b"__id,monthly_visit\n1,2\n"
        raise httpx.ReadError("connection lost")


def test_mocked_transport_dying_mid_body(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/csv"}, stream=_DiesMidBody())

    dest = tmp_path / "site.csv"
    with (
        DataGouv(metrics_url="http://metrics.test", transport=httpx.MockTransport(handler)) as dg,
        pytest.raises(ResponseDecodeError, match="broke off"),
    ):
        MetricsModel(dg, "site").export(dest, validate=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("existing", [None, b"previous complete export\n"], ids=["new", "overwrite"])
def test_a_counted_stream_shorter_than_meta_total_is_an_error(
    server: FaultServer, tmp_path: Path, existing: bytes | None
) -> None:
    # a well-formed CSV that simply stops early (a server-side cut between records) looks complete
    # to HTTP and to the end-of-record check: only the count tells
    server.script(DATA_PATH, Reply.json(200, page_body([], 2001)))
    server.script(CSV_PATH, Reply(200, CSV_BODY, content_type="text/csv"))
    dest = tmp_path / "out.csv"
    if existing is not None:
        dest.write_bytes(existing)
    with pytest.raises(IncompleteExportError, match="has 2000 rows where the server counts 2001"):
        export(server, dest)
    assert_untouched(dest, existing)


@pytest.mark.parametrize("existing", [None, b"previous complete export\n"], ids=["new", "overwrite"])
def test_a_pages_export_shorter_than_meta_total_is_an_error(
    server: FaultServer, tmp_path: Path, existing: bytes | None
) -> None:
    rows = [{"__id": i, "name": f"row {i}"} for i in range(1, 4)]
    server.script(
        DATA_PATH,
        Reply.json(200, page_body(rows[:2], 5, next_page=2)),
        Reply.json(200, page_body(rows[2:], 5)),
    )
    dest = tmp_path / "out.csv"
    if existing is not None:
        dest.write_bytes(existing)
    with (
        DataGouv(tabular_url=server.url, retry=RetryPolicy.none()) as dg,
        pytest.raises(IncompleteExportError, match="has 3 rows where the server counts 5"),
    ):
        TabularResource(dg, RID).export(dest, Query().columns("__id", "name"), validate=False, via="pages")
    assert_untouched(dest, existing)


def test_a_pages_export_matching_meta_total_is_written(server: FaultServer, tmp_path: Path) -> None:
    rows = [{"__id": i, "name": f"row {i}"} for i in range(1, 4)]
    server.script(
        DATA_PATH,
        Reply.json(200, page_body(rows[:2], 3, next_page=2)),
        Reply.json(200, page_body(rows[2:], 3)),
    )
    with DataGouv(tabular_url=server.url, retry=RetryPolicy.none()) as dg:
        q = Query().columns("__id", "name")
        result = TabularResource(dg, RID).export(tmp_path / "out.csv", q, validate=False, via="pages")
    assert result.rows == 3 and (tmp_path / "out.csv").read_text().count("\n") == 4
