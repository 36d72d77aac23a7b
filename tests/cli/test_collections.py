"""The table-built `dgv` collection groups (reuses, discussions, users, topics, posts) and every
`search` subcommand, against the real udata peer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner, Result
from datagouv_sdk.cli import cli
from datagouv_sdk.cli.collections import GROUPS

from tests.peers.udata_fixtures import UdataPeer

pytestmark = pytest.mark.peer


def dgv(peer: UdataPeer, *args: str, key: str | None = None) -> Result:
    argv = ["--base-url", peer.base_url] + (["--api-key", key] if key else [])
    env = {"DATAGOUV_API_KEY": None, "DATAGOUV_BASE_URL": None}
    return CliRunner().invoke(cli, [*argv, *args], env=env, catch_exceptions=False)


def _lines(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.parametrize("name", ["reuses", "discussions", "topics", "posts"])
def test_each_group_lists_shows_and_searches(udata_peer: UdataPeer, name: str) -> None:
    seeded = udata_peer.seed[name]
    listed = _lines(dgv(udata_peer, "--json", name, "list", "--limit", "0"))
    assert set(seeded) <= {item["id"] for item in listed}
    table = dgv(udata_peer, name, "list", "--limit", "2")
    assert table.exit_code == 0 and table.output.splitlines()[0].startswith("ID ")
    shown = dgv(udata_peer, name, "show", seeded[0])
    assert shown.exit_code == 0 and seeded[0] in shown.output
    found = _lines(dgv(udata_peer, "--json", name, "search", "--limit", "0"))
    assert set(seeded) <= {item["id"] for item in found}


def test_users_need_a_sysadmin_to_list(udata_peer: UdataPeer) -> None:
    refused = dgv(udata_peer, "users", "list")
    assert refused.exit_code == 1 and "401" in refused.output
    users = _lines(dgv(udata_peer, "--json", "users", "list", "--limit", "0", key=udata_peer.admin_api_key))
    assert set(udata_peer.seed["users"].values()) <= {u["id"] for u in users}
    assert "search" not in dgv(udata_peer, "users", "--help").output  # the v2 API has no user search


def test_datasets_search_with_filters_fields_and_facets(udata_peer: UdataPeer) -> None:
    tag = udata_peer.seed["seed_tag"]
    table = dgv(udata_peer, "datasets", "search", "qualite bretagne")
    assert table.exit_code == 0 and udata_peer.seed["search_title"] in table.output
    masked = _lines(
        dgv(
            udata_peer,
            "--json",
            "datasets",
            "search",
            "--filter",
            f"tag={tag}",
            "--fields",
            "id,title",
            "--limit",
            "0",
        )
    )
    assert len(masked) == 23 and all(set(item) == {"id", "title"} for item in masked)
    facets = dgv(udata_peer, "--json", "datasets", "search", "--filter", f"tag={tag}", "--facets")
    counts = json.loads(facets.stdout)
    assert {b["name"]: b["count"] for b in counts["tag"]}[tag] == 23
    org = _lines(dgv(udata_peer, "--json", "organizations", "search", "peer"))
    assert udata_peer.seed["organizations"][0] in {o["id"] for o in org}


def test_filters_are_checked_before_sending(udata_peer: UdataPeer) -> None:
    unknown = dgv(udata_peer, "reuses", "list", "--filter", "colour=red")
    assert (
        unknown.exit_code == 2
        and "has no parameter 'colour'" in unknown.output
        and unknown.output.rstrip().endswith("topic, type")
    )
    bad = dgv(udata_peer, "reuses", "search", "--filter", "featured=maybe")
    assert bad.exit_code == 2 and "not a boolean" in bad.output


def test_the_groups_are_the_table() -> None:
    shown = CliRunner().invoke(cli, ["--help"]).output
    assert all(f"  {name} " in shown for name in GROUPS)
