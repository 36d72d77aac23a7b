"""`dgv api`: any operation by id or METHOD PATH, against the real udata peer (and small local servers
for what the peer cannot show: another API's host, a search listing past 10,000 results)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from click.testing import CliRunner, Result
from datagouv_sdk.cli import cli

from tests.peers.udata_fixtures import UdataPeer


def dgv(
    base_url: str, *args: str, key: str | None = None, input: str | None = None, **options: str
) -> Result:
    argv = ["--base-url", base_url]
    for name, value in options.items():
        argv += [f"--{name.replace('_', '-')}", value]
    if key:
        argv += ["--api-key", key]
    env = {"DATAGOUV_API_KEY": None, "DATAGOUV_BASE_URL": None, "DATAGOUV_TABULAR_URL": None}
    return CliRunner().invoke(cli, [*argv, "api", *args], input=input, env=env, catch_exceptions=False)


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.peer
def test_by_operation_id_the_answer_is_the_servers_json(udata_peer: UdataPeer) -> None:
    tag = udata_peer.seed["seed_tag"]
    page = _json(dgv(udata_peer.base_url, "list_datasets", "-p", f"tag={tag}", "-p", "page_size=3"))
    direct = httpx.get(udata_peer.api_v1 + "/datasets/", params={"tag": tag, "page_size": 3}).json()
    assert [d["id"] for d in page["data"]] == [d["id"] for d in direct["data"]]
    assert page["total"] == 23
    found = _json(dgv(udata_peer.base_url, "v2:search_datasets", "-p", "q=qualite bretagne"))
    assert [d["title"] for d in found["data"]] == [udata_peer.seed["search_title"]] and "facets" in found


@pytest.mark.peer
def test_by_method_and_path_on_either_main_version(udata_peer: UdataPeer) -> None:
    dataset = udata_peer.seed["datasets"][0]
    v1 = _json(dgv(udata_peer.base_url, "GET", f"/datasets/{dataset}/"))
    same = _json(dgv(udata_peer.base_url, "GET", f"/api/1/datasets/{dataset}/"))
    v2 = _json(dgv(udata_peer.base_url, "GET", f"/api/2/datasets/{dataset}/"))
    full = _json(dgv(udata_peer.base_url, "GET", f"{udata_peer.api_v2}/datasets/{dataset}/"))
    assert v1["id"] == same["id"] == v2["id"] == full["id"] == dataset
    assert isinstance(v1["resources"], list) and isinstance(v2["resources"], dict)  # v2 links resources


@pytest.mark.peer
def test_bodies_from_fields_and_files_create_update_delete(udata_peer: UdataPeer, tmp_path: Path) -> None:
    key = udata_peer.api_key
    created = _json(
        dgv(
            udata_peer.base_url,
            "create_dataset",
            "-f",
            "title=Made by dgv api",
            "-f",
            "description=From the shell",
            "-F",
            "private=true",
            "-F",
            'tags[]="dgv-api"',
            "-F",
            'tags[]="second-tag"',
            key=key,
        )
    )
    assert (created["title"], created["private"], created["tags"]) == (
        "Made by dgv api",
        True,
        ["dgv-api", "second-tag"],
    )
    patch = tmp_path / "patch.json"
    patch.write_text(json.dumps({"description": "From a file"}))
    updated = _json(
        dgv(
            udata_peer.base_url,
            "update_dataset",
            "-p",
            f"dataset={created['id']}",
            "--input",
            str(patch),
            key=key,
        )
    )
    assert updated["description"] == "From a file" and updated["title"] == "Made by dgv api"
    from_stdin = _json(
        dgv(
            udata_peer.base_url,
            "PUT",
            f"/datasets/{created['id']}/",
            "--input",
            "-",
            key=key,
            input='{"description": "stdin"}',
        )
    )
    assert from_stdin["description"] == "stdin"
    deleted = dgv(udata_peer.base_url, "DELETE", f"/datasets/{created['id']}/", key=key)
    assert deleted.exit_code == 0 and deleted.stdout == ""  # 204: nothing to print
    gone = httpx.get(f"{udata_peer.api_v1}/datasets/{created['id']}/", headers={"X-API-KEY": key})
    assert gone.json()["deleted"]  # its owner still sees it, marked deleted


@pytest.mark.peer
def test_paginate_prints_every_item_as_json_lines(udata_peer: UdataPeer) -> None:
    tag = udata_peer.seed["seed_tag"]
    result = dgv(udata_peer.base_url, "list_datasets", "-p", f"tag={tag}", "-p", "page_size=5", "--paginate")
    assert result.exit_code == 0, result.output
    ids = [json.loads(line)["id"] for line in result.stdout.splitlines()]
    assert sorted(ids) == sorted(udata_peer.seed["datasets"])
    limited = dgv(
        udata_peer.base_url,
        "GET",
        "/api/2/datasets/search/",
        "-p",
        f"tag={tag}",
        "--paginate",
        "--limit",
        "7",
    )
    assert len(limited.stdout.splitlines()) == 7
    not_a_page = dgv(udata_peer.base_url, "GET", f"/datasets/{ids[0]}/", "--paginate")
    assert not_a_page.exit_code == 2 and "not a page" in not_a_page.output


@pytest.mark.peer
def test_api_errors_are_one_line_and_exit_1(udata_peer: UdataPeer) -> None:
    missing = dgv(udata_peer.base_url, "main:get_dataset", "-p", "dataset=no-such-dataset")
    assert missing.exit_code == 1
    assert missing.output.startswith("error: 404 GET ") and len(missing.output.strip().splitlines()) == 1
    forbidden = dgv(udata_peer.base_url, "create_dataset", "-f", "title=x")
    assert forbidden.exit_code == 1 and "401" in forbidden.output


@pytest.mark.peer
def test_include_prints_the_status_and_headers_on_stderr(udata_peer: UdataPeer) -> None:
    result = dgv(udata_peer.base_url, "-i", "GET", "/site/")
    assert result.exit_code == 0
    assert (
        result.stderr.startswith("HTTP/1.1 200 OK")
        and "content-type: application/json" in result.stderr.lower()
    )
    assert json.loads(result.stdout)["id"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list_datasets", "-p", "page_size=many"], "not an integer"),
        (["list_datasets", "-p", "sort=most-popular"], "expected one of"),
        (["list_datasets", "-p", "nothing"], "expected name=value"),
        (["main:get_dataset"], "needs: dataset"),
        (["get_health"], "several APIs"),
        (["list_dataset"], "did you mean"),
        (["get_site", "-f", "a=b"], "takes no body"),
        (["create_dataset"], "needs a body"),
        (["upload_new_dataset_resource", "-p", "dataset=x", "-f", "a=b"], "multipart"),
        (["GET", "https://elsewhere.example.org/api/1/datasets/"], "not under a configured API"),
        (["FETCH", "/datasets/"], "expected OPERATION or METHOD PATH"),
        (["--api", "main", "list_datasets"], "--api goes with METHOD PATH"),
        (["create_dataset", "--input", "-"], "not JSON"),
    ],
)
def test_bad_usage_exits_2_before_any_request(args: list[str], message: str) -> None:
    # Nothing listens on port 9: any request would be a connection error (exit 1), not exit 2.
    result = dgv("http://127.0.0.1:9", *args, input="{not json")
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_list_filters_operations_by_words() -> None:
    result = CliRunner().invoke(cli, ["api", "--list", "api_tokens"])
    lines = result.output.splitlines()
    assert lines[0].split() == ["OPERATION", "METHOD", "PATH"]
    assert {line.split()[0] for line in lines[1:]} == {
        "main:list_api_tokens",
        "main:create_api_token",
        "main:revoke_api_token",
    }


# -- small local servers ------------------------------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, dict[str, str]]]  # each server's own list (see _server)
    total = 25_000

    def do_GET(self) -> None:
        self.seen.append((self.path, dict(self.headers)))
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path.endswith("/search/"):
            page = int(query.get("page", ["1"])[0])
            size = int(query.get("page_size", ["20"])[0])
            items = [{"id": f"d{i}"} for i in range((page - 1) * size, min(page * size, self.total))]
            nxt = f"http://{self.headers['Host']}{url.path}?page={page + 1}&page_size={size}"
            body = {"data": items, "page": page, "page_size": size, "total": self.total, "next_page": nxt}
            if page * size > 10_000:
                self.send_response(400)
                body = {"message": "Result window is too large"}
            else:
                self.send_response(200)
        else:
            self.send_response(200)
            body = {"ok": True}
        data = json.dumps(body).encode()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def _server() -> Iterator[tuple[str, list[tuple[str, dict[str, str]]]]]:
    seen: list[tuple[str, dict[str, str]]] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Recorder", (_Recorder,), {"seen": seen}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_the_key_goes_to_the_main_api_only() -> None:
    key = "udata_" + "k" * 64
    with _server() as (main, main_seen), _server() as (tabular, tabular_seen):
        assert dgv(main, "GET", "/datasets/", key=key).exit_code == 0
        result = dgv(
            main, "--api", "tabular", "GET", "/api/resources/x/profile/", key=key, tabular_url=tabular
        )
        assert result.exit_code == 0, result.output
        assert (
            dgv(main, "GET", f"{tabular}/api/resources/x/data/", key=key, tabular_url=tabular).exit_code == 0
        )
    assert [h.get("X-API-KEY") for _, h in main_seen] == [key]
    assert [path for path, _ in tabular_seen] == ["/api/resources/x/profile/", "/api/resources/x/data/"]
    assert all("X-API-KEY" not in h for _, h in tabular_seen)


def test_paginate_stops_at_the_search_window_with_a_clear_message() -> None:
    with _server() as (main, seen):
        result = dgv(main, "v2:search_datasets", "-p", "page_size=2500", "--paginate")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 10_000
    assert "10,000-result window" in result.stderr and "narrow the query" in result.stderr
    assert urlsplit(seen[-1][0]).query == "page=4&page_size=2500"  # page 5 was never asked for
