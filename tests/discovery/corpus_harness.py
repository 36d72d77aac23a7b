"""Every stage of dataservice discovery on every document of the corpus (tests/discovery/corpus/):
fetch it from a local server, check and list its operations, generate a client package, import that
package in a subprocess, and send one call per kind of operation, through `Discovery.call` and
through the generated client, to a local stub that records the request line, checked against
request_oracle (the request the document describes).

    .venv/bin/python -m tests.discovery.corpus_harness [NAME-SUBSTRING ...] [--no-generate] [--json FILE]

prints one line per document and the per-stage counts. tests/discovery/test_corpus.py runs it too.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import attrs

from tests.discovery import request_oracle as oracle
from tests.discovery import servers
from tests.discovery.servers import Handler, RecordingServer

CORPUS = Path(__file__).resolve().parent / "corpus"
IMPORT_TIMEOUT = 180.0
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
CALL_HEADER = "x-harness-call"
CATALOG_BASE = "https://api.gouv.fr/corpus"  # what a catalog entry's base_api_url would be
PUBLISHED_AT = "https://docs.api.gouv.fr/corpus"  # where the documents are taken to be published


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.suffix in (".json", ".yaml"))


@attrs.define
class CallCheck:
    operation: str
    kind: str
    via: str  # "discovery" or "client"
    problems: list[str] = attrs.field(factory=list)
    error: str | None = None  # the call could not be made (arguments refused, exception...)

    @property
    def right(self) -> bool:
        return self.error is None and not self.problems


@attrs.define
class DocumentReport:
    name: str
    version: str = ""
    fetched: bool = False
    operations: int | None = None
    base_url: str | None = None
    base_url_source: str | None = None
    base_url_public: bool | None = None
    base_url_rejected: list[str] = attrs.field(factory=list)  # servers set aside, and why
    generated: bool | None = None
    generated_operations: int | None = None
    skipped: list[str] = attrs.field(factory=list)
    repairs: list[str] = attrs.field(factory=list)
    notes: list[str] = attrs.field(factory=list)
    generate_seconds: float | None = None
    imported: bool | None = None
    calls: list[CallCheck] = attrs.field(factory=list)
    errors: dict[str, str] = attrs.field(factory=dict)


# -- local servers ---------------------------------------------------------------------------------


@contextmanager
def local_servers() -> Iterator[tuple[RecordingServer, RecordingServer]]:
    """(documents on 127.0.0.1 under /docs/, the recording stub API on 127.0.0.2)."""
    with ExitStack() as stack:
        docs = stack.enter_context(servers.running("127.0.0.1"))
        stub = stack.enter_context(servers.running("127.0.0.2"))
        for path in corpus_files():
            content_type = "application/json" if path.suffix == ".json" else "application/yaml"
            data = path.read_bytes()
            docs.routes[f"/docs/{path.name}"] = (
                lambda h, data=data, ct=content_type: h.send_bytes(data, ct)  # type: ignore[misc]
            )
        stub.routes["/*"] = _stub_answer
        yield docs, stub


def _stub_answer(h: Handler) -> None:
    if h.command == "HEAD":
        h.send_response(200)
        h.end_headers()
        return
    h.send_json({})


# -- sample arguments --------------------------------------------------------------------------------

_STRING = "a b,c/é"  # a space, a delimiter, a reserved character and a non-ASCII one: all must be encoded
_HEADER_STRING = "hv-1"


def resolve(spec: Mapping[str, Any], value: Any, hops: int = 0) -> Any:
    while isinstance(value, Mapping) and isinstance(value.get("$ref"), str) and hops < 32:
        ref = value["$ref"]
        if not ref.startswith("#/"):
            return {}
        target: Any = spec
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or part not in target:
                return {}
            target = target[part]
        value, hops = target, hops + 1
    return value


def _type(schema: Mapping[str, Any]) -> str | None:
    declared = schema.get("type")
    if isinstance(declared, list):
        declared = next((t for t in declared if t != "null"), None)
    if declared is None and "properties" in schema:
        return "object"
    if declared is None and "items" in schema:
        return "array"
    return declared if isinstance(declared, str) else None


def sample(spec: Mapping[str, Any], raw: Any, location: str, second: bool = False, depth: int = 0) -> Any:
    schema = resolve(spec, raw)
    if not isinstance(schema, Mapping) or depth > 6:
        return None if location == "body" else "x"
    for key in ("oneOf", "anyOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            options = [resolve(spec, s) for s in schema[key]]
            chosen = next((s for s in options if _type(s) not in (None, "null")), options[0])
            return sample(spec, chosen, location, second, depth + 1)
    if isinstance(schema.get("allOf"), list):
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        for part in schema["allOf"]:
            part = resolve(spec, part)
            if isinstance(part, Mapping):
                if _type(part) not in (None, "object"):
                    return sample(spec, part, location, second, depth + 1)
                merged["properties"].update(part.get("properties") or {})
                merged["required"] += list(part.get("required") or [])
        schema = {**{k: v for k, v in schema.items() if k != "allOf"}, **merged}
    if "const" in schema:
        return schema["const"]
    enum = [v for v in schema.get("enum") or () if v is not None]
    if enum:
        return enum[1] if second and len(enum) > 1 else enum[0]
    kind = _type(schema)
    fmt = schema.get("format")
    if kind == "integer":
        low = schema.get("minimum")
        base = int(low) if isinstance(low, (int, float)) and low > 3 else 3
        return base + (1 if second else 0)
    if kind == "number":
        return 2.5 if second else 1.5
    if kind == "boolean":
        return not second
    if kind == "array":
        items = schema.get("items")
        return [
            sample(spec, items, location, False, depth + 1),
            sample(spec, items, location, True, depth + 1),
        ]
    if kind == "object" or (kind is None and location == "body"):
        props = schema.get("properties") or {}
        if not isinstance(props, Mapping) or not props:
            return {"k": "v"} if location != "body" else {}
        required = [r for r in schema.get("required") or () if r in props]
        out: dict[str, Any] = {}
        for name in required:
            out[name] = sample(spec, props[name], location, False, depth + 1)
        if location != "body":  # a parameter object: its primitive members, for the styles
            out = {k: v for k, v in out.items() if not isinstance(v, (dict, list))}
            for name, sub in props.items():
                if len(out) >= 3:
                    break
                value = sample(spec, sub, location, False, depth + 1)
                if not isinstance(value, (dict, list)) and value is not None:
                    out.setdefault(name, value)
        return out
    if fmt == "date":
        return "2024-01-3" + ("0" if second else "1")
    if fmt == "date-time":
        return "2024-01-31T12:00:0" + ("1" if second else "0") + "Z"
    if fmt == "uuid":
        return "123e4567-e89b-12d3-a456-42661417400" + ("1" if second else "0")
    if fmt in ("binary", "byte"):
        return "bytes"
    if location == "header":
        return _HEADER_STRING + ("b" if second else "")
    return _STRING + ("2" if second else "")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# -- operations and their kinds -------------------------------------------------------------------


@attrs.frozen
class PlannedCall:
    method: str
    path: str
    name: str  # what Discovery.call is given
    kind: str
    args: tuple[tuple[oracle.Param, Any], ...]
    json_body: Any = None
    body_required: bool = False
    defaults: tuple[str, ...] = ()  # query pairs of optional parameters' schema defaults


def raw_parameters(spec: Mapping[str, Any], path: str, method: str) -> list[dict[str, Any]]:
    item = resolve(spec, spec["paths"][path])
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*(item.get("parameters") or []), *(item[method].get("parameters") or [])]:
        param = resolve(spec, raw)
        if isinstance(param, Mapping) and isinstance(param.get("name"), str) and param.get("in"):
            merged[(param["name"], param["in"])] = dict(param)
    return list(merged.values())


def plan_calls(spec: Mapping[str, Any]) -> list[PlannedCall]:
    """One call per kind of operation: (method, path params, array/object params, header/cookie
    params, request body) — the first operation of each kind, in document order."""
    plans: list[PlannedCall] = []
    seen: set[str] = set()
    for path, raw_item in (spec.get("paths") or {}).items():
        item = resolve(spec, raw_item)
        if not isinstance(item, Mapping):
            continue
        for method in _METHODS:
            op = item.get(method)
            if not isinstance(op, Mapping):
                continue
            args: list[tuple[oracle.Param, Any]] = []
            defaults: list[str] = []
            names: set[str] = set()
            shapes: set[str] = set()
            for raw in raw_parameters(spec, path, method):
                location, name = raw["in"], raw["name"]
                if location not in ("path", "query", "header", "cookie") or name in names:
                    continue
                if location == "header" and name.lower() in ("accept", "content-type", "authorization"):
                    continue
                schema = raw.get("schema")
                if schema is None and isinstance(raw.get("content"), Mapping) and raw["content"]:
                    schema = next(iter(raw["content"].values())).get("schema")
                resolved = resolve(spec, schema) if schema is not None else {}
                kind = _type(resolved) if isinstance(resolved, Mapping) else None
                structured = kind in ("array", "object")
                if not (raw.get("required") or location == "path" or structured):
                    if location == "query" and isinstance(resolved, Mapping) and "default" in resolved:
                        default = resolved["default"]
                        for form in [default, float(default)] if _is_number(default) else [default]:
                            if default is not None:
                                defaults += oracle.query_pairs(oracle.Param.from_spec(raw), form)
                    continue
                value = sample(spec, schema or {"type": "string"}, location)
                if value is None or (structured and not value):
                    continue
                names.add(name)
                param = oracle.Param.from_spec(raw)
                args.append((param, value))
                if structured:
                    shapes.add(f"{location}:{kind}:{param.style}:{'x' if param.explode else '-'}")
                else:
                    shapes.add(location)
            body = resolve(spec, op.get("requestBody"))
            json_body, body_kind, required = None, "", False
            if isinstance(body, Mapping) and isinstance(body.get("content"), Mapping) and body["content"]:
                required = bool(body.get("required"))
                content = body["content"]
                json_type = next((t for t in content if "json" in str(t).lower()), None)
                if json_type is not None:
                    media = resolve(spec, content[json_type])
                    json_body = sample(spec, (media or {}).get("schema") or {}, "body")
                    body_kind = "json"
                else:
                    body_kind = "other:" + str(next(iter(content)))
            if body_kind.startswith("other") and required:
                continue  # a form or file body: the harness does not build those
            kind = ",".join([method, *sorted(shapes), body_kind])
            if kind in seen:
                continue
            seen.add(kind)
            name = op.get("operationId") if isinstance(op.get("operationId"), str) else None
            plans.append(
                PlannedCall(
                    method,
                    path,
                    name or f"{method.upper()} {path}",
                    kind,
                    tuple(args),
                    json_body if body_kind == "json" else None,
                    required,
                    tuple(defaults),
                )
            )
    return plans


# -- generated clients, in a subprocess ------------------------------------------------------------

_CLIENT_SCRIPT = r"""
import datetime, importlib, inspect, json, pkgutil, re, sys, typing, uuid
job = json.loads(sys.stdin.read())
pkg = importlib.import_module(job["package"])
modules = {}
for info in pkgutil.walk_packages(pkg.__path__, job["package"] + "."):
    modules[info.name] = importlib.import_module(info.name)
