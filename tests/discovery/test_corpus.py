"""Every stage of discovery on each of the 57 real documents of tests/discovery/corpus/ (see its
PROVENANCE.md): fetched from a local server and checked, operations listed, a client generated and
imported (every module, in a subprocess), and one call per kind of operation sent both through
`Discovery.call` and through the generated client to a local stub, whose request line, headers and
body must be the ones the document describes (request_oracle). `python -m
tests.discovery.corpus_harness` prints the same as a table, with the per-stage counts."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.discovery import corpus_harness as harness
from tests.discovery.servers import RecordingServer

FILES = harness.corpus_files()
BIG = "apientreprise--entreprise-v3.yaml"


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[RecordingServer, RecordingServer]]:
    with harness.local_servers() as pair:
        yield pair


def test_the_corpus_is_what_its_provenance_says() -> None:
    rows = re.findall(
        r"^\| (\S+) \| (\S+) \| (\S+) \| ([0-9a-f]{40}) \| [^|]+ \| (\d+) \| ([0-9a-f]{64}) \|$",
        (harness.CORPUS / "PROVENANCE.md").read_text(encoding="utf-8"),
        re.MULTILINE,
    )
    assert sorted(r[0] for r in rows) == [p.name for p in FILES]
    assert len(FILES) >= 50
    for name, _repo, _path, _commit, size, sha in rows:
        data = (harness.CORPUS / name).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (int(size), sha), name


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_stage(path: Path, servers: tuple[RecordingServer, RecordingServer], tmp_path: Path) -> None:
    docs, stub = servers
    report = harness.check_document(path, docs, stub, tmp_path)
    assert report.errors == {}
    assert report.fetched and report.operations
    # generation: what is skipped is said, with why; never a package that does not import
    assert report.generated and report.imported
    assert all(": " in item for item in report.skipped)
    assert (report.generated_operations or 0) + len(report.skipped) >= report.operations
    # the base URL: never a placeholder, loopback or private host while a public one is known
    assert report.base_url_public
    # calls: one per kind of operation, through Discovery.call and through the generated client
    assert {c.via for c in report.calls} == {"discovery", "client"}
    wrong = [
        f"{c.via} {c.operation} [{c.kind}]: {c.error or '; '.join(c.problems)}"
        for c in report.calls
        if not c.right
    ]
    assert wrong == []
    if path.name == BIG:  # ~2 MB, 52 operations: well under 10 s here
        assert report.generate_seconds is not None and report.generate_seconds < 10
