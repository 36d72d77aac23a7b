"""Differential test: our converter against npm's swagger2openapi 7.0.8 on the real Main API documents.

swagger2openapi is installed (once, bounded in time) into .peers/npm/ (gitignored) when absent. The test
is skipped, saying why, only when `node` or `npm` is not installed at all.

Differences we keep on purpose (normalised away before comparing, each with its reason):
- component names: swagger2openapi turns `Dataset (read)` into `Dataset_read_`; we strip the trailing
  `_` (`Dataset_read`, see datagouv_sdk.codegen.swagger2) for readable generated class/module names;
- request bodies shared by several operations: swagger2openapi hoists them into
  components/requestBodies; we inline them, so every patch pointer names the operation it changes;
- query arrays: we write `style: form` explicitly next to `explode`; swagger2openapi leaves the default.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from datagouv_sdk.codegen.swagger2 import component_names, convert

from tests.codegen.test_swagger2 import METHODS, upstream_document
from tools.specpipeline.layout import default_layout

PACKAGE = "swagger2openapi@7.0.8"
INSTALL_TIMEOUT = 240.0
RUN_TIMEOUT = 120.0
# OpenAPI 3 defaults, applied to both sides before comparing parameters.
DEFAULT_STYLE = {"query": "form", "path": "simple", "header": "simple", "cookie": "form"}


def _s2o_name(name: str) -> str:
    """swagger2openapi's own sanitiser (lib/common.js `sanitise`)."""
    return re.sub(r"[^A-Za-z0-9_\-.]+|\s+", "_", name)


@pytest.fixture(scope="session")
def swagger2openapi() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip(f"differential test needs node and npm to run {PACKAGE}: node={node}, npm={npm}")
    cache = default_layout().root / ".peers" / "npm" / PACKAGE.replace("@", "-")
    script = cache / "node_modules" / "swagger2openapi" / "swagger2openapi.js"
    if not script.exists():
        staging = cache.with_name(cache.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--no-save", "--prefix", str(staging), PACKAGE],
                check=True,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            output = getattr(exc, "stderr", "") or ""
            pytest.fail(f"could not install {PACKAGE} into {staging}: {exc}\n{output[-2000:]}")
        shutil.rmtree(cache, ignore_errors=True)
        os.replace(staging, cache)  # atomic: a half-installed cache is never used
    return script


def run_swagger2openapi(script: Path, source: dict[str, Any], work: Path) -> dict[str, Any]:
    src, out = work / "swagger.json", work / "openapi.json"
    src.write_text(json.dumps(source), encoding="utf-8")
    done = subprocess.run(
        ["node", str(script), str(src), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"swagger2openapi failed: {done.stderr[-2000:]}"
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


def renamed(node: Any, names: dict[str, str]) -> Any:
    """swagger2openapi's output with our component names (`Dataset_read_` → `Dataset_read`)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/schemas/"):
                name = value.rsplit("/", 1)[1]
                out[key] = "#/components/schemas/" + names.get(name, name)
            else:
                out[key] = renamed(value, names)
        return out
    if isinstance(node, list):
        return [renamed(v, names) for v in node]
    return node


def deref(doc: dict[str, Any], node: Any) -> Any:
    """Follow $ref chains for parameters, request bodies and responses (not schemas)."""
    while isinstance(node, dict) and "$ref" in node and not node["$ref"].startswith("#/components/schemas/"):
        target: Any = doc
        for token in node["$ref"][2:].split("/"):
            target = target[token]
        node = target
    return node


def effective_parameters(doc: dict[str, Any], item: dict[str, Any], op: dict[str, Any]) -> dict[Any, Any]:
    params: dict[tuple[str, str], Any] = {}
    for raw in [*item.get("parameters", []), *op.get("parameters", [])]:
        param = dict(deref(doc, raw))
        where = param["in"]
        if param.get("schema", {}).get("type") == "array":
            param.setdefault("style", DEFAULT_STYLE[where])
            param.setdefault("explode", param["style"] == "form")
        params[(param["name"], where)] = param
    return params


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, item, op


def shape(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Per operation: what a client generator sees, with references to non-schema components resolved."""
    result = {}
    for path, method, item, op in operations(doc):
        body = deref(doc, op.get("requestBody"))
        result[(path, method)] = {
            "operationId": op.get("operationId"),
            "parameters": effective_parameters(doc, item, op),
            "body_types": sorted((body or {}).get("content", {})),
            "body": body,
            "responses": {code: deref(doc, r) for code, r in op["responses"].items()},
        }
    return result


@pytest.mark.parametrize("name", ["main", "main-v2"])
def test_matches_swagger2openapi(name: str, swagger2openapi: Path, tmp_path: Path) -> None:
    source = upstream_document(name)
    ours = convert(source)
    ours_names = component_names(source["definitions"])
    theirs_names = {_s2o_name(original): ours_names[original] for original in source["definitions"]}
    theirs = renamed(run_swagger2openapi(swagger2openapi, source, tmp_path), theirs_names)

    assert ours["servers"] == theirs["servers"]
    assert ours["components"]["securitySchemes"] == theirs["components"]["securitySchemes"]

    # Components: same names (modulo the rule), same schemas, property for property.
    theirs_schemas = {theirs_names.get(k, k): v for k, v in theirs["components"]["schemas"].items()}
    assert set(ours["components"]["schemas"]) == set(theirs_schemas)
    for schema_name, schema in ours["components"]["schemas"].items():
        other = theirs_schemas[schema_name]
        assert set(schema.get("properties", {})) == set(other.get("properties", {})), schema_name
        assert schema == other, schema_name

    # Operations: same set, same ids, parameters (name, location, schema, style), bodies, responses.
    ours_ops, theirs_ops = shape(ours), shape(theirs)
    assert set(ours_ops) == set(theirs_ops)
    assert len(ours_ops) == {"main": 247, "main-v2": 36}[name]
    for key, op in ours_ops.items():
        other = theirs_ops[key]
        assert op["operationId"] == other["operationId"], key
        assert set(op["parameters"]) == set(other["parameters"]), key
        assert op["parameters"] == other["parameters"], key
        assert op["body_types"] == other["body_types"], key
        assert op["body"] == other["body"], key
        assert set(op["responses"]) == set(other["responses"]), key
        assert op["responses"] == other["responses"], key
