"""The SDK keeps no cookies: udata's session cookie must not turn later calls into logged-in ones."""

from __future__ import annotations

import httpx
from datagouv_sdk import AsyncDataGouv, DataGouv

from tests.peers.udata_fixtures import UdataPeer


def test_udata_sets_a_session_cookie_on_keyed_calls(udata_peer: UdataPeer) -> None:
    # The premise: a plain httpx client does keep one (so the next test can fail).
    with httpx.Client() as plain:
        plain.get(udata_peer.api_v1 + "/me/", headers={"X-API-KEY": udata_peer.api_key}).raise_for_status()
        assert len(plain.cookies.jar) > 0
        # ...and is then logged in without the key.
        assert plain.get(udata_peer.api_v1 + "/me/").status_code == 200


def test_sync_client_keeps_no_cookie(udata_peer: UdataPeer) -> None:
    with DataGouv(base_url=udata_peer.base_url, api_key=udata_peer.api_key) as dg:
        dg.http("main").get("/me/").raise_for_status()
        assert len(dg.http("main").cookies.jar) == 0


async def test_async_client_keeps_no_cookie(udata_peer: UdataPeer) -> None:
    async with AsyncDataGouv(base_url=udata_peer.base_url, api_key=udata_peer.api_key) as dg:
        (await dg.http("main").get("/me/")).raise_for_status()
        assert len(dg.http("main").cookies.jar) == 0
