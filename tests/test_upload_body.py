"""PartBody: a multipart body streamed from a window of a file, parsed back by the standard library's
own MIME parser (not by our code)."""

from __future__ import annotations

import asyncio
import hashlib
import os
from email import policy
from email.message import Message
from email.parser import BytesParser
from pathlib import Path

import pytest
from datagouv_sdk.upload_body import READ_SIZE, PartBody, SourceChangedError


def parse(body: PartBody, data: bytes) -> dict[str, tuple[str | None, bytes]]:
    """name -> (filename, content) of every form field."""
    assert int(body.headers["Content-Length"]) == len(data)
    head = f"Content-Type: {body.headers['Content-Type']}\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + data)
    assert message.is_multipart()
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        assert isinstance(part, Message)
        name = part.get_param("name", header="content-disposition")
        filename = part.get_param("filename", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(name, str) and isinstance(payload, bytes)
        fields[name] = (filename if isinstance(filename, str) else None, payload)
    return fields


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "source.bin"
    path.write_bytes(os.urandom(3 * READ_SIZE + 1234))
    return path


@pytest.mark.parametrize(
    ("offset", "length"), [(0, 0), (0, 10), (READ_SIZE - 3, READ_SIZE + 7), (1000, 3 * READ_SIZE + 234)]
)
def test_a_window_of_the_file_as_the_file_field(source: Path, offset: int, length: int) -> None:
    fields = {"uuid": "u-1", "partindex": "2", "chunksize": str(length)}
    body = PartBody(str(source), offset, length, fields, "data.csv", "text/csv", hashlib.sha1())
    chunks = list(body.sync_chunks())
    window = source.read_bytes()[offset : offset + length]
    parsed = parse(body, b"".join(chunks))
    assert parsed.pop("file") == ("data.csv", window)
    assert {k: v[1].decode() for k, v in parsed.items()} == fields
    assert body.complete and body.sent == length
    assert body.digest.hexdigest() == hashlib.sha1(window).hexdigest()
    assert max(len(c) for c in chunks[1:-1] or [b""]) <= READ_SIZE  # memory: one read at a time


def test_async_chunks_are_the_same_bytes(source: Path) -> None:
    def body() -> PartBody:
        return PartBody(str(source), 5, 2 * READ_SIZE, {"a": "1"}, "f.csv", "text/csv", hashlib.sha1())

    async def collect(part: PartBody) -> bytes:
        return b"".join([chunk async for chunk in part.async_chunks()])

    sync_part, async_part = body(), body()
    sync_bytes = b"".join(sync_part.sync_chunks())
    async_bytes = asyncio.run(collect(async_part))
    # the boundary is random: compare what the parser reads
    assert parse(sync_part, sync_bytes) == parse(async_part, async_bytes)


@pytest.mark.parametrize("name", ['l\'été "2024".csv', "a\\b.csv", "données brutes.csv"])
def test_file_names_are_quoted_as_browsers_do(source: Path, name: str) -> None:
    body = PartBody(str(source), 0, 10, {"filename": name}, name, "text/csv", hashlib.sha1())
    parsed = parse(body, b"".join(body.sync_chunks()))
    assert parsed["filename"][1].decode() == name  # the form field carries the name as is
    assert parsed["file"][0] == name.replace('"', "%22")  # HTML5: quotes in the header become %22


def test_a_file_that_shrank_while_sent_raises(source: Path) -> None:
    size = source.stat().st_size
    body = PartBody(str(source), size - 100, 200, {}, "f.bin", "application/octet-stream", hashlib.sha1())
    with pytest.raises(SourceChangedError, match="changed during the upload"):
        b"".join(body.sync_chunks())
    assert not body.complete and body._file is None  # closed
