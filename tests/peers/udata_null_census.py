"""Null census of the real udata: which declared properties the server actually returns as null.

    .venv/bin/python -m tests.peers.udata_null_census [--output PATH]

Starts the seeded udata peer, calls every GET operation of the Main API specs (Swagger 2.0,
/work/shared/specs/main.json and main-v2.json, or DATAGOUV_SPECS_MIRROR) whose path parameters it
can fill from the seed, and walks each JSON 200 body along the operation's 200 response schema
($ref, allOf, arrays, additionalProperties, nested objects). Every (definition, property) whose
value was observed null is recorded under the Swagger 2.0 definition name; a property of an inline
object is recorded as "Definition.path.to.object". Writes tests/peers/udata/null-census.json.

Nullability patches must come from this file (what the real server returns), not from guesses.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx

from tests.peers.udata_fixtures import UdataPeer, start_udata_peer

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(__file__).resolve().parent / "udata" / "null-census.json"
UDATA_VERSION = "17.18.0"
SPEC_FILES = {"/api/1": "main.json", "/api/2": "main-v2.json"}
# Several values per parameter where the seed has variety (org-owned vs user-owned, with or
# without optional fields): more shapes of the same object, more chances to see a null.
MAX_VARIANTS = 3


def _specs_dir() -> Path:
    mirror = os.environ.get("DATAGOUV_SPECS_MIRROR")
    return Path(mirror) if mirror else ROOT.parent / "shared" / "specs"


def _path_values(seed: dict[str, Any]) -> dict[str, list[str]]:
    """Candidate values per path parameter name; `{id}` depends on the path (see _fill)."""
    resources = seed["resources"]
    first_dataset = seed["datasets"][0]
    return {
        "dataset": [seed["org_datasets"][0], seed["owner_datasets"][0], seed["private_dataset"]],
        "rid": resources[first_dataset],
        "community": seed["community_resources"],
        "dataservice": seed["dataservices"],
        "org": seed["organizations"],
        "reuse": seed["reuses"],
        "post": seed["posts"],
        "user": [seed["users"]["owner"], seed["users"]["other"]],
        "contact_point": seed["contact_points"],
        "source": seed["harvest_sources"],
        "job": seed["harvest_jobs"],
        "report": seed["reports"],
        "visualization": seed["visualizations"],
        "topic": seed["topics"],
        "level": seed["spatial"]["levels"],
        "ids": seed["spatial"]["zones"],
        "identifier": [seed["users"]["owner"]],
        "size": ["40"],
        "_format": ["json", "xml", "ttl"],
    }


# `{id}` means a different kind of object on each path.
ID_BY_PATH = {
    "/api/1/dataservices/{id}/followers/": "dataservices",
    "/api/1/datasets/{id}/followers/": "datasets",
    "/api/1/organizations/{id}/followers/": "organizations",
    "/api/1/reuses/{id}/followers/": "reuses",
    "/api/1/users/{id}/followers/": "users",
    "/api/1/discussions/{id}/": "discussions",
    "/api/1/transfer/{id}/": "transfers",
    "/api/1/spatial/zone/{id}/": "zones",
    "/api/1/spatial/zone/{id}/datasets/": "zones",
    "/api/1/datasets/r/{id}": "resource_ids",
    "/api/1/workers/jobs/{id}/": "jobs",
    "/api/1/workers/tasks/{id}/": "task_ids",
}
# Optional query parameters without which an operation answers 400.
EXTRA_QUERY = {"/api/1/transfer/": lambda seed: {"subject": seed["transfer_subjects"][0]}}
# A `q` that matches something seeded, per suggest endpoint (default "peer").
SUGGEST_Q = {
    "/api/1/datasets/suggest/": "qualit",
    "/api/1/datasets/suggest/formats/": "c",
    "/api/1/datasets/suggest/mime/": "text",
    "/api/1/organizations/{org}/contacts/suggest/": "contact",
    "/api/1/spatial/zones/suggest/": "rennes",
    "/api/1/users/suggest/": "olivia",
}


def _id_values(seed: dict[str, Any], kind: str) -> list[str]:
    if kind == "users":
        return [seed["users"]["owner"], seed["users"]["other"]]
    if kind == "zones":
        return list(seed["spatial"]["zones"])
    if kind == "task_ids":
        # Celery reports any unknown task id as PENDING: the Task shape without a broker.
        return ["00000000-0000-4000-8000-000000000000"]
    if kind == "resource_ids":
        return [rid for rids in seed["resources"].values() for rid in rids][:1]
    return list(seed[kind])


def _query_for(operation: dict[str, Any], path_item: dict[str, Any], seed: dict[str, Any]) -> dict[str, Any]:
    """Values for required query parameters (the suggest endpoints' `q`, notifications' `scope`)."""
    query: dict[str, Any] = {}
    for param in operation.get("parameters", []) + path_item.get("parameters", []):
        if param.get("in") != "query" or not param.get("required"):
            continue
        if param["name"] == "q":
            query["q"] = "peer"  # the suggest endpoints override it (SUGGEST_Q)
        elif param["name"] == "scope":
            query["scope"] = f"Dataset:{seed['datasets'][0]}"
        else:
            raise KeyError(param["name"])
    return query


def _fill(full_path: str, seed: dict[str, Any], values: dict[str, list[str]]) -> list[str] | str:
    """Concrete URLs for a path template, or the reason it cannot be filled."""
    names = re.findall(r"{([^}]+)}", full_path)
    choices: list[list[str]] = []
    for name in names:
        if name == "id":
            kind = ID_BY_PATH.get(full_path)
            if kind is None:
                return "no seeded object for {id} on this path"
            options = _id_values(seed, kind)
        else:
            options = values.get(name, [])
        if not options:
            return f"no seeded value for {{{name}}}"
        choices.append(options[:MAX_VARIANTS])
    urls = []
    for combo in itertools.islice(itertools.product(*choices), MAX_VARIANTS):
        url = full_path
        for name, value in zip(names, combo, strict=False):
            url = url.replace("{" + name + "}", value, 1)
        urls.append(url)
    return urls


def _ref_name(ref: str) -> str:
    """'#/definitions/Dataset%20%28read%29' -> 'Dataset (read)' (refs are URL-encoded JSON pointers)."""
    return unquote(ref.split("/")[-1]).replace("~1", "/").replace("~0", "~")


class Census:
    """Walks JSON values along Swagger 2.0 schemas, collecting (definition, property) nulls."""

    def __init__(self, definitions: dict[str, Any]) -> None:
        self.definitions = definitions
        self.nulls: dict[str, set[str]] = defaultdict(set)
        self.undeclared_nulls: dict[str, set[str]] = defaultdict(set)
        self.missing_required: dict[str, set[str]] = defaultdict(set)
        self.seen: set[tuple[str, str]] = set()

    def walk(self, value: Any, schema: dict[str, Any], owner: str, depth: int = 0) -> None:
        if value is None or depth > 40:
            return
        ref = schema.get("$ref")
        if ref:
            name = _ref_name(ref)
            self.walk(value, self.definitions[name], name, depth + 1)
            return
        if isinstance(value, list):
            items = schema.get("items")
            if isinstance(items, dict):
                for item in value:
                    self.walk(item, items, owner, depth + 1)
            return
        if not isinstance(value, dict):
            return
        declared: dict[str, tuple[str, dict[str, Any]]] = {}
        self._collect_properties(schema, owner, declared, depth)
        required: dict[str, str] = {}
        self._collect_required(schema, owner, required, depth)
        for key, where in required.items():
            if key not in value:
                self.missing_required[where].add(key)
        for key, item in value.items():
            if key in declared:
                where, prop_schema = declared[key]
                self.seen.add((where, key))
                if item is None:
                    self.nulls[where].add(key)
                else:
                    inline = "properties" in prop_schema and "$ref" not in prop_schema
                    self.walk(item, prop_schema, f"{where}.{key}" if inline else where, depth + 1)
            elif isinstance(schema.get("additionalProperties"), dict):
                if item is not None:
                    self.walk(item, schema["additionalProperties"], owner, depth + 1)
            elif item is None and declared:
                self.undeclared_nulls[owner].add(key)

    def _collect_properties(
        self, schema: dict[str, Any], owner: str, out: dict[str, tuple[str, dict[str, Any]]], depth: int
    ) -> None:
        """Properties of a schema and of its allOf parts, each with the definition declaring it."""
        if depth > 40:
            return
        ref = schema.get("$ref")
        if ref:
            name = _ref_name(ref)
            self._collect_properties(self.definitions[name], name, out, depth + 1)
            return
        for key, prop in (schema.get("properties") or {}).items():
            out.setdefault(key, (owner, prop))
        for part in schema.get("allOf") or []:
            self._collect_properties(part, owner, out, depth + 1)

    def _collect_required(self, schema: dict[str, Any], owner: str, out: dict[str, str], depth: int) -> None:
        """Required property names of a schema and of its allOf parts -> the declaring definition."""
        if depth > 40:
            return
        ref = schema.get("$ref")
        if ref:
            name = _ref_name(ref)
            self._collect_required(self.definitions[name], name, out, depth + 1)
            return
        for key in schema.get("required") or []:
            out.setdefault(key, owner)
        for part in schema.get("allOf") or []:
            self._collect_required(part, owner, out, depth + 1)

    def not_marked_nullable(self) -> dict[str, list[str]]:
        """Observed-null properties whose spec does not already say x-nullable."""
        result: dict[str, list[str]] = {}
        for where, props in self.nulls.items():
            definition = self.definitions.get(where)
            if definition is None:
                result[where] = sorted(props)  # inline object: no flag to read
                continue
            declared: dict[str, tuple[str, dict[str, Any]]] = {}
            self._collect_properties(definition, where, declared, 0)
            missing = sorted(p for p in props if not declared.get(p, ("", {}))[1].get("x-nullable"))
            if missing:
                result[where] = missing
        return result


def run(peer: UdataPeer) -> dict[str, Any]:
    values = _path_values(peer.seed)
    called: list[dict[str, Any]] = []
    not_called: list[dict[str, str]] = []
    censuses: dict[str, Census] = {}
    client = httpx.Client(timeout=60, cookies=None)
    # Factories emit no activity: one edit through the API gives /activity/ something to list.
    edited = client.put(
        f"{peer.base_url}/api/1/datasets/{peer.seed['owner_datasets'][0]}/",
        json={"title": "Edited by the null census"},
        headers={"X-API-KEY": peer.api_key},
    )
    edited.raise_for_status()
    for base_path, filename in SPEC_FILES.items():
        spec = json.loads((_specs_dir() / filename).read_text())
        assert spec.get("basePath") == base_path, (filename, spec.get("basePath"))
        census = censuses.setdefault(filename, Census(spec.get("definitions", {})))
        for path, path_item in sorted(spec["paths"].items()):
            operation = path_item.get("get")
            if operation is None:
                continue
            full_path = base_path + path
            urls = _fill(full_path, peer.seed, values)
            if isinstance(urls, str):
                not_called.append({"path": full_path, "reason": urls})
                continue
            schema = operation.get("responses", {}).get("200", {}).get("schema")
            query = _query_for(operation, path_item, peer.seed)
            if full_path in EXTRA_QUERY:
                query.update(EXTRA_QUERY[full_path](peer.seed))
            if "q" in query and full_path in SUGGEST_Q:
                query["q"] = SUGGEST_Q[full_path]
            statuses = []
            for url in urls:
                response = None
                for key in (peer.api_key, peer.admin_api_key):
                    client.cookies.clear()  # udata answers API-key calls with a session cookie
                    response = client.get(
                        peer.base_url + url, params=query or None, headers={"X-API-KEY": key}
                    )
                    if response.status_code not in (401, 403):
                        break
                assert response is not None
                statuses.append(response.status_code)
                is_json = response.headers.get("content-type", "").startswith("application/json")
                if response.status_code == 200 and is_json and schema:
                    census.walk(response.json(), schema, "<response>")
            called.append(
                {
                    "path": full_path,
                    "operationId": operation.get("operationId", ""),
                    "statuses": statuses,
                    "schema": bool(schema),
                }
            )

    def as_lists(table: dict[str, Any]) -> dict[str, list[str]]:
        return {where: sorted(props) for where, props in sorted(table.items())}

    union: dict[str, set[str]] = defaultdict(set)
    by_spec: dict[str, Any] = {}
    for filename, census in censuses.items():
        for where, props in census.nulls.items():
            union[where] |= props
        by_spec[filename] = {
            "null_properties": as_lists(census.nulls),
            "null_properties_not_marked_x_nullable": census.not_marked_nullable(),
            # Keys the server sent as null that the definition does not declare at all.
            "undeclared_properties_seen_null": as_lists(census.undeclared_nulls),
            # Properties the definition marks required that a 200 body did not carry at all.
            "required_properties_seen_missing": as_lists(census.missing_required),
        }
    return {
        "udata": UDATA_VERSION,
        "operations_called": len(called),
        "operations_mapped": sum(1 for c in called if c["schema"] and 200 in c["statuses"]),
        # Union over main.json (v1) and main-v2.json: a name shared by both specs is one udata model.
        "null_properties": as_lists(union),
        "by_spec": by_spec,
        "operations": called,
        "not_called": not_called,
    }


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Null census of the real udata's GET responses.")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    started = time.monotonic()
    with start_udata_peer() as peer:
        result = run(peer)
    _write_atomically(args.output, json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    pairs = sum(len(v) for v in result["null_properties"].values())
    failing = [c for c in result["operations"] if 200 not in c["statuses"]]
    print(
        f"{result['operations_called']} GET operations called ({result['operations_mapped']} mapped "
        f"to a 200 schema), {len(result['not_called'])} not callable, {len(failing)} without a 200; "
        f"{pairs} null properties in {len(result['null_properties'])} definitions; "
        f"{time.monotonic() - started:.1f} s -> {args.output}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
