"""Shared fixtures. The real peers' fixtures live in tests/peers/ and are registered here, with the
clients on them, the discovery fixtures (used by tests/discovery/ and tests/cli/) and the spec
pipeline fixtures (used by tests/specpipeline/ and tests/codegen/)."""

pytest_plugins = [
    "tests.peers.udata_fixtures",
    "tests.peers.tabular_fixtures",
    "tests.peers.analysis_fixtures",
    "tests.peers.clients",
    "tests.discovery.fixtures",
    "tests.specpipeline.fixtures",
]
