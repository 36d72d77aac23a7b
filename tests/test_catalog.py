"""The table-driven catalog collections (`datagouv_sdk.catalog`): rows, accessors, id checks before any
request, the requests each operation sends, and `resources.upload(filename=)`; over a MockTransport."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from datagouv_sdk import AsyncDataGouv, DataGouv, RetryPolicy, errors
from datagouv_sdk.catalog import COLLECTIONS, AsyncResources, Ops, Resources, _Accessor
from datagouv_sdk.client import _DataGouvBase

DATASET = {"id": "d1", "title": "t", "resources": []}


class Recorder:
    """Answers like udata would for the few shapes used here, and keeps every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        request.read()
        if request.method == "DELETE":
            return httpx.Response(204)
        if request.url.path.endswith("/upload/") and b'name="partindex"' in request.content:
            return httpx.Response(200, json={"success": True})
        if request.url.path.endswith("/upload/"):
            return httpx.Response(201, json={"id": "r1", "title": "f", "filesize": 4})
        if "/resources/" in request.url.path or request.url.path.endswith("/resources/"):
            return httpx.Response(200, json={"id": "r1", "title": "f", "url": "http://x.test/f"})
        return httpx.Response(200, json=DATASET)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def dg(recorder: Recorder) -> Iterator[DataGouv]:
    with DataGouv(
        base_url="http://main.test", retry=RetryPolicy.none(), transport=httpx.MockTransport(recorder)
    ) as client:
        yield client


def test_every_row_has_one_accessor_on_both_clients() -> None:
    accessors = {name for name, value in vars(_DataGouvBase).items() if isinstance(value, _Accessor)}
    assert accessors == set(COLLECTIONS)


def test_rows_named_by_convention_spell_out_the_generated_operations() -> None:
    assert COLLECTIONS["reuses"] == Ops(
        ("reuse",),
        list="reuses.list_reuses",
        search="main_v2:reuses.search_reuses",
        get="reuses.get_reuse",
        create="reuses.create_reuse",
        update="reuses.update_reuse",
        delete="reuses.delete_reuse",
    )
    assert COLLECTIONS["users"].search is None and COLLECTIONS["users"].get == "users.get_user"
    topics = COLLECTIONS["topics"]  # v2 only, its listing under another name
    assert (topics.list, topics.get) == ("main_v2:topics.get_topics_api", "main_v2:topics.get_topic")


def test_accessors_build_each_collection_once_with_its_class(dg: DataGouv) -> None:
    assert dg.datasets is dg.datasets
    assert isinstance(dg.resources, Resources)
    assert repr(dg.organizations) == "<dg.organizations>"
    adg = AsyncDataGouv(base_url="http://main.test")
    assert isinstance(adg.resources, AsyncResources) and adg.datasets is adg.datasets


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda dg: dg.resources.get("only-the-dataset"), "takes 2 id(s) (dataset, resource), got 1"),
        (lambda dg: dg.datasets.get("a", "b"), "takes 1 id(s) (dataset), got 2"),
        (lambda dg: dg.datasets.create(), "needs a payload"),
        (lambda dg: dg.resources.create({"title": "no dataset"}), "takes 1 id(s) (dataset), got 0"),
        (lambda dg: dg.resources.list(), "takes 1 id(s) (dataset), got 0"),
        (lambda dg: dg.me.delete(), "dg.me has no delete"),
        (lambda dg: dg.users.search("olivia"), "dg.users has no search"),
        (lambda dg: dg.resources.search(), "dg.resources has no search"),
    ],
)
def test_wrong_ids_or_missing_operations_are_usage_errors_before_any_request(
    dg: DataGouv, recorder: Recorder, call: Any, message: str
) -> None:
    with pytest.raises(errors.UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(dg)
    assert recorder.requests == []


def test_each_operation_sends_its_request(dg: DataGouv, recorder: Recorder) -> None:
    dg.datasets.update("d1", {"description": "new"}, raw=True)
    dg.resources.update("d1", "r1", {"title": "renamed"}, raw=True)
    dg.resources.delete("d1", "r1")
    sent = [(r.method, r.url.path, json.loads(r.content) if r.content else None) for r in recorder.requests]
    assert sent == [
        ("PUT", "/api/1/datasets/d1/", {"description": "new"}),
        ("PUT", "/api/1/datasets/d1/resources/r1/", {"title": "renamed"}),
        ("DELETE", "/api/1/datasets/d1/resources/r1/", None),
    ]


async def test_async_collections_send_the_same_requests(recorder: Recorder) -> None:
    async with AsyncDataGouv(
        base_url="http://main.test", retry=RetryPolicy.none(), transport=httpx.MockTransport(recorder)
    ) as adg:
        await adg.datasets.update("d1", {"description": "new"}, raw=True)
        await adg.resources.update("d1", "r1", {"title": "renamed"}, raw=True)
        await adg.resources.delete("d1", "r1")
        with pytest.raises(errors.UsageError, match="takes 2 id"):
            await adg.resources.get("d1")
    assert [(r.method, r.url.path) for r in recorder.requests] == [
        ("PUT", "/api/1/datasets/d1/"),
        ("PUT", "/api/1/datasets/d1/resources/r1/"),
        ("DELETE", "/api/1/datasets/d1/resources/r1/"),
    ]


def test_resources_upload_passes_filename(dg: DataGouv, recorder: Recorder, tmp_path: Path) -> None:
    path = tmp_path / "local-name.csv"
    path.write_text("a\n1\n")
    resource = dg.resources.upload("d1", path, filename="published.csv")
    assert resource["id"] == "r1"
    body = recorder.requests[-1].content
    assert b'filename="published.csv"' in body and b"local-name" not in body


async def test_async_resources_upload_passes_filename(recorder: Recorder, tmp_path: Path) -> None:
    path = tmp_path / "local-name.csv"
    path.write_text("a\n1\n")
    async with AsyncDataGouv(base_url="http://main.test", transport=httpx.MockTransport(recorder)) as adg:
        await adg.resources.upload("d1", path, filename="published.csv", chunk_size=2)
    # chunked: every part and the final assembling request name the file (the GET before assembling
    # notes the dataset's resources, to recognise the new one if the answer is lost)
    posts = [r for r in recorder.requests if r.method == "POST"]
    assert all(b"published.csv" in r.content for r in posts)
    assert len(posts) == 3  # 2 parts of 2 bytes + the final request


def test_with_options_keeps_the_class_and_shares_the_pool(dg: DataGouv, recorder: Recorder) -> None:
    class Mine(DataGouv):
        pass

    mine = Mine(base_url="http://main.test", transport=httpx.MockTransport(recorder))
    copy = mine.with_options(retry=RetryPolicy.none())
    assert type(copy) is Mine and copy.config.retry == RetryPolicy.none()
    copy.datasets.get("d1", raw=True)
    copy.close()
    mine.datasets.get("d1", raw=True)  # the pool the copy used is still open
    mine.close()
    with pytest.raises(errors.UsageError, match="this Mine client is closed"):
        mine.http()
