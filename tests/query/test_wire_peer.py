"""Nested filters and odd column names against the real api_tabular 0.4.1, checked with SQL.

Every result is compared with the same condition written by hand in SQL and run on the peer's
PostgreSQL (the oracle), so neither our renderer nor the gateway grades itself. The `Quirk` tests
pin what upstream does with the naive forms (raw query strings, no SDK): when an upstream release
fixes one, its test fails and the workaround in `datagouv_sdk.query.wire` can be revisited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from datagouv_sdk import DataGouv
from datagouv_sdk.errors import UsageError
from datagouv_sdk.query import Condition, Query, all_of, any_of, col, format_logic, parse_logic
from datagouv_sdk.tabular import MetricsModel, TabularResource

from tests.peers.tabular import seed
from tests.peers.tabular.launcher import TabularStack
from tests.peers.tabular_fixtures import MetricsPeer, TabularPeer

TABLES = {t.name: t.parsing_table for t in seed.TABLES}


@pytest.fixture(scope="module")
def dg(tabular_peer: TabularPeer) -> Iterator[DataGouv]:
    with DataGouv(base_url="http://127.0.0.1:9/unused", tabular_url=tabular_peer.base_url) as client:
        yield client


def _stack(peer: TabularPeer) -> TabularStack:
    assert peer.stack is not None
    return peer.stack


def sql_ids(peer: TabularPeer, table: str, where: str) -> list[int]:
    rows = _stack(peer).sql(
        f"SELECT __id FROM {seed.TABULAR_SCHEMA}.{TABLES[table]} WHERE {where} ORDER BY __id"
    )
    return [int(r[0]) for r in rows]


def api_ids(dg: DataGouv, peer: TabularPeer, table: str, q: Query) -> list[int]:
    return sorted(row["__id"] for row in TabularResource(dg, peer.resources[table]).rows(q))


# ---- nested filters = SQL --------------------------------------------------------------------------

NESTED: list[tuple[str, str, Condition | list[Condition], str]] = [
    (
        "OR of ANDs",
        "odd",
        ((col("a__b") >= 4) & (col("R&D") < 3)) | ((col("prix.ttc") <= 10) & col("valeur").isnotnull()),
        """("a__b" >= 4 AND "R&D" < 3) OR ("prix.ttc" <= 10 AND valeur IS NOT NULL)""",
    ),
    (
        "AND of ORs",
        "odd",
        [any_of(col("x=y") == 3, col("x=y") == 6), any_of(col("fin_") == 0, col("taux %") > 50)],
        """("x=y" = 3 OR "x=y" = 6) AND ("fin_" = 0 OR "taux %" > 50)""",
    ),
    (
        "three levels",
        "odd",
        any_of(
            col("valeur") == "a.b",
            all_of(
                col("R&D") >= 2, any_of(col("l'apostrophe") == "d'or", col("#Code_commune_INSEE").isnull())
            ),
        ),
        """valeur = 'a.b' OR ("R&D" >= 2 AND ("l'apostrophe" = 'd''or' OR "#Code_commune_INSEE" IS NULL))""",
    ),
    (
        "isnull inside OR",
        "odd",
        col("prix.ttc").isnull() | (col("a+b") == None) | (col("Libellé accentué") == "Zoé"),
        """"prix.ttc" IS NULL OR "a+b" IS NULL OR "Libellé accentué" = 'Zoé'""",
    ),
    (
        "quoted values with dots and commas",
        "odd",
        (col("valeur") == "a,b") | (col("valeur") == "a.b") | (col("lat,lon") == "49.1,3.1"),
        """valeur IN ('a,b', 'a.b') OR "lat,lon" = '49.1,3.1'""",
    ),
    (
        "in with several items inside OR (upstream: in.((a,b)))",
        "odd",
        col("valeur").isin(["(x)", "x)", "R&D", 'say "hi"']) | (col("R&D") == 7),
        """valeur IN ('(x)', 'x)', 'R&D', 'say "hi"') OR "R&D" = 7""",
    ),
    (
        "notin inside OR",
        "odd",
        col("valeur").notin(["plain", "a.b", "k=v"]) | (col("R&D") == 0),
        """valeur NOT IN ('plain', 'a.b', 'k=v') OR "R&D" = 0""",
    ),
    (
        "one-item in inside OR",
        "odd",
        col("valeur").isin(["a,b"]) | col("valeur").notin(["(x)"]) & (col("R&D") == 1),
        """valeur = 'a,b' OR (valeur <> '(x)' AND "R&D" = 1)""",
    ),
    (
        "strictly less/greater on a quoted name inside OR",
        "odd",
        (col("prix.ttc") < 10.75) | (col("prix.ttc") > 60.25) | (col("nom (officiel)") > "nom 5.2"),
        """"prix.ttc" < 10.75 OR "prix.ttc" > 60.25 OR "nom (officiel)" > 'nom 5.2'""",
    ),
    (
        "contains inside OR",
        "odd",
        col("valeur").contains("A.B") | col("nom (officiel)").contains("3.1") | col("valeur").contains('"hi'),
        """valeur ILIKE '%a.b%' OR "nom (officiel)" ILIKE '%3.1%' OR valeur ILIKE '%"hi%'""",
    ),
    (
        "notcontains inside AND inside OR",
        "odd",
        (col("valeur").notcontains("(") & (col("fin_") == 3)) | (col("valeur") == "50%"),
        """(valeur NOT ILIKE '%(%' AND "fin_" = 3) OR valeur = '50%'""",
    ),
    (
        "values api_tabular misreads: % # & = +",
        "odd",
        any_of(*(col("valeur") == v for v in ["50%", "#tag", "%41", "k=v", "1+1", "R&D"])),
        """valeur IN ('50%', '#tag', '%41', 'k=v', '1+1', 'R&D')""",
    ),
    (
        "backslashes and apostrophes",
        "odd",
        (col("back\\slash") == "back\\slash")
        | (col("valeur") == "l'été")
        | (col('nom "court"') == 'say "hi"'),
        '"back\\slash" = \'back\\slash\' OR valeur = \'l\'\'été\' OR "nom ""court""" = \'say "hi"\'',
    ),
    (
        "differs and typed values",
        "typed",
        (col("active") == True) | (col("day") >= dt.date(2020, 6, 1)) & (col("name") != "Golf"),
        """active = true OR (day >= '2020-06-01' AND name IS DISTINCT FROM 'Golf')""",
    ),
    (
        "OR beside plain filters",
        "paged",
        [
            col("n") <= 100,
            (col("Code INSEE") == "75007") | (col("label").isin(["row 9", "row 10", "row 101"])),
        ],
        """n <= 100 AND ("Code INSEE" = '75007' OR label IN ('row 9', 'row 10', 'row 101'))""",
    ),
]


