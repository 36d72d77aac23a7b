"""Shared fixtures. The real peers' fixtures live in tests/peers/ and are registered here."""

pytest_plugins = [
    "tests.peers.udata_fixtures",
    "tests.peers.tabular_fixtures",
    "tests.peers.analysis_fixtures",
]
