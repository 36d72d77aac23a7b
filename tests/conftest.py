"""Shared fixtures. The real peers' fixtures live in tests/peers/ and are registered here, with the
clients on them, the discovery fixtures (used by tests/discovery/ and tests/cli/) and the spec
pipeline fixtures (used by tests/specpipeline/ and tests/codegen/)."""

import os
import tempfile

pytest_plugins = [
    "tests.peers.udata_fixtures",
    "tests.peers.tabular_fixtures",
    "tests.peers.clients",
    "tests.discovery.fixtures",
    "tests.specpipeline.fixtures",
]

# Hermetic credentials: `dgv auth login` keys live in the user's config dir, and `Config.from_env`
# falls back to them. The suite (and every process it starts) looks in an empty temp dir instead, so
# a developer's own stored key is never read, sent, or overwritten by a test.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="datagouv-sdk-tests-config-")
os.environ.pop("DATAGOUV_CONFIG_DIR", None)
