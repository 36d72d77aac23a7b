"""The generated Main API clients (v1 + v2) against the real udata 17.18.0 peer.

Reads: every GET operation of `datagouv_main` and `datagouv_main_v2` (discovered by walking the
generated packages, main_operations.py) goes through its `sync_detailed` with seeded arguments. A 200
documented with a schema must parse into that type and round-trip: `to_dict()` equals the server's
JSON (additional_properties keeps undeclared keys), so a field the model drops or reshapes fails here.
A 200 documented without a schema has its raw body checked by content type; a redirect is followed
when it stays on the peer. Operations the peer cannot answer are in main_uncovered.json, each with its
reason and the status the peer gives instead (checked, so the list stays true).

Writes: create / update / delete a dataset, a resource and a dataservice with bodies built from the
generated write models (AuthenticatedClient, X-API-KEY), then 401 without a key, 403 with another
user's key, 410 for a deleted dataset.

A parse failure is fixed in specs/patches/main*.json (with a reason), never in generated code.
"""

from __future__ import annotations

import csv
import io
import json
import typing
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit
from xml.etree import ElementTree

import datagouv_main
import datagouv_main_v2
import httpx
import pytest
from datagouv_main.api.dataservices import (
    create_dataservice,
    delete_dataservice,
    get_dataservice,
    update_dataservice,
)
from datagouv_main.api.datasets import (
    create_dataset,
    create_resource,
    delete_dataset,
    delete_resource,
    get_dataset,
    get_resource,
    update_dataset,
    update_resource,
)
from datagouv_main.models import DataserviceRead, DataserviceWrite, Dataset, DatasetWrite, Resource

from tests.contract.main_operations import GetOperation, call_arguments, discover, load_uncovered
from tests.peers.udata_fixtures import UdataPeer
from tools.specpipeline.pipeline import load_upstream, prepare

OPERATIONS = discover()
UNCOVERED = load_uncovered()
COVERED = [key for key in OPERATIONS if key not in UNCOVERED]
MIN_COVERAGE = 0.80
# Redirects that leave the peer (a resource's own URL): checked, never followed (loopback only).
EXTERNAL_REDIRECTS = {"datagouv_main.datasets.redirect_resource"}
TIMEOUT = httpx.Timeout(30)


def _client(peer: UdataPeer, package: str, key: str | None) -> Any:
    """A fresh generated client (own cookie jar: udata logs an API-key caller into a session)."""
    module = datagouv_main if package == "datagouv_main" else datagouv_main_v2
    base_url = peer.api_v1 if package == "datagouv_main" else peer.api_v2
    if key is None:
        return module.Client(base_url=base_url, timeout=TIMEOUT)
    return module.AuthenticatedClient(
        base_url=base_url, token=key, prefix="", auth_header_name="X-API-KEY", timeout=TIMEOUT
    )


# ---- what a 200 must look like


def _assert_typed(parsed: Any, expected: Any, key: str) -> None:
    """`parsed` is an instance of the documented 200 type (a model, list[Model], list[str])."""
    origin = typing.get_origin(expected)
    if origin is list:
        (item_type,) = typing.get_args(expected)
        assert isinstance(parsed, list), (
            f"{key}: 200 parsed to {type(parsed).__name__}, documented {expected}"
        )
        bad = [item for item in parsed if not isinstance(item, item_type)]
        assert not bad, f"{key}: items of {type(bad[0]).__name__}, documented {expected}"
        return
    assert isinstance(parsed, expected), (
        f"{key}: 200 parsed to {type(parsed).__name__}, documented {expected}"
    )


def _as_json(parsed: Any) -> Any:
    if isinstance(parsed, list):
        return [_as_json(item) for item in parsed]
    return parsed.to_dict() if hasattr(parsed, "to_dict") else parsed


