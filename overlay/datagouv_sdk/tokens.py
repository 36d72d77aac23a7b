"""`dg.me.tokens`: the caller's API tokens (udata >= 16: `/api/1/me/api_tokens/`).

    with DataGouv() as dg:                       # authenticated with a key (or `dgv auth login`)
        new = dg.me.tokens.create("nightly job", expires_at="2027-01-01")
        print(new.token)                         # the plaintext: the server shows it this once
        for token in dg.me.tokens.list():        # active tokens: id, name, token_prefix, last use…
            print(token.id, token.token_prefix, token.name)
        dg.me.tokens.revoke(new.id)              # or the token's model, or the plaintext key itself

- `list()` → `list[ApiTokenRead]` (the server lists active tokens only; no pagination);
- `create(name=None, *, expires_at=None, scopes=None)` → `ApiTokenCreated`, whose `token` is the
  plaintext key. `expires_at`: a date, an aware or naive datetime (naive = UTC, as udata reads it) or
  an ISO 8601 string; it must be in the future (the server says 400 otherwise);
- `revoke(token)`: `token` is an id, a token model, or a plaintext key (found among `list()` by the
  characters udata shows of it, `token_prefix`; a key that matches none is a `UsageError`, before any
  revoke request). A token revoked already is a `GoneError` (410);
- `find(key)` → the `ApiTokenRead` of a plaintext key, or None.

`AsyncTokens` is the same with `await`. Both need a key: anonymous calls answer 401
(`AuthenticationError`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from datagouv_sdk import errors

if TYPE_CHECKING:
    from datagouv_main.models import ApiTokenCreated, ApiTokenRead

    from datagouv_sdk.client import AsyncDataGouv, DataGouv

__all__ = ["AsyncTokens", "Tokens", "expiry", "token_id"]

_NO_MATCH = (
    "no active token of this account matches that key (revoked or expired already, or another account's)"
)


def expiry(value: _dt.datetime | _dt.date | str) -> str:
    """`expires_at` as udata parses it (ISO 8601; naive means UTC), checked before sending."""
    if isinstance(value, _dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=_dt.UTC)
    elif isinstance(value, _dt.date):
        moment = _dt.datetime(value.year, value.month, value.day, tzinfo=_dt.UTC)
    elif isinstance(value, str):
        try:
            moment = _dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise errors.UsageError(
                f"expires_at={value!r} is not an ISO 8601 date or date-time (e.g. 2027-01-31)"
            ) from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=_dt.UTC)
    else:
        raise errors.UsageError(f"expires_at must be a date, a datetime or an ISO string, got {value!r}")
    if moment <= _dt.datetime.now(_dt.UTC):
        raise errors.UsageError(f"expires_at={moment.isoformat()} is not in the future")
    return moment.isoformat()


def _body(name: str | None, expires_at: Any, scopes: Iterable[str] | None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if name is not None:
        body["name"] = name
    if expires_at is not None:
        body["expires_at"] = expiry(expires_at)
    if scopes is not None:
        body["scopes"] = list(scopes)
    return body


def _matching(tokens: Iterable[Any], key: str) -> Any | None:
    found = [t for t in tokens if (prefix := getattr(t, "token_prefix", None)) and key.startswith(prefix)]
    if len(found) > 1:  # 8 random characters after the prefix: only a forged key gets here
        raise errors.UsageError("this key matches several of your tokens by prefix; revoke it by id")
    return found[0] if found else None


def _found_id(match: ApiTokenRead | None) -> str:
    """The id of the token a plaintext key matched; none matched: a UsageError."""
    if match is None:
        raise errors.UsageError(_NO_MATCH)
    return match.id


def token_id(token: Any) -> str | None:
    """The id of a token given as a model or an id string; None for a plaintext key."""
    if isinstance(token, str):
        from datagouv_sdk.credentials import TOKEN_PREFIX

        token = token.strip()
        if not token:
            raise errors.UsageError("a token id or key is required, got an empty string")
        return None if token.startswith(TOKEN_PREFIX) else token
    ident = getattr(token, "id", None)
    if not isinstance(ident, str):
        raise errors.UsageError(f"expected a token id, a token model or a key, got {type(token).__name__}")
    return ident


class Tokens:
    """`dg.me.tokens`. See the module docstring."""

    def __init__(self, dg: DataGouv) -> None:
        self._dg = dg

    def list(self) -> list[ApiTokenRead]:
        result: list[ApiTokenRead] = self._dg.call(self._dg._operation("me.list_api_tokens"))
        return result

    def create(
        self,
        name: str | None = None,
        *,
        expires_at: _dt.datetime | _dt.date | str | None = None,
        scopes: Iterable[str] | None = None,
    ) -> ApiTokenCreated:
        body = _body(name, expires_at, scopes)
        created: ApiTokenCreated = self._dg.call(self._dg._operation("me.create_api_token"), body=body)
        return created

    def find(self, key: str) -> ApiTokenRead | None:
        found: ApiTokenRead | None = _matching(self.list(), key)
        return found

    def revoke(self, token: Any) -> None:
        ident = token_id(token) or _found_id(self.find(token))
        self._dg.call(self._dg._operation("me.revoke_api_token"), ident)


class AsyncTokens:
    """`adg.me.tokens`: `Tokens` with `await`."""

    def __init__(self, dg: AsyncDataGouv) -> None:
        self._dg = dg

    async def list(self) -> list[ApiTokenRead]:
        result: list[ApiTokenRead] = await self._dg.call(self._dg._operation("me.list_api_tokens"))
        return result

    async def create(
        self,
        name: str | None = None,
        *,
        expires_at: _dt.datetime | _dt.date | str | None = None,
        scopes: Iterable[str] | None = None,
    ) -> ApiTokenCreated:
        body = _body(name, expires_at, scopes)
        created: ApiTokenCreated = await self._dg.call(self._dg._operation("me.create_api_token"), body=body)
        return created

    async def find(self, key: str) -> ApiTokenRead | None:
        found: ApiTokenRead | None = _matching(await self.list(), key)
        return found

    async def revoke(self, token: Any) -> None:
        ident = token_id(token) or _found_id(await self.find(token))
        await self._dg.call(self._dg._operation("me.revoke_api_token"), ident)
