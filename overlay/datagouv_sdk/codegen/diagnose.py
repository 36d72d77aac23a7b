"""Which operations and schemas of a (repaired) third-party document the pinned generator can turn
into code, found by running its parser in-process, before any file is written.

openapi-python-client drops an endpoint it cannot parse with a warning, and gives up on the whole
document when its schema validation fails. For a third-party API we want the opposite: every
operation that can be generated is, and each one that cannot is named with the reason. So:

1. the document is validated with the generator's own model; each error is located: an operation
   is removed, a component schema becomes "any value", a broken optional part (servers, tags...) is
   dropped; repeated until the document validates;
2. the generator's parser runs (no rendering): endpoints it would skip are removed from the document
   and reported; the responses it would leave untyped are noted;
3. generated names the file system cannot hold (inline model names from long titles) are shortened
   through the generator's `class_overrides`; operations that would get the same module name are
   given distinct operationIds.

Needs the `codegen` extra (openapi-python-client), imported lazily.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from datagouv_sdk.codegen.normalise import HTTP_METHODS
from datagouv_sdk.codegen.repair import Repair

__all__ = ["Diagnosis", "Skipped", "diagnose"]

MAX_MODULE_NAME = 150  # bytes: with ".cpython-311.pyc" a file name stays well under 255 bytes
_MAX_ROUNDS = 8
_WARNING = re.compile(
    r"WARNING parsing (\w+) (.+?) within .*?\.( Endpoint will not be generated\.)?$", re.DOTALL
)


@attrs.frozen
class Skipped:
    """An operation ("GET /path") or schema ("schema Name") left out of the generated client."""

    what: str
    reason: str

    def __str__(self) -> str:
        return f"{self.what}: {self.reason}"


@attrs.frozen
class Diagnosis:
    spec: dict[str, Any] = attrs.field(repr=False)  # without what cannot be generated
    skipped: tuple[Skipped, ...]
    notes: tuple[str, ...]  # generated, but partly: a response left untyped...
    repairs: tuple[Repair, ...]  # names shortened or made distinct
    class_overrides: dict[str, dict[str, str]]
    # (tag module, endpoint module) → "METHOD /path": where each generated operation will live
    modules: dict[tuple[str, str], str]


def diagnose(spec: Mapping[str, Any], config: Mapping[str, Any]) -> Diagnosis:
    """`config`: the generator options the package will be generated with (literal_enums...)."""
    from openapi_python_client.parser.errors import GeneratorError

    work = copy.deepcopy(dict(spec))
    skipped: list[Skipped] = []
    skipped += _validate(work)
    overrides = dict(config.get("content_type_overrides") or {})
    parsed: Any = None
    repairs: list[Repair] = []
    for _round in range(_MAX_ROUNDS):
        parsed = _parse(work, {**config, "content_type_overrides": overrides})
        if isinstance(parsed, GeneratorError):
            raise ValueError(f"{parsed.header}: {parsed.detail}")
        dropped = _drop_unparseable(work, parsed)
        skipped += dropped
        renamed = _distinct_operation_names(work, parsed)
        repairs += renamed
        if not dropped and not renamed:
            break
    notes = _notes(parsed)
    skipped += [Skipped(f"schema {name}", reason) for name, reason in _schema_errors(parsed)]
    class_overrides, shortened = _short_names(parsed)
    repairs += shortened
    modules = {
        (str(endpoint.tags[0]), str(endpoint.name)): f"{endpoint.method.upper()} {document_path(endpoint)}"
        for collection in parsed.endpoint_collections_by_tag.values()
        for endpoint in collection.endpoints
    }
    return Diagnosis(work, tuple(skipped), tuple(notes), tuple(repairs), class_overrides, modules)


def _parse(spec: dict[str, Any], options: Mapping[str, Any]) -> Any:
    from openapi_python_client.config import Config, ConfigFile, MetaType
    from openapi_python_client.parser import GeneratorData

    known = {k: v for k, v in options.items() if k in ConfigFile.model_fields and k != "post_hooks"}
    config = Config.from_sources(
        ConfigFile(**known),
        MetaType.NONE,
        document_source=Path("document.json"),
        file_encoding="utf-8",
        overwrite=True,
        output_path=None,
    )
    return GeneratorData.from_dict(spec, config=config)


def _raw(value: Any) -> str:
    getter = getattr(value, "get_untrusted_value", None)
    return str(getter()) if callable(getter) else str(value)


def document_path(endpoint: Any) -> str:
    """The endpoint's path as the document writes it (the generator renames its placeholders)."""
    path = _raw(endpoint.path)
    for param in endpoint.path_parameters:
        path = path.replace("{" + str(param.python_name) + "}", "{" + _raw(param.name) + "}")
    return path


