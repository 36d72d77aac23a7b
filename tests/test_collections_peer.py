"""The table-driven collections against the real udata peer: every row's operations (list, search,
get, create, update, delete) on reuses, dataservices, organizations, discussions, users, topics,
posts and me, typed, with the permissions udata enforces."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from datagouv_sdk import DataGouv, errors
from datagouv_sdk.catalog import COLLECTIONS, uncovered
from datagouv_sdk.operations import catalogue

from tests.peers.udata_fixtures import UdataPeer

pytestmark = pytest.mark.peer


@pytest.fixture
def admin(udata_peer: UdataPeer) -> Iterator[DataGouv]:
    with DataGouv(base_url=udata_peer.base_url, api_key=udata_peer.admin_api_key) as client:
        yield client


def _unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("reuses", "title"),
        ("dataservices", "title"),
        ("organizations", "name"),
        ("discussions", "title"),
        ("topics", "name"),
        ("posts", "name"),
    ],
)
def test_list_get_and_search_are_typed(dg: DataGouv, udata_peer: UdataPeer, name: str, label: str) -> None:
    collection = getattr(dg, name)
    listed = list(collection.list(limit=3))
    assert listed and all(type(item).__module__.startswith("datagouv_main") for item in listed)
    one = collection.get(udata_peer.seed[name][0])
    assert one.id == udata_peer.seed[name][0] and isinstance(getattr(one, label), str)
    found = collection.search(page_size=50)
    assert udata_peer.seed[name][0] in {item.id for item in found}
    assert found.total() is not None and found.total() >= len(udata_peer.seed[name])
    assert all(buckets[0].name == "all" for buckets in found.facets().values())


def test_search_ranks_stems_and_filters(dg: DataGouv, udata_peer: UdataPeer) -> None:
    titles = [d.title for d in dg.datasets.search("Qualités de l'air")]
    assert titles == [udata_peer.seed["search_title"]]
    org = udata_peer.seed["organizations"][0]
    tag = udata_peer.seed["seed_tag"]
    in_org = dg.datasets.search(organization=org, tag=tag, page_size=5)
    assert in_org.total() == 11 and len(list(in_org)) == 11  # several pages of 5
    facets = dg.datasets.search(tag=tag).facets()
    assert {f.name: f.count for f in facets["tag"]}[tag] == 23


async def test_async_search(adg: Any, udata_peer: UdataPeer) -> None:
    pager = adg.reuses.search("peer", page_size=2)
    assert await pager.total() >= 6
    ids = [r.id async for r in pager]
    assert set(udata_peer.seed["reuses"]) <= set(ids)


def test_reuses_create_update_delete(dg: DataGouv, udata_peer: UdataPeer) -> None:
    title = _unique("Cartographie des stations")
    reuse = dg.reuses.create(
        {
            "title": title,
            "description": "Une carte des stations de vélo.",
            "url": f"https://example.org/{uuid.uuid4().hex}",
            "type": "visualization",
            "topic": "transport_and_mobility",
            "datasets": [udata_peer.seed["datasets"][0]],
        }
    )
    assert reuse.title == title
    updated = dg.reuses.update(reuse.id, {"description": "Mise à jour"})
    assert updated.description == "Mise à jour" and updated.title == title
    dg.reuses.delete(reuse.id)
    assert dg.reuses.get(reuse.id).deleted  # the owner still sees it, marked deleted


def test_discussions_start_edit_delete(dg: DataGouv, admin: DataGouv, udata_peer: UdataPeer) -> None:
    dataset = udata_peer.seed["datasets"][2]
    started = dg.discussions.create(
        {
            "title": _unique("Une question"),
            "comment": "Les données de 2023 manquent ?",
            "subject": {"class": "Dataset", "id": dataset},
        }
    )
    assert started.subject.id == dataset and len(started.discussion) == 1
    edited = admin.discussions.update(started.id, {"title": "Question reformulée"})
    assert edited.title == "Question reformulée"
    assert started.id in {d.id for d in dg.discussions.list(page_size=100)}
    admin.discussions.delete(started.id)
    with pytest.raises(errors.NotFoundError):
        dg.discussions.get(started.id)


def test_topics_create_update_delete_in_v2(dg: DataGouv) -> None:
    topic = dg.topics.create({"name": _unique("Mobilités douces"), "description": "Vélo, marche."})
    assert type(topic).__module__.startswith("datagouv_main_v2")
    renamed = dg.topics.update(topic.id, {"name": "Mobilités actives"})
    assert renamed.name == "Mobilités actives"
    dg.topics.delete(topic.id)
    with pytest.raises(errors.NotFoundError):
        dg.topics.get(topic.id)


def test_posts_need_an_admin(dg: DataGouv, admin: DataGouv) -> None:
    payload = {
        "name": _unique("Nouvelles données"),
        "slug": f"post-{uuid.uuid4().hex[:8]}",
        "headline": "h",
        "content": "Trois nouveaux jeux de données.",
    }
    with pytest.raises(errors.PermissionDeniedError):
        dg.posts.create(payload)
    post = admin.posts.create(payload)
    assert admin.posts.update(post.id, {**payload, "headline": "Mise à jour"}).headline == "Mise à jour"
    admin.posts.delete(post.id)
    with pytest.raises(errors.NotFoundError):
        admin.posts.get(post.id)


def test_users_and_me(dg: DataGouv, admin: DataGouv, udata_peer: UdataPeer) -> None:
    owner = udata_peer.seed["users"]["owner"]
    assert dg.users.get(owner).slug == dg.me.get().slug == "olivia-owner"
    with pytest.raises(errors.PermissionDeniedError):
        list(dg.users.list(limit=1))  # listing users is for sysadmins
    assert {u.id for u in admin.users.list(page_size=50)} >= set(udata_peer.seed["users"].values())
    me = dg.me.update({"about": "Open data at the Peer Organization"})
    assert me.about == "Open data at the Peer Organization"


def test_the_table_names_real_operations_and_the_rest_is_listed() -> None:
    known = {op.ref for op in catalogue()}
    for name, ops in COLLECTIONS.items():
        for op in ("list", "search", "get", "create", "update", "delete"):
            spec = getattr(ops, op)
            if spec is not None:
                api, _, rest = spec.rpartition(":")
                assert f"{api or 'main'}:{rest.split('.', 1)[1]}" in known, (name, op, spec)
    rest = uncovered()
    assert "main:list_datasets" not in rest and "main_v2:search_topics" not in rest
    assert "main:follow_dataset" in rest and len(rest) == len(set(rest)) < len(known)