client_mod = importlib.import_module(job["package"] + ".client")
results = {"imported": len(modules), "calls": {}}
def norm(s): return re.sub(r"[^a-z0-9]", "", s.lower())
def options(hint):
    if typing.get_origin(hint) in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return [o for a in typing.get_args(hint) for o in options(a)]
    return [hint]
def convert(value, hint):
    kinds = options(hint)
    text = str(hint)
    if isinstance(value, str):
        if "datetime.datetime" in text: return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if "datetime.date" in text: return datetime.date.fromisoformat(value)
        if "UUID" in text: return uuid.UUID(value)
        if "File" in text and not any(k is str for k in kinds):
            return pkg.types.File(payload=__import__("io").BytesIO(value.encode()), file_name="f.txt")
    if isinstance(value, list):
        lists = [a for a in kinds if typing.get_origin(a) is list and typing.get_args(a)]
        inner = typing.get_args(lists[0])[0] if lists else None
        return [convert(v, inner) for v in value] if inner is not None else value
    if isinstance(value, dict):  # a JSON body's class first, when the body has several media types
        for cls in sorted(kinds, key=lambda k: "JsonBody" not in getattr(k, "__name__", "")):
            if hasattr(cls, "from_dict"):
                return cls.from_dict(value)
    return value
for call in job["calls"]:
    try:
        mod = modules[call["module"]]
        fn = mod.sync_detailed
        hints = typing.get_type_hints(fn)
        kwargs = {}
        for pname, param in inspect.signature(fn).parameters.items():
            if pname == "client":
                continue
            if pname == "body":
                if call["body"] is not None:
                    kwargs["body"] = convert(call["body"], hints.get("body"))
                continue
            for arg in call["args"]:
                if norm(pname) in (norm(arg["name"]), norm(arg["name"] + arg["in"])):
                    kwargs[pname] = convert(arg["value"], hints.get(pname))
                    break
        client = client_mod.Client(base_url=job["base_url"], headers={job["header"]: call["id"]}, timeout=10.0)
        fn(client=client, **kwargs)
        results["calls"][call["id"]] = None
    except Exception as exc:  # building the request, or reading the stub's `{}` answer: the harness
        # tells them apart by whether the request reached the stub
        results["calls"][call["id"]] = f"{type(exc).__name__}: {exc}"[:300]
