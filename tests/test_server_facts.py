"""Page sizes and dialects learned from the server (`datagouv_sdk.server_facts`), on the real apps:
0.4.1 configured as production (Tabular 200, Metrics 50) and 0.3.1 with its defaults (50)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from datagouv_sdk import DataGouv, errors
from datagouv_sdk.client import ApiName
from datagouv_sdk.query import Query, col
from datagouv_sdk.server_facts import DEFAULT_MAX, ServerFacts, facts_for, limit_from_error
from datagouv_sdk.tabular import MetricsModel, TabularResource

from tests.peers.tabular_fixtures import MetricsPeer, TabularPeer

UNUSED = "http://127.0.0.1:9/unused"


class Recorder:
    """The URLs a client sent, by path."""

    def __init__(self, dg: DataGouv, api: ApiName) -> None:
        self.sent: list[httpx.URL] = []
        dg.http(api).event_hooks["request"].append(lambda request: self.sent.append(request.url))

    def data_pages(self) -> list[int]:
        return [int(u.params["page_size"]) for u in self.sent if u.path.endswith("/data/")]


@pytest.fixture
def dg(tabular_peer: TabularPeer, metrics_peer: MetricsPeer) -> Iterator[DataGouv]:
    with DataGouv(
        base_url=UNUSED, tabular_url=tabular_peer.base_url, metrics_url=metrics_peer.base_url
    ) as client:
        yield client


@pytest.fixture
def legacy_dg(legacy_tabular_peer: tuple[TabularPeer, MetricsPeer]) -> Iterator[DataGouv]:
    tabular, metrics = legacy_tabular_peer
    with DataGouv(base_url=UNUSED, tabular_url=tabular.base_url, metrics_url=metrics.base_url) as client:
        yield client


# ---- pure


def test_the_limit_is_read_from_api_tabulars_400() -> None:
    body = {
        "errors": [
            {
                "code": None,
                "title": "Invalid query string",
                "detail": "Page size exceeds allowed maximum: 200",
            }
        ]
    }
    response = httpx.Response(400, json=body, request=httpx.Request("GET", "http://x/data/?page_size=500"))
    error = errors.error_from_response(response)
    assert limit_from_error(error) == 200
    other = httpx.Response(400, json={"errors": [{"detail": "Malformed query"}]}, request=response.request)
    assert limit_from_error(errors.error_from_response(other)) is None
    assert limit_from_error(ValueError("Page size exceeds allowed maximum: 3")) is None


def test_facts_are_per_base_url() -> None:
    facts = ServerFacts()
    assert facts.largest("tabular", "http://a/") == DEFAULT_MAX["tabular"] == 200
    assert facts.largest("metrics", "http://a/") == 50
    facts.learn("http://a/", 50)
    assert facts.largest("tabular", "http://a") == 50 and facts.largest("tabular", "http://b") == 200
    with pytest.raises(errors.UsageError, match="maximum of 50"):
        facts.check("tabular", "http://a", 51)
    with pytest.raises(errors.UsageError, match="at least 1"):
        facts.check("tabular", "http://b", 0)


# ---- 0.4.1 as production runs it


def test_rows_get_200_row_pages(dg: DataGouv, tabular_peer: TabularPeer) -> None:
    sent = Recorder(dg, "tabular")
    resource = TabularResource(dg, tabular_peer.resources["large"])
    rows = list(resource.rows(Query().filter(col("n") <= 1000), page_size=200))
    assert [r["n"] for r in rows] == list(range(1, 1001))
    assert sent.data_pages() == [200] * 5
    default = list(resource.rows(Query().filter(col("n") <= 450)))  # no page_size: the largest
    assert len(default) == 450 and sent.data_pages()[5:] == [200] * 3


def test_a_pages_export_makes_ceil_n_over_200_data_requests(
    dg: DataGouv, tabular_peer: TabularPeer, tmp_path: Path
) -> None:
    sent = Recorder(dg, "tabular")
    n = tabular_peer.rows["large"]
    result = TabularResource(dg, tabular_peer.resources["large"]).export(tmp_path / "large.csv", via="pages")
    assert result.rows == n == 10_000
    assert sent.data_pages() == [200] * math.ceil(n / 200)


def test_a_page_size_above_the_servers_limit_is_answered_with_it_then_refused_before_sending(
    tabular_peer: TabularPeer, metrics_peer: MetricsPeer
) -> None:
    with DataGouv(
        base_url=UNUSED, tabular_url=tabular_peer.base_url, metrics_url=metrics_peer.base_url
    ) as dg:
        sent = Recorder(dg, "tabular")
        resource = TabularResource(dg, tabular_peer.resources["paged"])
        with pytest.raises(
            errors.UsageError, match=r"page_size=500 is above this Tabular server's maximum of 200"
        ):
            list(resource.rows(page_size=500, validate=False))
        assert sent.data_pages() == [500]  # the server's own 400 named the limit
        with pytest.raises(errors.UsageError, match="maximum of 200"):
            resource.rows(page_size=201, validate=False)
        assert sent.data_pages() == [500]  # known now: refused before sending
        assert facts_for(dg).known(tabular_peer.base_url) == 200
        metrics = Recorder(dg, "metrics")
        assert len(list(MetricsModel(dg, "site").rows(validate=False))) == metrics_peer.rows["site"]
        assert set(metrics.data_pages()) == {50}  # Metrics' own default


def test_counts_never_ask_for_one_row(dg: DataGouv, tabular_peer: TabularPeer) -> None:
    sent = Recorder(dg, "tabular")
    assert TabularResource(dg, tabular_peer.resources["paged"]).count(validate=False) == 137
    assert sent.data_pages() == [20]


# ---- 0.3.1 with the package's defaults: the limits and dialect are learned


def test_an_older_server_teaches_its_limit_and_dialect(
    legacy_dg: DataGouv, legacy_tabular_peer: tuple[TabularPeer, MetricsPeer], tmp_path: Path
) -> None:
    legacy, _ = legacy_tabular_peer
    sent = Recorder(legacy_dg, "tabular")
    resource = TabularResource(legacy_dg, legacy.resources["paged"])
    assert len(list(resource.rows(validate=False))) == 137
    assert sent.data_pages() == [200, 50, 50, 50]  # one refusal, then the learned size
    result = resource.export(tmp_path / "paged.csv", via="pages", validate=False)
    assert result.rows == 137 and sent.data_pages()[4:] == [50] * 3
    # the dialect: columns= quoted for 0.3.1 (read from /health/ once), OR refused before sending
    odd = TabularResource(legacy_dg, legacy.resources["odd"])
    rows = list(odd.rows(Query().columns("lat,lon", "#Code_commune_INSEE").filter(col("R&D") == 1)))
    assert rows and all(list(r) == ["lat,lon", "#Code_commune_INSEE"] for r in rows)
    before = len(sent.sent)
    with pytest.raises(errors.UsageError, match="no OR filters"):
        list(odd.rows(Query().filter((col("R&D") == 1) | (col("R&D") == 2))))
    assert all(not u.path.endswith("/data/") for u in sent.sent[before:])