# -- 1. schema validation ---------------------------------------------------------------------------


def _validate(spec: dict[str, Any]) -> list[Skipped]:
    from openapi_python_client.schema import OpenAPI
    from pydantic import ValidationError

    skipped: list[Skipped] = []
    for _round in range(_MAX_ROUNDS):
        try:
            OpenAPI.model_validate(spec)
        except ValidationError as exc:
            changed = False
            for error in exc.errors():
                outcome = _remove_invalid(spec, tuple(error["loc"]), str(error["msg"]))
                if outcome is not None:
                    changed = True
                    skipped.append(outcome)
            if not changed:
                locations = "; ".join(f"{_loc(e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
                raise ValueError(f"the document does not validate: {locations}") from exc
        else:
            return skipped
    raise ValueError("the document still does not validate after removing its invalid parts")


def _loc(loc: tuple[Any, ...]) -> str:
    return "/".join(str(p) for p in loc)


def _remove_invalid(spec: dict[str, Any], loc: tuple[Any, ...], message: str) -> Skipped | None:
    """Remove the smallest unit holding an invalid value; None when that was already done."""
    where = _loc(loc)
    if loc[:1] == ("paths",) and len(loc) >= 2:
        item = spec.get("paths", {}).get(loc[1])
        if not isinstance(item, dict):
            return None
        if len(loc) >= 3 and loc[2] in HTTP_METHODS:
            if item.pop(loc[2], None) is None:
                return None
            return Skipped(f"{str(loc[2]).upper()} {loc[1]}", f"invalid in the document ({where}: {message})")
        del spec["paths"][loc[1]]  # a path-level defect spoils every operation of the path
        return Skipped(f"path {loc[1]}", f"invalid in the document ({where}: {message})")
    if loc[:2] == ("components", "schemas") and len(loc) >= 3:
        schemas = spec["components"]["schemas"]
        if schemas.get(loc[2]) == {"description": "(invalid in the document)"}:
            return None
        schemas[loc[2]] = {"description": "(invalid in the document)"}
        return Skipped(f"schema {loc[2]}", f"typed 'any value': invalid in the document ({where}: {message})")
    if loc[:1] == ("components",) and len(loc) >= 3:
        section = spec["components"].get(loc[1])
        if isinstance(section, dict) and section.pop(loc[2], None) is not None:
            from datagouv_sdk.codegen.repair import _unresolvable_refs  # what pointed at it is dropped

            _unresolvable_refs(spec)
            return Skipped(f"components/{loc[1]}/{loc[2]}", f"invalid in the document ({where}: {message})")
        return None
    if loc and loc[0] in ("servers", "tags", "externalDocs", "security", "webhooks", "jsonSchemaDialect"):
        if spec.pop(loc[0], None) is None:
            return None
        # not needed by the generated code (the base URL is chosen apart)
        return Skipped(str(loc[0]), f"dropped: invalid in the document ({where}: {message})")
    return None


# -- 2. what the generator's parser drops -------------------------------------------------------------


def _drop_unparseable(spec: dict[str, Any], parsed: Any) -> list[Skipped]:
    generated = {
        (endpoint.method.lower(), document_path(endpoint))
        for collection in parsed.endpoint_collections_by_tag.values()
        for endpoint in collection.endpoints
    }
    reasons: dict[tuple[str, str], str] = {}
    for collection in parsed.endpoint_collections_by_tag.values():
        for error in collection.parse_errors:
            match = _WARNING.match(str(error.header or ""))
            if match and match.group(3):
                reasons[(match.group(1).lower(), match.group(2))] = _detail(error)
    skipped: list[Skipped] = []
    for path, item in list((spec.get("paths") or {}).items()):
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            if isinstance(item.get(method), dict) and (method, path) not in generated:
                del item[method]
                reason = reasons.get((method, path), "the generator could not parse it")
                skipped.append(Skipped(f"{method.upper()} {path}", reason))
        if not any(m in item for m in HTTP_METHODS):
            del spec["paths"][path]
    return skipped


_OBJECT_REPR = re.compile(r"\s*<[\w.]+ object at 0x[0-9a-f]+>")
_REMOVAL = re.compile(r"\s*Failure to process schema has resulted in the removal of:.*$", re.DOTALL)


def _detail(error: Any) -> str:
    """The generator's message on one line, without the object reprs some of them embed."""
    text = " ".join(str(error.detail or "").split()) or " ".join(str(error.header or "").split())
    return _REMOVAL.sub("", _OBJECT_REPR.sub("", text)).strip()


def _notes(parsed: Any) -> list[str]:
    notes: list[str] = []
    for collection in parsed.endpoint_collections_by_tag.values():
        for error in collection.parse_errors:
            match = _WARNING.match(str(error.header or ""))
            if match and not match.group(3):
                notes.append(f"{match.group(1).upper()} {match.group(2)}: {_detail(error)}")
    return sorted(set(notes))


def _schema_errors(parsed: Any) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for error in parsed.errors:
        header = " ".join(str(error.header or "").split())
        match = re.search(r"Unable to process schema (\S+?):?$", header)
        name = match.group(1).rsplit("/", 1)[-1] if match else "?"
        found.append((name, _detail(error) or header))
    return found


def _distinct_operation_names(spec: dict[str, Any], parsed: Any) -> list[Repair]:
    """Two operations the generator names alike would share one module (the second overwrites the
    first): the later ones get an operationId of their own."""
    seen: set[tuple[str, str]] = set()
    repairs: list[Repair] = []
    for collection in parsed.endpoint_collections_by_tag.values():
        for endpoint in collection.endpoints:
            key = (str(endpoint.tags[0]), str(endpoint.name))
            if key not in seen:
                seen.add(key)
                continue
            path = document_path(endpoint)
            op = spec["paths"][path][endpoint.method.lower()]
            new = f"{endpoint.name}_{endpoint.method.lower()}_{_short_hash(path)}"
            op["operationId"] = new
            repairs.append(
                Repair(
                    "colliding-operation-names",
                    f"/paths/{path}/{endpoint.method.lower()}/operationId",
                    f"operationId {new!r} (another operation has the name {endpoint.name!r})",
                )
            )
    return repairs


# -- 3. names the file system can hold ---------------------------------------------------------------


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _short_names(parsed: Any) -> tuple[dict[str, dict[str, str]], list[Repair]]:
    overrides: dict[str, dict[str, str]] = {}
    repairs: list[Repair] = []
    for prop in [*parsed.models, *parsed.enums]:
        info = prop.class_info
        if len(str(info.module_name).encode()) <= MAX_MODULE_NAME:
            continue
        name = str(info.name)
        short = re.sub(r"[^A-Za-z0-9]", "", name)[:40] + _short_hash(name).upper()
        overrides[name] = {"class_name": short, "module_name": _snake(short)}
        repairs.append(Repair("long-names", f"model {name}", f"generated as {short}"))
    return overrides, repairs


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", name).lower()
