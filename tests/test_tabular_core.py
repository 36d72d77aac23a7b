"""The shared core of TabularResource/MetricsModel and their async twins, over a MockTransport: the
per-client cache, the one page-size limit, ExportOptions, and validation before any request."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from datagouv_sdk import AsyncDataGouv, DataGouv, RetryPolicy, errors
from datagouv_sdk import tabular as tabular_module
from datagouv_sdk.query import Query, col
from datagouv_sdk.tabular import (
    AsyncMetricsModel,
    AsyncTabularResource,
    ExportOptions,
    MetricsModel,
    TabularResource,
)

RID = "aaaaaaaa-1111-4bbb-8222-cccccccccccc"
PROFILE = {"profile": {"header": ["name", "n"], "columns": {"name": {"python_type": "string"}, "n": {}}}}
ROWS = [{"__id": i, "name": f"row {i}", "n": i} for i in range(1, 6)]


class Server:
    """A small api_tabular: profile, aggregation exceptions, /data/ pages, CSV export; counts paths."""

    def __init__(self) -> None:
        self.paths: Counter[str] = Counter()
        self.queries: list[dict[str, str]] = []
        self.page_size_max = 200

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.paths[path] += 1
        self.queries.append(dict(request.url.params))
        if path.endswith("/profile/"):
            return httpx.Response(200, json=PROFILE)
        if path == "/api/aggregation-exceptions/":
            return httpx.Response(200, json=[])
        if path.endswith("/data/csv/"):
            lines = ["__id,name,n"] + [f"{r['__id']},{r['name']},{r['n']}" for r in ROWS]
            return httpx.Response(200, text="\n".join(lines) + "\n", headers={"content-type": "text/csv"})
        if path.endswith("/data/"):
            page, size = int(request.url.params.get("page", 1)), int(request.url.params["page_size"])
            if size > self.page_size_max:
                detail = f"Page size exceeds allowed maximum: {self.page_size_max}"
                errors_ = [{"code": None, "title": "Invalid query string", "detail": detail}]
                return httpx.Response(400, json={"errors": errors_})
            data = ROWS[(page - 1) * size : page * size]
            more = page * size < len(ROWS)
            links = {"next": f"http://elsewhere/{path}?page={page + 1}" if more else None}
            meta = {"page": page, "page_size": size, "total": len(ROWS)}
            return httpx.Response(200, json={"data": data, "links": links, "meta": meta})
        return httpx.Response(404, json={"message": "no such path"})


@pytest.fixture
def server() -> Server:
    return Server()


@pytest.fixture
def dg(server: Server) -> Iterator[DataGouv]:
    with DataGouv(
        tabular_url="http://tabular.test",
        metrics_url="http://metrics.test",
        retry=RetryPolicy.none(),
        transport=httpx.MockTransport(server),
    ) as client:
        yield client


def adg_for(server: Server) -> AsyncDataGouv:
    return AsyncDataGouv(
        tabular_url="http://tabular.test", retry=RetryPolicy.none(), transport=httpx.MockTransport(server)
    )


def test_the_profile_is_cached_on_the_client_not_per_handle(dg: DataGouv, server: Server) -> None:
    TabularResource(dg, RID).schema()
    TabularResource(dg, RID).columns  # noqa: B018 - reading the property is the point
    assert server.paths[f"/api/resources/{RID}/profile/"] == 1
    assert server.paths["/api/aggregation-exceptions/"] == 1
    with DataGouv(tabular_url="http://tabular.test", transport=httpx.MockTransport(server)) as other:
        TabularResource(other, RID).schema()  # another client starts afresh
    assert server.paths[f"/api/resources/{RID}/profile/"] == 2


async def test_the_async_twin_shares_the_same_cache_rules(server: Server) -> None:
    async with adg_for(server) as adg:
        await AsyncTabularResource(adg, RID).schema()
        assert [r["n"] async for r in AsyncTabularResource(adg, RID).rows(typed=True)] == [1, 2, 3, 4, 5]
    assert server.paths[f"/api/resources/{RID}/profile/"] == 1


def test_page_size_defaults_to_the_largest_the_server_accepts_and_is_learned(
    dg: DataGouv, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    resource = TabularResource(dg, RID)
    # production's limits until a server says otherwise: Tabular 200, Metrics 50
    assert (resource.max_page_size(), MetricsModel(dg, "site").max_page_size()) == (200, 50)
    list(resource.rows(validate=False))
    assert server.queries[-1]["page_size"] == "200"
    with pytest.raises(errors.UsageError, match="page_size=0 is out of range"):
        resource.rows(page_size=0, validate=False)
    assert len(server.queries) == 1
    # a server configured lower names its limit in a 400: a size left to the SDK follows it ...
    server.page_size_max = 50
    assert len(list(TabularResource(dg, RID).rows(validate=False))) == len(ROWS)
    assert [q["page_size"] for q in server.queries[1:]] == ["200", "50"]
    assert resource.max_page_size() == 50
    # ... and a size the caller asks for above it is refused before sending
    with pytest.raises(errors.UsageError, match="page_size=51 is above this Tabular server's maximum of 50"):
        resource.rows(page_size=51, validate=False)
    assert len(server.queries) == 3
    # One place decides the default for a server not heard from yet.
    monkeypatch.setitem(tabular_module.PAGE_SIZE_MAX, "metrics", 20)
    assert MetricsModel(dg, "site").max_page_size() == 20


def test_rows_follow_only_the_page_number_of_links_next(dg: DataGouv, server: Server) -> None:
    q = Query().filter(col("name").contains("row"))
    rows = list(TabularResource(dg, RID).rows(q, page_size=2, validate=False))
    assert [r["__id"] for r in rows] == [1, 2, 3, 4, 5]
    assert [(q["page"], q["name__contains"]) for q in server.queries] == [
        ("1", "row"),
        ("2", "row"),
        ("3", "row"),
    ]
    assert set(server.paths) == {f"/api/resources/{RID}/data/"}  # never the link's host or path


def test_export_options_as_a_value_or_as_keywords(dg: DataGouv, server: Server, tmp_path: Path) -> None:
    resource = TabularResource(dg, RID)
    paged = ExportOptions(via="pages", format="jsonl", validate=False)
    result = resource.export(tmp_path / "a.jsonl", options=paged)
    assert (result.via, result.rows) == ("pages", 5)
    assert [json.loads(line)["n"] for line in (tmp_path / "a.jsonl").read_text().splitlines()] == [
        1,
        2,
        3,
        4,
        5,
    ]
    streamed = resource.export(tmp_path / "a.csv", options=paged, via="stream", format="csv", count_rows=True)
    assert (streamed.via, streamed.rows) == ("stream", 5)  # keywords win over options=


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"via": "ftp"}, "via must be 'stream', 'pages' or 'auto', got 'ftp'"),
        ({"format": "xlsx"}, "format must be csv, json or jsonl, got 'xlsx'"),
    ],
)
def test_bad_export_options_are_refused_before_any_request(
    dg: DataGouv, server: Server, tmp_path: Path, keywords: dict[str, Any], message: str
) -> None:
    with pytest.raises(errors.UsageError, match=message):
        TabularResource(dg, RID).export(tmp_path / "x", **keywords)
    with pytest.raises(errors.UsageError, match="exports CSV only"):
        MetricsModel(dg, "site").export(tmp_path / "x.json", format="json")  # validation would read a row
    assert not server.paths and not list(tmp_path.iterdir())


async def test_async_rows_validate_before_the_first_request_not_at_the_call(server: Server) -> None:
    async with adg_for(server) as adg:
        pager = AsyncTabularResource(adg, RID).rows(Query().filter(col("nope") == 1))
        assert not server.paths  # nothing read yet: validation needs the profile, read asynchronously
        with pytest.raises(errors.UsageError, match="nope"):
            await pager.to_list()
    assert set(server.paths) == {f"/api/resources/{RID}/profile/", "/api/aggregation-exceptions/"}


async def test_async_metrics_model_has_the_sync_names(server: Server) -> None:
    async with AsyncDataGouv(
        metrics_url="http://metrics.test", retry=RetryPolicy.none(), transport=httpx.MockTransport(server)
    ) as adg:
        model = AsyncMetricsModel(adg, "site")
        assert await model.count(validate=False) == 5
        assert [r["n"] async for r in model.iter_csv(validate=False)] == ["1", "2", "3", "4", "5"]
        assert (await model.schema()).model == "site"