@pytest.mark.parametrize(("table", "condition", "where"), [c[1:] for c in NESTED], ids=[c[0] for c in NESTED])
def test_nested_filters_equal_sql(
    dg: DataGouv, tabular_peer: TabularPeer, table: str, condition: Condition | list[Condition], where: str
) -> None:
    conditions = condition if isinstance(condition, list) else [condition]
    q = Query().filter(*conditions)
    expected = sql_ids(tabular_peer, table, where)
    assert 0 < len(expected) < tabular_peer.rows[table], "a case must select some rows, not all"
    assert api_ids(dg, tabular_peer, table, q) == expected


@pytest.mark.parametrize(
    "condition",
    [c[2] for c in NESTED if not isinstance(c[2], list)],
    ids=[c[0] for c in NESTED if not isinstance(c[2], list)],
)
def test_the_api_text_round_trips(condition: Condition) -> None:
    assert parse_logic(format_logic(condition)) == condition


def test_cli_text_filters_equal_sql(dg: DataGouv, tabular_peer: TabularPeer) -> None:
    # the API's own syntax, as a user copies it from the documentation (dgv ... --filter 'or=(…)')
    text = 'or=(n__less.3,and("Code INSEE"__exact.75100,label__in.(row 100,"row 1,0")),n__greater.136)'
    q = Query().filter(parse_logic(text))
    assert api_ids(dg, tabular_peer, "paged", q) == sql_ids(
        tabular_peer, "paged", """n <= 3 OR ("Code INSEE" = '75100' AND label IN ('row 100')) OR n >= 136"""
    )