def _first_difference(got: Any, sent: Any, where: str = "") -> str | None:
    """JSON pointer of the first place the model's to_dict() differs from the server's JSON."""
    if type(got) is not type(sent) and not (isinstance(got, (int, float)) and isinstance(sent, (int, float))):
        return f"{where or '/'}: model gives {type(got).__name__} {got!r:.80}, server sent {sent!r:.80}"
    if isinstance(sent, dict):
        for name in sorted(set(got) | set(sent)):
            if name not in got:
                return f"{where}/{name}: sent by the server, lost by the model"
            if name not in sent:
                return f"{where}/{name}: added by the model ({got[name]!r:.80}), not sent by the server"
            found = _first_difference(got[name], sent[name], f"{where}/{name}")
            if found:
                return found
        return None
    if isinstance(sent, list):
        if len(got) != len(sent):
            return f"{where or '/'}: {len(got)} items in the model, {len(sent)} sent"
        for index, (a, b) in enumerate(zip(got, sent, strict=True)):
            found = _first_difference(a, b, f"{where}/{index}")
            if found:
                return found
        return None
    return None if got == sent else f"{where or '/'}: model gives {got!r:.80}, server sent {sent!r:.80}"


def _check_raw(key: str, response: Any) -> None:
    """A 200 the spec documents without a schema: the body is what its content type says."""
    content_type = response.headers.get("content-type", "").split(";")[0].strip()
    content: bytes = response.content
    assert content, f"{key}: empty 200 body ({content_type})"
    if content_type in ("application/json", "application/ld+json"):
        json.loads(content)
    elif content_type == "text/csv":
        rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
        assert rows and rows[0] and all(rows[0]), f"{key}: CSV without a header row: {content[:200]!r}"
    elif content_type in ("application/atom+xml", "application/rdf+xml"):
        ElementTree.fromstring(content)
    elif content_type in ("application/x-turtle", "text/turtle"):
        assert "@prefix" in content.decode("utf-8"), f"{key}: Turtle without @prefix: {content[:200]!r}"
    elif content_type == "image/png":
        assert content.startswith(b"\x89PNG\r\n\x1a\n"), f"{key}: not a PNG"
    else:
        pytest.fail(f"{key}: 200 with an unreviewed content type {content_type!r}; add a check for it")


def _follow(peer: UdataPeer, key: str, response: Any, api_key: str) -> None:
    """A 302: follow it if it stays on the peer and check the target; never leave loopback."""
    location = response.headers.get("location")
    assert location, f"{key}: 302 without a Location"
    target = urljoin(peer.base_url + "/", location)
    if urlsplit(target).netloc != peer.server_name:
        assert key in EXTERNAL_REDIRECTS, f"{key}: redirects off the peer to {target}"
        assert urlsplit(target).scheme in ("http", "https"), target
        return
    answer = httpx.get(target, headers={"X-API-KEY": api_key}, timeout=TIMEOUT)
    assert answer.status_code == 200, f"{key}: {target} answered {answer.status_code}"
    _check_raw(key, answer)


# ---- the checkers themselves (no peer): they must be able to fail


def test_round_trip_check_names_what_the_model_lost_or_reshaped() -> None:
    assert _first_difference({"a": 1, "b": [1.0]}, {"a": 1, "b": [1]}) is None
    assert _first_difference({"a": 1}, {"a": 1, "b": 2}) == "/b: sent by the server, lost by the model"
    assert "model gives dict" in (_first_difference({"x": {}}, {"x": []}) or "")
    assert "2 sent" in (_first_difference([1], [1, 2]) or "")
    # What the unpatched /reports/reasons/ did: an array read as a one-pair object.
    assert _first_difference({"Spam": "spam"}, [{"label": "Spam", "value": "spam"}]) is not None


def test_type_and_raw_checks_reject_wrong_bodies() -> None:
    with pytest.raises(AssertionError, match="documented"):
        _assert_typed({"data": []}, list[Dataset], "k")
    with pytest.raises(AssertionError, match="documented"):
        _assert_typed([{"id": "x"}], list[Dataset], "k")
    weird = httpx.Response(200, headers={"content-type": "application/octet-stream"}, content=b"x")
    with pytest.raises(pytest.fail.Exception, match="unreviewed content type"):
        _check_raw("k", weird)
    with pytest.raises(json.JSONDecodeError):
        _check_raw("k", httpx.Response(200, headers={"content-type": "application/json"}, content=b"<html>"))


