"""The retry policy: a small, pure decision the transport asks after every attempt.

`RetryPolicy.max_attempts` is the total budget (3 = two retries); `jitter` "bounded" is ±25 %, "full"
uniform in [0, backoff]; `max_retry_after` is the longest server-requested wait we accept to sleep;
`random` is injectable for tests. `decide(method, attempt, outcome, now)` is pure: `outcome` is the
response or exception of attempt `attempt` (1-based), `now` the wall clock in epoch seconds (for an
HTTP-date Retry-After). `parse_retry_after` lives in errors.py, which maps Retry-After too.

What is retried:
- statuses in `retry_statuses` (408, 429, 500, 502, 503, 504) and read/protocol/timeout errors, for
  idempotent methods only (GET, HEAD, OPTIONS, PUT, DELETE);
- any method, POST and PATCH included, when the request provably never reached the server
  (`httpx.ConnectError`, `ConnectTimeout`, `PoolTimeout`).
- On 429 and 503 a valid Retry-After replaces the backoff; one longer than `max_retry_after` is not
  slept: the decision is "stop" with `retry_after` set, so the caller can raise RateLimitError.

Why not httpx-retries, stamina or tenacity: we need an HTTP-date Retry-After with a ceiling measured
against an injectable clock, a per-request override carried in a request extension, and a sync and
an async transport sharing one decision. The libraries cover parts of that (tenacity and stamina
retry whole function calls, not transport attempts; httpx-retries has no ceiling-then-raise), and
the whole policy is the ~100 lines below, with no extra dependency.
"""

from __future__ import annotations

import random as _random
from collections.abc import Callable, Iterable
from typing import Literal

import attrs
import httpx

from datagouv_sdk.errors import UsageError, parse_retry_after

__all__ = [
    "DEFAULT_IDEMPOTENT_METHODS",
    "DEFAULT_RETRY_STATUSES",
    "NEVER_SENT",
    "Jitter",
    "RetryDecision",
    "RetryPolicy",
    "parse_retry_after",
]

DEFAULT_RETRY_STATUSES: frozenset[int] = frozenset({408, 429, 500, 502, 503, 504})
DEFAULT_IDEMPOTENT_METHODS: frozenset[str] = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Statuses whose Retry-After is honoured (RFC 9110 §10.2.3 defines it for 503 and 3xx, RFC 6585 for 429).
_RETRY_AFTER_STATUSES = frozenset({429, 503})

# Errors raised before a single byte of the request left: safe to retry even for POST (the transport
# also re-sends a one-shot body after these only).
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Errors after which the server may have acted on the request: only idempotent methods are retried.
_MAYBE_SENT = (
    httpx.ReadError,
    httpx.WriteError,
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.RemoteProtocolError,
)

Jitter = Literal["bounded", "full", "none"]


@attrs.frozen
class RetryDecision:
    """Whether to try again, after how many seconds, and why (for logs and tests)."""

    retry: bool
    wait: float = 0.0
    reason: str = ""
    # The server-requested wait, when a Retry-After header was present and valid.
    retry_after: float | None = None


def _non_negative(_inst: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise UsageError(f"RetryPolicy.{attribute.name} must be >= 0, got {value!r}")


def _at_least_one(_inst: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise UsageError(f"RetryPolicy.{attribute.name} must be >= 1 (1 = no retry), got {value!r}")


def _known_jitter(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in ("bounded", "full", "none"):
        raise UsageError(f"RetryPolicy.jitter must be 'bounded', 'full' or 'none', got {value!r}")


def _upper_methods(methods: Iterable[str]) -> frozenset[str]:
    return frozenset(m.upper() for m in methods)


def _statuses(statuses: Iterable[int]) -> frozenset[int]:
    return frozenset(statuses)


@attrs.frozen
class RetryPolicy:
    """When and how long to wait before another attempt. Immutable; derive with `attrs.evolve`."""

    max_attempts: int = attrs.field(default=3, validator=_at_least_one)
    initial_backoff: float = attrs.field(default=0.5, validator=_non_negative)
    max_backoff: float = attrs.field(default=8.0, validator=_non_negative)
    jitter: Jitter = attrs.field(default="bounded", validator=_known_jitter)
    max_retry_after: float = attrs.field(default=60.0, validator=_non_negative)
    retry_statuses: frozenset[int] = attrs.field(default=DEFAULT_RETRY_STATUSES, converter=_statuses)
    idempotent_methods: frozenset[str] = attrs.field(
        default=DEFAULT_IDEMPOTENT_METHODS, converter=_upper_methods
    )
    # Returns a float in [0, 1); injectable so tests can pin the jitter.
    random: Callable[[], float] = attrs.field(default=_random.random, eq=False, repr=False)

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that never retries (one attempt)."""
        return cls(max_attempts=1)

    def backoff(self, attempt: int) -> float:
        """Wait before attempt `attempt + 1`: exponential from `initial_backoff`, jittered, capped."""
        base = min(self.max_backoff, self.initial_backoff * 2.0 ** max(attempt - 1, 0))
        if self.jitter == "full":
            wait = base * self.random()
        elif self.jitter == "bounded":
            wait = base * (0.75 + 0.5 * self.random())
        else:
            wait = base
        return min(wait, self.max_backoff)

    def decide(
        self,
        method: str,
        attempt: int,
        outcome: httpx.Response | BaseException,
        now: float,
    ) -> RetryDecision:
        """Decide after attempt number `attempt` (1-based) ended with `outcome` (response or error)."""
        method = method.upper()
        idempotent = method in self.idempotent_methods
        retry_after: float | None = None

        if isinstance(outcome, httpx.Response):
            status = outcome.status_code
            if status not in self.retry_statuses:
                return RetryDecision(False, reason=f"status {status} is not retried")
            if status in _RETRY_AFTER_STATUSES:
                retry_after = parse_retry_after(outcome.headers.get("retry-after"), now)
            if not idempotent:
                return RetryDecision(
                    False, reason=f"{method} is not retried on status {status}", retry_after=retry_after
                )
            cause = f"status {status}"
        elif isinstance(outcome, NEVER_SENT):
            cause = f"{type(outcome).__name__} (request not sent)"
        elif isinstance(outcome, _MAYBE_SENT):
            if not idempotent:
                return RetryDecision(False, reason=f"{method} is not retried after {type(outcome).__name__}")
            cause = type(outcome).__name__
        else:
            return RetryDecision(False, reason=f"{type(outcome).__name__} is not retried")

        if retry_after is not None and retry_after > self.max_retry_after:
            return RetryDecision(
                False,
                reason=f"Retry-After {retry_after:g}s exceeds the {self.max_retry_after:g}s ceiling",
                retry_after=retry_after,
            )
        if attempt >= self.max_attempts:
            return RetryDecision(
                False, reason=f"{cause}; {self.max_attempts} attempts used", retry_after=retry_after
            )
        if retry_after is not None:
            return RetryDecision(
                True, wait=retry_after, reason=f"{cause}, Retry-After", retry_after=retry_after
            )
        return RetryDecision(True, wait=self.backoff(attempt), reason=cause)