print(json.dumps(results))
"""

_KWARGS_METHOD = re.compile(r'"method":\s*"(\w+)"')
# upstream's templates: `"url": "/path"`; ours: `"url": _parameters.request_target("/path", ...`
_KWARGS_URL = re.compile(r'"url":\s*(?:_parameters\.request_target\(\s*)?"([^"]*)"')


def endpoint_modules(package_dir: Path, package: str) -> dict[tuple[str, str], str]:
    """(method, path) → module name, read from each endpoint module's `request_kwargs`."""
    found: dict[tuple[str, str], str] = {}
    for path in sorted((package_dir / "api").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        method, url = _KWARGS_METHOD.search(source), _KWARGS_URL.search(source)
        if method and url:
            module = ".".join([package, *path.relative_to(package_dir).with_suffix("").parts])
            found[(method.group(1).lower(), url.group(1))] = module
    return found


def run_client_calls(
    folder: Path, package: str, base_url: str, calls: list[dict[str, Any]]
) -> tuple[bool, str | None, dict[str, str | None]]:
    """Import every module of the package, then make `calls`; (imported, error, per-call errors)."""
    job = {"package": package, "base_url": base_url, "header": CALL_HEADER, "calls": calls}
    env = {**os.environ, "PYTHONPATH": str(folder)}
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CLIENT_SCRIPT],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            timeout=IMPORT_TIMEOUT,
            env=env,
            cwd=folder,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False, f"import took longer than {IMPORT_TIMEOUT:.0f} s", {}
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return False, " | ".join(lines[-3:]), {}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return True, None, result["calls"]


