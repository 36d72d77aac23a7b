"""Every operator, sort, columns and aggregation against the real api_tabular 0.3.1 apps; expected
rows are computed from the seeded data (tests/peers/tabular/seed.py), not from the server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from datagouv_sdk import DataGouv
from datagouv_sdk.errors import APIStatusError, GoneError, NotFoundError, PermissionDeniedError, UsageError
from datagouv_sdk.query import Filter, Query, col
from datagouv_sdk.query.operators import TABULAR_OPERATORS
from datagouv_sdk.tabular import MetricsModel, TabularResource

from tests.peers.tabular import seed
from tests.peers.tabular_fixtures import MetricsPeer, TabularPeer

TYPED = next(t for t in seed.TABLES if t.name == "typed")
PAGED = next(t for t in seed.TABLES if t.name == "paged")
AGG = next(t for t in seed.TABLES if t.name == "aggregatable")


@pytest.fixture(scope="module")
def dg(tabular_peer: TabularPeer, metrics_peer: MetricsPeer) -> Iterator[DataGouv]:
    with DataGouv(tabular_url=tabular_peer.base_url, metrics_url=metrics_peer.base_url) as client:
        yield client


def rows_of(table: seed.Table) -> list[dict[str, Any]]:
    return [
        {"__id": i + 1, **dict(zip(table.columns, row, strict=False))} for i, row in enumerate(table.rows)
    ]


def ids_where(table: seed.Table, predicate: Callable[[dict[str, Any]], bool]) -> list[int]:
    return [r["__id"] for r in rows_of(table) if predicate(r)]


def ids(resource: TabularResource, query: Query) -> list[int]:
    return [row["__id"] for row in resource.rows(query)]


def _ci(value: Any, text: str) -> bool:
    return value is not None and text.lower() in str(value).lower()


NAMES_IN = ["Bravo, with comma", 'Charlie "quoted"', "Écho accentué"]
OPERATOR_CASES: list[tuple[str, Filter, Callable[[dict[str, Any]], bool]]] = [
    ("exact accents", col("name") == "Écho accentué", lambda r: r["name"] == "Écho accentué"),
    ("exact comma+space", col("name") == "Bravo, with comma", lambda r: r["name"] == "Bravo, with comma"),
    ("exact quotes", col("name") == 'Charlie "quoted"', lambda r: r["name"] == 'Charlie "quoted"'),
    ("differs keeps NULL", col("name") != "Alpha", lambda r: r["name"] != "Alpha"),
    ("isnull", col("count").isnull(), lambda r: r["count"] is None),
    ("isnotnull", col("count").isnotnull(), lambda r: r["count"] is not None),
    ("contains ignores case", col("name").contains("O, W"), lambda r: _ci(r["name"], "o, w")),
    ("contains accent", col("name").contains("accentu"), lambda r: _ci(r["name"], "accentu")),
    ("contains % is literal", col("name").contains("%"), lambda r: _ci(r["name"], "%")),
    ("contains _ is literal", col("name").contains("_"), lambda r: _ci(r["name"], "_")),
    ("contains * is a wildcard", col("name").contains("br*mma"), lambda r: r["name"] == "Bravo, with comma"),
    (
        "notcontains drops NULL",
        col("name").notcontains("a"),
        lambda r: r["name"] is not None and "a" not in r["name"].lower(),
    ),
    ("in with commas and quotes", col("name").isin(NAMES_IN), lambda r: r["name"] in NAMES_IN),
    (
        "notin drops NULL",
        col("name").notin(NAMES_IN),
        lambda r: r["name"] is not None and r["name"] not in NAMES_IN,
    ),
    ("in on ints", col("count").isin([1, 8, 999]), lambda r: r["count"] in (1, 8)),
    ("less is <=", col("count") <= 8, lambda r: r["count"] is not None and r["count"] <= 8),
    ("greater is >=", col("count") >= 8, lambda r: r["count"] is not None and r["count"] >= 8),
    ("strictly_less", col("count") < 8, lambda r: r["count"] is not None and r["count"] < 8),
    ("strictly_greater", col("count") > 8, lambda r: r["count"] is not None and r["count"] > 8),
    ("float less", col("score") <= -1.0, lambda r: r["score"] is not None and r["score"] <= -1.0),
    ("bool exact", col("active") == True, lambda r: r["active"] is True),
    (
        "date greater",
        col("day") >= dt.date(2020, 5, 1),
        lambda r: r["day"] is not None and r["day"] >= dt.date(2020, 5, 1),
    ),
    (
        "date in",
        col("day").isin([dt.date(2020, 1, 1), dt.date(2020, 2, 1)]),
        lambda r: r["day"] in (dt.date(2020, 1, 1), dt.date(2020, 2, 1)),
    ),
    (
        "datetime strictly_less",
        col("seen_at") < dt.datetime(2021, 6, 3, 12, 0),
        lambda r: r["seen_at"] is not None and r["seen_at"] < dt.datetime(2021, 6, 3, 12, 0),
    ),
    ("string compare", col("name") >= "India", lambda r: r["name"] is not None and r["name"] >= "India"),
    ("json isnull", col("extra").isnull(), lambda r: r["extra"] is None),
]


@pytest.mark.parametrize(
    ("case", "condition", "predicate"), OPERATOR_CASES, ids=[c[0] for c in OPERATOR_CASES]
)
def test_every_operator_matches_the_seeded_rows(
    dg: DataGouv,
    tabular_peer: TabularPeer,
    case: str,
    condition: Filter,
    predicate: Callable[[dict[str, Any]], bool],
) -> None:
    resource = TabularResource(dg, tabular_peer.resources["typed"])
    expected = ids_where(TYPED, predicate)
    assert ids(resource, Query().filter(condition)) == expected
    if case.startswith(("exact", "in with", "contains ignores")):
        assert expected, "the case must select something to prove the encoding"


def test_every_tabular_operator_is_covered() -> None:
    covered = {c[1].operator for c in OPERATOR_CASES}
    assert covered == {op for ops, _, _ in TABULAR_OPERATORS.values() for op in ops}


def test_filters_combine_with_and(dg: DataGouv, tabular_peer: TabularPeer) -> None:
    resource = TabularResource(dg, tabular_peer.resources["typed"])
    q = Query().filter(col("count") >= 0, col("active") == True)
    assert ids(resource, q) == ids_where(TYPED, lambda r: (r["count"] or -1) >= 0 and r["active"] is True)


def test_column_names_with_spaces_filter_select_and_page(dg: DataGouv, tabular_peer: TabularPeer) -> None:
    resource = TabularResource(dg, tabular_peer.resources["paged"])
    q = Query().filter(col("Code INSEE").contains("7510")).columns("Code INSEE", "n")
    rows = list(resource.rows(q, page_size=7))  # several pages
    assert [r["n"] for r in rows] == [r["n"] for r in rows_of(PAGED) if "7510" in r["Code INSEE"]]
    assert all(set(r) == {"Code INSEE", "n"} for r in rows)
    assert resource.count(q) == len(rows) > 7


def test_paging_reads_every_row_once(dg: DataGouv, tabular_peer: TabularPeer) -> None:
    resource = TabularResource(dg, tabular_peer.resources["paged"])
    assert ids(resource, Query()) == list(range(1, tabular_peer.rows["paged"] + 1))


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_sort_orders_and_places_nulls_like_postgresql(
    dg: DataGouv, tabular_peer: TabularPeer, direction: str
) -> None:
    resource = TabularResource(dg, tabular_peer.resources["typed"])
    got = [r["count"] for r in resource.rows(Query().sort(f"count:{direction}"))]
    values = sorted(r["count"] for r in rows_of(TYPED) if r["count"] is not None)
    nulls = [None] * sum(1 for r in rows_of(TYPED) if r["count"] is None)
    assert got == (values + nulls if direction == "asc" else nulls + values[::-1])


def test_typed_rows_convert_every_type(dg: DataGouv, tabular_peer: TabularPeer) -> None:
    resource = TabularResource(dg, tabular_peer.resources["typed"])
    rows = list(resource.rows(Query(), typed=True))
    assert [{k: v for k, v in r.items()} for r in rows] == rows_of(TYPED)


def test_aggregation_on_an_allowed_resource(dg: DataGouv, tabular_peer: TabularPeer) -> None:
    resource = TabularResource(dg, tabular_peer.resources["aggregatable"])
    q = (
        Query()
        .groupby("category")
        .aggregate(
            col("amount").sum(),
            col("amount").count(),
            col("amount").min(),
            col("amount").max(),
            col("ratio").avg(),
        )
    )
    got = {r["category"]: r for r in resource.rows(q)}
    for category in ("fruit", "vegetable", "grain"):
        amounts = [r["amount"] for r in rows_of(AGG) if r["category"] == category]
        ratios = [r["ratio"] for r in rows_of(AGG) if r["category"] == category]
        row = got[category]
        assert (row["amount__sum"], row["amount__count"], row["amount__min"], row["amount__max"]) == (
            sum(amounts),
            len(amounts),
            min(amounts),
            max(amounts),
        )
        assert row["ratio__avg"] == pytest.approx(sum(ratios) / len(ratios))
    assert resource.count(q) is None  # the server omits total for aggregations


def test_aggregation_refused_before_sending_and_by_the_server(
    dg: DataGouv, tabular_peer: TabularPeer
) -> None:
    resource = TabularResource(dg, tabular_peer.resources["typed"])
    q = Query().groupby("name").aggregate(count="sum")
    with pytest.raises(UsageError, match="aggregation-exceptions"):
        resource.rows(q)
    with pytest.raises(PermissionDeniedError, match="Unauthorized parameters"):
        list(resource.rows(q, validate=False))


def test_aggregation_type_rules(dg: DataGouv, tabular_peer: TabularPeer) -> None:
    resource = TabularResource(dg, tabular_peer.resources["aggregatable"])
    with pytest.raises(
        UsageError, match=r"'sum' is not allowed on column 'category' \(string\); allowed: groupby, count"
    ):
        resource.rows(Query().aggregate(category="sum"))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (Query().filter(nope=1), r"unknown column 'nope'.*'name', 'count'"),
        (
            Query().filter(count__contains=3),
            r"'contains' is not allowed on column 'count' \(int\).*allowed: isnull",
        ),
        (
            Query().filter(extra__exact="{}"),
            r"'exact' is not allowed on column 'extra' \(json\).*; allowed: isnull, isnotnull$",
        ),
        (Query().filter(day__contains="2020"), r"'contains' is not allowed on column 'day' \(date\)"),
        (Query().filter(active__in=[True]), r"'in' is not allowed on column 'active' \(bool\)"),
        (Query().sort("extra"), "cannot be sorted"),
        (Query().columns("name", "ghost"), "unknown column 'ghost'"),
    ],
)
def test_validation_errors_list_what_is_allowed(
    dg: DataGouv, tabular_peer: TabularPeer, query: Query, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        TabularResource(dg, tabular_peer.resources["typed"]).rows(query)


def test_what_validation_prevents_really_fails_on_the_server(dg: DataGouv, tabular_peer: TabularPeer) -> None:
    # The per-resource swagger advertises contains on dates; PostgreSQL refuses it.
    resource = TabularResource(dg, tabular_peer.resources["typed"])
    assert "contains" in resource.swagger_schema().columns["day"].operators
    assert "contains" not in resource.columns["day"].operators
    with pytest.raises(APIStatusError, match="operator does not exist"):
        list(resource.rows(Query().filter(day__contains="2020"), validate=False))


def test_swagger_agrees_with_profile_schema_elsewhere(dg: DataGouv, tabular_peer: TabularPeer) -> None:
    resource = TabularResource(dg, tabular_peer.resources["typed"])
    from_swagger = resource.swagger_schema().columns
    from_profile = resource.columns
    assert set(from_swagger) == set(TYPED.columns)
    for name in TYPED.columns:
        advertised = set(from_swagger[name].operators)
        if from_profile[name].python_type in ("date", "datetime"):
            advertised -= {"contains", "notcontains"}
        assert advertised == set(from_profile[name].operators), name
        assert from_swagger[name].sortable == from_profile[name].sortable


def test_profile_is_cached_per_client(dg: DataGouv, tabular_peer: TabularPeer) -> None:
    rid = tabular_peer.resources["typed"]
    assert TabularResource(dg, rid).profile() is TabularResource(dg, rid).profile()
    with DataGouv(tabular_url=tabular_peer.base_url) as other:
        assert TabularResource(other, rid).profile() is not TabularResource(dg, rid).profile()


def test_deleted_and_missing_resources(dg: DataGouv, tabular_peer: TabularPeer) -> None:
    with pytest.raises(GoneError, match="permanently deleted"):
        TabularResource(dg, tabular_peer.resources["deleted"]).schema()
    with pytest.raises(NotFoundError):
        TabularResource(dg, tabular_peer.resources["missing"]).rows(Query())


# --- Metrics ---------------------------------------------------------------------------------------

DATASETS_COLUMNS, DATASETS_ROWS = seed.METRIC_TABLES["datasets"]


def metric_rows() -> list[dict[str, Any]]:
    return [
        {"__id": i + 1, **dict(zip(DATASETS_COLUMNS, row, strict=False))}
        for i, row in enumerate(DATASETS_ROWS)
    ]


METRIC_CASES = [
    (
        "exact",
        Query().filter(dataset_id="5d0b7a5e8b4c41597a1b2c02"),
        lambda r: r["dataset_id"] == "5d0b7a5e8b4c41597a1b2c02",
    ),
    ("contains", Query().filter(metric_month__contains="2024-0"), lambda r: "2024-0" in r["metric_month"]),
    ("less", Query().filter(monthly_visit__less=12), lambda r: r["monthly_visit"] <= 12),
    ("greater", Query().filter(monthly_visit__greater=52), lambda r: r["monthly_visit"] >= 52),
]


@pytest.mark.parametrize(("case", "query", "predicate"), METRIC_CASES, ids=[c[0] for c in METRIC_CASES])
def test_metrics_operators(
    dg: DataGouv, case: str, query: Query, predicate: Callable[[dict[str, Any]], bool]
) -> None:
    got = [r["__id"] for r in MetricsModel(dg, "datasets").rows(query)]
    assert got == [r["__id"] for r in metric_rows() if predicate(r)]
    assert got


def test_metrics_sort_and_paging(dg: DataGouv, metrics_peer: MetricsPeer) -> None:
    got = [
        r["monthly_visit"]
        for r in MetricsModel(dg, "datasets").rows(Query().sort("-monthly_visit"), page_size=10)
    ]
    assert got == sorted((r["monthly_visit"] for r in metric_rows()), reverse=True)
    assert len(got) == metrics_peer.rows["datasets"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            Query().filter(dataset_id__in=["x"]),
            "'in' is not offered by the Metrics API; allowed: exact, contains, less, greater",
        ),
        (
            Query().filter(visits=1),
            r"unknown column 'visits' in metrics model 'datasets'; columns: __id, dataset_id",
        ),
        (Query().groupby("dataset_id"), "no aggregation"),
    ],
)
def test_metrics_validation(dg: DataGouv, query: Query, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        MetricsModel(dg, "datasets").rows(query)