# ---- the reviewed list


def test_uncovered_list_names_only_real_operations() -> None:
    for key, entry in UNCOVERED.items():
        assert key in OPERATIONS, f"main_uncovered.json lists {key}, which is not a generated GET operation"
        assert entry["path"] == OPERATIONS[key].path, (key, entry["path"], OPERATIONS[key].path)
        assert entry["reason"].strip(), f"{key}: no reason"
        assert isinstance(entry["status"], int), f"{key}: no status"


def test_every_get_operation_is_covered_or_listed() -> None:
    # Both packages were walked, and every operation is in exactly one of the two sets.
    assert {op.package for op in OPERATIONS.values()} == {"datagouv_main", "datagouv_main_v2"}
    assert set(COVERED) | set(UNCOVERED) == set(OPERATIONS)
    assert not set(COVERED) & set(UNCOVERED)
    assert len(COVERED) / len(OPERATIONS) >= MIN_COVERAGE, (
        f"Main GET contract coverage {len(COVERED)}/{len(OPERATIONS)} is under {MIN_COVERAGE:.0%}"
    )


@pytest.mark.parametrize("key", sorted(UNCOVERED))
def test_uncovered_operation_still_answers_as_listed(udata_peer: UdataPeer, key: str) -> None:
    operation = OPERATIONS[key]
    (args, kwargs), *_ = call_arguments(operation, udata_peer.seed)
    response = operation.sync_detailed(
        *args, client=_client(udata_peer, operation.package, udata_peer.api_key), **kwargs
    )
    assert response.status_code == UNCOVERED[key]["status"], (
        f"{key} now answers {response.status_code}, not {UNCOVERED[key]['status']}: "
        "if it works, remove it from main_uncovered.json"
    )


# ---- every covered GET


@pytest.mark.parametrize("key", COVERED)
def test_get_operation(udata_peer: UdataPeer, key: str) -> None:
    _check_get(udata_peer, OPERATIONS[key])


# udata swaps ids for embedded objects (spatial zones and granularity, v2 license and frequency) when
# this header is sent: the patched id-or-object types must parse both.
FULL_OBJECTS = {"X-Get-Datasets-Full-Objects": "true"}
DATASET_READS = [
    "datagouv_main.datasets.get_dataset",
    "datagouv_main.datasets.list_datasets",
    "datagouv_main.me.my_datasets",
    "datagouv_main.organizations.list_organization_datasets",
    "datagouv_main_v2.datasets.get_dataset",
    "datagouv_main_v2.datasets.list_datasets",
    "datagouv_main_v2.datasets.search_datasets",
]


@pytest.mark.parametrize("key", DATASET_READS)
def test_get_operation_with_full_objects(udata_peer: UdataPeer, key: str) -> None:
    assert key in COVERED, key
    _check_get(udata_peer, OPERATIONS[key], FULL_OBJECTS)


def _check_get(peer: UdataPeer, operation: GetOperation, headers: dict[str, str] | None = None) -> None:
    """Each seeded variant answers 200 (or a redirect) and parses into the documented type, losslessly."""
    key = operation.key
    try:
        variants = call_arguments(operation, peer.seed)
    except LookupError as exc:
        pytest.fail(
            f"{key} ({operation.path}): {exc}. Teach the seed/census to fill it, or add it to "
            "tests/contract/main_uncovered.json with a reason"
        )
    owner = _client(peer, operation.package, peer.api_key).with_headers(headers or {})
    admin = _client(peer, operation.package, peer.admin_api_key).with_headers(headers or {})
    for args, kwargs in variants:
        response = operation.sync_detailed(*args, client=owner, **kwargs)
        api_key = peer.api_key
        if response.status_code in (401, 403):  # admin-only reads (reports, jobs, all transfers, ...)
            response = operation.sync_detailed(*args, client=admin, **kwargs)
            api_key = peer.admin_api_key
        where = f"{key} {operation.path} {args} {kwargs}"
        if response.status_code == 302 and not operation.has_model:
            _follow(peer, key, response, api_key)
            continue
        assert response.status_code == 200, f"{where}: {response.status_code} {response.content[:300]!r}"
        if not operation.has_model:
            _check_raw(key, response)
            continue
        assert response.parsed is not None, f"{where}: a 200 parsed to None"
        _assert_typed(response.parsed, operation.response_200, key)
        difference = _first_difference(_as_json(response.parsed), json.loads(response.content))
        assert difference is None, f"{where}: round trip: {difference}"
    assert variants, f"{key}: no argument variant to call it with"


