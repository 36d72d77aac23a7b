"""Manifests from a dataset and from the catalog, read by the real Dask."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dask.dataframe as dd
import pytest
from click.testing import CliRunner
from datagouv_sdk import DataGouv, errors
from datagouv_sdk.cli import cli
from datagouv_sdk.dataframe.dask_http import http_filesystem
from datagouv_sdk.manifest import manifest_for_dataset, parquet_urls, read_manifest, write_manifest

from tests.peers.analysis_fixtures import run_export_job
from tests.peers.tabular import seed

pytestmark = pytest.mark.peer


def test_dataset_manifest_lists_parquet_twins_and_source_files(dg: DataGouv, analysis_peer: Any) -> None:
    entries = {e["resource_id"]: e for e in manifest_for_dataset(dg, analysis_peer.dataset_id)}
    assert set(entries) == set(analysis_peer.resources.values())
    big = entries[seed.RESOURCES["big"]]
    index = analysis_peer.hydra.index[seed.RESOURCES["big"]]
    assert big["format"] == "parquet" and big["url"] == analysis_peer.server.url_for(index["parquet"])
    assert big["size"] == index["parquet_size"] and big["checksum"] is None
    assert big["columns"] == {"n": "int", "label": "string", "half": "float"}
    assert big["source_url"] == analysis_peer.server.url_for(index["csv"]) and big["source_format"] == "csv"
    indexed = entries[seed.RESOURCES["indexed"]]  # no Parquet copy: the source file
    assert indexed["format"] == "csv" and indexed["url"] == indexed["source_url"]
    assert indexed["checksum"].startswith("sha1:") and isinstance(indexed["size"], int)
    assert all(
        set(e) >= {"resource_id", "title", "url", "format", "size", "checksum", "last_modified", "columns"}
        for e in entries.values()
    )


def test_dask_reads_the_manifest_with_the_right_row_count(
    dg: DataGouv, analysis_peer: Any, tmp_path: Path
) -> None:
    write_manifest(manifest_for_dataset(dg, analysis_peer.dataset_id, columns=False), tmp_path / "m.jsonl")
    entries = read_manifest(tmp_path / "m.jsonl")
    urls = parquet_urls(entries)
    expected = sum(
        analysis_peer.hydra.index[e["resource_id"]]["rows"] for e in entries if e["format"] == "parquet"
    )
    assert len(urls) == len(analysis_peer.with_parquet)
    big = [u for u in urls if seed.RESOURCES["big"] in u]
    ddf = dd.read_parquet(big, filesystem=http_filesystem())
    assert len(ddf) == 1200 and int(ddf["n"].sum().compute()) == 1200 * 1201 // 2
    # one file per resource, each its own columns: one Dask frame each, rows added up
    assert sum(len(dd.read_parquet([u], filesystem=http_filesystem())) for u in urls) == expected


def test_plain_fsspec_http_fails_as_the_issue_says(analysis_peer: Any) -> None:
    """Why the recipe passes `filesystem=http_filesystem()`: dask (2026.8) opens files for their
    row-count statistics with fsspec's `default_cache=` keyword, which fsspec's HTTP filesystem
    forwards to aiohttp. If this starts passing, the workaround can go."""
    url = analysis_peer.server.url_for(analysis_peer.parquet_name("big"))
    with pytest.raises(FileNotFoundError):
        len(dd.read_parquet([url]))


def test_the_recipes_filesystem_never_downloads_whole_files(analysis_peer: Any) -> None:
    server = analysis_peer.server
    name = analysis_peer.parquet_name("paged")
    server.reset()
    ddf = dd.read_parquet([server.url_for(name)], filesystem=http_filesystem(), columns=["n"])
    assert len(ddf) == 137
    assert all(method == "HEAD" or rng is not None for method, rng in server.requests(name))


def test_cli_manifest_from_a_dataset_and_from_the_catalog(
    analysis_peer: Any, udata_peer: Any, cli_env: dict[str, str], tmp_path: Path
) -> None:
    runner = CliRunner()
    env = cli_env
    out = tmp_path / "dataset.jsonl"
    done = runner.invoke(
        cli, ["tabular", "manifest", "--dataset", analysis_peer.dataset_id, "-o", str(out)], env=env
    )
    assert done.exit_code == 0, done.output
    assert (
        f"({len(analysis_peer.resources)} resources, {len(analysis_peer.with_parquet)} as Parquet)"
        in done.output
    )

    run_export_job(udata_peer)
    store = tmp_path / "catalog"
    synced = runner.invoke(cli, ["catalog", "sync", str(store), "--kind", "resources", "--quiet"], env=env)
    assert synced.exit_code == 0, synced.output
    query = (
        "SELECT id FROM resources WHERE format = 'csv' "
        "AND json_extract_string(extras, '$.\"analysis:parsing:parquet_url\"') IS NOT NULL"
    )
    out = tmp_path / "catalog.jsonl"
    done = runner.invoke(
        cli,
        ["tabular", "manifest", "--query", query, "--dir", str(store), "-o", str(out), "--no-columns"],
        env=env,
    )
    assert done.exit_code == 0, done.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(e["resource_id"] for e in lines) == sorted(
        analysis_peer.resources[n] for n in analysis_peer.with_parquet
    )
    assert all(e["format"] == "parquet" and e["columns"] is None for e in lines)
    total = sum(len(dd.read_parquet([e["url"]], filesystem=http_filesystem())) for e in lines)
    assert total == sum(analysis_peer.hydra.index[e["resource_id"]]["rows"] for e in lines)

    both = runner.invoke(cli, ["tabular", "manifest", "-o", str(out)], env=env)
    assert both.exit_code == 2 and "exactly one of" in both.output
    wrong = runner.invoke(
        cli,
        [
            "tabular",
            "manifest",
            "--query",
            "SELECT title FROM resources",
            "--dir",
            str(store),
            "-o",
            str(out),
        ],
        env=env,
    )
    assert wrong.exit_code == 2 and "resource id column" in wrong.output


def test_a_bad_manifest_line_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text('{"url": "http://x/a.parquet", "format": "parquet"}\n{"title": "no url"}\n')
    with pytest.raises(errors.UsageError, match=r"m.jsonl:2"):
        read_manifest(path)
