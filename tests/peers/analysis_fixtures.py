"""Fixtures for hydra's analysis outputs: Parquet copies of the Tabular peer's resources, served with
Range support, and published in the udata peer's resource extras like production.

    hydra_parquet    session: hydra's own db_to_parquet run on the Tabular peer's PostgreSQL
                     (.peers/hydra, `make peers`) → a folder of <rid>.parquet + <rid>.csv + index.json
    analysis_peer    session: a RangeServer over that folder, and a dataset on the udata peer whose
                     resources carry the Tabular peer's resource ids, ``url`` = the source CSV and
                     hydra's ``analysis:parsing:*`` extras (created through udata's real API)

See tests/peers/hydra/convert.py for what is hydra's code and what is ours.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.peers.range_server import RangeServer
from tests.peers.tabular import seed
from tests.peers.tabular.launcher import TabularStack

ROOT = Path(__file__).resolve().parents[2]
HYDRA_PYTHON = ROOT / ".peers" / "hydra" / "bin" / "python"
CONVERT = Path(__file__).resolve().parent / "hydra" / "convert.py"
# Resources published without a Parquet copy (hydra skips small files in production): the "auto"
# source must fall back to the API for them.
WITHOUT_PARQUET = ("indexed",)


def run_hydra(dsn: str, out: Path, *, only: list[str] | None = None, timeout: float = 600) -> dict[str, Any]:
    """hydra's conversion into `out`; returns its index.json."""
    if not HYDRA_PYTHON.is_file():
        raise RuntimeError(
            f"{HYDRA_PYTHON.relative_to(ROOT)} is missing: run `make peers` (installs udata-hydra into .peers/hydra/)"
        )
    argv = [str(HYDRA_PYTHON), str(CONVERT), "--dsn", dsn, "--out", str(out)]
    for rid in only or []:
        argv += ["--only", rid]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"hydra's conversion failed ({done.returncode}):\n{done.stderr[-4000:]}")
    index: dict[str, Any] = json.loads((out / "index.json").read_text())
    return index


@dataclass(frozen=True)
class HydraOutput:
    folder: Path
    index: dict[str, Any]  # resource id -> parquet/csv names, sizes, rows, columns (convert.py)


@pytest.fixture(scope="session")
def hydra_parquet(pg_gateway: TabularStack) -> Iterator[HydraOutput]:
    with tempfile.TemporaryDirectory(prefix="dgv-hydra-") as folder:
        try:
            index = run_hydra(f"postgres://postgres@127.0.0.1:{pg_gateway.pg_port}/postgres", Path(folder))
        except RuntimeError as exc:
            pytest.fail(str(exc), pytrace=False)
        yield HydraOutput(Path(folder), index)


@dataclass(frozen=True)
class AnalysisPeer:
    """`main_url`: the udata peer; `tabular_url`: the api_tabular peer; `server`: the files;
    `resources`: name → resource id (the Tabular peer's); `with_parquet`: the names whose extras
    carry a Parquet URL; `dataset_id`: the udata dataset holding them."""

    main_url: str
    tabular_url: str
    api_key: str
    server: RangeServer
    hydra: HydraOutput
    dataset_id: str
    resources: dict[str, str]
    with_parquet: list[str]
    extras: dict[str, dict[str, Any]] = field(default_factory=dict)

    def parquet_name(self, name: str) -> str:
        return str(self.hydra.index[self.resources[name]]["parquet"])

    def client(self, **options: Any) -> Any:
        from datagouv_sdk import DataGouv

        return DataGouv(base_url=self.main_url, tabular_url=self.tabular_url, api_key=None, **options)


def hydra_extras(entry: dict[str, Any], parquet_url: str | None) -> dict[str, Any]:
    """The extras hydra publishes after a successful analysis (udata_hydra.analysis.helpers)."""
    extras: dict[str, Any] = {
        "analysis:parsing:error": None,
        "analysis:parsing:started_at": "2024-01-15T10:00:00+00:00",
        "analysis:parsing:finished_at": "2024-01-15T10:00:03+00:00",
        "analysis:parsing:parsing_table": entry["table"],
    }
    if parquet_url is not None:
        extras["analysis:parsing:parquet_url"] = parquet_url
        extras["analysis:parsing:parquet_size"] = entry["parquet_size"]
    return extras


