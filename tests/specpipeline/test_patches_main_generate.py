"""The patched Main documents through the real generator driver: every operation generated, zero
openapi-python-client warnings (--fail-on-warning), the patched shapes visible in the code, mypy --strict clean.

Slow-ish (the generator and its ruff post-hooks, then mypy over ~860 files): one module fixture generates
both packages, in parallel.
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from datagouv_sdk.codegen.generate import GenerationResult, document_stamp, generate_client, load_config
from datagouv_sdk.codegen.normalise import normalise

from tests.codegen.test_swagger2 import upstream_document
from tests.specpipeline.test_patches_main import OPERATIONS, PACKAGES
from tools.specpipeline.layout import default_layout
from tools.specpipeline.pipeline import prepare


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, GenerationResult]]:
    layout = default_layout()
    root = tmp_path_factory.mktemp("generated-main")

    def one(name: str) -> GenerationResult:
        package = PACKAGES[name]
        document = prepare(name, normalise(upstream_document(name)))
        return generate_client(
            document,
            package=package,
            output_dir=root / package,
            config=load_config(layout.config_path(name), package=package),
            stamp=document_stamp(name, document, upstream_sha256="0" * 64),  # not under test here
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(PACKAGES, pool.map(one, PACKAGES), strict=False))
    return root, results


@pytest.mark.parametrize("name", list(PACKAGES))
def test_every_operation_is_generated_without_warnings(
    name: str, generated: tuple[Path, dict[str, GenerationResult]]
) -> None:
    result = generated[1][name]
    assert result.warnings == ()
    assert result.endpoint_functions == result.operations == OPERATIONS[name]


def test_generated_main_has_the_patched_shapes(generated: tuple[Path, dict[str, GenerationResult]]) -> None:
    package = generated[0] / "datagouv_main"
    for function in ("delete_dataservice_dataset", "get_datasets_csv", "post_membership_request"):
        assert len(list(package.glob(f"api/*/{function}.py"))) == 1, function
    suggest = next(package.glob("api/*/suggest_users.py")).read_text(encoding="utf-8")
    assert "size: int | Unset = 10" in suggest
    resource = (package / "models" / "resource.py").read_text(encoding="utf-8")
    assert "type_: ResourceTypeId" in resource
    assert (package / "models" / "resource_type.py").exists()
    create = next(package.glob("api/*/create_dataset.py")).read_text(encoding="utf-8")
    assert "body: DatasetWrite" in create
    dataset = (package / "models" / "dataset.py").read_text(encoding="utf-8")
    # allOf around one $ref: the referenced model itself; nullable (seen null on the peer) adds None
    assert "organization: None | OrganizationReference | Unset" in dataset
    assert (
        "spatial: None | SpatialCoverageRead | Unset" in (package / "models" / "dataset_read.py").read_text()
    )
    coverage = (package / "models" / "spatial_coverage_read.py").read_text(encoding="utf-8")
    assert "granularity: SpatialCoverageReadGranularityType1 | str | Unset" in coverage


def test_generated_packages_type_check(
    generated: tuple[Path, dict[str, GenerationResult]], tmp_path: Path
) -> None:
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--strict",
        "--cache-dir",
        str(tmp_path / "mypy"),
        *PACKAGES.values(),
    ]
    done = subprocess.run(command, cwd=generated[0], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
