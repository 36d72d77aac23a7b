"""End to end against the real udata peer: dataservices created through its API (with the owner's
key) point at loopback servers; discovery searches them, reads each document, calls the API, and
generates a typed client. The data.gouv.fr key must never reach a third-party host."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from datagouv_sdk import DataGouv
from datagouv_sdk.discovery import (
    Discovery,
    DocumentDeadlineError,
    DocumentTooLargeError,
    FetchLimits,
    NotOpenAPIError,
    UnsafeYAMLError,
)
from datagouv_sdk.retry import RetryPolicy

from tests.discovery.fixtures import TAG
from tests.discovery.servers import RecordingServer


@pytest.fixture
def disco(peer_dg: DataGouv) -> Iterator[Discovery]:
    with Discovery(
        peer_dg, fetch_limits=FetchLimits(deadline=2.0), retry=RetryPolicy.none(), allow_private_hosts=True
    ) as d:
        yield d


def test_search_by_tag_text_and_organization(
    disco: Discovery, services: dict[str, str], udata_peer: Any
) -> None:
    by_tag = {s.id for s in disco.search(tag=TAG)}
    assert by_tag == set(services.values())
    swagger = list(disco.search(tag="swagger20", limit=5))
    assert services["swagger20"] in {s.id for s in swagger}
    org = udata_peer.seed["organizations"][0]
    in_org = {s.id for s in disco.search(organization=org, page_size=3)}  # several pages of 3
    assert set(services.values()) <= in_org
    limited = list(disco.search(tag=TAG, limit=3))
    assert len(limited) == 3


def test_show_fields_that_matter_for_calling(
    disco: Discovery, services: dict[str, str], api_server: RecordingServer, udata_peer: Any
) -> None:
    info = disco.get(services["openapi30"])
    assert info.base_api_url == api_server.url("/v1")
    assert info.machine_documentation_url == api_server.url("/docs/openapi30.json")
    assert info.access_type == "open_with_account" and info.needs_authorization
    assert info.rate_limiting == "10 req/s" and info.availability == 99.5
    assert info.organization and TAG in info.tags
    assert info.datasets_total == 1
    served = list(disco.datasets(info))
    assert [d["id"] for d in served] == [udata_peer.seed["org_datasets"][0]]
    assert disco.get(services["swagger20"]).datasets_total == 0
    summary = info.summary()
    assert "raw" not in summary and summary["id"] == services["openapi30"]


def test_each_document_kind_from_the_catalog(
    disco: Discovery, services: dict[str, str], api_server: RecordingServer
) -> None:
    outcomes: dict[str, str] = {}
    for kind, ident in services.items():
        try:
            api = disco.api(ident)
            outcomes[kind] = f"ok {api.document.version} {len(api.operations)} ops via {api.base_url.source}"
        except Exception as exc:
            outcomes[kind] = f"{type(exc).__name__}"
    assert outcomes == {
        "openapi30": "ok 3.0.3 10 ops via servers",
        "openapi31": "ok 3.1.0 10 ops via base_api_url",
        "swagger20": "ok 2.0 3 ops via host",
        "notopenapi": NotOpenAPIError.__name__,
        "oversized": DocumentTooLargeError.__name__,
        "slow": DocumentDeadlineError.__name__,
        "redirected": "ok 3.0.3 10 ops via servers",
        "yamlbomb": UnsafeYAMLError.__name__,
    }


def test_call_sends_user_header_and_never_the_datagouv_key(
    disco: Discovery,
    services: dict[str, str],
    api_server: RecordingServer,
    other_server: RecordingServer,
    udata_peer: Any,
) -> None:
    start = (len(api_server.requests), len(other_server.requests))
    for kind in ("openapi30", "openapi31", "swagger20"):
        result = disco.call(
            services[kind], "getItem", {"item_id": f"{kind}-1"}, headers={"X-Partner-Token": "mine"}
        )
        assert result.data["id"] == f"{kind}-1"
        sent = api_server.headers_for(f"/v1/items/{kind}-1")[-1]
        assert sent["x-partner-token"] == "mine"
    disco.call(services["openapi30"], "goAway", headers={"X-Partner-Token": "mine"})
    # this test's requests (documents, calls, the cross-host redirect): no key header, no cookie
    mine = api_server.all_headers()[start[0] :] + other_server.all_headers()[start[1] :]
    # 3 documents (each fetched once: kept for the later calls), 4 calls, 1 redirect hop
    assert len(mine) == 8 and any(h["host"].startswith("127.0.0.2") for h in mine)
    for headers in mine:
        assert not {"x-api-key", "cookie"} & set(headers)
    # and the data.gouv.fr key's value in no header any third-party server ever saw, in any test
    every = api_server.all_headers() + other_server.all_headers()
    assert all(udata_peer.api_key not in json.dumps(h) for h in every)


def test_generated_client_imports_and_calls(
    disco: Discovery, services: dict[str, str], api_server: RecordingServer, tmp_path: Path
) -> None:
    generated = disco.generate(services["swagger20"], tmp_path, package="recording_client")
    assert generated.package == "recording_client" and generated.skipped == ()
    assert generated.path == tmp_path / "recording_client" and (generated.path / "__init__.py").is_file()
    script = textwrap.dedent(
        f"""
        import json
        from recording_client import Client
        from recording_client.api.default import get_item
        client = Client(base_url={api_server.url("/v1")!r})
        response = get_item.sync_detailed(item_id="gen 1", client=client)
        print(json.dumps({{"status": int(response.status_code), "body": json.loads(response.content)}}))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["status"] == 200 and out["body"]["id"] == "gen 1"