# -- the run -----------------------------------------------------------------------------------------


def package_name(path: Path) -> str:
    return "corpus_" + re.sub(r"[^a-z0-9]+", "_", path.stem.lower()).strip("_")


def check_document(
    path: Path,
    docs: RecordingServer,
    stub: RecordingServer,
    workdir: Path,
    *,
    generate: bool = True,
) -> DocumentReport:
    from datagouv_sdk.discovery import Discovery, FetchLimits, choose_base_url

    report = DocumentReport(path.name)
    slug = package_name(path)
    stub_base = stub.url(f"/{slug}")
    # The documents are on a loopback server: allowed explicitly. The calls go to the stub because
    # we ask for it (base_url=), as a user would.
    with Discovery(fetch_limits=FetchLimits(deadline=30), allow_private_hosts=True) as disco:
        try:
            api = disco.api_at(docs.url(f"/docs/{path.name}"), base_api_url=CATALOG_BASE)
        except Exception as exc:
            report.errors["fetch"] = f"{type(exc).__name__}: {exc}"[:300]
            return report
        report.fetched = True
        report.version = api.document.version
        report.operations = len(api.operations)
        # The base URL as chosen for the document where it is published (a public host; here it is
        # served from loopback, against which relative servers would resolve).
        published = choose_base_url(
            api.document.original,
            api.document.spec,
            document_url=f"{PUBLISHED_AT}/{path.name}",
            base_api_url=CATALOG_BASE,
        )
        report.base_url, report.base_url_source = published.url, published.source
        report.base_url_public = published.public
        report.base_url_rejected = [f"{url}: {why}" for url, why in published.rejected]
        try:
            stubbed = disco.api_at(docs.url(f"/docs/{path.name}"), base_url=stub_base)
        except Exception as exc:
            report.errors["base_url"] = f"{type(exc).__name__}: {exc}"[:300]
            return report
        spec = stubbed.document.spec
        plans = plan_calls(spec)
        for i, plan in enumerate(plans):
            check = CallCheck(plan.name, plan.kind, "discovery")
            report.calls.append(check)
            call_id = f"{slug}-d{i}"
            params = {p.name: value for p, value in plan.args}
            before = len(stub.requests)
            try:
                disco.call(stubbed, plan.name, params, body=plan.json_body, headers={CALL_HEADER: call_id})
            except Exception as exc:
                check.error = f"{type(exc).__name__}: {exc}"[:300]
                continue
            check.problems = _compare(plan, stub, call_id, slug, before)
        if not generate:
            return report
        _generate_and_call(report, stubbed, plans, path, stub, workdir, slug)
    return report


