"""Run the README's examples against the local peers, so they cannot rot: the Quickstart against the
udata peer, "Metrics and Tabular" against the api_tabular peers.

Every ```python block is executed (fresh namespace, temporary working directory) and every ```sh
block is run by bash, with DATAGOUV_BASE_URL / DATAGOUV_API_KEY pointed at the peer. A block preceded
by `<!-- readme-test: skip (reason) -->` is not run; such a block must give a reason.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from datagouv_sdk import DataGouv

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Block:
    lang: str
    code: str
    line: int
    skip_reason: str | None

    @property
    def id(self) -> str:
        return f"{self.lang}@README.md:{self.line}"


def section_blocks(title: str) -> list[Block]:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match is not None, f"README.md has no '## {title}' section"
    section, offset = match.group(1), text[: match.start(1)].count("\n")
    blocks = []
    for m in re.finditer(
        r"(<!-- readme-test: skip \(([^)]*)\) -->\n)?```(\w+)\n(.*?)```", section, re.DOTALL
    ):
        line = offset + section[: m.start(3)].count("\n") + 1
        blocks.append(Block(lang=m.group(3), code=m.group(4), line=line, skip_reason=m.group(2)))
    return blocks


BLOCKS = section_blocks("Quickstart")
BIG_FILES_BLOCKS = section_blocks("Big files")
TABULAR_BLOCKS = section_blocks("Metrics and Tabular")
ANALYSIS_BLOCKS = section_blocks("Data analysis")
RUNNABLE = [b for b in BLOCKS if b.skip_reason is None]
# Sections run against the udata peer with generic checks: each block runs, prints, and reports no error.
PEER_SECTIONS = (
    "Search, or list?",
    "Field masks, extra parameters, response details",
    "Every operation: `dg.call` and `dgv api`",
    "API keys, login and tokens",
)
PEER_BLOCKS = [b for title in PEER_SECTIONS for b in section_blocks(title) if b.skip_reason is None]


def test_the_quickstart_has_the_examples_it_promises() -> None:
    python = [b for b in RUNNABLE if b.lang == "python"]
    sh = [b for b in RUNNABLE if b.lang == "sh"]
    assert len(python) >= 5 and len(sh) >= 1
    joined = "\n".join(b.code for b in RUNNABLE)
    for needle in (
        "datasets.list(",
        "iter_pages()",
        "datasets.create(",
        "errors.NotFoundError",
        "RetryPolicy(",
        "dgv ",
    ):
        assert needle in joined, needle
    assert all(b.skip_reason for b in BLOCKS if b not in RUNNABLE)
    assert {b.lang for b in BLOCKS} <= {"python", "sh"}, "a block in a language this test cannot run"


def test_install_line_names_this_package() -> None:
    name = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]
    install = [b for b in BLOCKS if b.skip_reason and "pip install" in b.code]
    assert install and f"pip install ./{name}" in install[0].code


@pytest.fixture
def peer_env(udata_peer: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {"DATAGOUV_BASE_URL": udata_peer.base_url, "DATAGOUV_API_KEY": udata_peer.api_key}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("DATAGOUV_METRICS_URL", "DATAGOUV_TABULAR_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return env


def run_python(block: Block) -> str:
    """Run a python block (line numbers as in README.md); what it printed."""
    out = io.StringIO()
    code = compile("\n" * (block.line) + block.code, str(README), "exec")
    with contextlib.redirect_stdout(out):
        exec(code, {"__name__": "__readme__"})
    return out.getvalue()


def run_shell(block: Block, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a sh block with bash -euo pipefail; it must succeed without an `error:` line."""
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block.code],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, f"{block.id} failed:\n{done.stdout}\n{done.stderr}"
    assert "error:" not in done.stderr
    return done


