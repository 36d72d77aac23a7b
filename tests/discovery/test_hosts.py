"""No call reaches a placeholder, loopback or private host unless the user asked (`base_url=`, or
`allow_private_hosts`), redirects included; and a document shared by many dataservices (a bouquet)
is fetched and parsed once per client, each dataservice seeing the operations under its own path.

A scripted transport (httpx.MockTransport) plays every host: nothing leaves the process, and which
hosts were contacted is recorded."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from datagouv_sdk.discovery import AsyncDiscovery, Discovery, UnsafeURLError
from datagouv_sdk.discovery.catalog import DataserviceInfo
from datagouv_sdk.discovery.explorer import ALLOW_PRIVATE_HOSTS_ENV
from datagouv_sdk.retry import RetryPolicy

DOC = "https://docs.api.gouv.fr/openapi.json"


def spec(servers: list[dict[str, Any]] | None, paths: list[str] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {
            p: {
                "get": {
                    "operationId": p.strip("/").replace("/", "_").replace("{", "").replace("}", "") or "root",
                    "responses": {"200": {"description": "ok"}},
                }
            }
            for p in paths or ["/ping"]
        },
    }
    if servers is not None:
        doc["servers"] = servers
    return doc


class Hosts:
    """The scripted web: documents by URL; every other request answered 200 {} unless routed."""

    def __init__(self, documents: dict[str, dict[str, Any]]) -> None:
        self.documents = documents
        self.routes: dict[str, Callable[[httpx.Request], httpx.Response]] = {}
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        url = str(request.url).split("?")[0]
        if url in self.documents:
            return httpx.Response(200, json=self.documents[url])
        route = self.routes.get(url)
        return route(request) if route else httpx.Response(200, json={"host": request.url.host})

    def hosts(self) -> list[str]:
        return [r.url.host for r in self.seen]


def discovery(hosts: Hosts, **kwargs: Any) -> Discovery:
    return Discovery(transport=httpx.MockTransport(hosts), retry=RetryPolicy.none(), **kwargs)


@pytest.mark.parametrize(
    "server",
    [
        "http://localhost:81/api",
        "https://IP-GATEWAY/rial/v1",
        "https://10.0.0.5/api",
        "https://to-be-defined/x",
    ],
)
def test_a_document_cannot_point_calls_at_a_private_or_placeholder_host(server: str) -> None:
    hosts = Hosts({DOC: spec([{"url": server}])})
    with discovery(hosts) as disco:
        api = disco.api_at(DOC)
        assert api.base_url.public is False and api.operations  # listed, not callable
        with pytest.raises(UnsafeURLError, match="not chosen by you"):
            disco.call(api, "ping")
    assert hosts.hosts() == ["docs.api.gouv.fr"]  # the document only


def test_the_catalogs_base_api_url_is_chosen_instead() -> None:
    hosts = Hosts({DOC: spec([{"url": "https://IP-GATEWAY/rial/v1"}])})
    with discovery(hosts) as disco:
        api = disco.api_at(DOC, base_api_url="https://api.gouv.fr/rial/v1")
        assert (api.base_url.source, api.base_url.public) == ("base_api_url", True)
        assert "IP-GATEWAY" in api.base_url.reason
        assert disco.call(api, "ping").data == {"host": "api.gouv.fr"}


def test_what_the_user_asks_for_is_called() -> None:
    hosts = Hosts({DOC: spec([{"url": "https://IP-GATEWAY/rial/v1"}])})
    with discovery(hosts) as disco:
        api = disco.api_at(DOC)
        # their own base_url= (a staging server on their network, plain http on loopback)
        assert disco.call(api, "ping", base_url="https://10.0.0.5/api").data == {"host": "10.0.0.5"}
        assert disco.call(api, "ping", base_url="http://127.0.0.1:8080").data == {"host": "127.0.0.1"}
    with discovery(hosts, allow_private_hosts=True) as disco:  # or the explicit flag (its DNS then decides)
        assert disco.call(disco.api_at(DOC), "ping").data == {"host": "ip-gateway"}
    local = Hosts({DOC: spec([{"url": "https://10.0.0.5/api"}])})
    with discovery(local, allow_private_hosts=True) as disco:
        assert disco.call(disco.api_at(DOC), "ping").data == {"host": "10.0.0.5"}


def test_the_environment_variable_allows_private_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    hosts = Hosts({DOC: spec([{"url": "https://10.0.0.5/api"}])})
    monkeypatch.setenv(ALLOW_PRIVATE_HOSTS_ENV, "1")
    with discovery(hosts) as disco:
        assert disco.call(disco.api_at(DOC), "ping").data == {"host": "10.0.0.5"}
    with discovery(hosts, allow_private_hosts=False) as disco, pytest.raises(UnsafeURLError):
        disco.call(disco.api_at(DOC), "ping")  # an explicit False wins over the environment


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data", "https://192.168.0.1/admin"])
def test_a_redirect_cannot_lead_a_call_to_a_private_host(target: str) -> None:
    hosts = Hosts({DOC: spec([{"url": "https://api.gouv.fr/v1"}])})
    hosts.routes["https://api.gouv.fr/v1/ping"] = lambda r: httpx.Response(302, headers={"Location": target})
    with discovery(hosts) as disco:
        with pytest.raises(UnsafeURLError, match="redirected to a URL that is refused"):
            disco.call(disco.api_at(DOC), "ping")
        # a base_url= the user chose does not extend to where its redirects lead
        with pytest.raises(UnsafeURLError, match="redirected"):
            disco.call(disco.api_at(DOC), "ping", base_url="https://api.gouv.fr/v1")
    assert target.split("/")[2] not in hosts.hosts()


def test_documents_on_private_hosts_are_refused_unless_allowed() -> None:
    local = "http://127.0.0.1:9999/openapi.json"
    hosts = Hosts({local: spec([{"url": "https://api.gouv.fr"}])})
    with discovery(hosts) as disco, pytest.raises(UnsafeURLError, match="loopback host"):
        disco.document_at(local)
    assert hosts.seen == []
    with discovery(hosts, allow_private_hosts=True) as disco:
        assert disco.document_at(local).title == "t"


# -- bouquets --------------------------------------------------------------------------------------

BOUQUET = "https://entreprise.api.gouv.fr/openapi.yaml"
BOUQUET_PATHS = [
    "/v3/insee/sirene/etablissements/{siret}",
    "/v3/insee/sirene/unites_legales/{siren}",
    "/v3/dgfip/unites_legales/{siren}/attestation_fiscale",
    "/v3/urssaf/unites_legales/{siren}/attestation_vigilance",
]


def entries(n: int) -> list[DataserviceInfo]:
    prefixes = [
        "/v3/insee/sirene/etablissements",
        "/v3/insee",
        "/v3/dgfip/unites_legales/{siren}",
        "/v3/urssaf",
    ]
    return [
        DataserviceInfo(
            id=f"ds{i}",
            title=f"API Entreprise {i}",
            base_api_url="https://entreprise.api.gouv.fr" + prefixes[i % len(prefixes)],
            machine_documentation_url=BOUQUET,
        )
        for i in range(n)
    ]


def test_a_bouquet_is_fetched_and_parsed_once_per_client() -> None:
    hosts = Hosts({BOUQUET: spec([{"url": "https://entreprise.api.gouv.fr"}], BOUQUET_PATHS)})
    with discovery(hosts) as disco:
        apis = [disco.api(info) for info in entries(30)]
        assert disco.stats == {"document_requests": 1, "document_parses": 1}
        assert len({id(api.document) for api in apis}) == 1
    assert [op.path for op in apis[0].operations] == ["/v3/insee/sirene/etablissements/{siret}"]
    assert apis[0].scope == "/v3/insee/sirene/etablissements"
    assert len(apis[1].operations) == 2 and len(apis[1].all_operations) == 4
    assert [op.path for op in apis[2].operations] == ["/v3/dgfip/unites_legales/{siren}/attestation_fiscale"]
    # an operation of the document outside the dataservice's path is still reachable by name
    assert apis[0].operation("v3_urssaf_unites_legales_siren_attestation_vigilance").method == "GET"


def test_a_changed_bouquet_is_parsed_again() -> None:
    from datagouv_sdk.discovery import FetchLimits

    document = spec([{"url": "https://entreprise.api.gouv.fr"}], BOUQUET_PATHS)
    hosts = Hosts({BOUQUET: document})
    with discovery(hosts, fetch_limits=FetchLimits(max_age=0)) as disco:
        first = disco.document_at(BOUQUET)
        assert disco.document_at(BOUQUET) is first  # same bytes: not parsed again
        document["info"]["version"] = "2"
        assert disco.document_at(BOUQUET) is not first
        assert disco.stats == {"document_requests": 3, "document_parses": 2}


def test_narrowing_can_be_turned_off_and_needs_a_matching_path() -> None:
    hosts = Hosts({BOUQUET: spec([{"url": "https://entreprise.api.gouv.fr"}], BOUQUET_PATHS)})
    info = entries(1)[0]
    with discovery(hosts) as disco:
        assert len(disco.api(info, narrow=False).operations) == 4
        elsewhere = DataserviceInfo(
            id="x",
            title="x",
            base_api_url="https://entreprise.api.gouv.fr/v4/nothing",
            machine_documentation_url=BOUQUET,
        )
        api = disco.api(elsewhere)
        assert len(api.operations) == 4 and api.scope is None  # no operation under it: all of them


async def test_the_async_client_shares_the_rules() -> None:
    hosts = Hosts(
        {
            BOUQUET: spec([{"url": "https://entreprise.api.gouv.fr"}], BOUQUET_PATHS),
            DOC: spec([{"url": "https://IP-GATEWAY/x"}]),
        }
    )
    async with AsyncDiscovery(transport=httpx.MockTransport(hosts), retry=RetryPolicy.none()) as disco:
        apis = [await disco.api(info) for info in entries(8)]
        assert disco.stats == {"document_requests": 1, "document_parses": 1}
        assert apis[0].scope == "/v3/insee/sirene/etablissements"
        with pytest.raises(UnsafeURLError):
            await disco.call(await disco.api_at(DOC), "ping")
        result = await disco.call(await disco.api_at(DOC), "ping", base_url="https://api.gouv.fr")
        assert json.dumps(result.data) == '{"host": "api.gouv.fr"}'
