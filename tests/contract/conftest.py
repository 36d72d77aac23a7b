"""The randomised udata peer, and the Main API GET contract coverage printed at the end of a run that
included test_main_contract.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.contract.deviations import RANDOM_SEED
from tests.peers.udata_fixtures import UdataPeer, UdataPeerError, start_udata_peer

MAIN_GET_TEST = "test_main_contract.py::test_get_operation["


@pytest.fixture(scope="session")
def udata_peer_random() -> Iterator[UdataPeer]:
    """A second udata 17.18.0, seeded at random with a fixed seed (tests/peers/udata/seed_random.py)."""
    try:
        with start_udata_peer(seed=RANDOM_SEED) as peer:
            yield peer
    except UdataPeerError as exc:
        pytest.fail(str(exc), pytrace=False)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    _mutation_summary(terminalreporter)
    _coverage_summary(terminalreporter)


def _mutation_summary(terminalreporter: Any) -> None:
    from tests.contract.test_mutations import COUNTS  # filled by the run, if it ran

    for package, counts in sorted(COUNTS.items()):
        kinds = ", ".join(
            f"{kind} {counts[kind]}" for kind in sorted(counts) if "-" in kind or kind in ("null", "removed")
        )
        terminalreporter.write_line(
            f"Mutations of {package}: {counts['mutations']} over {counts['schemas']} schemas in "
            f"{counts['responses']} documented JSON responses "
            f"({counts['deviations']} deviations, {counts['allowed']} allowed by the spec; {kinds})"
        )


def _coverage_summary(terminalreporter: Any) -> None:
    ran: dict[str, bool] = {}
    for outcome in ("passed", "failed", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if MAIN_GET_TEST in nodeid and getattr(report, "when", "call") == "call":
                ran[nodeid] = outcome == "passed"
    if not ran:
        return
    # Imported here: walking the generated packages is only worth it when the contract tests ran.
    from tests.contract.main_operations import discover, load_uncovered

    total = len(discover())
    covered = total - len(load_uncovered())
    passed = sum(ran.values())
    terminalreporter.write_line(
        f"Main GET contract coverage: {covered}/{total} ({100 * covered / total:.1f} %) operations covered, "
        f"{passed}/{len(ran)} passing in this run"
    )
