"""One exception tree for every API the SDK talks to, and the one status → class mapping.

    DataGouvError
    ├── UsageError (also ValueError)      bad input caught before any request is sent
    ├── APIConnectionError                the request never got an HTTP answer
    │   └── APITimeoutError
    ├── ResponseDecodeError               an answer arrived but its body is unusable (truncated JSON…)
    │   └── ResponseValidationError       strict mode: the body differs from the API's spec
    └── APIStatusError                    an HTTP answer with status >= 400
        ├── BadRequestError 400, AuthenticationError 401, PermissionDeniedError 403,
        │   NotFoundError 404, ConflictError 409, GoneError 410, UnprocessableEntityError 422,
        ├── RateLimitError 429 (retry_after, rate_limit)
        └── ServerError 5xx

The error bodies parsed are the real ones: udata `{"message": …}` and
`{"errors": {field: [...]}, "message": …}`; api_tabular `{"errors": [{"code", "title", "detail"}]}`
(detail may be a nested database error object); text/plain bodies; HTML pages from a proxy.

Every site that reads an answer calls `raise_for_status` (`araise_for_status` on async streams), then
`decode_json`: one path, so a Retry-After on a 429 or 503 becomes the same `RateLimitError.retry_after`
everywhere. Every APIStatusError carries `rate_limit` (the X-RateLimit-* headers, or None).
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Sequence
from datetime import UTC
from typing import Any, Protocol

import attrs
import httpx
from dateutil import parser as _dateparser

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "DataGouvError",
    "Deviation",
    "GoneError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RateLimitInfo",
    "ResponseDecodeError",
    "ResponseValidationError",
    "ServerError",
    "UnprocessableEntityError",
    "UsageError",
    "araise_for_status",
    "decode_json",
    "error_from_response",
    "parse_error_body",
    "parse_retry_after",
    "raise_for_status",
]

# Longest message kept from a body that is not structured (HTML proxy pages, long text).
_MAX_MESSAGE = 300


class DataGouvError(Exception):
    """Root of every error this SDK raises on purpose."""


class UsageError(DataGouvError, ValueError):
    """The caller asked for something invalid; nothing was sent."""


class APIConnectionError(DataGouvError):
    """No HTTP response: DNS, refused or reset connection, TLS failure, or a timeout."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.request = request


class APITimeoutError(APIConnectionError):
    """The connect, read, write or pool timeout ran out."""


class ResponseDecodeError(DataGouvError):
    """A response arrived but its body could not be decoded (e.g. truncated JSON)."""

    def __init__(self, message: str, *, response: httpx.Response | None = None) -> None:
        super().__init__(message)
        self.response = response

    @property
    def body(self) -> bytes | None:
        """The raw body, as received (None without a response)."""
        return self.response.content if self.response is not None else None


class Deviation(Protocol):
    """Where a response body differs from its spec (the generated packages' `types.Deviation`)."""

    schema: str  # the model the value belongs to ("Dataset"), or "<operation> <status> response"
    property_name: str  # its property there ("" for the body itself)
    path: tuple[str | int, ...]  # JSON keys and indexes from the body
    expected: str  # what the spec declares ("date-time", "string | null", "object (Dataset)")
    received: Any  # the value as sent (the generated package's UNSET when missing)

    @property
    def json_path(self) -> str: ...


class ResponseValidationError(ResponseDecodeError):
    """Strict mode (`DataGouv(strict=True)`, `DATAGOUV_STRICT=1`): a response body differs from the
    API's spec. A ResponseDecodeError, as a body the models could not read used to be.

    `operation` ("GET /datasets/ (list_datasets)"), `deviations` (all of them), and the first one's
    `schema`, `path` (JSONPath: "$.data[3].last_modified"), `expected` and `received`; `body` is the
    raw body, `response` the httpx.Response. Without strict mode the same values are kept as sent
    and listed in the model's `deviations`."""

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        deviations: Sequence[Deviation],
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message, response=response)
        if not deviations:
            raise ValueError("a ResponseValidationError needs at least one deviation")
        self.operation = operation
        self.deviations: tuple[Deviation, ...] = tuple(deviations)
        first = self.deviations[0]
        self.schema = first.schema
        self.path = first.json_path
        self.expected = first.expected
        self.received = first.received