@pytest.mark.parametrize("block", [b for b in RUNNABLE if b.lang == "python"], ids=lambda b: b.id)
def test_python_example(block: Block, peer_env: dict[str, str]) -> None:
    printed = run_python(block)
    if "print(" in block.code:
        assert printed.strip(), f"{block.id} printed nothing"
    assert "None" not in printed.split(), f"{block.id} printed a None: {printed}"


@pytest.mark.parametrize("block", [b for b in RUNNABLE if b.lang == "sh"], ids=lambda b: b.id)
def test_shell_example(block: Block, peer_env: dict[str, str], udata_peer: Any) -> None:
    with DataGouv(base_url=udata_peer.base_url, api_key=udata_peer.api_key) as dg:
        dataset = dg.datasets.create({"title": "README CLI", "description": "d"}, raw=True)["id"]
    env = {
        "PATH": f"{BIN}:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/tmp"),
        "DATASET": dataset,
        **peer_env,
    }
    try:
        done = run_shell(block, env)
        assert "Qualité de l'air en Bretagne" in done.stdout
        with DataGouv(base_url=udata_peer.base_url) as anon:
            titles = [r["title"] for r in anon.datasets.get(dataset, raw=True)["resources"]]
        assert titles == ["stations.csv"]
    finally:
        with DataGouv(base_url=udata_peer.base_url, api_key=udata_peer.api_key) as dg:
            dg.datasets.delete(dataset)


@pytest.mark.parametrize("block", BIG_FILES_BLOCKS, ids=lambda b: b.id)
def test_big_files_example(
    block: Block, peer_env: dict[str, str], udata_peer: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert block.skip_reason is None
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    if block.lang == "python":
        printed = run_python(block).splitlines()
        assert sum("bytes acknowledged" in line for line in printed) >= 3  # parts, not one request
        assert any(line.startswith("uploaded measures.csv") for line in printed), printed
        return
    with DataGouv(base_url=udata_peer.base_url, api_key=udata_peer.api_key) as dg:
        dataset = dg.datasets.create({"title": "README big files", "description": "d"}, raw=True)["id"]
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(tmp_path), "DATASET": dataset, **peer_env}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    try:
        done = run_shell(block, env)
        assert "note: uploaded numbers.csv" in done.stderr
        with DataGouv(base_url=udata_peer.base_url) as anon:
            (resource,) = anon.datasets.get(dataset, raw=True)["resources"]
        assert (
            resource["title"] == "numbers.csv"
            and resource["filesize"] == (tmp_path / "numbers.csv").stat().st_size
        )
    finally:
        with DataGouv(base_url=udata_peer.base_url, api_key=udata_peer.api_key) as dg:
            dg.datasets.delete(dataset)


def test_big_files_section_shows_parts_resume_and_the_cli() -> None:
    joined = "\n".join(b.code for b in BIG_FILES_BLOCKS)
    for needle in ("chunk_size=", "resume=True", "progress=", "on_event=", "--resume", "--chunk-size"):
        assert needle in joined, needle