def test_contains_with_a_comma_inside_or_is_refused_before_sending(
    dg: DataGouv, tabular_peer: TabularPeer
) -> None:
    q = Query().filter(col("valeur").contains("a,b") | (col("R&D") == 1))
    with pytest.raises(UsageError, match=r"cannot carry in a contains inside or=\(…\)"):
        list(TabularResource(dg, tabular_peer.resources["odd"]).rows(q))
    # outside an OR the same value is fine
    alone = Query().filter(col("valeur").contains("a,b"))
    assert api_ids(dg, tabular_peer, "odd", alone) == sql_ids(tabular_peer, "odd", "valeur LIKE '%a,b%'")


# ---- every odd column name: filters, sort, columns, aggregation ----------------------------------

ODD = next(t for t in seed.TABLES if t.name == "odd")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


@pytest.mark.parametrize("name", list(seed.ODD_COLUMNS))
def test_filters_on_every_odd_column_equal_sql(dg: DataGouv, tabular_peer: TabularPeer, name: str) -> None:
    position = list(ODD.columns).index(name)
    values = [row[position] for row in ODD.rows]
    sample = next(v for v in values if v is not None)
    cases: list[tuple[Query, str]] = [
        (Query().filter(col(name) == sample), f"{_ident(name)} = {_literal(sample)}"),
        (Query().filter(col(name).isnotnull()), f"{_ident(name)} IS NOT NULL"),
        (
            Query().filter((col(name) == sample) | (col("R&D") == 5)),
            f'{_ident(name)} = {_literal(sample)} OR "R&D" = 5',
        ),
    ]
    if None in values:
        cases.append((Query().filter(col(name).isnull()), f"{_ident(name)} IS NULL"))
        cases.append(
            (Query().filter(col(name).isnull() | (col("R&D") == 5)), f'{_ident(name)} IS NULL OR "R&D" = 5')
        )
    if ODD.columns[name] in ("int", "float"):
        cases.append((Query().filter(col(name) > sample), f"{_ident(name)} > {_literal(sample)}"))
        cases.append((Query().filter(any_of(col(name) < sample)), f"{_ident(name)} < {_literal(sample)}"))
    else:
        cases.append(
            (
                Query().filter(col(name).isin([sample, "plain"])),
                f"{_ident(name)} IN ({_literal(sample)}, 'plain')",
            )
        )
        cases.append(
            (
                Query().filter(col(name).isin([sample, "plain"]) | (col("R&D") == 5)),
                f"{_ident(name)} IN ({_literal(sample)}, 'plain') OR \"R&D\" = 5",
            )
        )
    for q, where in cases:
        assert api_ids(dg, tabular_peer, "odd", q) == sql_ids(tabular_peer, "odd", where), where


@pytest.mark.parametrize("name", list(seed.ODD_COLUMNS))
def test_sort_columns_and_aggregation_on_every_odd_column(
    dg: DataGouv, tabular_peer: TabularPeer, name: str
) -> None:
    resource = TabularResource(dg, tabular_peer.resources["odd"])
    stack = _stack(tabular_peer)
    table = f"{seed.TABULAR_SCHEMA}.{TABLES['odd']}"
    # sort: the column's values in the server's order (PostgreSQL's: NULLs first when descending)
    sorted_rows = list(resource.rows(Query().sort(f"-{name}").columns(name, "__id")))
    expected = stack.sql(f"SELECT {_ident(name)}::text AS v, 1 FROM {table} ORDER BY {_ident(name)} DESC")
    assert [_text(r[name]) for r in sorted_rows] == [e[0] for e in expected]
    assert all(list(r) == [name, "__id"] for r in sorted_rows)
    # aggregation: group by the odd column, count another odd column
    grouped = list(resource.rows(Query().groupby(name).aggregate(col("R&D").count())))
    counts = stack.sql(f'SELECT {_ident(name)}::text, count("R&D") FROM {table} GROUP BY 1')
    assert sorted((_text(r[name]), r["R&D__count"]) for r in grouped) == sorted(
        (c[0], int(c[1])) for c in counts
    )


def _text(value: Any) -> str:
    """A JSON value as psql's CSV writes it (NULL empty)."""
    return "" if value is None else str(value)


# ---- upstream quirks, pinned (raw requests; api_tabular 0.4.1) ------------------------------------


def _raw(peer: TabularPeer, table: str, query: str) -> httpx.Response:
    return httpx.get(
        f"{peer.base_url}/api/resources/{peer.resources[table]}/data/?{query}&page_size=200", timeout=30
    )


