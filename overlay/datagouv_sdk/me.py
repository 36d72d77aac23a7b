"""`dg.me`: the account the API key belongs to — who it is, and its API tokens (`dg.me.tokens`).

- `get(raw=False)` → the `UserRead` of the key's owner (`AuthenticationError` without a valid key);
- `tokens`: `datagouv_sdk.tokens.Tokens` (list, create, revoke, find).

`AsyncMe` is the same with `await`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from datagouv_sdk.tokens import AsyncTokens, Tokens

if TYPE_CHECKING:
    from datagouv_sdk.client import AsyncDataGouv, DataGouv

__all__ = ["AsyncMe", "Me"]


class Me:
    def __init__(self, dg: DataGouv) -> None:
        self._dg = dg
        self.tokens = Tokens(dg)

    def get(self, *, raw: bool = False) -> Any:
        return self._dg.call(self._dg._op("me", "get_me"), raw=raw)


class AsyncMe:
    def __init__(self, dg: AsyncDataGouv) -> None:
        self._dg = dg
        self.tokens = AsyncTokens(dg)

    async def get(self, *, raw: bool = False) -> Any:
        return await self._dg.call(self._dg._op("me", "get_me"), raw=raw)
