"""Main API pagination against the real udata peer: page numbers, next_page, total, 404 past the end."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import pytest
from datagouv_sdk import AsyncDataGouv, DataGouv, errors
from datagouv_sdk.pagination import NumberedPage, PageInfo


def test_all_datasets_across_pages_of_5_each_once(dg: DataGouv, udata_peer: Any) -> None:
    pager = dg.datasets.list(page_size=5, raw=True)
    first = pager.first_page()
    assert isinstance(first, NumberedPage) and first.page_size == 5
    total = first.total
    assert total is not None and total >= len(udata_peer.seed["datasets"]) > 10
    pages = list(pager.iter_pages())
    assert len(pages) == -(-total // 5)
    assert pages[-1].next_page_info() is None
    ids = [d["id"] for d in dg.datasets.list(page_size=5, raw=True)]
    assert len(ids) == total == len(set(ids))
    assert set(udata_peer.seed["datasets"]) <= set(ids)


def test_typed_items_are_generated_models(dg: DataGouv, udata_peer: Any) -> None:
    items = list(dg.datasets.list(page_size=5, limit=7))
    assert len(items) == 7
    assert all(type(d).__module__.startswith("datagouv_main.models") for d in items)
    assert {d.id for d in items} <= set(dg_ids(dg))


def dg_ids(dg: DataGouv) -> list[str]:
    return [d["id"] for d in dg.datasets.list(page_size=50, raw=True)]


def test_prefetch_keeps_order_and_yields_each_once(dg: DataGouv) -> None:
    sequential = [d["id"] for d in dg.datasets.list(page_size=5, sort="-created", raw=True)]
    prefetched = [d["id"] for d in dg.datasets.list(page_size=5, sort="-created", raw=True, prefetch=4)]
    assert prefetched == sequential
    assert len(set(prefetched)) == len(prefetched)


def test_limit_and_filters(dg: DataGouv, udata_peer: Any) -> None:
    assert len(list(dg.datasets.list(limit=3, raw=True))) == 3
    org = udata_peer.seed["organizations"][0]
    org_ids = {d["id"] for d in dg.datasets.list(organization=org, raw=True)}
    assert set(udata_peer.seed["org_datasets"]) <= org_ids
    assert all(d["organization"]["id"] == org for d in dg.datasets.list(organization=org, raw=True))


def test_explicit_page_past_the_end_is_404(dg: DataGouv) -> None:
    total = dg.datasets.list(page_size=5, raw=True).first_page().total
    assert total is not None
    past = -(-total // 5) + 1
    with pytest.raises(errors.NotFoundError) as caught:
        list(dg.datasets.list(page=past, page_size=5, raw=True))
    assert caught.value.status_code == 404 and f"page={past}" in caught.value.url


def test_page_past_the_end_while_paging_ends_the_listing(dg: DataGouv, udata_peer: Any) -> None:
    # Four datasets under a tag of their own, listed 2 per page; after page 1 two are deleted, so the
    # page 2 that page 1 announced is now past the end: udata answers 404, the pager just stops.
    tag = f"pager-{uuid.uuid4().hex[:8]}"
    created = [
        dg.datasets.create({"title": f"pager {i}", "description": "d", "tags": [tag]}, raw=True)["id"]
        for i in range(4)
    ]
    try:
        # deleted=False: an owner otherwise still sees their own deleted datasets in listings.
        pages = dg.datasets.list(tag=tag, deleted=False, page_size=2, sort="created", raw=True).iter_pages()
        first = next(pages)
        assert first.next_page_info() == PageInfo(page=2) and first.total == 4
        for ident in created[2:]:
            dg.datasets.delete(ident)
        assert list(pages) == []
    finally:
        for ident in created:
            with contextlib.suppress(errors.APIStatusError):
                dg.datasets.delete(ident)


async def test_async_listing_and_prefetch(adg: AsyncDataGouv, udata_peer: Any) -> None:
    first = await adg.datasets.list(page_size=5, raw=True).first_page()
    ids = [d["id"] async for d in adg.datasets.list(page_size=5, raw=True)]
    assert len(ids) == first.total == len(set(ids))
    prefetched = [d["id"] async for d in adg.datasets.list(page_size=5, raw=True, prefetch=3)]
    assert prefetched == ids
    total = first.total
    assert total is not None
    with pytest.raises(errors.NotFoundError):
        await adg.datasets.list(page=-(-total // 5) + 1, page_size=5, raw=True).to_list()


def test_resources_listing_is_paginated_v2(dg: DataGouv, udata_peer: Any) -> None:
    dataset, expected = next(iter(udata_peer.seed["resources"].items()))
    got = [r["id"] for r in dg.resources.list(dataset, page_size=1, raw=True)]
    assert sorted(got) == sorted(expected)