_last_export = [0.0]


def run_export_job(udata_peer: Any) -> None:
    """udata's export-csv job, now (POST /_peer/jobs/export-csv). udata names the files by the
    second (export-dataset-YYYYmmdd-HHMMSS.csv) and refuses to overwrite one: two runs within a
    second fail with FileExists, so a second run waits for the next second (production runs daily)."""
    wait = 1.0 - (time.time() - _last_export[0])
    if wait > 0:
        time.sleep(wait)
    answer = httpx.post(f"{udata_peer.base_url}/_peer/jobs/export-csv", timeout=60)
    _last_export[0] = time.time()
    if answer.status_code != 200 or answer.json()["status"] != "SUCCESS":
        raise AssertionError(f"udata's export-csv job failed: {answer.status_code} {answer.text}")


def publish(
    udata_peer: Any, dataset_id: str, rid: str, url: str, filesize: int, extras: dict[str, Any]
) -> None:
    """What production does after an analysis: the resource's url (the producer's file), then
    hydra's extras through the endpoint hydra calls (PUT /api/2/datasets/{id}/resources/{rid}/extras/)
    with a sysadmin's key, as hydra's platform key is (udata reserves ``analysis:*`` keys to it)."""
    # One request per call, no shared cookie jar: udata logs a keyed caller into a session cookie.
    base = udata_peer.base_url
    answer = httpx.put(
        f"{base}/api/1/datasets/{dataset_id}/resources/{rid}/",
        json={"url": url, "filesize": filesize, "title": url.rsplit("/", 1)[-1], "format": "csv"},
        headers={"X-API-KEY": udata_peer.api_key},
        timeout=30,
    )
    if answer.status_code != 200:
        raise RuntimeError(f"updating resource {rid}: {answer.status_code} {answer.text}")
    answer = httpx.put(
        f"{base}/api/2/datasets/{dataset_id}/resources/{rid}/extras/",
        json=extras,
        headers={"X-API-KEY": udata_peer.admin_api_key},
        timeout=30,
    )
    if answer.status_code != 200:
        raise RuntimeError(f"extras of {rid}: {answer.status_code} {answer.text}")


@pytest.fixture(scope="session")
def analysis_peer(hydra_parquet: HydraOutput, udata_peer: Any, tabular_peer: Any) -> Iterator[AnalysisPeer]:
    names = [t.name for t in seed.TABLES]
    dataset_id = udata_peer.seed["tabular_dataset"]
    if udata_peer.seed["tabular_resources"] != {n: seed.RESOURCES[n] for n in names}:
        pytest.fail("the udata peer's seeded Tabular resource ids differ from tests/peers/tabular/seed.py")
    with RangeServer(hydra_parquet.folder) as server:
        extras_by_name = {}
        try:
            for name in names:
                rid = seed.RESOURCES[name]
                entry = hydra_parquet.index[rid]
                parquet_url = None if name in WITHOUT_PARQUET else server.url_for(entry["parquet"])
                extras_by_name[name] = hydra_extras(entry, parquet_url)
                publish(
                    udata_peer,
                    dataset_id,
                    rid,
                    server.url_for(entry["csv"]),
                    entry["csv_size"],
                    extras_by_name[name],
                )
            answer = httpx.put(
                f"{udata_peer.base_url}/api/1/datasets/{dataset_id}/",
                headers={"X-API-KEY": udata_peer.api_key},
                json={"private": False},
                timeout=30,
            )
            if answer.status_code != 200:
                raise RuntimeError(f"publishing the dataset: {answer.status_code} {answer.text}")
        except RuntimeError as exc:
            pytest.fail(f"analysis peer: {exc}", pytrace=False)
        yield AnalysisPeer(
            main_url=udata_peer.base_url,
            tabular_url=tabular_peer.base_url,
            api_key=udata_peer.api_key,
            server=server,
            hydra=hydra_parquet,
            dataset_id=dataset_id,
            resources={n: seed.RESOURCES[n] for n in names},
            with_parquet=[n for n in names if n not in WITHOUT_PARQUET],
            extras=extras_by_name,
        )
