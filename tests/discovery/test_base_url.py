"""Where discovered operations are called, and which hosts may be contacted at all: a document or a
catalog entry is a third party's word, and must not point the user's calls at their own machine or
network, nor at a placeholder. The server URLs below are from the corpus (tests/discovery/corpus/)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from datagouv_sdk.discovery import UnsafeURLError, choose_base_url
from datagouv_sdk.discovery.urls import check_url, host_kind, is_loopback_host, same_origin

DOC_URL = "https://apicarto.ign.fr/api/doc/cadastre.yml"
CATALOG = "https://catalog.data.gouv.fr/api"


def choose(original: dict[str, Any], base_api_url: str | None = CATALOG, doc: str | None = DOC_URL) -> Any:
    return choose_base_url(original, original, document_url=doc, base_api_url=base_api_url)


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        (
            {"openapi": "3.0.0", "servers": [{"url": "https://recherche-entreprises.api.gouv.fr"}]},
            ("https://recherche-entreprises.api.gouv.fr", "servers"),
        ),
        # apicarto: servers [{url: "/"}]: relative to the document's URL, as OAS says ("/" included)
        ({"openapi": "3.1.0", "servers": [{"url": "/"}]}, ("https://apicarto.ign.fr/", "servers")),
        ({"openapi": "3.0.0", "servers": [{"url": "../v2"}]}, ("https://apicarto.ign.fr/api/v2", "servers")),
        # api-ficoba: a path alone; api-particulier (old): scheme-relative
        (
            {"openapi": "3.0.1", "servers": [{"url": "/fcb-masrestit/api/v2"}]},
            ("https://apicarto.ign.fr/fcb-masrestit/api/v2", "servers"),
        ),
        (
            {"openapi": "3.0.0", "servers": [{"url": "//particulier-test.api.gouv.fr/api"}]},
            ("https://particulier-test.api.gouv.fr/api", "servers"),
        ),
        # grist: variables take their defaults
        (
            {
                "openapi": "3.0.0",
                "servers": [
                    {
                        "url": "https://{subdomain}.getgrist.com/api",
                        "variables": {"subdomain": {"default": "docs"}},
                    }
                ],
            },
            ("https://docs.getgrist.com/api", "servers"),
        ),
        ({"openapi": "3.0.0"}, (CATALOG, "base_api_url")),
        (
            {
                "swagger": "2.0",
                "host": "api.aife.economie.gouv.fr",
                "basePath": "/v2/",
                "schemes": ["http", "https"],
            },
            ("https://api.aife.economie.gouv.fr/v2", "host"),
        ),
        # Swagger 2.0 without host: "the host serving the documentation"
        ({"swagger": "2.0", "basePath": "/base"}, ("https://apicarto.ign.fr/base", "host")),
    ],
)
def test_the_documents_server_when_it_is_public(original: dict[str, Any], expected: tuple[str, str]) -> None:
    chosen = choose(original)
    assert (chosen.url, chosen.source, chosen.public) == (*expected, True)


@pytest.mark.parametrize(
    ("servers", "why"),
    [
        ([{"url": "https://IP-GATEWAY/rial/v1"}], "placeholder host"),  # api-rial, api-sfip...
        ([{"url": "https://to-be-defined/anges/v1"}], "placeholder host"),  # api-scolarite-eleve
        ([{"url": "http://localhost:3000/"}], "loopback host"),  # rdv-service-public v1
        ([{"url": "https://localhost:8079/admin/1.0.0/"}], "loopback host"),  # road2 administration
        ([{"url": "http://vimpfip-piom1.dgfip/api/v1"}], "local name host"),  # api-imprimfip
        ([{"url": "https://{gristhost}/api", "variables": {"subdomain": {"default": "docs"}}}], "unresolved"),
        ([{"url": "{schema}://{baseUrl}/api/"}], "unresolved"),  # statut-etudiant
        ([{"url": "http://10.1.2.3/api"}], "private host"),
        ([{"url": "http://169.254.169.254/latest"}], "link-local host"),  # cloud metadata
        ([{"url": "https://api.example.com/v1"}], "placeholder host"),
    ],
)
def test_a_non_public_server_never_wins_over_the_catalog(servers: list[dict[str, Any]], why: str) -> None:
    chosen = choose({"openapi": "3.0.1", "servers": servers})
    assert (chosen.url, chosen.source, chosen.public) == (CATALOG, "base_api_url", True)
    assert why in chosen.rejected[0][1] and why in chosen.reason
    # without a catalog URL it is kept (the operations still list) but marked not callable
    alone = choose({"openapi": "3.0.1", "servers": servers}, base_api_url=None)
    assert alone.public is False and "pass base_url=" in alone.reason


def test_a_public_server_after_a_private_one_is_chosen() -> None:
    # api-imprimfip lists a development server first
    chosen = choose(
        {
            "openapi": "3.0.1",
            "servers": [{"url": "http://localhost:7009/api/v1"}, {"url": "https://impots.gouv.fr/api"}],
        }
    )
    assert (chosen.url, chosen.source) == ("https://impots.gouv.fr/api", "servers")
    assert chosen.rejected == (("http://localhost:7009/api/v1", "loopback host"),)


def test_swagger_localhost_host_falls_back_to_the_catalog() -> None:
    # api-historique-vehicule: host "localhost:81"
    chosen = choose({"swagger": "2.0", "host": "localhost:81", "basePath": "/api/v1"})
    assert (chosen.url, chosen.source) == (CATALOG, "base_api_url")


def test_the_callers_base_url_always_wins() -> None:
    chosen = choose_base_url(
        {"openapi": "3.0.0"}, {}, document_url=DOC_URL, base_api_url=CATALOG, override="http://localhost:8080"
    )
    assert (chosen.url, chosen.source, chosen.public) == ("http://localhost:8080", "override", True)


def test_nothing_to_call_still_lists_and_says_why() -> None:
    chosen = choose({"openapi": "3.0.0", "servers": [{"url": "/relative"}]}, base_api_url=None, doc=None)
    assert (chosen.url, chosen.source, chosen.public) == ("", "none", False)
    assert "relative" in chosen.reason and "pass base_url=" in chosen.reason


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.9.9.9", "loopback"),
        ("[::1]", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("localhost", "loopback"),
        ("api.localhost", "loopback"),
        ("10.0.0.1", "private"),
        ("192.168.1.10", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("IP-GATEWAY", "placeholder"),
        ("to-be-defined", "placeholder"),
        ("api.example.com", "placeholder"),
        ("x.invalid", "placeholder"),
        ("printer.local", "local name"),
        ("vimpfip-piom1.dgfip", "local name"),
        ("entreprise.api.gouv.fr", "public"),
        ("docs.getgrist.com", "public"),
        ("data.geopf.fr", "public"),
        ("8.8.8.8", "public"),
    ],
)
def test_host_kinds(host: str, kind: str) -> None:
    assert host_kind(host) == kind


@pytest.mark.parametrize(
    ("url", "allow_private", "ok"),
    [
        ("https://api.gouv.fr/x", False, True),
        ("http://api.gouv.fr/x", False, False),  # plain http to a public host: refused
        ("http://127.0.0.1:8000/x", False, False),  # loopback: refused unless allowed
        ("http://127.0.0.1:8000/x", True, True),
        ("http://[::1]:8080/x", True, True),
        ("https://10.0.0.1/x", False, False),
        ("https://10.0.0.1/x", True, True),
        ("http://10.0.0.1/x", True, False),  # plain http only to loopback
        ("https://IP-GATEWAY/x", False, False),
        ("file:///etc/passwd", True, False),
        ("gopher://127.0.0.1/x", True, False),
        ("https:///nohost", True, False),
    ],
)
def test_url_policy(url: str, allow_private: bool, ok: bool) -> None:
    if ok:
        check_url(url, allow_private=allow_private)
    else:
        with pytest.raises(UnsafeURLError):
            check_url(url, allow_private=allow_private)


def test_url_policy_opt_in_and_origins() -> None:
    assert check_url("http://api.gouv.fr/x", allow_insecure_http=True).host == "api.gouv.fr"
    with pytest.raises(UnsafeURLError, match="loopback host, not a public one"):
        check_url("https://localhost/x")
    assert is_loopback_host("[::1]") and not is_loopback_host("127.example.org")
    a = httpx.URL("http://127.0.0.1:80/a")
    assert same_origin(a, httpx.URL("http://127.0.0.1/b"))
    assert not same_origin(a, httpx.URL("http://127.0.0.2/a"))
    assert not same_origin(a, httpx.URL("https://127.0.0.1/a"))
