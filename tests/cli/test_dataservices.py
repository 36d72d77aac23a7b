"""`dgv dataservices …` in process (click's runner) against the real udata peer and loopback API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from datagouv_sdk.cli import cli
from datagouv_sdk.discovery.explorer import ALLOW_PRIVATE_HOSTS_ENV

from tests.discovery.fixtures import TAG
from tests.discovery.servers import RecordingServer


def dgv(udata_peer: Any, *args: str, as_json: bool = False) -> Result:
    base = ["--base-url", udata_peer.base_url, "--api-key", udata_peer.api_key]
    return CliRunner().invoke(
        cli,
        [*base, *(["--json"] if as_json else []), "dataservices", *args],
        catch_exceptions=False,
        env={ALLOW_PRIVATE_HOSTS_ENV: "1"},  # the documents and API are on loopback test servers
    )


def test_list_and_search(udata_peer: Any, services: dict[str, str]) -> None:
    listed = dgv(udata_peer, "list", "--tag", TAG, "--limit", "0", as_json=True)
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert {r["id"] for r in rows} == set(services.values())
    table = dgv(udata_peer, "list", "--tag", "swagger20")
    assert table.exit_code == 0 and table.output.splitlines()[0].split()[:3] == ["ID", "TITLE", "ACCESS"]
    assert services["swagger20"] in table.output
    found = dgv(udata_peer, "search", f"swagger20 {TAG}", as_json=True)
    assert found.exit_code == 0, found.output
    assert services["swagger20"] in {json.loads(line)["id"] for line in found.output.splitlines()}


def test_show(udata_peer: Any, services: dict[str, str], api_server: RecordingServer) -> None:
    shown = dgv(udata_peer, "show", services["openapi30"])
    assert shown.exit_code == 0, shown.output
    assert f"base_api_url                 {api_server.url('/v1')}" in shown.output
    assert "access_type                  open_with_account" in shown.output


def test_operations(udata_peer: Any, services: dict[str, str], api_server: RecordingServer) -> None:
    ops = dgv(udata_peer, "operations", services["swagger20"])
    assert ops.exit_code == 0, ops.output
    assert f"base URL {api_server.url('/v1')} (from host: " in ops.output  # stderr line (mixed by the runner)
    assert "item_id*:path:string, verbose:query:boolean" in ops.output
    as_json = dgv(udata_peer, "operations", services["openapi31"], as_json=True)
    first = json.loads(as_json.output.splitlines()[0])
    assert first["operation_id"] == "getItem" and first["parameters"][0] == {
        "name": "item_id",
        "in": "path",
        "type": "string",
        "required": True,
    }


def test_call_with_params_header_and_body(
    udata_peer: Any, services: dict[str, str], api_server: RecordingServer, tmp_path: Path
) -> None:
    got = dgv(
        udata_peer,
        "call",
        services["openapi30"],
        "listItems",
        "--param",
        "limit=3",
        "--param",
        "tags=a",
        "--param",
        "tags=b",
        "--header",
        "X-Partner-Token: cli-mine",
        as_json=True,
    )
    assert got.exit_code == 0, got.output
    assert json.loads(got.output) == {"query": {"limit": ["3"], "tags": ["a", "b"]}}
    sent = api_server.headers_for("/v1/items?limit=3")[-1]
    assert sent["x-partner-token"] == "cli-mine" and "x-api-key" not in sent
    body = tmp_path / "item.json"
    body.write_text('{"id": "9", "name": "from file"}')
    created = dgv(udata_peer, "call", services["openapi30"], "createItem", "--body", f"@{body}", as_json=True)
    assert json.loads(created.output) == {"id": "9", "name": "from file"}


def test_call_errors_are_one_line_with_exit_codes(udata_peer: Any, services: dict[str, str]) -> None:
    bad = dgv(udata_peer, "call", services["openapi30"], "listItems", "--param", "limit=many")
    assert bad.exit_code == 2
    assert "error: invalid arguments for listItems (GET /items):" in bad.output
    assert "expected an integer, got 'many'" in bad.output
    missing = dgv(udata_peer, "call", services["openapi30"], "getMissing")
    assert missing.exit_code == 1 and "404" in missing.output and "no such thing" in missing.output
    bomb = dgv(udata_peer, "operations", services["yamlbomb"])
    assert bomb.exit_code == 1 and "YAML bomb" in bomb.output
    bad_body = dgv(udata_peer, "call", services["openapi30"], "createItem", "--body", "{nope")
    assert bad_body.exit_code == 2 and "--body is not valid JSON" in bad_body.output


def test_generate(udata_peer: Any, services: dict[str, str], tmp_path: Path) -> None:
    done = dgv(
        udata_peer, "generate", services["openapi30"], "-o", str(tmp_path), "--package", "rec30", as_json=True
    )
    assert done.exit_code == 0, done.output
    out = json.loads(done.output.strip().splitlines()[-1])
    assert out["package"] == "rec30" and (Path(out["path"]) / "api").is_dir()
    assert out["operations"] == 10 and out["skipped"] == [] and out["repairs"] == []
