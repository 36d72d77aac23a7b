"""Reading third-party documents from real loopback servers: the three good forms, and every hostile
case the fetcher must refuse quickly and clearly."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from datagouv_sdk.discovery import (
    Discovery,
    DocumentDeadlineError,
    DocumentError,
    DocumentTooLargeError,
    FetchLimits,
    NotOpenAPIError,
    UnsafeURLError,
    UnsafeYAMLError,
)
from datagouv_sdk.discovery.documents import parse_bytes
from datagouv_sdk.errors import APIConnectionError, ResponseDecodeError, ServerError, UsageError
from datagouv_sdk.retry import RetryPolicy

from tests.discovery.servers import BILLION_LAUGHS, RecordingServer

DEADLINE = 2.0


@pytest.fixture
def disco() -> Iterator[Discovery]:
    with Discovery(
        fetch_limits=FetchLimits(deadline=DEADLINE), retry=RetryPolicy.none(), allow_private_hosts=True
    ) as d:
        yield d


def test_openapi30_json_relative_server_resolved_against_document(
    disco: Discovery, api_server: RecordingServer
) -> None:
    api = disco.api_at(api_server.url("/docs/openapi30.json"), base_api_url="http://127.0.0.1:9/ignored")
    assert api.document.version == "3.0.3"
    assert (api.base_url.url, api.base_url.source) == (api_server.url("/v1"), "servers")
    names = [op.name for op in api.operations]
    assert names == [
        "getItem",
        "listItems",
        "createItem",
        "getMissing",
        "goAway",
        "flaky",
        "slow",
        "huge",
        "toFile",
        "getText",
    ]
    get_item = api.operation("getItem")
    assert [(p.name, p.location, p.type, p.required) for p in get_item.parameters] == [
        ("item_id", "path", "string", True),
        ("verbose", "query", "boolean", False),
    ]
    limit = api.operation("GET /items").parameters[0]  # found by method + path; $ref resolved
    assert (limit.name, limit.type) == ("limit", "integer")
    create = api.operation("createItem")
    assert create.request_body is not None and create.request_body.required
    assert create.request_body.content_types == ("application/json",)


def test_openapi31_yaml_without_servers_falls_back_to_base_api_url(
    disco: Discovery, api_server: RecordingServer
) -> None:
    api = disco.api_at(api_server.url("/docs/openapi31.yaml"), base_api_url=api_server.url("/v1"))
    assert api.document.version == "3.1.0"
    assert api.base_url.source == "base_api_url"
    assert api.document.spec["x-again"] == {"note": "reused"}  # a modest alias is fine
    assert "200" in api.document.spec["paths"]["/items"]["get"]["responses"]  # string keys


def test_swagger20_converted_and_host_used(disco: Discovery, api_server: RecordingServer) -> None:
    api = disco.api_at(api_server.url("/docs/swagger20.json"))
    assert api.document.version == "2.0" and api.document.converted
    assert api.document.spec["openapi"].startswith("3.0")
    assert (api.base_url.url, api.base_url.source) == (api_server.url("/v1"), "host")
    create = api.operation("createItem")
    assert create.request_body is not None and create.request_body.required
    assert [p.name for p in api.operation("getItem").parameters] == ["item_id", "verbose"]


@pytest.mark.parametrize(
    ("path", "error", "words"),
    [
        ("/docs/not-openapi.json", NotOpenAPIError, "not an OpenAPI 3.x or Swagger 2.0 document"),
        ("/docs/page.html", NotOpenAPIError, "HTML page"),
        ("/docs/huge.json", DocumentTooLargeError, "larger than the 10,485,760-byte cap"),
        ("/docs/huge-declared.json", DocumentTooLargeError, "52,428,800 bytes"),
        ("/docs/gzip-bomb.json", DocumentTooLargeError, "cap"),
        ("/docs/bomb.yaml", UnsafeYAMLError, "YAML bomb"),
        ("/docs/recursive.yaml", UnsafeYAMLError, "recursive alias"),
        ("/docs/deep.json", DocumentError, "nested too deeply"),
        ("/docs/redirect-file", UnsafeURLError, "only http(s)"),
        ("/docs/redirect-public-http", UnsafeURLError, "plain http is only used for loopback"),
        ("/docs/redirect-loop", DocumentError, "more than 5 redirects"),
        ("/docs/server-error.json", ServerError, "boom"),
        ("/docs/latin1.json", DocumentError, "not UTF-8 text"),
        ("/docs/list.json", NotOpenAPIError, "the top level is a list"),
        ("/docs/wms.xml", NotOpenAPIError, "the document is XML"),
        ("/docs/swagger12.json", NotOpenAPIError, "no version field; top-level keys: apis, swaggerVersion"),
        ("/docs/no-paths.json", NotOpenAPIError, "the 3.0.3 document has no 'paths' mapping"),
        ("/docs/broken-off.json", ResponseDecodeError, "broke off"),
        ("/docs/huge-header.json", APIConnectionError, "could not get a response"),
    ],
)
def test_hostile_documents_are_refused_clearly(
    disco: Discovery, api_server: RecordingServer, path: str, error: type[Exception], words: str
) -> None:
    started = time.monotonic()
    with pytest.raises(error) as info:
        disco.api_at(api_server.url(path))
    assert words in str(info.value)
    assert time.monotonic() - started < DEADLINE + 1.0


@pytest.mark.parametrize("path", ["/docs/slow.json", "/docs/slow-headers.json"])
def test_trickling_server_stopped_by_total_deadline(
    disco: Discovery, api_server: RecordingServer, path: str
) -> None:
    started = time.monotonic()
    with pytest.raises(DocumentDeadlineError, match="longer than its 2 s deadline"):
        disco.document_at(api_server.url(path))
    elapsed = time.monotonic() - started
    assert DEADLINE - 0.1 <= elapsed < DEADLINE + 1.0, elapsed  # hard deadline; slack for a loaded machine


def test_redirect_to_another_host_followed_without_credentials(
    disco: Discovery, api_server: RecordingServer, other_server: RecordingServer
) -> None:
    api = disco.api_at(api_server.url("/docs/redirect.json"))
    assert api.document.url == other_server.url("/docs/openapi30.json")
    assert api.base_url.url == api_server.url("/v1")
    assert other_server.headers_for("/docs/openapi30.json"), "the other host was never asked"
    for headers in api_server.headers_for("/docs/") + other_server.headers_for("/docs/"):
        assert not {"x-api-key", "authorization", "cookie"} & set(headers)


def test_cookies_set_by_a_document_host_are_never_replayed(
    disco: Discovery, api_server: RecordingServer
) -> None:
    disco.document_at(api_server.url("/docs/set-cookie.json"))
    disco.document_at(api_server.url("/docs/openapi30.json"))
    disco.document_at(api_server.url("/docs/set-cookie.json"))
    assert all("cookie" not in h for h in api_server.headers_for("/docs/"))


def test_plain_http_to_public_host_refused_before_any_request(disco: Discovery) -> None:
    with pytest.raises(UnsafeURLError, match="plain http"):
        disco.document_at("http://example.invalid/openapi.json")
    with pytest.raises(UnsafeURLError, match="only http"):
        disco.document_at("ftp://127.0.0.1/openapi.json")
    assert isinstance(UnsafeURLError("x", url="u"), UsageError)


def test_a_kept_document_is_neither_fetched_nor_parsed_again(
    disco: Discovery, api_server: RecordingServer
) -> None:
    url = api_server.url("/docs/openapi30.json")
    before = len(api_server.requests_to("/docs/openapi30.json"))
    first = disco.document_at(url)
    assert disco.document_at(url) is first  # within FetchLimits.max_age: no request at all
    assert len(api_server.requests_to("/docs/openapi30.json")) == before + 1
    assert disco.stats["document_parses"] == 1


def test_conditional_request_reuses_cached_document(api_server: RecordingServer) -> None:
    limits = FetchLimits(deadline=DEADLINE, max_age=0)  # always revalidate
    with Discovery(fetch_limits=limits, retry=RetryPolicy.none(), allow_private_hosts=True) as disco:
        url = api_server.url("/docs/etag.json")
        first = disco.document_at(url)
        second = disco.document_at(url)
        assert second is first  # 304: neither downloaded nor parsed again
        sent = api_server.headers_for("/docs/etag.json")
        assert "if-none-match" not in sent[-2] and sent[-1]["if-none-match"] == '"v1"'
        assert disco.stats == {"document_requests": 2, "document_parses": 1}


def test_yaml_guard_is_fast_and_allows_legit_anchors() -> None:
    started = time.monotonic()
    with pytest.raises(UnsafeYAMLError):
        parse_bytes(BILLION_LAUGHS.encode())
    assert time.monotonic() - started < 1.0
    assert parse_bytes(b"a: &x {k: 1}\nb: *x\n200: ok\n") == {"a": {"k": 1}, "b": {"k": 1}, "200": "ok"}