@pytest.mark.parametrize("block", TABULAR_BLOCKS, ids=lambda b: b.id)
def test_metrics_and_tabular_example(
    block: Block, tabular_peer: Any, metrics_peer: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert block.lang == "python" and block.skip_reason is None
    monkeypatch.setenv("DATAGOUV_TABULAR_URL", tabular_peer.base_url)
    monkeypatch.setenv("DATAGOUV_METRICS_URL", metrics_peer.base_url)
    monkeypatch.chdir(tmp_path)
    printed = run_python(block)
    assert printed.strip(), f"{block.id} printed nothing"
    assert "None" not in printed.split(), f"{block.id} printed a None: {printed}"


def test_metrics_and_tabular_section_shows_query_validation_and_export() -> None:
    joined = "\n".join(b.code for b in TABULAR_BLOCKS)
    for needle in ("Query()", "col(", ".export(", "errors.UsageError", "MetricsModel("):
        assert needle in joined, needle


# -- "Dataservice discovery": API Adresse, its document and API on a local server ---------------------

DISCOVERY_BLOCKS = section_blocks("Dataservice discovery")

# Modelled on api-adresse.data.gouv.fr's own description (search and reverse, GeoJSON answers).
ADRESSE_DOC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "API Adresse", "version": "1.0"},
    "servers": [{"url": "/"}],  # relative: resolved against the document's URL
    "paths": {
        "/search/": {
            "get": {
                "operationId": "search",
                "summary": "Géocodage",
                "parameters": [
                    {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                    {
                        "name": "type",
                        "in": "query",
                        "schema": {
                            "type": "string",
                            "enum": ["housenumber", "street", "locality", "municipality"],
                        },
                    },
                ],
                "responses": {
                    "200": {
                        "description": "FeatureCollection",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Features"}}
                        },
                    }
                },
            }
        },
        "/reverse/": {
            "get": {
                "operationId": "reverse",
                "summary": "Géocodage inverse",
                "parameters": [
                    {"name": "lon", "in": "query", "required": True, "schema": {"type": "number"}},
                    {"name": "lat", "in": "query", "required": True, "schema": {"type": "number"}},
                ],
                "responses": {
                    "200": {
                        "description": "FeatureCollection",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Features"}}
                        },
                    }
                },
            }
        },
    },
    "components": {
        "schemas": {
            "Features": {
                "type": "object",
                "properties": {
                    "type": {"type": "string"},
                    "features": {"type": "array", "items": {"type": "object"}},
                },
            }
        }
    },
}
ADRESSE_ANSWER = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-1.5528, 47.2144]},
            "properties": {"label": "8 Boulevard du Port 44000 Nantes", "score": 0.92},
        }
    ],
}


@pytest.fixture(scope="module")
def adresse(udata_peer: Any) -> Iterator[Any]:
    from tests.discovery.servers import RecordingServer, running

    with running("127.0.0.1") as server:
        server.routes["/openapi.json"] = lambda h: h.send_json(ADRESSE_DOC)
        server.routes["/search/"] = lambda h: h.send_json(ADRESSE_ANSWER)
        server.routes["/reverse/"] = lambda h: h.send_json(ADRESSE_ANSWER)
        with DataGouv(base_url=udata_peer.base_url, api_key=udata_peer.api_key) as dg:
            created = dg.http("main").post(
                "dataservices/",
                json={
                    "title": "API Adresse",
                    "description": "Géocodage d'adresses (local copy for the README test)",
                    "base_api_url": server.url("/"),
                    "machine_documentation_url": server.url("/openapi.json"),
                    "organization": udata_peer.seed["organizations"][0],
                    "access_type": "open",
                },
            )
            assert created.status_code == 201, created.text
            assert created.json()["slug"] == "api-adresse"
        server_typed: RecordingServer = server
        yield server_typed


@pytest.mark.parametrize("block", DISCOVERY_BLOCKS, ids=lambda b: b.id)
def test_discovery_example(
    block: Block, adresse: Any, peer_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from datagouv_sdk.discovery.explorer import ALLOW_PRIVATE_HOSTS_ENV

    assert block.skip_reason is None
    monkeypatch.setenv(ALLOW_PRIVATE_HOSTS_ENV, "1")  # the local copy of the API is on loopback
    if block.lang == "python":
        printed = run_python(block)
        assert "API Adresse" in printed and "GET /search/ search" in printed
        assert f"{adresse.url('/')} from servers" in printed  # "/" resolved against the document's URL
        assert "200 8 Boulevard du Port 44000 Nantes" in printed
        assert "api_adresse: 2 operations generated, 0 skipped" in printed
        assert (Path("clients") / "api_adresse" / "api").is_dir()
        return
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), **peer_env}
    env[ALLOW_PRIVATE_HOSTS_ENV] = "1"
    done = run_shell(block, env)
    assert "search" in done.stdout and "8 Boulevard du Port 44000 Nantes" in done.stdout
    assert "api_adresse: 2 operations generated" in done.stdout
    searches = [r.path for r in adresse.requests if r.route == "/search/"]
    assert "/search/?q=8%20bd%20du%20port&limit=3" in searches


