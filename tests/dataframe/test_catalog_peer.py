"""The catalog exports of the real udata peer (its own ``export-csv`` job) synced into DuckDB, from the
SDK and from ``dgv catalog``."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from datagouv_sdk import DataGouv, errors
from datagouv_sdk.catalog_exports import KINDS, catalog_sql
from datagouv_sdk.cli import cli

from tests.peers.analysis_fixtures import run_export_job

pytestmark = pytest.mark.peer


@pytest.fixture(scope="module")
def fresh_exports(analysis_peer: Any, udata_peer: Any) -> Any:
    """The exports rebuilt after the analysis fixture published its dataset (as the daily job would)."""
    run_export_job(udata_peer)
    return analysis_peer


@pytest.fixture
def dg(udata_peer: Any) -> Iterator[DataGouv]:
    with DataGouv(base_url=udata_peer.base_url, api_key=None) as client:
        yield client


def test_download_follows_the_redirect_to_the_days_file(
    dg: DataGouv, fresh_exports: Any, tmp_path: Path
) -> None:
    url = dg.catalog.export_url("datasets")
    assert "/export-dataset-" in url and url.endswith(".csv")
    got = dg.catalog.download("datasets", tmp_path / "datasets.csv")
    assert got.url == url and got.changed and got.bytes == (tmp_path / "datasets.csv").stat().st_size
    header = (tmp_path / "datasets.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith('"id";"title";"slug"')
    again = dg.catalog.download("datasets", tmp_path / "datasets.csv", previous=got.state())
    assert not again.changed and again.sha256 == got.sha256  # 304 from the peer: nothing transferred
    assert not list(tmp_path.glob("*.part"))


def test_sync_then_sql(dg: DataGouv, fresh_exports: Any, udata_peer: Any, tmp_path: Path) -> None:
    seen: list[tuple[str, int]] = []
    report = dg.catalog.sync(tmp_path, progress=lambda kind, done, total: seen.append((kind, done)))
    assert [k.kind for k in report.kinds] == list(KINDS)
    assert all(k.downloaded and k.loaded for k in report.kinds)
    assert {kind for kind, _ in seen} == set(KINDS)
    public = httpx.get(f"{udata_peer.base_url}/api/1/datasets/", params={"page_size": 1}).json()["total"]
    by_kind = {k.kind: k for k in report.kinds}
    assert by_kind["datasets"].rows >= len(udata_peer.seed["datasets"]) and by_kind["datasets"].rows <= public
    assert (tmp_path / "parquet" / "resources.parquet").is_file()

    parquet_twins = catalog_sql(
        """SELECT "id", format, filesize,
                  json_extract_string(extras, '$."analysis:parsing:parquet_url"') AS parquet_url
           FROM resources
           WHERE format = 'csv' AND parquet_url IS NOT NULL ORDER BY "id" """,
        tmp_path,
    )
    expected = sorted(fresh_exports.resources[n] for n in fresh_exports.with_parquet)
    assert [r["id"] for r in parquet_twins] == expected
    assert all(r["parquet_url"].startswith(fresh_exports.server.url) for r in parquet_twins)
    assert all(isinstance(r["filesize"], int) for r in parquet_twins)  # typed, not text

    second = dg.catalog.sync(tmp_path)
    assert not any(k.downloaded or k.loaded for k in second.kinds if k.kind != "tags")
    run_export_job(udata_peer)  # a new day's files, same content
    third = dg.catalog.sync(tmp_path, kinds=["datasets"])
    assert third.kinds[0].loaded is False  # new URL, same bytes: not reloaded
    state = json.loads((tmp_path / "catalog-state.json").read_text())
    assert state["datasets"]["url"] == dg.catalog.export_url("datasets")


def test_cli_sync_and_sql(fresh_exports: Any, udata_peer: Any, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"DATAGOUV_BASE_URL": udata_peer.base_url, "DATAGOUV_API_KEY": ""}
    synced = runner.invoke(
        cli, ["catalog", "sync", str(tmp_path), "--kind", "organizations", "--quiet"], env=env
    )
    assert synced.exit_code == 0, synced.output
    assert "organizations" in synced.output and "downloaded" in synced.output
    queried = runner.invoke(
        cli,
        ["--json", "catalog", "sql", "SELECT name FROM organizations ORDER BY name", "--dir", str(tmp_path)],
        env=env,
    )
    assert queried.exit_code == 0, queried.output
    names = [json.loads(line)["name"] for line in queried.output.splitlines()]
    assert "Peer Organization" in names and "Other Organization" in names
    bad = runner.invoke(cli, ["catalog", "sql", "SELECT * FROM nope", "--dir", str(tmp_path)], env=env)
    assert bad.exit_code == 2 and "nope" in bad.output


def test_sql_without_a_store_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(errors.UsageError, match="dgv catalog sync"):
        catalog_sql("SELECT 1", tmp_path)


def test_unknown_kind_is_refused(dg: DataGouv, tmp_path: Path) -> None:
    with pytest.raises(errors.UsageError, match="kinds: datasets"):
        dg.catalog.download("users", tmp_path / "x.csv")


def test_gzip_exports_are_decompressed_while_streaming(tmp_path: Path) -> None:
    from datagouv_sdk.catalog_exports import CatalogExports, _Gunzip

    body = ('"id";"title"\n' + "".join(f'"{i}";"t{i}"\n' for i in range(5000))).encode()
    packed = gzip.compress(body)
    chunks = [packed[i : i + 1000] for i in range(0, len(packed), 1000)]
    written, _ = CatalogExports._write(iter(chunks), tmp_path / "x.csv", gunzip=_Gunzip(), progress=None)
    assert written == len(body) and (tmp_path / "x.csv").read_bytes() == body
    with pytest.raises(errors.ResponseDecodeError, match="truncated"):
        CatalogExports._write(iter(chunks[:-1]), tmp_path / "y.csv", gunzip=_Gunzip(), progress=None)
    assert not (tmp_path / "y.csv").exists() and not (tmp_path / "y.csv.part").exists()
