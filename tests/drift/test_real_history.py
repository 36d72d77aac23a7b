"""The diff on real upstream history: Metrics/Tabular one release apart, Main 17.10.0 → 17.18.0."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from datagouv_sdk.cli import cli
from datagouv_sdk.drift.changes import ApiDiff
from datagouv_sdk.drift.documents import diff_specs, prepare, read_location

_METHODS = {"get", "put", "post", "delete", "options", "head", "patch"}


def _diff(old: Path, new: Path) -> ApiDiff:
    return diff_specs(
        prepare(read_location(str(old)), origin=str(old)), prepare(read_location(str(new)), origin=str(new))
    )


@pytest.mark.parametrize("api", ["metrics", "tabular"])
def test_health_uptime_change_is_flagged_breaking(specs_mirror: Path, api: str) -> None:
    result = _diff(specs_mirror / "history" / f"{api}-2026-02-03.yaml", specs_mirror / f"{api}.yaml")
    summary = [(c.severity.value, c.kind, c.schema, c.property, c.operations) for c in result.changes]
    assert summary == [
        ("breaking", "response-property-removed", "Health", "uptime_seconds", ("GET /health/",)),
        ("non-breaking", "response-property-added", "Health", "uptime_since", ("GET /health/",)),
    ]
    assert result.schemas_changed == ("Health",)
    assert result.operations_added == result.operations_removed == ()


def test_health_change_through_the_cli_json(specs_mirror: Path) -> None:
    old, new = specs_mirror / "history" / "tabular-2026-02-03.yaml", specs_mirror / "tabular.yaml"
    run = CliRunner().invoke(cli, ["specs", "diff", str(old), str(new), "--json", "--name", "tabular"])
    assert run.exit_code == 0, run.output
    (api,) = json.loads(run.output)["apis"]
    assert (api["api"], api["status"], api["summary"]["breaking"]) == ("tabular", "changed", 1)
    breaking = [c for c in api["changes"] if c["severity"] == "breaking"]
    assert [(c["schema"], c["property"], c["direction"], c["operations"]) for c in breaking] == [
        ("Health", "uptime_seconds", "response", ["GET /health/"])
    ]


def _operations(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, item in doc["paths"].items() for method in item if method in _METHODS}


def test_main_17_10_to_17_18(udata_17_10_spec: Path, specs_mirror: Path) -> None:
    old_raw = json.loads(udata_17_10_spec.read_bytes())
    new_raw = json.loads((specs_mirror / "main.json").read_bytes())
    # Independent count: plain set comparisons over the Swagger 2.0 documents themselves.
    ops_added = _operations(new_raw) - _operations(old_raw)
    ops_removed = _operations(old_raw) - _operations(new_raw)
    old_defs, new_defs = old_raw["definitions"], new_raw["definitions"]
    defs_added = new_defs.keys() - old_defs.keys()
    defs_removed = old_defs.keys() - new_defs.keys()
    defs_changed = {n for n in old_defs.keys() & new_defs.keys() if old_defs[n] != new_defs[n]}
    assert (len(ops_added), len(ops_removed), len(defs_added), len(defs_removed), len(defs_changed)) == (
        16,
        0,
        31,
        5,
        17,
    )

    result = _diff(udata_17_10_spec, specs_mirror / "main.json")
    assert set(result.operations_added) == {f"{m.upper()} {p}" for p, m in ops_added}
    assert result.operations_removed == ()
    # Upstream's names, verbatim (the conversion to OpenAPI 3 sanitises "Dataset (read)").
    assert set(result.schemas_added) == defs_added
    assert (
        set(result.schemas_removed)
        == defs_removed
        == {"Crontab", "HarvestMetadata (read)", "Interval", "Job", "SpatialCoverage"}
    )
    assert set(result.schemas_changed) == defs_changed

    # Our derived expectations for this real pair (reviewed by hand once; see the report of
    # `dgv specs diff` on the two documents).
    assert (len(result.breaking), len(result.non_breaking)) == (9, 78)
    breaking = {(c.kind, c.schema, c.property, c.direction) for c in result.breaking}
    # Dataset.harvest is readOnly: what changed inside it matters to readers only.
    assert ("response-property-removed", "Dataset", "harvest.archived", "response") in breaking
    assert not any(c.schema == "Dataset" and c.direction == "request" for c in result.changes)
    assert ("request-property-added", "User (write)", "mail_cadence", "request") in breaking
    assert ("request-property-added", "Post (write)", "slug", "request") in breaking
    assert ("response-property-removed", "Chart (read)", "image_thumbnail", "response") in breaking
    assert ("response-enum-values-added", "PeriodicTask (read)", "task", "response") in breaking
    body = next(c for c in result.breaking if c.kind == "request-body-added")
    assert (body.method, body.path) == ("PUT", "/workers/jobs/{id}/")
    new_param = next(c for c in result.changes if c.kind == "parameter-added")
    assert (new_param.method, new_param.path, new_param.parameter, new_param.severity.value) == (
        "GET",
        "/notifications/",
        "type",
        "non-breaking",
    )
