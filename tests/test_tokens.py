"""`dg.me.tokens` (datagouv_sdk.tokens): the caller's API tokens, on the real udata peer."""

from __future__ import annotations

import datetime as dt

import pytest
from datagouv_sdk import AsyncDataGouv, DataGouv, errors
from datagouv_sdk.tokens import expiry

from tests.peers.udata_fixtures import UdataPeer


def test_expiry_accepts_dates_datetimes_and_iso_strings() -> None:
    assert expiry(dt.date(2040, 1, 31)) == "2040-01-31T00:00:00+00:00"
    assert expiry(dt.datetime(2040, 1, 31, 12, 0)) == "2040-01-31T12:00:00+00:00"  # naive: UTC, as udata
    assert expiry("2040-01-31T12:00:00+02:00") == "2040-01-31T12:00:00+02:00"
    assert expiry(" 2040-01-31 ") == "2040-01-31T00:00:00+00:00"


@pytest.mark.parametrize("value", ["2001-01-01", "next week", 2040, dt.datetime(2001, 1, 1, tzinfo=dt.UTC)])
def test_expiry_refuses_the_past_and_non_dates(value: object) -> None:
    with pytest.raises(errors.UsageError):
        expiry(value)  # type: ignore[arg-type]


@pytest.mark.peer
def test_create_list_find_revoke(dg: DataGouv, anon: DataGouv, udata_peer: UdataPeer) -> None:
    tokens = dg.me.tokens
    created = tokens.create("sdk test", expires_at=dt.date(2040, 6, 1))
    assert isinstance(created.token, str) and created.token.startswith(created.token_prefix)
    assert created.name == "sdk test" and created.expires_at == dt.datetime(2040, 6, 1, tzinfo=dt.UTC)
    assert created.last_used_at is None  # a fresh token: null on the real server
    listed = {t.id: t for t in tokens.list()}
    assert created.id in listed
    assert "token" not in listed[created.id].to_dict()  # the plaintext is shown at creation only
    found = tokens.find(str(created.token))
    assert found is not None and found.id == created.id
    with DataGouv(base_url=udata_peer.base_url, api_key=created.token) as as_new:
        assert as_new.me.get().slug == "olivia-owner"
    tokens.revoke(created.token)  # by the key itself
    assert created.id not in {t.id for t in tokens.list()}
    with pytest.raises(errors.UsageError, match="no active token"):
        tokens.revoke(created.token)
    with pytest.raises(errors.GoneError):
        tokens.revoke(created.id)
    with pytest.raises(errors.AuthenticationError):
        anon.me.tokens.list()


@pytest.mark.peer
def test_one_user_cannot_revoke_anothers_token(dg: DataGouv, udata_peer: UdataPeer) -> None:
    created = dg.me.tokens.create("not yours")
    with DataGouv(base_url=udata_peer.base_url, api_key=udata_peer.other_api_key) as other:
        with pytest.raises(errors.NotFoundError):
            other.me.tokens.revoke(created.id)
        assert other.me.tokens.find(str(created.token)) is None
    dg.me.tokens.revoke(created)  # by the model


@pytest.mark.peer
async def test_async_twin(adg: AsyncDataGouv) -> None:
    tokens = adg.me.tokens
    created = await tokens.create("async sdk test")
    assert created.id in {t.id for t in await tokens.list()}
    assert (await tokens.find(str(created.token))) is not None
    await tokens.revoke(created.id)
    assert created.id not in {t.id for t in await tokens.list()}