def _total(response: httpx.Response) -> int:
    assert response.status_code == 200, response.text
    return int(response.json()["meta"]["total"])


class TestQuirk:
    """Each test documents one upstream behaviour that would answer wrongly or fail; the SDK's way
    around it is tested above. A failing test here means upstream changed: revisit `wire`."""

    def test_hash_in_a_name_drops_the_filter(self, tabular_peer: TabularPeer) -> None:
        # decoded "#" is forwarded raw to PostgREST: the rest of the URL becomes a fragment
        assert _total(_raw(tabular_peer, "odd", "%23Code_commune_INSEE__exact=01000")) == 48
        assert _total(_raw(tabular_peer, "odd", "%2523Code_commune_INSEE__exact=01000")) == 1  # ours

    def test_percent_escapes_in_values_are_decoded_twice(self, tabular_peer: TabularPeer) -> None:
        assert _total(_raw(tabular_peer, "odd", "valeur__exact=%2541")) == 0  # read as "A"
        assert _total(_raw(tabular_peer, "odd", "valeur__exact=%252541")) == 3  # ours: "%41"

    def test_in_inside_or_gets_double_parentheses(self, tabular_peer: TabularPeer) -> None:
        # or=(label__in.(row 1,row 2)) → "label".in.((row 1,row 2)): the list is ["(row 1", "row 2"]
        body = _raw(tabular_peer, "paged", "or=(label__in.(row%201,row%202))").json()
        assert [r["label"] for r in body["data"]] == ["row 2"]

    def test_or_splits_on_commas_inside_quotes(self, tabular_peer: TabularPeer) -> None:
        response = _raw(tabular_peer, "odd", 'or=(valeur__exact."a,b",valeur__exact.plain)')
        assert response.status_code == 400 and "could not be parsed" in response.text

    def test_quoted_name_then_strictly_less_is_a_400(self, tabular_peer: TabularPeer) -> None:
        response = _raw(tabular_peer, "odd", 'or=("prix.ttc"__strictly_less.5)')
        assert response.status_code == 400 and "prix.ttc__strictly" in response.text
        assert _total(_raw(tabular_peer, "odd", 'or=("prix.ttc"__less.5)')) == 4

    def test_quoted_contains_keeps_its_quotes(self, tabular_peer: TabularPeer) -> None:
        assert _total(_raw(tabular_peer, "odd", 'or=(valeur__exact."a.b")')) == 3
        assert _total(_raw(tabular_peer, "odd", 'or=(valeur__contains."a.b")')) == 0

    def test_columns_refuses_quoted_names(self, tabular_peer: TabularPeer) -> None:
        response = _raw(tabular_peer, "paged", "columns=%22n%22")
        assert response.status_code == 400 and "Forbidden character" in response.text
        assert _raw(tabular_peer, "paged", "columns=n,label").status_code == 200

    def test_trailing_underscore_and_double_underscore_names(self, tabular_peer: TabularPeer) -> None:
        assert _raw(tabular_peer, "odd", "fin___exact=1").status_code == 400
        assert _raw(tabular_peer, "odd", "a__b__isnull").status_code == 400  # split("__")[1] is "b"
        assert _total(_raw(tabular_peer, "odd", "a__b__exact=1")) == sql_ids_count(tabular_peer, '"a__b" = 1')

    def test_backslash_in_a_name_is_an_escape(self, tabular_peer: TabularPeer) -> None:
        response = _raw(tabular_peer, "odd", "back%5Cslash__exact=plain")
        assert response.status_code == 400 and "backslash" in response.text


def sql_ids_count(peer: TabularPeer, where: str) -> int:
    return len(sql_ids(peer, "odd", where))


def test_metrics_takes_nested_filters_too(tabular_peer: TabularPeer, metrics_peer: MetricsPeer) -> None:
    # the Metrics app shares api_tabular's parser: or=(…) works there, with the documented operators
    q = Query().filter(
        (col("metric_month") == "2023-01")
        | ((col("metric_month") >= "2024-11") & (col("monthly_visit_reuse") >= 0))
    )
    with DataGouv(base_url="http://127.0.0.1:9/unused", metrics_url=metrics_peer.base_url) as client:
        months = [row["metric_month"] for row in MetricsModel(client, "site").rows(q)]
    assert sorted(months) == ["2023-01", "2024-11", "2024-12"]