def test_discovery_matches_the_prepared_documents() -> None:
    """Walking the generated packages finds exactly the GET operations of the documents they come from."""
    expected = set()
    for name, prefix in (("main", "/api/1"), ("main-v2", "/api/2")):
        document = prepare(name, load_upstream(name))
        expected |= {prefix + path for path, item in document["paths"].items() if "get" in item}
    assert {op.path for op in OPERATIONS.values()} == expected
    assert len(OPERATIONS) == len(expected)  # one generated function per GET, none merged


# ---- writes


@pytest.fixture(scope="module")
def owner_client(udata_peer: UdataPeer) -> Iterator[datagouv_main.AuthenticatedClient]:
    with _client(udata_peer, "datagouv_main", udata_peer.api_key) as client:
        yield client


def _dataset_body(title: str) -> DatasetWrite:
    return DatasetWrite(
        title=title,
        description="Created by the Main API contract tests",
        last_update=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        frequency="monthly",
        tags=["contract-test"],
    )


def _id(model: Dataset | Resource) -> str:
    """The id the server always sets (the spec leaves it optional: the same models serve writes)."""
    assert isinstance(model.id, str), model.id
    return model.id


def _created_dataset(client: Any, title: str) -> Dataset:
    response = create_dataset.sync_detailed(client=client, body=_dataset_body(title))
    assert response.status_code == 201, response.content[:500]
    assert isinstance(response.parsed, Dataset), response.parsed
    assert _first_difference(response.parsed.to_dict(), json.loads(response.content)) is None
    return response.parsed


def test_dataset_and_resource_lifecycle(udata_peer: UdataPeer, owner_client: Any) -> None:
    title = f"Contract dataset {uuid.uuid4().hex[:8]}"
    dataset = _created_dataset(owner_client, title)
    dataset_id = _id(dataset)
    assert dataset.title == title and dataset.frequency == "monthly"
    assert dataset.tags == ["contract-test"]

    body = _dataset_body(title + " (edited)")
    body.description = "Edited by the Main API contract tests"
    updated = update_dataset.sync_detailed(dataset_id, client=owner_client, body=body)
    assert updated.status_code == 200, updated.content[:500]
    assert isinstance(updated.parsed, Dataset)
    assert updated.parsed.title == title + " (edited)"
    assert updated.parsed.description == "Edited by the Main API contract tests"

    resource_body = Resource(
        title="Contract resource",
        url="https://example.org/contract.csv",
        filetype="remote",
        type_="main",
        format_="csv",
        description="A remote CSV",
    )
    created = create_resource.sync_detailed(dataset_id, client=owner_client, body=resource_body)
    assert created.status_code == 201, created.content[:500]
    assert isinstance(created.parsed, Resource)
    resource = created.parsed
    resource_id = _id(resource)
    assert (resource.title, resource.format_, resource.type_) == ("Contract resource", "csv", "main")

    resource_body.title = "Contract resource (edited)"
    edited = update_resource.sync_detailed(dataset_id, resource_id, client=owner_client, body=resource_body)
    assert edited.status_code == 200, edited.content[:500]
    assert isinstance(edited.parsed, Resource) and edited.parsed.title == "Contract resource (edited)"
    fetched = get_resource.sync_detailed(dataset_id, resource_id, client=owner_client)
    assert isinstance(fetched.parsed, Resource) and fetched.parsed.title == "Contract resource (edited)"

    removed = delete_resource.sync_detailed(dataset_id, resource_id, client=owner_client)
    assert removed.status_code == 204, removed.content[:300]
    assert get_resource.sync_detailed(dataset_id, resource_id, client=owner_client).status_code == 404

    deleted = delete_dataset.sync_detailed(dataset_id, client=owner_client)
    assert deleted.status_code == 204, deleted.content[:300]
    gone = get_dataset.sync_detailed(dataset_id, client=_client(udata_peer, "datagouv_main", None))
    assert gone.status_code == 410, gone.content[:300]


