"""Shared fixtures and the `peer` marker.

The real peers' fixtures live in tests/peers/ and are registered here, with the clients on them, the
discovery fixtures (used by tests/discovery/ and tests/cli/) and the spec pipeline fixtures (used by
tests/specpipeline/ and tests/codegen/).

`peer` is never written by hand: a test is marked when its fixture closure reaches one of
`PEER_FIXTURES` (every fixture the peer plugins tests/peers/*_fixtures.py define, found by reading
them, so a new peer needs no registration; plus two peers defined elsewhere), and `pytest -m "not
peer"` (`make unit`) runs exactly the tests that need no peer server, no PostgreSQL and nothing
under .peers/ (no network either).
"""

from __future__ import annotations

import ast
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = [
    "tests.peers.udata_fixtures",
    "tests.peers.tabular_fixtures",
    "tests.peers.analysis_fixtures",
    "tests.peers.clients",
    "tests.discovery.fixtures",
    "tests.specpipeline.fixtures",
]

ROOT = Path(__file__).resolve().parents[1]
# The offline spec mirror: $DATAGOUV_SPECS_MIRROR (as CI sets it), else shared/specs beside the checkout.
SPECS_MIRROR = Path(os.environ.get("DATAGOUV_SPECS_MIRROR") or ROOT.parent / "shared" / "specs")


def _fixtures_defined_in(path: Path) -> set[str]:
    """Names of the functions decorated with @pytest.fixture(...) in a module, read without importing it."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if ast.unparse(target) == "pytest.fixture":
                    names.add(node.name)
    return names


# The peer plugins' fixtures (udata, the api_tabular stacks, ...), the udata 17.10 venv (drift) and
# npm's swagger2openapi (the converter's oracle, installed from the npm registry into .peers/npm/).
PEER_FIXTURES = frozenset(
    {"udata_17_10_spec", "swagger2openapi"}.union(
        *(_fixtures_defined_in(path) for path in sorted((ROOT / "tests" / "peers").glob("*_fixtures.py")))
    )
)


@pytest.hookimpl(tryfirst=True)  # before the mark plugin deselects by `-m`
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if PEER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.peer)


@pytest.fixture(scope="session")
def specs_mirror() -> Path:
    """The shared offline mirror of the upstream specs (read-only), with its history/ folder."""
    if not (SPECS_MIRROR / "tabular.yaml").is_file() or not (SPECS_MIRROR / "history").is_dir():
        pytest.fail(
            f"offline spec mirror (with history/) not found at {SPECS_MIRROR} (DATAGOUV_SPECS_MIRROR)"
        )
    return SPECS_MIRROR


# Hermetic credentials: `dgv auth login` keys live in the user's config dir, and `Config.from_env`
# falls back to them. The suite (and every process it starts) looks in an empty temp dir instead, so
# a developer's own stored key is never read, sent, or overwritten by a test.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="datagouv-sdk-tests-config-")
os.environ.pop("DATAGOUV_CONFIG_DIR", None)
# Strict in our own tests, lenient for users: every client the suite builds from the environment (and
# every dgv process it starts) raises ResponseValidationError on a body that deviates from the spec,
# so a deviation of our peers fails CI. Tests of the lenient default say strict=False themselves.
os.environ["DATAGOUV_STRICT"] = "1"


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The user's cache folder, for the whole session: chunked uploads keep their resume state there
    (uploads.py), and a test must never leave one in the real ~/.cache."""
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(folder))
        yield folder
