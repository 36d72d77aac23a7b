"""RetryPolicy.decide and parse_retry_after as tables: no I/O, no waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import attrs
import httpx
import pytest
from datagouv_sdk.errors import UsageError
from datagouv_sdk.retry import RetryPolicy, parse_retry_after

NOW = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC).timestamp()


def http_date(seconds_from_now: float) -> str:
    return format_datetime(datetime.fromtimestamp(NOW + seconds_from_now, tz=UTC), usegmt=True)


def response(status: int, retry_after: str | None = None) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return httpx.Response(status, headers=headers)


# Jitter off so waits are exact.
POLICY = RetryPolicy(jitter="none")


@pytest.mark.parametrize(
    ("method", "status", "retried"),
    [
        ("GET", 200, False),
        ("GET", 404, False),
        ("GET", 400, False),
        ("GET", 501, False),
        ("GET", 408, True),
        ("GET", 429, True),
        ("GET", 500, True),
        ("GET", 502, True),
        ("GET", 503, True),
        ("GET", 504, True),
        ("HEAD", 503, True),
        ("OPTIONS", 503, True),
        ("PUT", 503, True),
        ("DELETE", 502, True),
        ("delete", 502, True),
        ("POST", 503, False),
        ("POST", 429, False),
        ("PATCH", 500, False),
    ],
)
def test_status_by_method(method: str, status: int, retried: bool) -> None:
    decision = POLICY.decide(method, 1, response(status), NOW)
    assert decision.retry is retried
    assert decision.wait == (0.5 if retried else 0.0)
    assert decision.reason


@pytest.mark.parametrize(
    ("method", "error", "retried"),
    [
        # never reached the server: every method, POST included
        ("POST", httpx.ConnectError("refused"), True),
        ("POST", httpx.ConnectTimeout("slow connect"), True),
        ("PATCH", httpx.PoolTimeout("pool"), True),
        ("GET", httpx.ConnectError("refused"), True),
        # may have reached it: idempotent methods only
        ("GET", httpx.ReadError("reset"), True),
        ("GET", httpx.ReadTimeout("slow"), True),
        ("PUT", httpx.WriteError("broken pipe"), True),
        ("GET", httpx.RemoteProtocolError("truncated"), True),
        ("POST", httpx.ReadError("reset"), False),
        ("POST", httpx.ReadTimeout("slow"), False),
        ("POST", httpx.WriteTimeout("slow"), False),
        ("POST", httpx.RemoteProtocolError("truncated"), False),
        ("PATCH", httpx.ReadError("reset"), False),
        # not transient
        ("GET", httpx.UnsupportedProtocol("ftp"), False),
        ("GET", httpx.LocalProtocolError("bad header"), False),
        ("GET", ValueError("bug"), False),
    ],
)
def test_errors_by_method(method: str, error: BaseException, retried: bool) -> None:
    assert POLICY.decide(method, 1, error, NOW).retry is retried


@pytest.mark.parametrize(
    ("status", "retry_after", "retried", "wait", "retry_after_seen"),
    [
        (429, "3", True, 3.0, 3.0),
        (429, "0", True, 0.0, 0.0),
        (429, "2.5", True, 2.5, 2.5),
        (503, "7", True, 7.0, 7.0),
        (429, http_date(20), True, 20.0, 20.0),
        (503, http_date(45), True, 45.0, 45.0),
        (429, http_date(-30), True, 0.0, 0.0),  # a date in the past: retry now
        (429, "60", True, 60.0, 60.0),  # at the ceiling: still slept
        (429, "61", False, 0.0, 61.0),  # over the ceiling: stop, let the caller raise RateLimitError
        (503, "3600", False, 0.0, 3600.0),
        (429, http_date(600), False, 0.0, 600.0),
        # garbage: ignored, exponential backoff instead
        (429, "soon", True, 0.5, None),
        (429, "-5", True, 0.5, None),
        (429, "Monday", True, 0.5, None),
        (429, "", True, 0.5, None),
        # Retry-After is only honoured on 429 and 503
        (500, "30", True, 0.5, None),
        (502, "30", True, 0.5, None),
    ],
)
def test_retry_after_forms(
    status: int, retry_after: str, retried: bool, wait: float, retry_after_seen: float | None
) -> None:
    decision = POLICY.decide("GET", 1, response(status, retry_after), NOW)
    assert (decision.retry, decision.retry_after) == (retried, retry_after_seen)
    assert decision.wait == pytest.approx(wait)


def test_over_ceiling_on_post_still_reports_retry_after() -> None:
    decision = POLICY.decide("POST", 1, response(429, "120"), NOW)
    assert not decision.retry and decision.retry_after == 120.0


@pytest.mark.parametrize(
    ("max_attempts", "attempt", "retried"),
    [(3, 1, True), (3, 2, True), (3, 3, False), (1, 1, False), (5, 4, True), (5, 5, False)],
)
def test_attempt_budget(max_attempts: int, attempt: int, retried: bool) -> None:
    policy = RetryPolicy(max_attempts=max_attempts, jitter="none")
    assert policy.decide("GET", attempt, response(503), NOW).retry is retried
    assert policy.decide("GET", attempt, httpx.ConnectError("x"), NOW).retry is retried


def test_none_policy_never_retries() -> None:
    policy = RetryPolicy.none()
    assert policy.max_attempts == 1
    assert not policy.decide("GET", 1, response(503), NOW).retry
    assert not policy.decide("POST", 1, httpx.ConnectError("x"), NOW).retry


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (6, 8.0), (20, 8.0)],
)
def test_backoff_grows_then_caps(attempt: int, expected: float) -> None:
    policy = RetryPolicy(max_attempts=100, jitter="none")
    assert policy.backoff(attempt) == expected
    assert policy.decide("GET", attempt, response(502), NOW).wait == expected


@pytest.mark.parametrize("draw", [0.0, 0.25, 0.5, 0.999999])
@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 5, 8])
def test_jitter_bounds(draw: float, attempt: int) -> None:
    base = min(8.0, 0.5 * 2 ** (attempt - 1))
    bounded = RetryPolicy(jitter="bounded", random=lambda: draw)
    full = RetryPolicy(jitter="full", random=lambda: draw)
    assert 0.75 * base <= bounded.backoff(attempt) <= min(1.25 * base, 8.0)
    assert 0.0 <= full.backoff(attempt) <= base
    assert full.backoff(attempt) == pytest.approx(base * draw)


def test_bounded_jitter_extremes_and_cap() -> None:
    assert RetryPolicy(random=lambda: 0.0).backoff(1) == pytest.approx(0.375)
    assert RetryPolicy(random=lambda: 0.999999).backoff(1) == pytest.approx(0.625, rel=1e-5)
    assert RetryPolicy(random=lambda: 0.999999).backoff(10) == 8.0  # +25 % never passes the cap


def test_retry_after_is_not_jittered() -> None:
    policy = RetryPolicy(random=lambda: 0.0)
    assert policy.decide("GET", 1, response(429, "4"), NOW).wait == 4.0


def test_custom_statuses_and_methods() -> None:
    policy = RetryPolicy(retry_statuses={418}, idempotent_methods=["get", "post"], jitter="none")
    assert policy.idempotent_methods == frozenset({"GET", "POST"})
    assert policy.decide("POST", 1, response(418), NOW).retry
    assert not policy.decide("GET", 1, response(503), NOW).retry


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"initial_backoff": -1},
        {"max_backoff": -0.1},
        {"max_retry_after": -1},
        {"jitter": "big"},
    ],
)
def test_invalid_policy_is_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(UsageError, match=f"RetryPolicy.{next(iter(kwargs))}"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_policy_is_frozen_and_evolvable() -> None:
    policy = RetryPolicy()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        policy.max_attempts = 5  # type: ignore[misc]
    assert attrs.evolve(policy, max_attempts=5).max_attempts == 5


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("10", 10.0),
        (" 10 ", 10.0),
        ("1.5", 1.5),
        ("0", 0.0),
        (http_date(90), 90.0),
        ("Sat, 21 Nov 2026 12:01:00 GMT", 60.0),
        ("Saturday, 21-Nov-26 12:01:00 GMT", 60.0),  # obsolete RFC 850 form
        ("Sat Nov 21 12:01:00 2026", 60.0),  # asctime form, no zone: GMT
        ("Sat, 21 Nov 2026 11:00:00 GMT", 0.0),
        ("soon", None),
        ("-1", None),
        ("1e3", None),
        ("Monday", None),
        ("Sat, 99 Nov 2026 12:01:00 GMT", None),
        ("", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    result = parse_retry_after(value, NOW)
    assert result == (pytest.approx(expected) if expected is not None else None)


def test_http_date_is_relative_to_the_given_clock() -> None:
    value = "Sat, 21 Nov 2026 12:01:00 GMT"
    assert parse_retry_after(value, NOW) == 60.0
    assert parse_retry_after(value, NOW + 30) == 30.0
    assert parse_retry_after(value, NOW + timedelta(hours=1).total_seconds()) == 0.0