@pytest.fixture(scope="module")
def fresh_exports(analysis_peer: Any, udata_peer: Any) -> Any:
    """The day's catalog files rebuilt once the Parquet copies' extras are published."""
    from tests.peers.analysis_fixtures import run_export_job

    run_export_job(udata_peer)
    return analysis_peer


def fresh_exports_resources(env: dict[str, str]) -> list[str]:
    return [str(rid) for rid in json.loads(env["ANALYSIS_RESOURCES"])]


@pytest.fixture
def analysis_env(fresh_exports: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    analysis_peer = fresh_exports
    env = {
        "ANALYSIS_RESOURCES": json.dumps(sorted(analysis_peer.resources.values())),
        "DATAGOUV_BASE_URL": analysis_peer.main_url,
        "DATAGOUV_TABULAR_URL": analysis_peer.tabular_url,
        "RID": analysis_peer.resources["big"],
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("DATAGOUV_API_KEY", "DATAGOUV_METRICS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return env


@pytest.mark.parametrize("block", [b for b in ANALYSIS_BLOCKS if b.skip_reason is None], ids=lambda b: b.id)
def test_data_analysis_example(block: Block, analysis_env: dict[str, str], tmp_path: Path) -> None:
    if block.lang == "sh":
        env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), **analysis_env}
        run_shell(block, env)
        assert (tmp_path / "big.parquet").is_file() and (tmp_path / "catalog" / "catalog.duckdb").is_file()
        manifest = (tmp_path / "files.jsonl").read_text().splitlines()
        assert len(manifest) >= 4 and all('"format": "parquet"' in line for line in manifest)
        dataset_lines = (tmp_path / "dataset.jsonl").read_text().splitlines()
        assert len(dataset_lines) == len(fresh_exports_resources(analysis_env))
        return
    printed = run_python(block)
    assert printed.strip(), f"{block.id} printed nothing"
    if "frame.attrs" in block.code:
        assert printed.startswith("19 parquet "), printed


def test_data_analysis_section_covers_the_issue() -> None:
    runnable = [b for b in ANALYSIS_BLOCKS if b.skip_reason is None]
    assert {b.lang for b in runnable} == {"python", "sh"} and len(runnable) >= 4
    joined = "\n".join(b.code for b in ANALYSIS_BLOCKS)
    for needle in (
        "to_pandas(",
        "to_polars(",
        "to_arrow(",
        "to_duckdb(",
        "export_parquet(",
        "dgv tabular sql",
        "dgv catalog sync",
        "dgv catalog sql",
        "dgv tabular manifest",
        "dd.read_parquet(",
        "ray.data.read_parquet(",
        "spark",
    ):
        assert needle in joined, needle


@pytest.mark.parametrize("block", PEER_BLOCKS, ids=lambda b: b.id)
def test_peer_section_example(block: Block, peer_env: dict[str, str], tmp_path: Path) -> None:
    if block.lang == "python":
        test_python_example(block, peer_env)
        return
    assert block.lang == "sh"
    env = {
        "PATH": f"{BIN}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),  # `dgv auth login` stores its key here
        **peer_env,
    }
    done = run_shell(block, env)
    assert done.stdout.strip(), f"{block.id} printed nothing"


def test_peer_sections_show_what_they_promise() -> None:
    joined = "\n".join(b.code for b in PEER_BLOCKS)
    for needle in (
        "dg.me.tokens.create(",
        "dgv auth login",
        "dgv auth status",
        "dgv auth logout",
        "dgv api list_datasets",
        "--paginate",
        "dgv api GET ",
        ".search(",
        ".facets()",
        "dgv datasets search",
        "fields=",
        "extra_query=",
        "dg.with_response",
    ):
        assert needle in joined, needle
