"""`dgv datasets|organizations|resources` against the real udata peer: CliRunner, and once as a real
subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner
from datagouv_sdk import DataGouv
from datagouv_sdk.cli import cli

from tests.fault_proxy import HOLD, FaultProxy

DGV = Path(sys.executable).with_name("dgv")


def run(udata_peer: Any, *args: str, key: str | None = None, **kwargs: Any) -> Any:
    base = ["--base-url", udata_peer.base_url]
    if key:
        base += ["--api-key", key]
    # Env vars must not leak into the test (a developer's DATAGOUV_API_KEY…).
    env = {"DATAGOUV_API_KEY": None, "DATAGOUV_BASE_URL": None}
    return CliRunner().invoke(cli, [*base, *args], env=env, catch_exceptions=False, **kwargs)


def test_datasets_list_table_and_json_lines(udata_peer: Any) -> None:
    table = run(udata_peer, "datasets", "list", "--limit", "3")
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split()[:2] == ["ID", "TITLE"] and len(lines) == 4

    as_json = run(udata_peer, "--json", "datasets", "list", "--limit", "0")
    assert as_json.exit_code == 0
    records = [json.loads(line) for line in as_json.output.splitlines()]
    assert len(records) == len({r["id"] for r in records}) >= len(udata_peer.seed["datasets"])


def test_datasets_list_filters(udata_peer: Any) -> None:
    org = udata_peer.seed["organizations"][0]
    result = run(
        udata_peer, "--json", "datasets", "list", "--organization", org, "--sort", "-created", "--limit", "0"
    )
    records = [json.loads(line) for line in result.output.splitlines()]
    assert {r["organization"]["id"] for r in records} == {org}
    assert set(udata_peer.seed["org_datasets"]) <= {r["id"] for r in records}
    created = [r["created_at"] for r in records]
    assert created == sorted(created, reverse=True)


def test_datasets_show(udata_peer: Any) -> None:
    slug = udata_peer.seed["dataset_slugs"][0]
    text = run(udata_peer, "datasets", "show", slug)
    assert text.exit_code == 0 and f"slug          {slug}" in text.output
    assert "FORMAT" in text.output  # the resources table
    one = run(udata_peer, "--json", "datasets", "show", slug)
    assert json.loads(one.output)["slug"] == slug


def test_errors_are_one_line_with_exit_codes(udata_peer: Any) -> None:
    missing = run(udata_peer, "datasets", "show", "no-such-dataset")
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error: 404 GET ") and missing.stderr.count("\n") == 1
    assert "Traceback" not in missing.output + missing.stderr

    bad_sort = run(udata_peer, "datasets", "list", "--sort", "bogus")
    assert bad_sort.exit_code == 2 and "sort='bogus'" in bad_sort.stderr

    verbose = run(udata_peer, "-v", "datasets", "show", "no-such-dataset")
    assert verbose.exit_code == 1 and "Traceback" in verbose.stderr


def test_organizations_list_and_show(udata_peer: Any) -> None:
    listed = run(udata_peer, "--json", "organizations", "list")
    ids = {json.loads(line)["id"] for line in listed.output.splitlines()}
    assert set(udata_peer.seed["organizations"]) <= ids
    shown = run(udata_peer, "organizations", "show", udata_peer.seed["organization_slugs"][0])
    assert shown.exit_code == 0 and "Peer Organization" in shown.output


def test_resources_upload_and_replace(udata_peer: Any, tmp_path: Path) -> None:
    with DataGouv(base_url=udata_peer.base_url, api_key=udata_peer.api_key) as dg:
        dataset = dg.datasets.create({"title": "cli uploads", "description": "d"}, raw=True)["id"]
    try:
        data = tmp_path / "cli.csv"
        data.write_text("a,b\n" + "1,2\n" * 3000)
        uploaded = run(
            udata_peer,
            "--json",
            "resources",
            "upload",
            dataset,
            str(data),
            "--chunk-size",
            "4000",
            key=udata_peer.api_key,
        )
        assert uploaded.exit_code == 0, uploaded.stderr
        resource = json.loads(uploaded.stdout)
        assert resource["filesize"] == data.stat().st_size
        *progress, closing = uploaded.stderr.splitlines()
        assert len(progress) == -(-data.stat().st_size // 4000) and progress[-1].endswith("(100%)")
        assert closing.startswith("note: uploaded cli.csv") and "0 parts retried" in closing
        assert "size and SHA-1 verified" in closing

        newer = tmp_path / "cli-v2.csv"
        newer.write_text("a,b\n9,9\n")
        replaced = run(
            udata_peer,
            "resources",
            "replace",
            dataset,
            resource["id"],
            str(newer),
            "--quiet",
            key=udata_peer.api_key,
        )
        assert replaced.exit_code == 0 and replaced.stderr == ""
        assert resource["id"] in replaced.output and "cli-v2.csv" in replaced.output

        named = run(
            udata_peer,
            "--json",
            "resources",
            "upload",
            dataset,
            str(newer),
            "--filename",
            "published.csv",
            "--quiet",
            key=udata_peer.api_key,
        )
        assert named.exit_code == 0, named.stderr
        assert json.loads(named.stdout)["url"].endswith("/published.csv")

        refused = run(udata_peer, "resources", "upload", dataset, str(data))  # no key
        assert refused.exit_code == 1 and refused.stderr.startswith("error: 401 POST ")
    finally:
        with DataGouv(base_url=udata_peer.base_url, api_key=udata_peer.api_key) as dg:
            dg.datasets.delete(dataset)


def test_real_subprocess_json_lines(udata_peer: Any) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    done = subprocess.run(
        [str(DGV), "--base-url", udata_peer.base_url, "--json", "datasets", "list", "--limit", "5"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(records) == 5 and all("id" in r and "title" in r for r in records)
    failed = subprocess.run(
        [str(DGV), "--base-url", udata_peer.base_url, "datasets", "show", "no-such-dataset"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert failed.returncode == 1 and failed.stderr.startswith("error: 404") and failed.stdout == ""


def test_killed_upload_resumes_without_resending_acknowledged_parts(udata_peer: Any, tmp_path: Path) -> None:
    """A real `dgv resources upload` killed (SIGKILL) while part 9 of 16 is in flight; the same
    command with --resume sends parts 9-16 only, under the same upload id (counted at the proxy)."""
    with DataGouv(base_url=udata_peer.base_url, api_key=udata_peer.api_key) as dg:
        dataset = dg.datasets.create({"title": "cli resume", "description": "d"}, raw=True)["id"]
    source = tmp_path / "killed.zip"
    source.write_bytes(os.urandom(16 * 256 * 1024))
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "DATAGOUV_API_KEY": udata_peer.api_key,
    }
    try:
        with FaultProxy(udata_peer.base_url, max_lifetime=180) as proxy:
            command = [str(DGV), "--base-url", proxy.url, "resources", "upload", dataset, str(source)]
            command += ["--chunk-size", str(256 * 1024)]
            proxy.fail("part:8", HOLD)
            first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                assert proxy.held.wait(timeout=60), "the upload never reached part 9"
            finally:
                first.kill()
                first.communicate(timeout=30)
            proxy.release()
            assert first.returncode == -signal.SIGKILL
            (state_file,) = (tmp_path / "cache" / "datagouv-sdk" / "uploads").glob("*.json")
            state = json.loads(state_file.read_text())
            assert state["parts_done"] == 8 and udata_peer.api_key not in state_file.read_text()
            first_run = len(proxy.seen)
            assert proxy.parts_sent() == list(range(9))  # 0-7 acknowledged, 8 held

            second = subprocess.run(
                [*command, "--resume"], env=env, capture_output=True, text=True, timeout=120, check=False
            )
            assert second.returncode == 0, second.stderr
            resumed = proxy.seen[first_run:]
        parts = [int(s.kind.split(":")[1]) for s in resumed if s.kind.startswith("part:")]
        assert parts == list(range(8, 16))  # the 8 acknowledged parts are not sent again
        assert {s.uuid for s in resumed if s.uuid} == {state["uuid"]}
        assert [s.kind for s in resumed].count("assemble") == 1
        assert "note: resuming the upload of killed.zip: 8 of 16 parts (2.0 MiB)" in second.stderr
        assert "8 resumed" in second.stderr and not state_file.exists()
        with DataGouv(base_url=udata_peer.base_url) as anon:
            (resource,) = anon.datasets.get(dataset, raw=True)["resources"]
        assert httpx.get(resource["url"], timeout=30).content == source.read_bytes()
    finally:
        with DataGouv(base_url=udata_peer.base_url, api_key=udata_peer.api_key) as dg:
            dg.datasets.delete(dataset)