@attrs.frozen
class RateLimitInfo:
    """The `X-RateLimit-*` headers of a response, when the server sent them."""

    limit: int | None = None
    remaining: int | None = None
    reset: str | None = None

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> RateLimitInfo | None:
        limit, remaining = headers.get("x-ratelimit-limit"), headers.get("x-ratelimit-remaining")
        reset = headers.get("x-ratelimit-reset")
        if limit is None and remaining is None and reset is None:
            return None
        return cls(limit=_int_or_none(limit), remaining=_int_or_none(remaining), reset=reset)


class APIStatusError(DataGouvError):
    """An HTTP response with status >= 400."""

    status_code: int

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        body: Any = None,
        details: Any = None,
    ) -> None:
        request = response.request
        self.method = request.method
        self.url = str(request.url)
        self.status_code = response.status_code
        self.message = message
        self.response = response
        self.request = request
        self.body = body  # parsed JSON when the body was JSON, else the text
        self.details = details  # field errors (udata) or the list of api_tabular errors
        self.headers = response.headers
        self.rate_limit = RateLimitInfo.from_headers(response.headers)
        super().__init__(f"{self.status_code} {self.method} {self.url}: {message}")


class BadRequestError(APIStatusError):
    status_code = 400


class AuthenticationError(APIStatusError):
    status_code = 401


class PermissionDeniedError(APIStatusError):
    status_code = 403


class NotFoundError(APIStatusError):
    status_code = 404


class ConflictError(APIStatusError):
    status_code = 409


class GoneError(APIStatusError):
    status_code = 410


class UnprocessableEntityError(APIStatusError):
    status_code = 422


class RateLimitError(APIStatusError):
    """429, or a Retry-After longer than the retry policy accepts to sleep."""

    status_code = 429

    def __init__(self, message: str, *, retry_after: float | None = None, **fields: Any) -> None:
        """`fields`: those of `APIStatusError` (response, body, details)."""
        super().__init__(message, **fields)
        self.retry_after = retry_after  # seconds to wait, from Retry-After (None: not said)


