"""Upload a file as a dataset resource, or replace a resource's file, through the Main API.

    from datagouv_sdk.uploads import upload_resource
    resource = upload_resource(dg, dataset_id, "data.csv")                       # new resource
    resource = upload_resource(dg, dataset_id, "v2.csv", resource=resource["id"])  # replace its file
    upload_resource(dg, dataset_id, "big.csv", chunk_size=8 << 20,
                    progress=lambda sent, total: print(sent, "/", total))

What the server (udata, `core/storages/api.py: handle_upload`) expects, on
``POST /api/1/datasets/{dataset}/upload/`` (new resource, 201) and
``POST /api/1/datasets/{dataset}/resources/{rid}/upload/`` (replace, 200):

- one request: multipart field ``file``;
- chunked (``totalparts`` > 1): one request per part with ``file`` (the part), ``uuid`` (ours, shared
  by the parts), ``filename``, ``partindex`` (0-based), ``totalparts`` and ``chunksize`` (the part's
  exact size, checked by the server) — each answered ``200 {"success": true}`` — then one last request
  with the same fields and no ``file``, which assembles the parts and answers with the resource.

udata stores a file at ``<dataset slug>/<UTC second>/<normalised file name>`` and refuses to overwrite:
uploading two files of the same name to the same dataset within the same second answers 500
(``flask_storage.errors.FileExists`` on the server). Seen on udata 17.18; not retried here (POST).

A file that fits in one chunk is sent in one request. Parts are read one at a time (one chunk in
memory). POST is never retried after the request may have reached the server (see retry.py), so a
failed part raises; the server keeps the parts already received until the upload is assembled.

Public names: `upload_resource`, `aupload_resource`, `DEFAULT_CHUNK_SIZE`, `UploadFailedError`,
`UploadProgress` (``(bytes_sent, total_bytes) -> None``).
"""

from __future__ import annotations

import asyncio
import math
import mimetypes
import os
import uuid as _uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

import attrs

from datagouv_sdk import errors

if TYPE_CHECKING:
    import httpx

    from datagouv_sdk.client import AsyncDataGouv, DataGouv

__all__ = ["DEFAULT_CHUNK_SIZE", "UploadFailedError", "UploadProgress", "aupload_resource", "upload_resource"]

# Files above this size are sent in parts of this size (udata's own web uploader uses 2 MB parts;
# bigger parts mean fewer round trips for scripts).
DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024

UploadProgress = Callable[[int, int], None]


class UploadFailedError(errors.DataGouvError):
    """The server answered a part with ``{"success": false, "error": ...}`` and a 2xx status."""


@attrs.frozen
class _Plan:
    path: str
    filename: str
    size: int
    chunk_size: int
    mime: str

    @property
    def parts(self) -> int:
        return max(1, math.ceil(self.size / self.chunk_size))


def _plan(path: str | os.PathLike[str], filename: str | None, chunk_size: int | None) -> _Plan:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise errors.UsageError(f"{path!r} is not a file")
    if chunk_size is not None and chunk_size <= 0:
        raise errors.UsageError(f"chunk_size must be a positive number of bytes, got {chunk_size}")
    name = filename or os.path.basename(path)
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return _Plan(path, name, os.path.getsize(path), chunk_size or DEFAULT_CHUNK_SIZE, mime)


def _endpoint(dataset: str, resource: str | None) -> str:
    if not dataset:
        raise errors.UsageError("a dataset id or slug is required")
    if resource is None:
        return f"datasets/{dataset}/upload/"
    return f"datasets/{dataset}/resources/{resource}/upload/"


def _parts(plan: _Plan, file: BinaryIO) -> Iterator[tuple[int, bytes]]:
    for index in range(plan.parts):
        data = file.read(plan.chunk_size)
        yield index, data


def _chunk_form(plan: _Plan, upload_id: str, index: int | None, size: int | None) -> dict[str, str]:
    form = {"uuid": upload_id, "filename": plan.filename, "totalparts": str(plan.parts)}
    if index is not None and size is not None:
        form.update(partindex=str(index), chunksize=str(size))
    return form


def _resource(response: httpx.Response) -> dict[str, Any]:
    errors.raise_for_status(response)
    body = errors.decode_json(response)
    if not isinstance(body, dict):
        raise errors.ResponseDecodeError("the upload answer is not a JSON object", response=response)
    return body


def _part_done(response: httpx.Response, index: int) -> None:
    errors.raise_for_status(response)
    body = errors.decode_json(response)
    if not (isinstance(body, dict) and body.get("success") is True):
        detail = body.get("error") if isinstance(body, dict) else body
        raise UploadFailedError(f"part {index} was refused by the server: {detail}")


def upload_resource(
    dg: DataGouv,
    dataset: str,
    path: str | os.PathLike[str],
    *,
    resource: str | None = None,
    filename: str | None = None,
    chunk_size: int | None = None,
    progress: UploadProgress | None = None,
) -> dict[str, Any]:
    """Upload ``path`` as a new resource of ``dataset`` (or as the new file of ``resource``).

    Returns the resource as the server describes it (a dict: ``id``, ``title``, ``url``,
    ``filesize``, ``checksum`` …). Needs an API key with edit rights on the dataset.
    """
    plan = _plan(path, filename, chunk_size)
    url = _endpoint(dataset, resource)
    http = dg.http("main")
    with open(plan.path, "rb") as file:
        if plan.parts == 1:
            response = http.post(url, files={"file": (plan.filename, file, plan.mime)})
            result = _resource(response)
            if progress is not None:
                progress(plan.size, plan.size)
            return result
        upload_id = str(_uuid.uuid4())
        sent = 0
        for index, data in _parts(plan, file):
            form = _chunk_form(plan, upload_id, index, len(data))
            response = http.post(url, data=form, files={"file": (plan.filename, data, plan.mime)})
            _part_done(response, index)
            sent += len(data)
            if progress is not None:
                progress(sent, plan.size)
    return _resource(http.post(url, data=_chunk_form(plan, upload_id, None, None)))


async def aupload_resource(
    dg: AsyncDataGouv,
    dataset: str,
    path: str | os.PathLike[str],
    *,
    resource: str | None = None,
    filename: str | None = None,
    chunk_size: int | None = None,
    progress: UploadProgress | None = None,
) -> dict[str, Any]:
    """The async twin of `upload_resource`. Each part is read in a worker thread (a slow disk never
    blocks the event loop)."""
    plan = _plan(path, filename, chunk_size)
    url = _endpoint(dataset, resource)
    http = dg.http("main")
    if plan.parts == 1:
        # httpx's async multipart takes bytes, not a sync file: a single part fits in memory by definition.
        content = await asyncio.to_thread(_read_part, plan, 0)
        result = _resource(await http.post(url, files={"file": (plan.filename, content, plan.mime)}))
        if progress is not None:
            progress(plan.size, plan.size)
        return result
    upload_id = str(_uuid.uuid4())
    sent = 0
    for index in range(plan.parts):
        data = await asyncio.to_thread(_read_part, plan, index)
        form = _chunk_form(plan, upload_id, index, len(data))
        _part_done(await http.post(url, data=form, files={"file": (plan.filename, data, plan.mime)}), index)
        sent += len(data)
        if progress is not None:
            progress(sent, plan.size)
    return _resource(await http.post(url, data=_chunk_form(plan, upload_id, None, None)))


def _read_part(plan: _Plan, index: int) -> bytes:
    with open(plan.path, "rb") as file:
        file.seek(index * plan.chunk_size)
        return file.read(plan.chunk_size)
