"""The Elasticsearch stand-in of the udata peer (tests/peers/udata/search_service.py), on its own.

The peer runs it under udata (tests/peers/test_udata_search.py checks what udata's search answers
through it); here its pieces are checked against what Elasticsearch 7 does, with an analysis
configuration shaped like the one udata_search_service sends (our own synonyms and texts).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

_PATH = Path(__file__).resolve().parent / "udata" / "search_service.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("udata_peer_search_service", _PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


ss = _load()

ANALYSIS: dict[str, Any] = {
    "analyzer": {
        "fr": {
            "type": "custom",
            "tokenizer": "icu_tokenizer",
            "char_filter": ["glue", "dots"],
            "filter": ["icu_folding", "elision", "synonyms", "stem", "stop"],
        }
    },
    "char_filter": {
        "glue": {
            "type": "pattern_replace",
            "pattern": r"(?<!\p{L})(\p{L})[._]+(?=\p{L}(?!\p{L}))",
            "replacement": "$1",
        },
        "dots": {"type": "pattern_replace", "pattern": r"(?<=\p{L}{2})[._]+(?=\p{L}{2})", "replacement": " "},
    },
    "filter": {
        "elision": {"type": "elision", "articles_case": True, "articles": ["l", "d", "qu"]},
        "synonyms": {
            "type": "synonym",
            "expand": True,
            "synonyms": ["vélo, bicyclette", "sncf, chemin de fer"],
        },
        "stem": {"type": "stemmer", "language": "light_french"},
        "stop": {"type": "stop", "stopwords": "_french_"},
    },
}
MAPPING = {
    "properties": {
        "title": {"type": "text", "analyzer": "fr"},
        "tags": {"type": "keyword"},
        "created_at": {"type": "date"},
        "views": {"type": "float"},
        "archived": {"type": "date"},
        "org": {"type": "text", "analyzer": "fr", "fields": {"keyword": {"type": "keyword"}}},
    }
}


def _texts(text: str) -> list[str]:
    return [t.text for t in ss.build_analyzer("fr", ANALYSIS)(text)]


def test_analysis_folds_elides_stems_and_drops_stop_words() -> None:
    assert _texts("Qualité de l'air en Bretagne") == ["qualit", "air", "bretagn"]
    assert _texts("Les Horaires des Trains") == ["horair", "train"]
    assert _texts("L'AIR") == ["air"]


def test_dotted_acronyms_are_glued_and_dotted_words_split() -> None:
    assert _texts("C.C.A.S. de Rennes") == ["ccas", "renn"]
    assert _texts("data.gouv") == ["data", "gouv"]
    assert _texts("PM2.5 à 2,5") == ["pm2.5", "2,5"]


def test_synonyms_expand_at_the_same_position() -> None:
    tokens = ss.build_analyzer("fr", ANALYSIS)("Location de vélo")
    positions = {t.text: t.position for t in tokens}
    assert positions["velo"] == positions["bicyclet"]


def test_standard_analyzer_lower_cases_without_folding() -> None:
    assert [t.text for t in ss.standard_analyzer("Égalité C.C.A.S.")] == ["égalité", "c.c.a.s"]


def test_unknown_analysis_pieces_are_refused() -> None:
    with pytest.raises(ss.ESError, match="tokenizer"):
        ss.build_analyzer("x", {"analyzer": {"x": {"tokenizer": "whitespace"}}})
    with pytest.raises(ss.ESError, match="stemmer"):
        ss.build_analyzer(
            "x",
            {
                "analyzer": {"x": {"tokenizer": "standard", "filter": ["s"]}},
                "filter": {"s": {"type": "stemmer", "language": "english"}},
            },
        )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("now", "2024-03-15T10:20:30"),
        ("now-30d/d", "2024-02-14T00:00:00"),
        ("now-12M/d", "2023-03-15T00:00:00"),
        ("now-3y/d", "2021-03-15T00:00:00"),
        ("now+1h/h", "2024-03-15T11:00:00"),
        ("now/M", "2024-03-01T00:00:00"),
    ],
)
def test_date_math(expression: str, expected: str) -> None:
    now = datetime(2024, 3, 15, 10, 20, 30, tzinfo=UTC)
    millis = ss.parse_date(expression, now)
    assert datetime.fromtimestamp(millis / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S") == expected


def test_bad_dates_are_parse_errors() -> None:
    for value in (False, "yesterday", "now-3q"):
        with pytest.raises(ss.ESError) as caught:
            ss.parse_date(value)
        assert caught.value.status == 400


@pytest.fixture
def cluster() -> Any:
    cluster = ss.Cluster()
    status, _ = ss.route(
        cluster,
        "PUT",
        ["_template", "docs"],
        {"index_patterns": ["docs-*"], "settings": {"analysis": ANALYSIS}, "mappings": MAPPING},
        {},
    )
    assert status == 200
    ss.route(cluster, "PUT", ["docs-1"], {}, {})
    ss.route(cluster, "PUT", ["docs-1", "_alias", "docs"], {}, {})
    documents = [
        {
            "title": "Qualité de l'air en Bretagne",
            "tags": ["air", "bzh"],
            "created_at": "2024-01-10",
            "views": 9,
        },
        {"title": "Qualité des eaux", "tags": ["eau"], "created_at": "2023-05-01", "views": 4},
        {
            "title": "Vélos en libre service",
            "tags": ["mobilite"],
            "created_at": "2024-02-01",
            "org": "Rennes",
        },
        {"title": "Horaires SNCF", "tags": ["mobilite", "train"], "archived": "2024-01-01", "views": 1},
    ]
    for number, document in enumerate(documents, 1):
        status, body = ss.route(cluster, "PUT", ["docs", "_doc", f"d{number}"], document, {})
        assert (status, body["result"], body["_index"]) == (201, "created", "docs-1")
    return cluster


def _search(cluster: Any, body: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    status, result = ss.route(cluster, "POST", ["docs", "_search"], body, {})
    assert status == 200, result
    return [hit["_id"] for hit in result["hits"]["hits"]], result


def test_templates_give_new_indices_their_mapping_and_aliases_route_writes(cluster: Any) -> None:
    index = cluster.indices["docs-1"]
    assert index.mapping["tags"].kind == "keyword" and index.mapping["org.keyword"].source == "org"
    status, body = ss.route(cluster, "GET", ["docs", "_doc", "d1"], {}, {})
    assert status == 200 and body["found"] and body["_index"] == "docs-1"
    assert ss.route(cluster, "HEAD", ["docs"], {}, {})[0] == 200
    assert ss.route(cluster, "HEAD", ["nothing"], {}, {})[0] == 404


def test_match_uses_the_analyzer_and_operator(cluster: Any) -> None:
    ids, _ = _search(cluster, {"query": {"match": {"title": {"query": "qualités", "operator": "and"}}}})
    assert sorted(ids) == ["d1", "d2"]
    ids, _ = _search(
        cluster, {"query": {"match": {"title": {"query": "qualité bretagne", "operator": "and"}}}}
    )
    assert ids == ["d1"]
    ids, _ = _search(cluster, {"query": {"match": {"title": "bicyclette"}}})
    assert ids == ["d3"]  # synonym of vélo
    ids, _ = _search(cluster, {"query": {"match": {"title": "chemin de fer"}}})
    assert ids == ["d4"]


def test_fuzziness_auto_allows_edits_by_term_length(cluster: Any) -> None:
    fuzzy = {"query": "bertagne", "fuzziness": "AUTO:4,6"}  # a transposition: one edit
    assert _search(cluster, {"query": {"match": {"title": fuzzy}}})[0] == ["d1"]
    assert _search(cluster, {"query": {"match": {"title": "bertagne"}}})[0] == []
    short = {"query": "ai", "fuzziness": "AUTO:4,6"}  # shorter than 4: exact only
    assert _search(cluster, {"query": {"match": {"title": short}}})[0] == []


def test_multi_match_types(cluster: Any) -> None:
    phrase = {"multi_match": {"query": "qualité de l'air", "type": "phrase", "fields": ["title^3"]}}
    assert _search(cluster, {"query": phrase})[0] == ["d1"]
    not_a_phrase = {"multi_match": {"query": "air qualité", "type": "phrase", "fields": ["title"]}}
    assert _search(cluster, {"query": not_a_phrase})[0] == []
    cross = {
        "multi_match": {
            "query": "vélos rennes",
            "type": "cross_fields",
            "operator": "and",
            "fields": ["title", "org"],
        }
    }
    assert _search(cluster, {"query": cross})[0] == ["d3"]
    most = {
        "multi_match": {
            "query": "vélos rennes",
            "type": "most_fields",
            "operator": "and",
            "fields": ["title", "org"],
        }
    }
    assert _search(cluster, {"query": most})[0] == []  # "and" holds per field for most_fields


def test_bool_filters_post_filter_and_aggregations(cluster: Any) -> None:
    body = {
        "query": {"bool": {"filter": [{"range": {"created_at": {"gte": "2024-01-01"}}}]}},
        "post_filter": {"bool": {"must": [{"term": {"tags": "bzh"}}]}},
        "aggs": {
            "tag": {"terms": {"field": "tags", "size": 2}},
            "total": {"filter": {"match_all": {}}},
            "recent": {
                "date_range": {"field": "created_at", "ranges": [{"key": "2024", "from": "2024-01-01"}]}
            },
        },
    }
    ids, result = _search(cluster, body)
    assert ids == ["d1"]  # the post filter narrows the hits...
    aggs = result["aggregations"]  # ...not the aggregations
    assert aggs["total"]["doc_count"] == 2
    assert aggs["tag"]["buckets"] == [{"key": "air", "doc_count": 1}, {"key": "bzh", "doc_count": 1}]
    assert aggs["tag"]["sum_other_doc_count"] == 1
    assert aggs["recent"]["buckets"][0]["doc_count"] == 2
    assert result["hits"]["total"] == {"value": 1, "relation": "eq"}


def test_should_needs_one_match_unless_must_or_filter(cluster: Any) -> None:
    should = {"bool": {"should": [{"term": {"tags": "eau"}}, {"term": {"tags": "train"}}]}}
    assert sorted(_search(cluster, {"query": should})[0]) == ["d2", "d4"]
    with_filter = {
        "bool": {"filter": [{"term": {"tags": "mobilite"}}], "should": [{"term": {"tags": "train"}}]}
    }
    assert sorted(_search(cluster, {"query": with_filter})[0]) == ["d3", "d4"]
    at_least = {**with_filter["bool"], "minimum_should_match": 1}
    assert _search(cluster, {"query": {"bool": at_least}})[0] == ["d4"]


def test_function_score_multiplies_field_factors_and_knows_the_archived_script(cluster: Any) -> None:
    query = {
        "function_score": {
            "query": {"match_all": {}},
            "functions": [
                {"field_value_factor": {"field": "views", "factor": 4, "modifier": "sqrt", "missing": 1}},
                {"script_score": {"script": {"source": "doc['archived'].size() == 0 ? 1 : 0.2"}}},
            ],
        }
    }
    ids, result = _search(cluster, {"query": query})
    scores = {hit["_id"]: hit["_score"] for hit in result["hits"]["hits"]}
    assert ids == ["d1", "d2", "d3", "d4"]
    assert scores["d1"] == pytest.approx(6.0) and scores["d3"] == pytest.approx(2.0)
    assert scores["d4"] == pytest.approx(0.4)  # sqrt(4 * 1) * 0.2: archived
    unknown = {"function_score": {"functions": [{"script_score": {"script": {"source": "Math.random()"}}}]}}
    status, error = ss.route(cluster, "POST", ["docs", "_search"], {"query": unknown}, {})
    assert status == 400 and error["error"]["type"] == "script_exception"


def test_sort_orders_fields_with_missing_values_last(cluster: Any) -> None:
    asc = _search(cluster, {"sort": ["created_at", {"_score": {"order": "desc"}}]})
    assert asc[0] == ["d2", "d1", "d3", "d4"]  # d4 has no created_at
    desc = _search(cluster, {"sort": [{"created_at": {"order": "desc"}}]})
    assert desc[0] == ["d3", "d1", "d2", "d4"]
    assert desc[1]["hits"]["hits"][0]["sort"][0] == ss.parse_date("2024-02-01")
    keyword = _search(cluster, {"sort": [{"org.keyword": {"order": "desc"}}]})
    assert keyword[0][0] == "d3"


def test_text_fields_cannot_be_sorted_or_aggregated(cluster: Any) -> None:
    for body in ({"sort": ["title"]}, {"aggs": {"t": {"terms": {"field": "title"}}}}):
        status, error = ss.route(cluster, "POST", ["docs", "_search"], body, {})
        assert status == 400 and "Text fields" in error["error"]["reason"]


def test_paging_and_the_result_window(cluster: Any) -> None:
    assert _search(cluster, {"sort": ["created_at"], "from": 1, "size": 2})[0] == ["d1", "d3"]
    status, error = ss.route(cluster, "POST", ["docs", "_search"], {"from": 9990, "size": 20}, {})
    assert status == 400 and "Result window is too large" in error["error"]["reason"]
    assert error["error"]["root_cause"][0]["type"] == "illegal_argument_exception"


def test_unknown_queries_and_routes_are_400_not_silent(cluster: Any) -> None:
    status, error = ss.route(
        cluster, "POST", ["docs", "_search"], {"query": {"regexp": {"title": "a.*"}}}, {}
    )
    assert status == 400 and error["error"]["type"] == "parsing_exception"
    status, error = ss.route(cluster, "POST", ["docs", "_update_by_query"], {}, {})
    assert status == 400
    status, error = ss.route(cluster, "POST", ["missing", "_search"], {}, {})
    assert status == 404 and error["error"]["type"] == "index_not_found_exception"


def test_dynamic_mapping_types_new_fields(cluster: Any) -> None:
    ss.route(cluster, "PUT", ["docs", "_doc", "d5"], {"title": "x", "extra": "Deux Mots", "n": 3}, {})
    index = cluster.indices["docs-1"]
    assert index.mapping["extra"].kind == "text" and index.mapping["extra.keyword"].kind == "keyword"
    assert index.mapping["n"].kind == "long"
    assert _search(cluster, {"query": {"term": {"extra.keyword": "Deux Mots"}}})[0] == ["d5"]
    assert _search(cluster, {"query": {"term": {"extra": "deux"}}})[0] == ["d5"]


def test_updates_and_deletes(cluster: Any) -> None:
    status, body = ss.route(cluster, "PUT", ["docs", "_doc", "d2"], {"title": "Rivières"}, {})
    assert (status, body["result"], body["_version"]) == (200, "updated", 2)
    assert _search(cluster, {"query": {"match": {"title": "eaux"}}})[0] == []
    assert ss.route(cluster, "DELETE", ["docs", "_doc", "d2"], {}, {})[0] == 200
    assert ss.route(cluster, "DELETE", ["docs", "_doc", "d2"], {}, {})[0] == 404
    assert ss.route(cluster, "GET", ["docs", "_doc", "d2"], {}, {})[0] == 404


def test_http_server_answers_like_elasticsearch() -> None:
    service = ss.start()
    try:
        with urllib.request.urlopen(service.url + "/", timeout=10) as response:
            assert response.headers["X-Elastic-Product"] == "Elasticsearch"
            assert json.load(response)["version"]["number"].startswith("7.17")
        request = urllib.request.Request(
            service.url + "/nothing/_search", data=b"{}", headers={"Content-Type": "application/json"}
        )
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=10)
        assert caught.value.code == 404
        assert json.load(caught.value)["error"]["type"] == "index_not_found_exception"
    finally:
        service.stop()
