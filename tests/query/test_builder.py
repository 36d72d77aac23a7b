"""Query building and value encoding, without a server (the peer tests check the server agrees)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import unquote

import pytest
from datagouv_sdk.errors import UsageError
from datagouv_sdk.query import Dialect, Filter, Query, Sort, any_of, col
from datagouv_sdk.query.builder import parse_filter_expression


def plain(q: Query) -> list[Filter]:
    """q.filters, each a plain Filter (no any_of/all_of group), typed as such."""
    filters = [f for f in q.filters if isinstance(f, Filter)]
    assert len(filters) == len(q.filters), q.filters
    return filters


def test_python_operators_map_to_api_operators() -> None:
    q = Query().filter(
        col("a") == 1,
        col("b") != 2,
        col("c") <= 3,
        col("d") >= 4,
        col("e") < 5,
        col("f") > 6,
        col("g") == None,
        col("h") != None,
    )
    assert [(f.key, f.value) for f in plain(q)] == [
        ("a__exact", "1"),
        ("b__differs", "2"),
        ("c__less", "3"),
        ("d__greater", "4"),
        ("e__strictly_less", "5"),
        ("f__strictly_greater", "6"),
        ("g__isnull", None),
        ("h__isnotnull", None),
    ]


def test_keyword_filters_and_default_exact() -> None:
    q = Query().filter(price__greater=3, city="Saint-Étienne", name__CONTAINS="x")
    assert [f.key for f in plain(q)] == ["price__greater", "city__exact", "name__contains"]


def test_values_are_encoded_by_type() -> None:
    q = Query().filter(
        col("b") == True,
        col("c") == False,
        col("d") == dt.date(2024, 2, 29),
        col("t") == dt.datetime(2021, 6, 1, 8, 30),
        col("n") == Decimal("1.50"),
        col("f") >= 2.5,
    )
    assert [f.value for f in plain(q)] == [
        "true",
        "false",
        "2024-02-29",
        "2021-06-01T08:30:00",
        "1.50",
        "2.5",
    ]


def test_query_string_percent_encodes_and_keeps_bare_keys() -> None:
    q = (
        Query()
        .filter(col("Code INSEE") == "Écho accentué", col("x").isnull())
        .groupby("cat")
        .aggregate(n="sum")
    )
    qs = q.query_string(page=2, page_size=50)
    assert qs == (
        "Code%20INSEE__exact=%C3%89cho%20accentu%C3%A9&x__isnull&cat__groupby&n__sum&page=2&page_size=50"
    )
    assert "+" not in qs  # "+" would read as a space on the server


def test_in_list_items_are_quoted_so_commas_and_quotes_are_data() -> None:
    f = col("name").isin(["Bravo, with comma", 'Charlie "quoted"', "back\\slash", 3])
    assert f.value == ("Bravo, with comma", 'Charlie "quoted"', "back\\slash", "3")
    rendered = '"Bravo, with comma","Charlie \\"quoted\\"","back\\\\slash","3"'
    assert Query().filter(f).pairs() == [("name__in", rendered)]
    assert unquote(Query().filter(f).query_string()) == "name__in=" + rendered


def test_contains_escapes_like_wildcards_but_keeps_star() -> None:
    f = col("x").contains("50%_a\\b*")
    assert f.value == "50%_a\\b*"  # the tree keeps the value; the wire form escapes LIKE's characters
    assert Query().filter(f).pairs() == [("x__contains", "50\\%25\\_a\\\\b*")]


@pytest.mark.parametrize("value", ["a&b", "a=b", "a+b", "a#b", "%41", "50%", "a;b"])
def test_any_value_is_sent_and_the_ones_api_tabular_misreads_are_hidden(value: str) -> None:
    (pair,) = Query().filter(col("x") == value).pairs()
    # '%' and '#' are hidden from api_tabular (it forwards them decoded); the rest travel encoded once
    assert pair == ("x__exact", value.replace("%", "%25").replace("#", "%23"))
    assert unquote(unquote(Query().filter(col("x") == value).query_string())) == f"x__exact={value}"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: col("x") == [1], "cannot send a list"),
        (lambda: col("x").isin("abc"), "single string"),
        (lambda: col("x").isin([]), "empty list"),
        (lambda: col("x") >= float("inf") * 0, "NaN"),
        (lambda: any_of(), "at least one"),
        (lambda: any_of(col("x") == 1, "y"), "takes conditions"),  # type: ignore[arg-type]
        (lambda: (col("a") == 1) or (col("b") == 2), "combine with |"),
        (lambda: Filter.make("x", "bogus"), "unknown operator 'bogus'"),
        (lambda: Query().filter(x__sum=1), "is an aggregation"),
        (lambda: Query().filter(x__sort="asc"), r"\.sort"),
        (lambda: Query().filter("x >= 1"), "conditions like"),  # type: ignore[arg-type]
        (lambda: Query().aggregate(x="median"), "unknown aggregation"),
        (lambda: Query().sort(""), "sort expects"),
        (lambda: Query().columns("a").groupby("b").query_string(), "cannot be combined"),
        (lambda: col(""), "non-empty"),
    ],
)
def test_bad_input_is_a_usage_error_naming_the_problem(build, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError, match=message):
        build()


def test_unknown_operator_in_keyword_is_treated_as_column_name() -> None:
    # "x__bogus" is not an operator: it is the exact filter on a column called "x__bogus" (api_tabular
    # allows "__" in names); the schema check then rejects the unknown column.
    assert plain(Query().filter(x__bogus=1))[0].key == "x__bogus__exact"


def test_sort_forms() -> None:
    assert Sort.parse("-n") == Sort("n", "desc")
    assert Sort.parse("n:desc") == Sort("n", "desc")
    assert Sort.parse("n:ASC") == Sort("n", "asc")
    assert Sort.parse("a:b") == Sort("a:b", "asc")
    assert Query().sort("a").sort(col("b").desc()).pairs() == [("b__sort", "desc")]


def test_columns_are_sent_bare_to_0_4_and_quoted_for_0_3_1() -> None:
    # 0.3.2+ quotes each name itself and refuses '"'; 0.3.1 forwarded the value as PostgREST's list
    assert Query().columns("Code INSEE", "n").pairs() == [("columns", "Code INSEE,n")]
    old = Dialect.for_version("0.3.1")
    assert Query().columns("Code INSEE", "n").pairs(old) == [("columns", '"Code INSEE","n"')]


def test_raw_escape_hatch_is_sent_verbatim() -> None:
    assert Query().raw("future__op", "v").raw("bare").query_string() == "future__op=v&bare"


def test_from_params() -> None:
    q = Query.from_params({"price__greater": 3, "price__sort": "desc", "columns": "a,b"})
    assert q.pairs() == [("price__greater", "3"), ("price__sort", "desc"), ("columns", "a,b")]
    assert Query.from_params({"cat__groupby": True, "n__sum": True}).pairs() == [
        ("cat__groupby", None),
        ("n__sum", None),
    ]


def test_query_is_immutable() -> None:
    base = Query()
    derived = base.filter(a=1)
    assert base.filters == () and len(derived.filters) == 1


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("count__greater=3", "count__greater", "3"),
        ("name=Alpha", "name__exact", "Alpha"),
        ("name__isnull", "name__isnull", None),
        ('name__in=Alpha,"Bravo, with comma"', "name__in", ("Alpha", "Bravo, with comma")),
        ("label__contains=Saint Étienne", "label__contains", "Saint Étienne"),
    ],
)
def test_parse_filter_expression(text: str, key: str, value: str | tuple[str, ...] | None) -> None:
    f = parse_filter_expression(text)
    assert isinstance(f, Filter) and (f.key, f.value) == (key, value)


def test_parse_filter_expression_rejects_a_missing_value_and_keeps_equal_signs_in_values() -> None:
    with pytest.raises(UsageError, match="only isnull/isnotnull"):
        parse_filter_expression("count__greater")
    assert parse_filter_expression("label__contains=a=b") == Filter("label", "contains", "a=b")