_NOT_SENT = "no request reached the stub"


def _compare(
    plan: PlannedCall, stub: RecordingServer, call_id: str, slug: str, before: int, *, defaults: bool = False
) -> list[str]:
    with stub.lock:
        received = [r for r in stub.requests[before:] if r.headers.get(CALL_HEADER) == call_id]
    if not received:
        return [_NOT_SENT]
    expected = oracle.expected_request(
        plan.method, f"/{slug}", plan.path, list(plan.args), json_body=plan.json_body
    )
    # generated clients send the schema's `default` of optional query parameters: the same meaning
    allowed = plan.defaults if defaults else ()
    return oracle.differences(expected, received[-1], allowed_extra_query=allowed)


def _generate_and_call(
    report: DocumentReport,
    api: Any,
    plans: list[PlannedCall],
    path: Path,
    stub: RecordingServer,
    workdir: Path,
    slug: str,
) -> None:
    from datagouv_sdk.discovery.generation import generate_package

    started = time.perf_counter()
    try:
        outcome: Any = generate_package(api.document, workdir, package=slug, base_url=api.base_url.url)
    except Exception as exc:
        report.generate_seconds = time.perf_counter() - started
        report.generated = False
        report.errors["generate"] = f"{type(exc).__name__}: {exc}"[:600]
        report.skipped = [str(s) for s in getattr(exc, "skipped", ())]
        return
    report.generate_seconds = time.perf_counter() - started
    report.generated = True
    folder = outcome if isinstance(outcome, Path) else outcome.path
    report.skipped = [str(s) for s in getattr(outcome, "skipped", ())]
    report.repairs = [str(r) for r in getattr(outcome, "repairs", ())]
    report.notes = list(getattr(outcome, "notes", ()))
    modules = endpoint_modules(folder, slug)
    report.generated_operations = len(modules)
    calls: list[dict[str, Any]] = []
    checks: dict[str, tuple[PlannedCall, CallCheck]] = {}
    for i, plan in enumerate(plans):
        module = modules.get((plan.method, plan.path))
        if module is None:
            continue  # skipped by generation (reported there)
        call_id = f"{slug}-c{i}"
        check = CallCheck(plan.name, plan.kind, "client")
        report.calls.append(check)
        checks[call_id] = (plan, check)
        calls.append(
            {
                "id": call_id,
                "module": module,
                "args": [{"name": p.name, "in": p.location, "value": v} for p, v in plan.args],
                "body": plan.json_body,
            }
        )
    before = len(stub.requests)
    imported, error, outcomes = run_client_calls(folder.parent, slug, stub.url(f"/{slug}"), calls)
    report.imported = imported
    if not imported:
        report.errors["import"] = error or "?"
        for _plan, check in checks.values():
            check.error = "package does not import"
        return
    for call_id, (plan, check) in checks.items():
        failure = outcomes.get(call_id)
        problems = _compare(plan, stub, call_id, slug, before, defaults=True)
        if failure and problems == [_NOT_SENT]:
            check.error = failure  # the request was never sent
        else:
            check.problems = problems  # an error reading the stub's empty answer is not this check's subject


