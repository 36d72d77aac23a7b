"""What the SDK learns about one Metrics/Tabular server, per client and base URL: how many rows a
``/data/`` page may hold, and which api_tabular release parses the queries (`query.wire.Dialect`).

Page sizes are learned, not hard-coded.
api_tabular refuses a ``page_size`` above its ``PAGE_SIZE_MAX`` setting with a 400 whose detail says
the limit ("Page size exceeds allowed maximum: 200"). Deployments differ: production serves Tabular
pages of up to 200 rows and Metrics pages of up to 50, the package's default is 50 for both. So:

- a page size left to the SDK starts at `DEFAULT_MAX` for the API (production's values), and when the
  server answers with a smaller limit the request is retried once at that limit;
- a page size the caller asked for above a limit already known is refused before sending
  (UsageError); above an unknown limit the server's own answer is turned into a UsageError naming
  that limit;
- every limit read is remembered per client and base URL (`ServerFacts`).

The dialect matters only for ``or=(…)`` and ``columns=`` (see `query.wire`): it is read from
``/health/``'s ``version`` the first time a query needs it, and remembered the same way.
"""

from __future__ import annotations

import re
import threading
import weakref
from typing import Any, Final

from datagouv_sdk import errors
from datagouv_sdk.query.wire import Dialect

__all__ = ["DEFAULT_MAX", "ServerFacts", "facts_for", "limit_from_error"]

# What production answers up to (its api_tabular config): Tabular 200, Metrics 50.
DEFAULT_MAX: Final[dict[str, int]] = {"tabular": 200, "metrics": 50}
_LIMIT = re.compile(r"Page size exceeds allowed maximum: (\d+)")


def limit_from_error(error: BaseException) -> int | None:
    """The limit named by api_tabular's 400, or None when `error` is not that refusal."""
    if not isinstance(error, errors.BadRequestError):
        return None
    texts = [str(error.message)]
    if isinstance(error.details, list):
        texts += [str(d.get("detail")) for d in error.details if isinstance(d, dict)]
    for text in texts:
        match = _LIMIT.search(text)
        if match:
            return int(match.group(1))
    return None


class ServerFacts:
    """What one client has learned, per base URL: page-size limits and dialects."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[str, int] = {}
        self._dialects: dict[str, Dialect] = {}

    def dialect(self, base_url: str) -> Dialect | None:
        with self._lock:
            return self._dialects.get(base_url.rstrip("/"))

    def learn_dialect(self, base_url: str, version: str | None) -> Dialect:
        dialect = Dialect.for_version(version)
        with self._lock:
            self._dialects[base_url.rstrip("/")] = dialect
        return dialect

    def known(self, base_url: str) -> int | None:
        with self._lock:
            return self._known.get(base_url.rstrip("/"))

    def learn(self, base_url: str, limit: int) -> None:
        with self._lock:
            self._known[base_url.rstrip("/")] = limit

    def largest(self, api: str, base_url: str) -> int:
        """The largest page to ask for: the known limit, else production's for this API."""
        known = self.known(base_url)
        return known if known is not None else DEFAULT_MAX.get(api, 50)

    def check(self, api: str, base_url: str, page_size: int) -> None:
        """Refuse, before sending, a size below 1 or above a limit this client already knows."""
        if page_size < 1:
            raise errors.UsageError(f"page_size={page_size} is out of range: pages hold at least 1 row")
        known = self.known(base_url)
        if known is not None and page_size > known:
            raise errors.UsageError(
                f"page_size={page_size} is above this {api.capitalize()} server's maximum of {known} rows "
                f"per page ({base_url})"
            )

    def refused(self, api: str, base_url: str, page_size: int, error: BaseException) -> int | None:
        """After a failed page request: the limit the server named (learned), or None if `error` is
        something else."""
        limit = limit_from_error(error)
        if limit is None or limit >= page_size:
            return None
        self.learn(base_url, limit)
        return limit

    def too_large(self, api: str, base_url: str, page_size: int, limit: int) -> errors.UsageError:
        return errors.UsageError(
            f"page_size={page_size} is above this {api.capitalize()} server's maximum of {limit} rows per "
            f"page ({base_url}: it answered 400); ask for at most {limit}, or leave page_size out"
        )


_FACTS: weakref.WeakKeyDictionary[Any, ServerFacts] = weakref.WeakKeyDictionary()
_FACTS_LOCK = threading.Lock()


def facts_for(client: Any) -> ServerFacts:
    """What `client` (a DataGouv or AsyncDataGouv) has learned, created on first use."""
    with _FACTS_LOCK:
        limits = _FACTS.get(client)
        if limits is None:
            limits = _FACTS[client] = ServerFacts()
        return limits
