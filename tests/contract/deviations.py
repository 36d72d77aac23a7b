"""Deviations of the real udata from the patched spec: the known list, and a census.

`known_deviations.json` lists the deviations the contract tests accept (each with its reason): what
the spec cannot say, or what we chose not to patch. Everything else a strict client reports fails.

The census calls every covered GET operation on a peer (default or randomised seed) with lenient
generated clients and writes what deviates, grouped by (schema, property, expected, received type),
with example paths: the evidence behind the nullability patches of specs/patches/main*.json.

    .venv/bin/python -m tests.contract.deviations [--seed random:20261130] [--output PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import datagouv_main
import datagouv_main_v2
import httpx

from tests.contract.main_operations import GetOperation, call_arguments, discover, load_uncovered
from tests.peers.udata_fixtures import UdataPeer, start_udata_peer

KNOWN_FILE = Path(__file__).resolve().parent / "known_deviations.json"
CENSUS_DIR = Path(__file__).resolve().parent / "deviation_census"
# The randomised seed the contract tests run on beside the default one (tests/peers/udata/seed_random.py).
RANDOM_SEED = "random:20261130"
FULL_OBJECTS = {"X-Get-Datasets-Full-Objects": "true"}
TIMEOUT = httpx.Timeout(60)


def load_known() -> dict[tuple[str, str, str], str]:
    """(schema, property, expected) -> reason."""
    entries = json.loads(KNOWN_FILE.read_text(encoding="utf-8"))["deviations"]
    return {(e["schema"], e["property"], e["expected"]): e["reason"] for e in entries}


def key(deviation: Any) -> tuple[str, str, str]:
    return (deviation.schema, deviation.property_name, deviation.expected)


def unknown(deviations: Iterable[Any], known: dict[tuple[str, str, str], str]) -> list[Any]:
    return [d for d in deviations if key(d) not in known]


def received_type(deviation: Any) -> str:
    return "missing" if deviation.missing else type(deviation.received).__name__


def client(peer: UdataPeer, package: str, api_key: str | None, *, strict: bool) -> Any:
    """A fresh generated client (own cookie jar: udata logs an API-key caller into a session)."""
    module = datagouv_main if package == "datagouv_main" else datagouv_main_v2
    base_url = peer.api_v1 if package == "datagouv_main" else peer.api_v2
    if api_key is None:
        return module.Client(base_url=base_url, timeout=TIMEOUT, strict=strict)
    return module.AuthenticatedClient(
        base_url=base_url,
        token=api_key,
        prefix="",
        auth_header_name="X-API-KEY",
        timeout=TIMEOUT,
        strict=strict,
    )


def responses(
    peer: UdataPeer, operation: GetOperation, headers: dict[str, str] | None = None
) -> Iterator[tuple[str, Any]]:
    """(where, lenient Response) for each seeded argument variant; admin-only reads retried as admin."""
    owner = client(peer, operation.package, peer.api_key, strict=False).with_headers(headers or {})
    admin = client(peer, operation.package, peer.admin_api_key, strict=False).with_headers(headers or {})
    for args, kwargs in call_arguments(operation, peer.seed):
        response = operation.sync_detailed(*args, client=owner, **kwargs)
        if response.status_code in (401, 403):
            response = operation.sync_detailed(*args, client=admin, **kwargs)
        yield f"GET {operation.path} {args} {kwargs}", response


def census(peer: UdataPeer) -> dict[str, Any]:
    operations = discover()
    uncovered = load_uncovered()
    found: dict[tuple[str, str, str, str], set[str]] = defaultdict(set)
    for name, operation in operations.items():
        if name in uncovered:
            continue
        for headers in ({}, FULL_OBJECTS):
            for _where, response in responses(peer, operation, headers):
                for deviation in response.deviations:
                    group = (*key(deviation), received_type(deviation))
                    found[group].add(f"GET {operation.path} {deviation.json_path}")
    return {
        "udata": "17.18.0",
        "seed": peer.seed.get("seed_name", "default"),
        "deviations": [
            {
                "schema": schema,
                "property": prop,
                "expected": expected,
                "received": received,
                "seen": len(paths),
                # a few per API version: the same udata model often shows in /api/1 and /api/2
                "examples": [p for p in sorted(paths) if "/api/1/" in p][:2]
                + [p for p in sorted(paths) if "/api/2/" in p][:2],
            }
            for (schema, prop, expected, received), paths in sorted(found.items())
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", default=RANDOM_SEED, help="'default' or 'random:<number>'")
    parser.add_argument("--output", type=Path, help="default: deviation_census/<seed>.json")
    args = parser.parse_args(argv)
    output = args.output or CENSUS_DIR / f"{args.seed.replace(':', '-')}.json"
    with start_udata_peer(seed=args.seed) as peer:
        result = census(peer)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(result['deviations'])} deviation kinds on seed {args.seed} -> {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
