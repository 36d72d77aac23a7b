"""datagouv_sdk.codegen.parameters against the "Style Examples" tables of the OpenAPI specification.

The rows are OAS 3.1.1's (section 4.8.12.4.5), which percent-encode what RFC 3986 requires (`|` as
%7C, `[`/`]` in deepObject names). OAS 3.0.3's table is the same except for two cells: label with
explode=false writes arrays and objects with "." between items, an erratum (RFC 6570's label expansion
uses ","; 3.1.1 corrected it) — those two are checked against 3.1.1. The table's `?` prefix of query
examples is the query string's own, not part of a parameter.
"""

from __future__ import annotations

from typing import Any

import pytest
from datagouv_sdk.codegen.parameters import (
    cookie_header,
    encode,
    header_value,
    path_value,
    query_pairs,
    request_target,
    to_text,
)

STRING = "blue"
ARRAY = ["blue", "black", "brown"]
OBJECT = {"R": 100, "G": 200, "B": 150}

# style, explode, empty (""), string, array, object   — OAS 3.1.1; None: n/a (undefined there)
PATH_ROWS = [
    ("matrix", False, ";color", ";color=blue", ";color=blue,black,brown", ";color=R,100,G,200,B,150"),
    ("matrix", True, ";color", ";color=blue", ";color=blue;color=black;color=brown", ";R=100;G=200;B=150"),
    ("label", False, ".", ".blue", ".blue,black,brown", ".R,100,G,200,B,150"),
    ("label", True, ".", ".blue", ".blue.black.brown", ".R=100.G=200.B=150"),
    ("simple", False, "", "blue", "blue,black,brown", "R,100,G,200,B,150"),
    ("simple", True, "", "blue", "blue,black,brown", "R=100,G=200,B=150"),
]
QUERY_ROWS = [
    ("form", False, "color=", "color=blue", "color=blue,black,brown", "color=R,100,G,200,B,150"),
    ("form", True, "color=", "color=blue", "color=blue&color=black&color=brown", "R=100&G=200&B=150"),
    ("spaceDelimited", False, None, None, "color=blue%20black%20brown", "color=R%20100%20G%20200%20B%20150"),
    ("pipeDelimited", False, None, None, "color=blue%7Cblack%7Cbrown", "color=R%7C100%7CG%7C200%7CB%7C150"),
    ("deepObject", True, None, None, None, "color%5BR%5D=100&color%5BG%5D=200&color%5BB%5D=150"),
]
VALUES = {"empty": "", "string": STRING, "array": ARRAY, "object": OBJECT}


def _cases(rows: list[tuple[Any, ...]]) -> list[Any]:
    cases = []
    for style, explode, *cells in rows:
        for (kind, value), expected in zip(VALUES.items(), cells, strict=True):
            if expected is not None:
                cases.append(pytest.param(style, explode, value, expected, id=f"{style}-{explode}-{kind}"))
    return cases


@pytest.mark.parametrize(("style", "explode", "value", "expected"), _cases(PATH_ROWS))
def test_path_styles_match_the_specification_table(
    style: str, explode: bool, value: Any, expected: str
) -> None:
    assert path_value("color", value, style, explode) == expected


@pytest.mark.parametrize(("style", "explode", "value", "expected"), _cases(QUERY_ROWS))
def test_query_styles_match_the_specification_table(
    style: str, explode: bool, value: Any, expected: str
) -> None:
    assert "&".join(query_pairs("color", value, style, explode)) == expected


@pytest.mark.parametrize(
    ("explode", "value", "expected"),
    [
        (False, STRING, "blue"),
        (False, ARRAY, "blue,black,brown"),
        (False, OBJECT, "R,100,G,200,B,150"),
        (True, OBJECT, "R=100,G=200,B=150"),
    ],
)
def test_headers_are_simple_style_and_not_percent_encoded(explode: bool, value: Any, expected: str) -> None:
    assert header_value(value, explode) == expected
    assert header_value("a b/c", explode) == "a b/c"


def test_oas_3_0_3_label_rows_differ_only_where_3_1_1_corrected_them() -> None:
    # 3.0.3 writes ".blue.black.brown" for label/explode=false arrays: an erratum of RFC 6570.
    assert path_value("color", ARRAY, "label", False) != ".blue.black.brown"
    assert path_value("color", ARRAY, "label", True) == ".blue.black.brown"


def test_percent_encoding_is_rfc_3986() -> None:
    assert encode("a b,c/é~-._") == "a%20b%2Cc%2F%C3%A9~-._"
    assert encode("a/b?c#d", allow_reserved=True) == "a/b?c%23d"  # "#" would end the query
    # a delimiter inside a value is encoded; the delimiters between values are not
    assert query_pairs("t", ["a,b", "c"], "form", False) == ["t=a%2Cb,c"]
    assert query_pairs("t", "x y", "form", True) == ["t=x%20y"]
    assert path_value("id", "a/b c?d") == "a%2Fb%20c%3Fd"


def test_values_become_text_as_the_spec_writes_them() -> None:
    import datetime
    import enum
    import uuid

    class Colour(enum.Enum):
        RED = "red"

    assert [to_text(v) for v in (True, False, None, 3, 1.5, Colour.RED)] == [
        "true",
        "false",
        "",
        "3",
        "1.5",
        "red",
    ]
    assert to_text(datetime.date(2024, 1, 31)) == "2024-01-31"
    assert to_text(uuid.UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
    assert query_pairs("on", [True, False], "pipeDelimited", False) == ["on=true%7Cfalse"]


def test_request_target_uses_each_parameters_style() -> None:
    styles = {("query", "ids"): ("form", False, False), ("path", "key"): ("matrix", True, False)}
    target = request_target(
        "/items/{key}/{id}",
        styles,
        path_params={"key": ["x", "y"], "id": "a b"},
        query={"ids": [1, 2], "tag": ["t1", "t2"], "skip": None},
    )
    assert target == "/items/;key=x;key=y/a%20b?ids=1,2&tag=t1&tag=t2"


def test_cookies_are_pairs_separated_by_semicolons() -> None:
    styles = {("cookie", "list"): ("form", False, False)}
    header = cookie_header(styles, {"session": "a b", "list": [1, 2], "many": ["x", "y"]})
    assert header == "session=a%20b; list=1,2; many=x; many=y"