def run(
    names: list[str] | None = None, *, generate: bool = True, workdir: Path | None = None
) -> list[DocumentReport]:
    files = [p for p in corpus_files() if not names or any(n in p.name for n in names)]
    reports: list[DocumentReport] = []
    with ExitStack() as stack:
        docs, stub = stack.enter_context(local_servers())
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="corpus-")))
        for path in files:
            try:
                reports.append(check_document(path, docs, stub, workdir, generate=generate))
            except Exception:
                report = DocumentReport(path.name)
                report.errors["harness"] = traceback.format_exc(limit=3)[-600:]
                reports.append(report)
    return reports


def summary(reports: list[DocumentReport]) -> dict[str, Any]:
    calls = [c for r in reports for c in r.calls]
    generatable = [r for r in reports if r.generated is not None]
    return {
        "documents": len(reports),
        "fetched": sum(r.fetched for r in reports),
        "listed": sum(r.operations is not None for r in reports),
        "operations": sum(r.operations or 0 for r in reports),
        "generated": sum(bool(r.generated) for r in generatable),
        "generated_operations": sum(r.generated_operations or 0 for r in reports),
        "skipped_operations": sum(len(r.skipped) for r in reports),
        "imported": sum(bool(r.imported) for r in reports),
        "calls": len(calls),
        "calls_discovery": sum(c.via == "discovery" for c in calls),
        "calls_client": sum(c.via == "client" for c in calls),
        "calls_right": sum(c.right for c in calls),
        "calls_wrong": sum(c.error is None and bool(c.problems) for c in calls),
        "calls_failed": sum(c.error is not None for c in calls),
        "base_url_sources": dict(Counter(r.base_url_source for r in reports if r.base_url_source)),
        "servers_set_aside": sum(len(r.base_url_rejected) for r in reports),
        "documents_with_servers_set_aside": sum(bool(r.base_url_rejected) for r in reports),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="only the documents whose file name contains one of these")
    parser.add_argument("--no-generate", action="store_true")
    parser.add_argument("--json", type=Path, help="write the full report here")
    parser.add_argument("--keep", type=Path, help="generate into this folder (kept)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every wrong or failed call")
    args = parser.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    reports = run(args.names or None, generate=not args.no_generate, workdir=args.keep)
    for r in reports:
        calls = [c for c in r.calls]
        right = sum(c.right for c in calls)
        gen = "-" if r.generated is None else ("gen" if r.generated else "NOGEN")
        imp = "-" if r.imported is None else ("imp" if r.imported else "NOIMP")
        secs = f"{r.generate_seconds:.1f}s" if r.generate_seconds is not None else ""
        print(
            f"{r.name:58} {r.version:6} ops={r.operations!s:4} {gen:5} {secs:6} {imp:5} "
            f"skipped={len(r.skipped):<3} calls={right}/{len(calls)} base={r.base_url_source}"
        )
        for stage, error in r.errors.items():
            print(f"    {stage}: {error.splitlines()[0] if error else ''}"[:400])
        if args.verbose:
            for c in calls:
                if not c.right:
                    print(f"    {c.via} {c.operation} [{c.kind}]: {c.error or '; '.join(c.problems)}"[:400])
    print(json.dumps(summary(reports), indent=1))
    if args.json:
        args.json.write_text(json.dumps([attrs.asdict(r) for r in reports], indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
