"""datagouv_sdk.masks: udata's X-Fields masks, checked and normalised before sending."""

from __future__ import annotations

import pytest
from datagouv_sdk import errors
from datagouv_sdk.masks import for_page, mask


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ("id,title", "id,title"),
        (["id", "title"], "id,title"),
        (["id", "resources{id,url}"], "id,resources{id,url}"),
        (" id , resources { id , url } ", "id,resources{id,url}"),
        ("{id,title}", "id,title"),
        ("id,organization{id,name,badges{kind}}", "id,organization{id,name,badges{kind}}"),
        ("*", "*"),
        ("data{id},next_page", "data{id},next_page"),
        ("last-modified", "last-modified"),
    ],
)
def test_masks_are_normalised(fields: str | list[str], expected: str) -> None:
    assert mask(fields) == expected


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ("", "empty"),
        ("id,", "ends with"),
        ("id,,title", "expected at character 4"),
        ("resources{id", "left unclosed"),
        ("id}", "unmatched"),
        ("id title", "unexpected ' '"),
        ("id;title", "unexpected ';'"),
        ("resources{}", "field name was expected at character 11"),
        (42, "mask string or a list"),
        (["id", 3], "mask string or a list"),
    ],
)
def test_malformed_masks_are_refused(fields: object, message: str) -> None:
    with pytest.raises(errors.UsageError, match=message):
        mask(fields)  # type: ignore[arg-type]


def test_page_masks_keep_the_pages_own_fields() -> None:
    page = ("data", "page", "page_size", "total", "next_page", "previous_page")
    assert for_page(["id", "title"], page) == "data{id,title},page,page_size,total,next_page,previous_page"
    assert for_page("id,resources{url}", [*page, "facets"]).endswith(",facets")