class ServerError(APIStatusError):
    """Any 5xx."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    cls.status_code: cls
    for cls in (
        BadRequestError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        ConflictError,
        GoneError,
        UnprocessableEntityError,
        RateLimitError,
    )
}


def raise_for_status(response: httpx.Response, *, now: float | None = None) -> None:
    """Raise the mapped APIStatusError for a status >= 400; return None otherwise.

    The body is read first when it has not been (sync responses); if reading fails the error is
    still raised, with the reason phrase as message. For an async streamed response use
    `araise_for_status`."""
    if response.status_code < 400:
        return
    if not _is_read(response):
        # A broken error body must not hide the status. RuntimeError: an unread async stream (the
        # caller wanted araise_for_status); the status is still the thing to report.
        with contextlib.suppress(httpx.HTTPError, DataGouvError, RuntimeError):
            response.read()
    raise error_from_response(response, now=now)


async def araise_for_status(response: httpx.Response, *, now: float | None = None) -> None:
    """Async twin of `raise_for_status`: awaits the body of an unread response first."""
    if response.status_code < 400:
        return
    if not _is_read(response):
        with contextlib.suppress(httpx.HTTPError, DataGouvError):
            await response.aread()
    raise error_from_response(response, now=now)


def _is_read(response: httpx.Response) -> bool:
    try:
        _ = response.content
    except httpx.ResponseNotRead:
        return False
    return True


def decode_json(response: httpx.Response) -> Any:
    """The JSON body of a read response, or ResponseDecodeError naming the request and what broke."""
    where = _describe_request(response)
    try:
        content = response.content
    except httpx.ResponseNotRead as exc:
        raise UsageError(
            f"the body of {where} has not been read: call response.read() (async: await response.aread()) first"
        ) from exc
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        size = len(content)
        hint = " (empty body)" if not size else f" ({size} bytes, may be truncated)"
        raise ResponseDecodeError(
            f"invalid JSON in the {response.status_code} response to {where}{hint}: {exc}", response=response
        ) from exc


def _describe_request(response: httpx.Response) -> str:
    try:
        request = response.request
    except RuntimeError:  # a Response built by hand, with no request attached
        return "a request"
    return f"{request.method} {request.url}"


def error_from_response(response: httpx.Response, *, now: float | None = None) -> APIStatusError:
    """Map a >= 400 response to its exception class, with the body parsed (read it first). A valid
    Retry-After on a 429 or 503 becomes `RateLimitError.retry_after`, in seconds from `now` (epoch
    seconds; the wall clock by default): a 503 that says when to come back is throttling."""
    message, body, details = parse_error_body(response)
    status = response.status_code
    retry_after = None
    if status in (429, 503):
        retry_after = parse_retry_after(
            response.headers.get("retry-after"), time.time() if now is None else now
        )
    if status == 429 or (retry_after is not None and status == 503):
        return RateLimitError(message, response=response, body=body, details=details, retry_after=retry_after)
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else APIStatusError
    err = cls(message, response=response, body=body, details=details)
    err.status_code = status
    return err


def parse_error_body(response: httpx.Response) -> tuple[str, Any, Any]:
    """(message, parsed body, details) for every error shape the data.gouv.fr servers produce."""
    text = _safe_text(response)
    content_type = response.headers.get("content-type", "").lower()
    parsed: Any = None
    if text and ("json" in content_type or text.lstrip()[:1] in ("{", "[")):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
    if parsed is not None:
        message, details = _message_from_json(parsed)
        return message or response.reason_phrase or f"HTTP {response.status_code}", parsed, details
    if "html" in content_type or re.match(r"\s*<(!doctype|html)", text, re.IGNORECASE):
        return _message_from_html(text, response), text, None
    stripped = " ".join(text.split())
    if not stripped:
        return response.reason_phrase or f"HTTP {response.status_code}", text, None
    return _shorten(stripped), text, None


_DELAY_SECONDS = re.compile(r"\s*\d+(\.\d+)?\s*")
# Every HTTP-date form (IMF-fixdate, RFC 850, asctime) has hh:mm:ss and a month name; dateutil alone
# would also accept "Monday" or "12".
_TIME_OF_DAY = re.compile(r"\b\d{1,2}:\d{2}:\d{2}\b")
_MONTH = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)", re.IGNORECASE)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After value (delay-seconds or HTTP-date), relative to `now`
    (epoch seconds). A date in the past gives 0. None when absent or unparseable."""
    if value is None:
        return None
    if _DELAY_SECONDS.fullmatch(value):
        return float(value)
    if not (_TIME_OF_DAY.search(value) and _MONTH.search(value)):
        return None
    try:
        when = _dateparser.parse(value)
    except (ValueError, OverflowError):
        return None
    if when.tzinfo is None:  # HTTP-dates are always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _message_from_json(parsed: Any) -> tuple[str, Any]:
    if isinstance(parsed, dict):
        errors = parsed.get("errors")
        message = parsed.get("message")
        if isinstance(errors, list) and errors:  # api_tabular
            parts = [_tabular_error_text(e) for e in errors]
            text = "; ".join(p for p in parts if p)
            return _shorten(str(message) + ": " + text if message else text), errors
        if isinstance(errors, dict) and errors:  # udata form validation
            fields = "; ".join(f"{k}: {_flatten(v)}" for k, v in errors.items())
            base = str(message) if message else "Validation failed"
            return _shorten(f"{base} ({fields})"), errors
        if message is not None:
            return _shorten(str(message)), None
        for key in ("error", "detail", "title"):
            if key in parsed:
                return _shorten(_flatten(parsed[key])), None
        return _shorten(json.dumps(parsed, ensure_ascii=False)), None
    if isinstance(parsed, list):
        return _shorten(_flatten(parsed)), parsed
    return _shorten(str(parsed)), None


def _tabular_error_text(error: Any) -> str:
    if not isinstance(error, dict):
        return _flatten(error)
    title, detail = error.get("title"), error.get("detail")
    if isinstance(detail, dict):  # a PostgREST/database error object
        detail = detail.get("message") or detail.get("details") or json.dumps(detail, ensure_ascii=False)
    parts = [str(p) for p in (title, detail) if p]
    return ": ".join(parts) if parts else _flatten(error)


def _message_from_html(text: str, response: httpx.Response) -> str:
    match = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    if match is None:
        match = re.search(r"<h1[^>]*>(.*?)</h1>", text, re.IGNORECASE | re.DOTALL)
    if match is not None:
        title = " ".join(re.sub(r"<[^>]+>", "", match.group(1)).split())
        if title:
            return _shorten(title)
    return response.reason_phrase or f"HTTP {response.status_code}"


def _flatten(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_flatten(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_flatten(v)}" for k, v in value.items())
    return str(value)


def _shorten(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _safe_text(response: httpx.Response) -> str:
    try:
        return response.text
    except (httpx.ResponseNotRead, UnicodeDecodeError):
        return ""


def _int_or_none(value: Any) -> int | None:
    """An int from a header or a JSON value; None when absent, empty or not a number."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
