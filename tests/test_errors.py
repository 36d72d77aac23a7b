"""errors: the status → class mapping, every error-body shape, raise_for_status, decode_json."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from datagouv_sdk import errors
from datagouv_sdk.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    DataGouvError,
    GoneError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    UnprocessableEntityError,
    UsageError,
    araise_for_status,
    decode_json,
    error_from_response,
    raise_for_status,
)

REQUEST = httpx.Request("GET", "https://www.data.gouv.fr/api/1/datasets/x/")
NOW = 1_800_000_000.0


def make(status: int, body: Any = b"", content_type: str | None = None, **headers: str) -> httpx.Response:
    hdrs = {k.replace("_", "-"): v for k, v in headers.items()}
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        hdrs.setdefault("content-type", "application/json")
    elif isinstance(body, str):
        body = body.encode()
    if content_type:
        hdrs["content-type"] = content_type
    return httpx.Response(status, content=body, headers=hdrs, request=REQUEST)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (405, APIStatusError),
        (409, ConflictError),
        (410, GoneError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
    ],
)
def test_status_to_class(status: int, cls: type[APIStatusError]) -> None:
    err = error_from_response(make(status, {"message": "boom"}))
    assert type(err) is cls
    assert err.status_code == status
    assert err.method == "GET" and err.url == str(REQUEST.url)
    assert str(err) == f"{status} GET {REQUEST.url}: boom"


@pytest.mark.parametrize(
    ("body", "content_type", "message", "details"),
    [
        # udata: plain message
        ({"message": "Dataset not found"}, None, "Dataset not found", None),
        # udata: form validation
        (
            {
                "errors": {"title": ["This field is required."], "license": ["Not a valid choice", "x"]},
                "message": "Validation error",
            },
            None,
            "Validation error (title: This field is required.; license: Not a valid choice, x)",
            {"title": ["This field is required."], "license": ["Not a valid choice", "x"]},
        ),
        (
            {"errors": {"title": ["required"]}},
            None,
            "Validation failed (title: required)",
            {"title": ["required"]},
        ),
        # api_tabular: list of errors
        (
            {
                "errors": [
                    {"code": None, "title": "Invalid query string", "detail": "Malformed query: unknown op"}
                ]
            },
            None,
            "Invalid query string: Malformed query: unknown op",
            [{"code": None, "title": "Invalid query string", "detail": "Malformed query: unknown op"}],
        ),
        # api_tabular: detail is a nested database error object
        (
            {
                "errors": [
                    {
                        "code": "42703",
                        "title": "Database error",
                        "detail": {"code": "42703", "message": 'column "x" does not exist', "hint": None},
                    }
                ]
            },
            None,
            'Database error: column "x" does not exist',
            [
                {
                    "code": "42703",
                    "title": "Database error",
                    "detail": {"code": "42703", "message": 'column "x" does not exist', "hint": None},
                }
            ],
        ),
        (
            {"errors": [{"title": "A"}, {"title": "B", "detail": "b"}], "message": "Bad"},
            None,
            "Bad: A; B: b",
            [{"title": "A"}, {"title": "B", "detail": "b"}],
        ),
        # other JSON shapes
        ({"error": "invalid_token"}, None, "invalid_token", None),
        ({"detail": "Not Found"}, None, "Not Found", None),
        ({"status": "ko"}, None, '{"status": "ko"}', None),
        (["a", "b"], None, "a, b", ["a", "b"]),
        # JSON sent as text/plain is still parsed
        ('{"message": "typed wrong"}', "text/plain", "typed wrong", None),
        # text/plain
        ("Resource not found\n  at all", "text/plain", "Resource not found at all", None),
        # empty body: the reason phrase
        (b"", None, "Unprocessable Entity", None),
        # invalid JSON claimed as JSON: kept as text
        ('{"message": "cut', "application/json", '{"message": "cut', None),
    ],
)
def test_error_body_shapes(body: Any, content_type: str | None, message: str, details: Any) -> None:
    err = error_from_response(make(422, body, content_type))
    assert err.message == message
    assert err.details == details
    if isinstance(body, (dict, list)):
        assert err.body == body


@pytest.mark.parametrize(
    ("status", "html", "message"),
    [
        (
            502,
            (
                "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1>"
                "</center><hr><center>nginx</center></body></html>"
            ),
            "502 Bad Gateway",
        ),
        (
            504,
            "<!DOCTYPE html>\n<html><body><h1>Gateway <b>Timeout</b></h1><p>"
            + "x" * 5000
            + "</p></body></html>",
            "Gateway Timeout",
        ),
        (502, "<html><body><p>nothing useful</p></body></html>", "Bad Gateway"),
    ],
)
def test_html_proxy_pages_give_a_short_message(status: int, html: str, message: str) -> None:
    err = error_from_response(make(status, html, "text/html; charset=utf-8"))
    assert isinstance(err, ServerError)
    assert err.message == message
    assert len(str(err)) < 200


def test_long_text_is_shortened() -> None:
    err = error_from_response(make(500, "y" * 10_000, "text/plain"))
    assert len(err.message) == 300 and err.message.endswith("…")


def test_rate_limit_headers_are_exposed() -> None:
    err = error_from_response(
        make(
            429,
            {"message": "slow down"},
            x_ratelimit_limit="100",
            x_ratelimit_remaining="0",
            x_ratelimit_reset="1800000060",
        )
    )
    assert err.rate_limit == errors.RateLimitInfo(limit=100, remaining=0, reset="1800000060")
    assert error_from_response(make(404, {"message": "x"})).rate_limit is None
    assert (
        errors.RateLimitInfo.from_headers(httpx.Headers({"x-ratelimit-limit": "lots"}))
        == errors.RateLimitInfo()
    )


# -- raise_for_status --------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 204, 301, 304, 399])
def test_raise_for_status_passes_below_400(status: int) -> None:
    raise_for_status(make(status))  # does not raise


@pytest.mark.parametrize(
    ("status", "retry_after", "cls", "seconds"),
    [
        (429, "30", RateLimitError, 30.0),
        (429, "Fri, 15 Jan 2027 08:01:00 GMT", RateLimitError, 60.0),  # NOW + 60 s
        (429, "whenever", RateLimitError, None),
        (429, None, RateLimitError, None),
        (503, "120", RateLimitError, 120.0),  # a 503 that says when to come back is throttling
        (503, None, ServerError, None),
        (500, "30", ServerError, None),
    ],
)
def test_raise_for_status_parses_retry_after(
    status: int, retry_after: str | None, cls: type[APIStatusError], seconds: float | None
) -> None:
    headers = {"retry_after": retry_after} if retry_after is not None else {}
    with pytest.raises(cls) as info:
        raise_for_status(make(status, {"message": "later"}, **headers), now=NOW)
    assert info.value.status_code == status
    assert getattr(info.value, "retry_after", None) == seconds


def test_raise_for_status_reads_an_unread_body() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"message": "No dataset"})

    with (
        httpx.Client(transport=httpx.MockTransport(handler)) as client,
        client.stream("GET", "https://www.data.gouv.fr/api/1/datasets/nope/") as response,
        pytest.raises(NotFoundError, match="No dataset"),
    ):
        raise_for_status(response)


async def test_araise_for_status_reads_an_unread_async_body() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={})
        return httpx.Response(409, json={"message": "Already exists"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        async with client.stream("POST", "https://www.data.gouv.fr/api/1/datasets/") as response:
            with pytest.raises(ConflictError, match="Already exists"):
                await araise_for_status(response)
        ok = await client.get("https://www.data.gouv.fr/api/1/")
        await araise_for_status(ok)  # does not raise


def test_raise_for_status_survives_a_broken_error_body() -> None:
    class Broken(httpx.SyncByteStream):
        def __iter__(self):  # type: ignore[no-untyped-def]
            yield b'{"mess'
            raise httpx.ReadError("reset")

    response = httpx.Response(500, stream=Broken(), request=REQUEST)
    with pytest.raises(ServerError) as info:
        raise_for_status(response)
    assert info.value.message == "Internal Server Error"


async def test_sync_raise_for_status_on_an_unread_async_response_still_raises_the_status() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b'{"message": "gone"}'

    class AsyncOnly(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            async for chunk in body():
                yield chunk

    response = httpx.Response(410, stream=AsyncOnly(), request=REQUEST)
    with pytest.raises(GoneError) as info:
        raise_for_status(response)
    assert info.value.message == "Gone"  # body unread, status intact


# -- decode_json ------------------------------------------------------------------------------


def test_decode_json_ok() -> None:
    assert decode_json(make(200, {"data": [1]})) == {"data": [1]}


@pytest.mark.parametrize(
    ("body", "hint"),
    [
        (b'{"data": [1, 2', "may be truncated"),
        (b"", "empty body"),
        (b"<html>", "6 bytes"),
        (b"\xff\xfe{", "bytes"),
    ],
)
def test_decode_json_raises_response_decode_error(body: bytes, hint: str) -> None:
    response = make(200, body, "application/json")
    with pytest.raises(ResponseDecodeError) as info:
        decode_json(response)
    assert hint in str(info.value)
    assert "GET https://www.data.gouv.fr/api/1/datasets/x/" in str(info.value)
    assert info.value.response is response
    assert isinstance(info.value.__cause__, ValueError)
    assert isinstance(info.value, DataGouvError)


def test_decode_json_on_unread_stream_is_a_usage_error() -> None:
    response = httpx.Response(200, stream=httpx.ByteStream(b"{}"), request=REQUEST)
    with pytest.raises(UsageError, match="read"):
        decode_json(response)


def test_every_error_class_is_importable_from_the_package() -> None:
    import datagouv_sdk

    public = [name for name in errors.__all__ if name[0].isupper()]
    assert public and set(public) <= set(datagouv_sdk.__all__)
    assert all(getattr(datagouv_sdk, name) is getattr(errors, name) for name in public)
