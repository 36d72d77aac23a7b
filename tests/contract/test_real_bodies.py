"""Real production bodies of data.gouv.fr, from public repositories (real_bodies/PROVENANCE.json says
where each came from: repository, path, commit, licence). Bodies we did not write.

Each goes through the generated endpoint's `build_response`, as an answer from the server would:
leniently it never fails and `to_dict()` gives the body back exactly (dates in their own text);
strictly it raises only for deviations known_deviations.json lists (none today: what these bodies
showed is patched, with the body as evidence).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.contract.deviations import load_known, unknown

HERE = Path(__file__).resolve().parent / "real_bodies"
MANIFEST = json.loads((HERE / "PROVENANCE.json").read_text(encoding="utf-8"))["bodies"]
KNOWN = load_known()


def _body(entry: dict[str, Any]) -> Any:
    return json.loads((HERE / entry["file"]).read_text(encoding="utf-8"))


def _answer(entry: dict[str, Any]) -> httpx.Response:
    request = httpx.Request("GET", "https://www.data.gouv.fr" + entry["request"])
    return httpx.Response(200, json=_body(entry), request=request)


def _operation(entry: dict[str, Any]) -> Any:
    return importlib.import_module(entry["operation"])


def _client(entry: dict[str, Any], *, strict: bool) -> Any:
    package = importlib.import_module(entry["operation"].split(".", 1)[0])
    return package.Client(base_url="https://www.data.gouv.fr", strict=strict)


def _as_json(parsed: Any) -> Any:
    if isinstance(parsed, list):
        return [_as_json(item) for item in parsed]
    return parsed.to_dict() if hasattr(parsed, "to_dict") else parsed


def test_every_body_has_its_provenance() -> None:
    files = {p.name for p in HERE.glob("*.json")} - {"PROVENANCE.json"}
    assert files == {entry["file"] for entry in MANIFEST}
    for entry in MANIFEST:
        assert entry["repository"] and entry["path"] and len(entry["commit"]) == 40, entry
        assert entry["licence"] and entry["operation"] and entry["request"], entry


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_real_body_round_trips_leniently(entry: dict[str, Any]) -> None:
    response = _operation(entry).build_response(client=_client(entry, strict=False), response=_answer(entry))
    assert response.parsed is not None
    assert _as_json(response.parsed) == _body(entry)


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_real_body_parses_strictly(entry: dict[str, Any]) -> None:
    """Strict raises exactly when the lenient parse records deviations, with the same ones; each must be
    known (today none is: what these bodies showed is patched)."""
    operation = _operation(entry)
    lenient = operation.build_response(client=_client(entry, strict=False), response=_answer(entry))
    if not lenient.deviations:
        operation.build_response(client=_client(entry, strict=True), response=_answer(entry))
        return
    with pytest.raises(operation.errors.ResponseValidationError) as caught:
        operation.build_response(client=_client(entry, strict=True), response=_answer(entry))
    assert caught.value.deviations == lenient.deviations
    new = unknown(lenient.deviations, KNOWN)
    assert not new, f"{entry['file']}: " + "; ".join(str(d) for d in new)
