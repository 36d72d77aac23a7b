"""The api_tabular peer behaves like the live Tabular and Metrics APIs where the SDK depends on it.

Raw httpx only. Query strings are written out by hand: api_tabular reads its filters from the raw
query string, and aggregators/null tests are bare keys (`col__groupby`, `col__isnull`) — sending
them as `col__groupby=` is a different (rejected) request.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.peers.tabular import seed
from tests.peers.tabular.launcher import TabularStack
from tests.peers.tabular_fixtures import MetricsPeer, TabularPeer


def _get(url: str, query: str = "") -> httpx.Response:
    return httpx.get(f"{url}?{query}" if query else url, timeout=30)


def _data_url(peer: TabularPeer, name: str, suffix: str = "") -> str:
    return f"{peer.base_url}/api/resources/{peer.resources[name]}/data/{suffix}"


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"errors"}, body
    for error in body["errors"]:
        assert set(error) == {"code", "title", "detail"}, error
    return list(body["errors"])


def _typed_column(name: str) -> list[Any]:
    table = next(t for t in seed.TABLES if t.name == "typed")
    position = list(table.columns).index(name)
    return [row[position] for row in table.rows]


# ---- health and the 0.3.1 → 0.4.1 changes (tests/peers/test_tabular_0_3_1.py pins the old shapes)


def test_health_reports_uptime_since(tabular_peer: TabularPeer, metrics_peer: MetricsPeer) -> None:
    for base_url in (tabular_peer.base_url, metrics_peer.base_url):
        body = _get(f"{base_url}/health/").json()
        assert set(body) == {"status", "version", "uptime_since"}  # 0.3.1: uptime_seconds (a float)
        assert body["status"] == "ok" and body["version"] == "0.4.1" == tabular_peer.version
        started = dt.datetime.fromisoformat(body["uptime_since"])
        assert started.tzinfo is not None and started <= dt.datetime.now(dt.UTC)


def test_aggregation_exceptions_is_the_global_flag_and_the_list(tabular_peer: TabularPeer) -> None:
    response = _get(f"{tabular_peer.base_url}/api/aggregation-exceptions/")
    assert response.status_code == 200
    # 0.3.1: a bare array; 0.3.2 renamed the list ALLOW_AGGREGATION_EXCEPTIONS beside a global switch
    assert response.json() == {"allowed": False, "exceptions": tabular_peer.aggregation_allowed}


def test_served_spec_carries_the_app_version(tabular_peer: TabularPeer, metrics_peer: MetricsPeer) -> None:
    for base_url, title in ((tabular_peer.base_url, "Tabular"), (metrics_peer.base_url, "Metrics")):
        spec = _get(f"{base_url}/api/doc/swagger.json").json()
        assert spec["info"]["version"] == "0.4.1"
        assert title in spec["info"]["title"]


def test_cors_headers_are_static(tabular_peer: TabularPeer) -> None:
    # 0.4.1 replaced aiohttp_cors (which echoed the Origin) by one middleware answering "*"
    for response in (
        _get(_data_url(tabular_peer, "paged"), "page_size=1"),
        httpx.options(_data_url(tabular_peer, "paged"), headers={"Origin": "https://example.org"}),
    ):
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["access-control-allow-methods"] == "GET, OPTIONS"
    # errors raised as aiohttp exceptions skip the middleware: no CORS headers on a 404
    assert "access-control-allow-origin" not in _get(_data_url(tabular_peer, "missing")).headers


# ---- resource metadata, profile, per-resource swagger


def test_resource_meta_links_are_absolute(tabular_peer: TabularPeer) -> None:
    rid = tabular_peer.resources["typed"]
    body = _get(f"{tabular_peer.base_url}/api/resources/{rid}/").json()
    assert body["url"].endswith("/typed.csv")
    assert body["created_at"].startswith("2024-01-15T10:00:00")
    assert {link["rel"]: link["href"] for link in body["links"]} == {
        rel: f"{tabular_peer.base_url}/api/resources/{rid}/{path}"
        for rel, path in (("profile", "profile/"), ("data", "data/"), ("swagger", "swagger/"))
    }


def test_profile_is_csv_detective_shaped(tabular_peer: TabularPeer) -> None:
    body = _get(f"{tabular_peer.base_url}/api/resources/{tabular_peer.resources['typed']}/profile/").json()
    # 0.3.1 and 0.4.1 also leak the two columns they read to detect deletion
    assert set(body) == {"profile", "indexes", "deleted_at", "dataset_id"}
    assert body["indexes"] is None and body["deleted_at"] is None
    profile = body["profile"]
    assert profile["header"] == list(tabular_peer.columns["typed"])  # a list, not an object
    assert {c: v["python_type"] for c, v in profile["columns"].items()} == tabular_peer.columns["typed"]
    assert profile["total_lines"] == tabular_peer.rows["typed"]
    indexed = _get(
        f"{tabular_peer.base_url}/api/resources/{tabular_peer.resources['indexed']}/profile/"
    ).json()
    assert sorted(indexed["indexes"]) == sorted(tabular_peer.indexes["indexed"])


def test_resource_swagger_is_yaml_limited_to_indexed_columns(tabular_peer: TabularPeer) -> None:
    rid = tabular_peer.resources["indexed"]
    response = _get(f"{tabular_peer.base_url}/api/resources/{rid}/swagger/")
    assert response.status_code == 200
    spec = yaml.safe_load(response.text)
    assert set(spec["paths"]) == {f"/api/resources/{rid}/data/{s}" for s in ("", "csv/", "json/")}
    properties = spec["components"]["schemas"]["Resource"]["properties"]
    assert set(properties) == set(tabular_peer.indexes["indexed"])


# ---- data: types, paging, limits


def test_data_keeps_json_types_and_nulls(tabular_peer: TabularPeer) -> None:
    body = _get(_data_url(tabular_peer, "typed"), "page_size=50").json()
    rows = body["data"]
    assert len(rows) == body["meta"]["total"] == tabular_peer.rows["typed"]
    assert [r["name"] for r in rows] == _typed_column("name")
    assert [r["count"] for r in rows] == _typed_column("count")
    assert [r["active"] for r in rows] == _typed_column("active")
    assert [r["extra"] for r in rows] == _typed_column("extra")
    assert [r["day"] for r in rows] == [d.isoformat() if d else None for d in _typed_column("day")]
    assert [r["seen_at"] for r in rows] == [d.isoformat() if d else None for d in _typed_column("seen_at")]
    assert [r["__id"] for r in rows] == list(range(1, len(rows) + 1))


def test_paging_follows_links_next_until_null(tabular_peer: TabularPeer) -> None:
    url: str | None = _data_url(tabular_peer, "paged") + "?page_size=50"
    seen: list[int] = []
    pages = []
    while url:
        body = _get(url).json()
        pages.append(body)
        seen += [row["n"] for row in body["data"]]
        url = body["links"]["next"]
    assert seen == list(range(1, tabular_peer.rows["paged"] + 1))
    assert [p["meta"]["page"] for p in pages] == [1, 2, 3]
    assert all(p["meta"]["total"] == 137 and p["meta"]["page_size"] == 50 for p in pages)
    assert pages[0]["links"]["prev"] is None
    assert pages[1]["links"]["prev"] == _data_url(tabular_peer, "paged") + "?page=1&page_size=50"
    assert pages[-1]["links"]["next"] is None


def test_default_page_size_is_20(tabular_peer: TabularPeer) -> None:
    body = _get(_data_url(tabular_peer, "paged")).json()
    assert body["meta"] == {"page": 1, "page_size": 20, "total": 137}
    assert len(body["data"]) == 20
    assert body["links"]["next"] == _data_url(tabular_peer, "paged") + "?page=2&page_size=20"


def test_page_size_above_the_configured_maximum_is_a_400(
    tabular_peer: TabularPeer, metrics_peer: MetricsPeer
) -> None:
    # configured as production: Tabular 200, Metrics 50 (one config file per app)
    assert (tabular_peer.page_size_max, metrics_peer.page_size_max) == (200, 50)
    big = _get(_data_url(tabular_peer, "paged"), "page_size=200").json()
    assert len(big["data"]) == 137 and big["meta"]["page_size"] == 200
    assert _get(f"{metrics_peer.base_url}/api/site/data/", "page_size=50").status_code == 200
    for url, limit in (
        (_data_url(tabular_peer, "paged"), 200),
        (f"{metrics_peer.base_url}/api/site/data/", 50),
    ):
        response = _get(url, f"page_size={limit + 1}")
        assert response.status_code == 400
        [error] = _errors(response)
        assert error == {
            "code": None,
            "title": "Invalid query string",
            "detail": f"Page size exceeds allowed maximum: {limit}",
        }


def test_page_past_the_end_is_a_416_database_error(tabular_peer: TabularPeer) -> None:
    # api_tabular forwards PostgREST's "range not satisfiable" as is: a page past the last is no 200.
    assert _get(_data_url(tabular_peer, "paged"), "page=4&page_size=50").status_code == 416
    [error] = _errors(_get(_data_url(tabular_peer, "paged"), "page=4&page_size=50"))
    assert error["title"] == "Database error"
    assert error["detail"]["code"] == "PGRST103"
    # exactly at the end (offset == total) is still a 200 with no rows
    body = _get(_data_url(tabular_peer, "typed"), "page=2&page_size=12").json()
    assert body["data"] == [] and body["links"]["next"] is None


# ---- errors


def test_unknown_resource_is_a_plain_text_404(tabular_peer: TabularPeer) -> None:
    for suffix in ("", "profile/", "data/", "data/csv/"):
        response = _get(f"{tabular_peer.base_url}/api/resources/{tabular_peer.resources['missing']}/{suffix}")
        assert response.status_code == 404, suffix
        assert response.headers["content-type"].startswith("text/plain")
        assert response.text == "404: Not Found"


def test_deleted_resource_is_a_plain_text_410(tabular_peer: TabularPeer) -> None:
    for suffix in ("", "profile/", "data/"):
        response = _get(f"{tabular_peer.base_url}/api/resources/{tabular_peer.resources['deleted']}/{suffix}")
        assert response.status_code == 410, suffix
        assert response.headers["content-type"].startswith("text/plain")
        assert "has been permanently deleted on 2024-03-01" in response.text
        assert f"https://www.data.gouv.fr/datasets/{tabular_peer.deleted_dataset_id}" in response.text


def test_database_errors_nest_postgrest_error_objects(tabular_peer: TabularPeer) -> None:
    [bad_value] = _errors(response := _get(_data_url(tabular_peer, "typed"), "count__exact=abc"))
    assert response.status_code == 400
    assert bad_value["title"] == "Database error"
    assert bad_value["detail"]["code"] == "22P02"
    assert set(bad_value["detail"]) == {"code", "details", "hint", "message"}
    [unknown] = _errors(response := _get(_data_url(tabular_peer, "typed"), "nope__exact=1"))
    assert response.status_code == 400 and unknown["detail"]["code"] == "42703"
    [malformed] = _errors(response := _get(_data_url(tabular_peer, "typed"), "count__between=1"))
    assert response.status_code == 400
    assert malformed["title"] == "Invalid query string" and malformed["detail"].startswith("Malformed query")


# ---- filters and sorting


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("name__exact=Golf", ["Golf"]),
        ("count__less=1", ["Alpha", "Bravo, with comma", None]),
        ("count__strictly_less=1", ["Alpha", "Bravo, with comma"]),
        ("count__greater=50", ["Kilo", "Lima"]),
        ("count__strictly_greater=50", ["Lima"]),
        ("name__contains=LI", ['Charlie "quoted"', "Juliett", "Lima"]),  # ILIKE: case-insensitive
        ("name__notcontains=a", ["Foxtrot", "Golf", "Hotel", "Juliett", "Kilo"]),  # NULL is neither
        ("name__in=Golf,Kilo", ["Golf", "Kilo"]),
        ("count__notin=-20,-13,1,8,15,22,29,36,43", ["Kilo", "Lima"]),
        ("name__isnull", [None]),
        ("count__isnull", ['Charlie "quoted"']),
        ("active__exact=false&score__isnotnull", ["Bravo, with comma", None, "Juliett", "Lima"]),
        ("active__differs=true", ["Bravo, with comma", None, "Foxtrot", "Hotel", "Juliett", "Lima"]),
        ("day__greater=2020-11-01", ["Kilo", "Lima"]),
        ("seen_at__less=2021-06-02", ["Alpha", "Bravo, with comma"]),
    ],
)
def test_filters(tabular_peer: TabularPeer, query: str, expected: list[str | None]) -> None:
    response = _get(_data_url(tabular_peer, "typed"), query + "&columns=name")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [row["name"] for row in body["data"]] == expected
    assert body["meta"]["total"] == len(expected)


def test_column_names_with_spaces(tabular_peer: TabularPeer) -> None:
    body = _get(_data_url(tabular_peer, "paged"), "Code%20INSEE__exact=75042&Code%20INSEE__sort=desc").json()
    assert [row["n"] for row in body["data"]] == [42]
    assert body["data"][0]["Code INSEE"] == "75042"


def test_sort_and_columns(tabular_peer: TabularPeer) -> None:
    body = _get(_data_url(tabular_peer, "typed"), "columns=name,score&score__sort=desc&page_size=3").json()
    assert [set(row) for row in body["data"]] == [{"name", "score"}] * 3
    # PostgreSQL sorts NULL first in descending order
    assert [row["score"] for row in body["data"]] == [None, 10.25, 9]


# ---- aggregation


def test_aggregation_refused_outside_the_exceptions(tabular_peer: TabularPeer) -> None:
    response = _get(_data_url(tabular_peer, "typed"), "count__sum")
    assert response.status_code == 403
    [error] = _errors(response)
    assert error["title"] == "Unauthorized parameters"
    assert tabular_peer.resources["typed"] in error["detail"]


def test_aggregation_allowed_for_an_exception(tabular_peer: TabularPeer) -> None:
    response = _get(
        _data_url(tabular_peer, "aggregatable"),
        "category__groupby&amount__sum&amount__count&ratio__max&category__sort=asc",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    rows = next(r for r in seed.TABLES if r.name == "aggregatable").rows
    expected = {}
    for category in ("fruit", "grain", "vegetable"):
        amounts = [a for c, a, _ in rows if c == category]
        expected[category] = {
            "category": category,
            "amount__sum": sum(amounts),
            "amount__count": len(amounts),
            "ratio__max": max(r for c, _, r in rows if c == category),
        }
    assert body["data"] == list(expected.values())
    assert "total" not in body["meta"]  # api_tabular drops the (meaningless) total of aggregates
    assert body["links"]["next"] is None


# ---- exports (CSV / JSON streams)


def test_csv_export_uses_postgres_text_forms(tabular_peer: TabularPeer) -> None:
    response = _get(_data_url(tabular_peer, "typed", "csv/"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv"
    rid = tabular_peer.resources["typed"]
    assert response.headers["content-disposition"] == f'attachment; filename="{rid}.csv"'
    assert response.text.endswith("\n")
    records = list(csv.reader(io.StringIO(response.text)))
    assert records[0] == ["__id", *tabular_peer.columns["typed"]]
    assert len(records) == 1 + tabular_peer.rows["typed"]
    header = records[0]
    active = [r[header.index("active")] for r in records[1:]]
    assert active == [{True: "t", False: "f", None: ""}[v] for v in _typed_column("active")]
    assert [r[header.index("name")] for r in records[1:]] == [v or "" for v in _typed_column("name")]
    assert records[1][header.index("seen_at")] == "2021-06-01 08:30:00"  # no ISO "T" in CSV


def test_export_cap_answers_403_above_it(tabular_peer: TabularPeer) -> None:
    assert tabular_peer.rows["big"] > tabular_peer.csv_export_cap > tabular_peer.rows["paged"]
    for suffix in ("csv/", "json/"):
        response = _get(_data_url(tabular_peer, "big", suffix))
        assert response.status_code == 403, suffix
        [error] = _errors(response)
        assert error["title"] == "Output is too long"
        assert f"more than {tabular_peer.csv_export_cap} rows" in error["detail"]
    under = _get(_data_url(tabular_peer, "big", "csv/"), f"n__less={tabular_peer.csv_export_cap}")
    assert under.status_code == 200
    assert len(under.text.splitlines()) == 1 + tabular_peer.csv_export_cap


def test_json_export_streams_every_row(tabular_peer: TabularPeer) -> None:
    response = _get(_data_url(tabular_peer, "paged", "json/"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert [row["n"] for row in response.json()] == list(range(1, 138))


# ---- metrics


def test_metrics_paging_filter_and_sort(metrics_peer: MetricsPeer) -> None:
    url: str | None = f"{metrics_peer.base_url}/api/datasets/data/?page_size=50"
    rows: list[dict[str, Any]] = []
    while url:
        body = _get(url).json()
        assert body["meta"]["total"] == metrics_peer.rows["datasets"]
        rows += body["data"]
        url = body["links"]["next"]
    assert len(rows) == metrics_peer.rows["datasets"] == 72
    assert set(rows[0]) == set(metrics_peer.columns["datasets"])
    body = _get(
        f"{metrics_peer.base_url}/api/datasets/data/",
        "dataset_id__exact=5d0b7a5e8b4c41597a1b2c02&metric_month__sort=desc&page_size=3",
    ).json()
    assert [r["metric_month"] for r in body["data"]] == ["2024-12", "2024-11", "2024-10"]
    assert body["meta"]["total"] == 24


def test_metrics_csv_and_unknown_model(metrics_peer: MetricsPeer) -> None:
    response = _get(f"{metrics_peer.base_url}/api/site/data/csv/", "metric_month__greater=2024-11")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="site.csv"'
    records = list(csv.reader(io.StringIO(response.text)))
    assert records[0] == metrics_peer.columns["site"]
    assert [r[1] for r in records[1:]] == ["2024-11", "2024-12"]
    missing = _get(f"{metrics_peer.base_url}/api/no_such_model/data/")
    assert missing.status_code == 404
    [error] = _errors(missing)
    assert error["title"] == "Database error" and error["detail"]["code"] == "PGRST205"


# ---- the gateway itself: the PostgREST behaviours api_tabular relies on


def test_gateway_head_count_and_ranges(pg_gateway: TabularStack) -> None:
    url = f"{pg_gateway.gateway_url(seed.TABULAR_SCHEMA)}/t_paged_0002"
    head = httpx.head(f"{url}?order=__id.asc&limit=1&", headers={"Prefer": "count=exact"}, timeout=30)
    assert (head.status_code, head.headers["content-range"], head.content) == (206, "0-0/137", b"")
    page = httpx.get(f"{url}?limit=20&offset=20", timeout=30)  # no count asked: total unknown
    assert (page.status_code, page.headers["content-range"]) == (200, "20-39/*")
    full = httpx.get(f"{url}?n=gt.130", headers={"Prefer": "count=exact"}, timeout=30)
    assert (full.status_code, full.headers["content-range"]) == (200, "0-6/7")
    past = httpx.get(f"{url}?offset=200", headers={"Prefer": "count=exact"}, timeout=30)
    assert past.status_code == 416 and past.json()["code"] == "PGRST103"


def test_gateway_select_aggregates_and_aliases(pg_gateway: TabularStack) -> None:
    url = f"{pg_gateway.gateway_url(seed.TABULAR_SCHEMA)}/t_paged_0002"
    assert httpx.get(f"{url}?select=total:n.sum(),count()", timeout=30).json() == [
        {"total": 137 * 138 // 2, "count": 137}
    ]
    rows = httpx.get(
        f'{url}?select="Code INSEE",label&"Code INSEE"=in.("75001",75002)&order=n.desc', timeout=30
    ).json()
    assert rows == [{"Code INSEE": "75002", "label": "row 2"}, {"Code INSEE": "75001", "label": "row 1"}]
    bad = httpx.get(f"{url}?n=not.between.1", timeout=30)
    assert bad.status_code == 400 and bad.json()["code"] == "PGRST100"
    # PostgREST's rule: a parameter whose value has no operator is an RPC argument, unused on a table
    assert len(httpx.get(f"{url}?n=between.1", timeout=30).json()) == 137


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("or=(n.eq.1,n.eq.3)", [1, 3]),
        ("or=(n.lt.3,and(n.gt.100,n.lte.101),n.is.null)", [1, 2, 101]),
        ("and=(n.gte.5,or(n.eq.5,n.eq.9,not.and(n.lt.136,n.gte.6)))", [5, 9, 136, 137]),
        ("not.or=(n.gt.2,n.is.null)", [1, 2]),
        ('or=("Code INSEE".eq."75007",label.in.("row 9","row 10"))', [7, 9, 10]),
        ("or=(label.ilike.*W 13*,label.eq.{a,b})", [13, 130, 131, 132, 133, 134, 135, 136, 137]),
        # PostgREST's leniency, which api_tabular's `in.((a,b))` runs into: the list is ["(1", "2"]
        ("or=(label.in.((row 1,row 2)))", [2]),
        ("or=(n.eq.1))&n=lt.5", [1]),
    ],
)
def test_gateway_logic_trees_follow_postgrest_grammar(
    pg_gateway: TabularStack, query: str, ids: list[int]
) -> None:
    url = f"{pg_gateway.gateway_url(seed.TABULAR_SCHEMA)}/t_paged_0002?select=n&order=n&{query}"
    assert [row["n"] for row in httpx.get(url, timeout=30).json()] == ids


@pytest.mark.parametrize(
    "query",
    ["or=(n.eq.1", "or=()", "or=(n.in.1,2)", "or=(n.eq.1,xor(n.eq.2))", "select=#x", 'order="n'],
)
def test_gateway_grammar_errors_are_postgrest_400s(pg_gateway: TabularStack, query: str) -> None:
    response = httpx.get(f"{pg_gateway.gateway_url(seed.TABULAR_SCHEMA)}/t_paged_0002?{query}", timeout=30)
    assert response.status_code == 400 and response.json()["code"] == "PGRST100", response.text


# ---- the launcher itself (no peer needed)


def test_missing_postgres_fails_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.peers.tabular import launcher

    monkeypatch.setattr(launcher, "PG_BIN_PATTERNS", [str(tmp_path / "nowhere" / "*")])
    monkeypatch.setenv("DATAGOUV_PG_BIN", str(tmp_path))
    with pytest.raises(launcher.PeerStartError, match=r"apt-get install -y postgresql"):
        launcher.find_pg_bin()
    (tmp_path / "initdb").touch()
    (tmp_path / "postgres").touch()
    assert launcher.find_pg_bin() == tmp_path
