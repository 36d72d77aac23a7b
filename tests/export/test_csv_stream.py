"""CSV record counting and lazy rows over arbitrary chunk boundaries (a quoted newline, a multi-byte
character or a doubled quote split across chunks), sync and async, checked against csv.reader."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import httpx
import pytest
from datagouv_sdk.export.files import _RecordCounter, aiter_csv_rows, iter_csv_lines, iter_csv_rows

CSV_TEXT = (
    "__id,name,note\n"
    '1,"Bravo, with comma","two\nlines"\n'
    '2,"Charlie ""quoted""",Écho accentué\n'
    '3,,"a ""quoted\n\nnewline"" in"\n'
    "4,plain,end\n"
)
CSV_BYTES = CSV_TEXT.encode("utf-8")
EXPECTED = list(csv.DictReader(io.StringIO(CSV_TEXT, newline="")))


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64, 4096])
def test_record_counter_matches_csv_reader(size: int) -> None:
    counter = _RecordCounter()
    for chunk in chunked(CSV_BYTES + b"\n", size):  # api_tabular appends a blank line
        counter.feed(chunk)
    assert counter.data_rows() == len(EXPECTED) == 4


def test_record_counter_unterminated_and_empty() -> None:
    counter = _RecordCounter()
    counter.feed(b"a,b\n1,2")
    assert counter.data_rows() == 1
    assert _RecordCounter().data_rows() == 0


@pytest.mark.parametrize("size", [1, 3, 7, 4096])
def test_lines_decode_across_chunks(size: int) -> None:
    assert "".join(iter_csv_lines(chunked(CSV_BYTES, size))) == CSV_TEXT


def _client(size: int, async_: bool) -> httpx.Client | httpx.AsyncClient:
    class Stream(httpx.SyncByteStream, httpx.AsyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield from chunked(CSV_BYTES, size)

        async def __aiter__(self):  # type: ignore[no-untyped-def]
            for chunk in chunked(CSV_BYTES, size):
                yield chunk

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/csv"}, stream=Stream())

    transport = httpx.MockTransport(handler)
    if async_:
        return httpx.AsyncClient(transport=transport, base_url="http://t.test")
    return httpx.Client(transport=transport, base_url="http://t.test")


@pytest.mark.parametrize("size", [1, 2, 5, 4096])
def test_sync_rows_across_chunks(size: int) -> None:
    client = _client(size, async_=False)
    assert isinstance(client, httpx.Client)
    with client:
        assert list(iter_csv_rows(client, "/x.csv", chunk_size=size)) == EXPECTED


@pytest.mark.parametrize("size", [1, 2, 5, 4096])
async def test_async_rows_across_chunks(size: int) -> None:
    client = _client(size, async_=True)
    assert isinstance(client, httpx.AsyncClient)
    async with client:
        assert [row async for row in aiter_csv_rows(client, "/x.csv", chunk_size=size)] == EXPECTED
