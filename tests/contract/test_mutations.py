"""Every response schema of the four generated packages, mutated the ways real servers deviate.

For each documented JSON response (mutations.py): a body built from the schema parses with no
deviation and round-trips; then each property in turn is set to null, removed, given an unknown enum
value, another JSON type or a malformed date/UUID, each object gets an extra property and each body
another type. Leniently nothing raises and `to_dict()` gives the mutated body back exactly (types
included); strictly a mutation the spec forbids raises ResponseValidationError naming exactly its
JSON path, and one the spec allows records nothing. The counts are printed at the end of the run.
"""

from __future__ import annotations

import importlib
import json
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.contract.mutations import Mutation, Target, apply, mutations, targets, valid_body
from tools.specpipeline.pipeline import load_upstream, prepare

PACKAGES = {
    "main": "datagouv_main",
    "main-v2": "datagouv_main_v2",
    "metrics": "datagouv_metrics",
    "tabular": "datagouv_tabular",
}
# What each package's run tried, for the summary line (tests/contract/conftest.py).
COUNTS: dict[str, Counter[str]] = {}


def _same(got: Any, sent: Any) -> bool:
    """JSON equality with types: True is not 1, 7 is not 7.0."""
    if type(got) is not type(sent):
        return False
    if isinstance(sent, dict):
        return got.keys() == sent.keys() and all(_same(got[k], sent[k]) for k in sent)
    if isinstance(sent, list):
        return len(got) == len(sent) and all(_same(a, b) for a, b in zip(got, sent, strict=True))
    return bool(got == sent)


def _as_json(parsed: Any) -> Any:
    if isinstance(parsed, list):
        return [_as_json(item) for item in parsed]
    return parsed.to_dict() if hasattr(parsed, "to_dict") else parsed


def _answer(target: Target, body: Any) -> httpx.Response:
    request = httpx.Request(target.method.upper(), "http://api.test" + target.path)
    content = json.dumps(body).encode()
    return httpx.Response(
        int(target.status), content=content, headers={"content-type": "application/json"}, request=request
    )


def _check(
    target: Target, body: Any, expected: tuple[str | int, ...] | None, clients: tuple[Any, Any]
) -> str | None:
    """None when the parse behaves; otherwise what went wrong."""
    lenient, strict = clients
    module = target.module
    try:
        response = module.build_response(client=lenient, response=_answer(target, body))
    except Exception as exc:  # the point of lenient parsing: nothing may escape
        return f"lenient parse raised {exc!r}"
    if not _same(_as_json(response.parsed), body):
        return f"to_dict() changed the body: {json.dumps(_as_json(response.parsed), default=str)[:300]}"
    paths = [d.path for d in response.deviations]
    if expected is None:
        return (
            None
            if not paths
            else f"recorded deviations the spec allows: {[str(d) for d in response.deviations]}"
        )
    if paths != [expected]:
        return f"deviations at {paths}, expected exactly {[expected]}"
    try:
        module.build_response(client=strict, response=_answer(target, body))
    except module.errors.ResponseValidationError as exc:
        return None if [d.path for d in exc.deviations] == [expected] else f"strict named {exc.path}"
    return "strict parse did not raise"


@pytest.mark.parametrize("name", list(PACKAGES))
def test_every_response_schema_survives_every_mutation(name: str) -> None:
    package = importlib.import_module(PACKAGES[name])
    clients = (
        package.Client(base_url="http://api.test"),
        package.Client(base_url="http://api.test", strict=True),
    )
    doc = prepare(name, load_upstream(name))
    counts: Counter[str] = Counter()
    failures: list[str] = []
    done: set[tuple[tuple[str, str], str]] = set()
    for target in targets(doc, PACKAGES[name]):
        where = f"{target.method.upper()} {target.path} {target.status}"
        built = valid_body(doc, target.schema, where)
        counts["responses"] += 1
        problem = _check(target, built.body, None, clients)
        if problem:
            failures.append(f"{where}, the valid body: {problem}")
            continue
        for mutation in mutations(doc, built):
            if (mutation.site, mutation.kind) in done:
                continue
            done.add((mutation.site, mutation.kind))
            counts["mutations"] += 1
            counts[mutation.kind] += 1
            counts["deviations" if mutation.deviation is not None else "allowed"] += 1
            problem = _check(target, apply(built.body, mutation), mutation.deviation, clients)
            if problem:
                failures.append(_describe(where, mutation, problem))
    counts["schemas"] = len({site[0] for site, _kind in done})  # components and inline objects mutated
    COUNTS[PACKAGES[name]] = counts
    assert not failures, f"{len(failures)} of {counts['mutations']} mutations misparsed:\n" + "\n".join(
        failures[:25]
    )
    assert counts["responses"] > 0 and counts["mutations"] > counts["responses"]


def _describe(where: str, mutation: Mutation, problem: str) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in mutation.path) or "(body)"
    return f"{where} {mutation.kind} at ${path} ({mutation.site[0]}.{mutation.site[1]}): {problem}"