def test_dataservice_lifecycle(udata_peer: UdataPeer, owner_client: Any) -> None:
    title = f"Contract API {uuid.uuid4().hex[:8]}"
    body = DataserviceWrite(
        title=title,
        description="Created by the Main API contract tests",
        base_api_url="http://127.0.0.1/contract-api/",
        format_="REST",
        tags=["contract-test"],
    )
    created = create_dataservice.sync_detailed(client=owner_client, body=body)
    assert created.status_code == 201, created.content[:500]
    assert isinstance(created.parsed, DataserviceRead)
    dataservice = created.parsed
    assert dataservice.title == title and dataservice.base_api_url == "http://127.0.0.1/contract-api/"

    body.title = title + " (edited)"
    updated = update_dataservice.sync_detailed(dataservice.id, client=owner_client, body=body)
    assert updated.status_code == 200, updated.content[:500]
    assert isinstance(updated.parsed, DataserviceRead) and updated.parsed.title == title + " (edited)"

    deleted = delete_dataservice.sync_detailed(dataservice.id, client=owner_client)
    assert deleted.status_code == 204, deleted.content[:300]
    # Soft delete: its owner still reads it, stamped `deleted_at`; anyone else gets 410.
    mine = get_dataservice.sync_detailed(dataservice.id, client=owner_client)
    assert isinstance(mine.parsed, DataserviceRead) and mine.parsed.deleted_at is not None, mine.content[:300]
    gone = get_dataservice.sync_detailed(dataservice.id, client=_client(udata_peer, "datagouv_main", None))
    assert gone.status_code == 410, gone.content[:300]


def test_write_without_key_is_401(udata_peer: UdataPeer) -> None:
    anonymous = _client(udata_peer, "datagouv_main", None)
    response = create_dataset.sync_detailed(client=anonymous, body=_dataset_body("Anonymous dataset"))
    assert response.status_code == 401, response.content[:300]
    assert "message" in json.loads(response.content)


def test_write_on_another_users_object_is_403(udata_peer: UdataPeer, owner_client: Any) -> None:
    dataset = _created_dataset(owner_client, f"Contract dataset {uuid.uuid4().hex[:8]}")
    dataset_id = _id(dataset)
    try:
        other = _client(udata_peer, "datagouv_main", udata_peer.other_api_key)
        response = update_dataset.sync_detailed(dataset_id, client=other, body=_dataset_body("Hijacked"))
        assert response.status_code == 403, response.content[:300]
        assert delete_dataset.sync_detailed(dataset_id, client=other).status_code == 403
        unchanged = get_dataset.sync_detailed(dataset_id, client=owner_client)
        assert isinstance(unchanged.parsed, Dataset) and unchanged.parsed.title == dataset.title
    finally:
        assert delete_dataset.sync_detailed(dataset_id, client=owner_client).status_code == 204


def test_seeded_deleted_dataset_is_410(udata_peer: UdataPeer) -> None:
    anonymous = _client(udata_peer, "datagouv_main", None)
    response = get_dataset.sync_detailed(udata_peer.seed["deleted_dataset"], client=anonymous)
    assert response.status_code == 410, response.content[:300]
    assert response.parsed is None  # documented without a body model; the overlay maps it to an error
