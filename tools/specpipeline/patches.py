"""Spec fixes as data: specs/patches/<api>.json, RFC 6902 operations on the converted OAS 3 document.

    {"api": "tabular", "patches": [
        {"op": "add", "path": "/paths/~1health~1/get/...", "value": {...}, "reason": "one line: why"}
    ]}

Ops: add, remove, replace, move, copy, test (RFC 6902 semantics; JSON pointers per RFC 6901). Every
patch carries a non-empty one-line reason: a fix nobody can explain is a fix nobody can remove.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Literal, cast

import attrs

from tools.specpipeline.errors import PatchApplyError, PatchFileError
from tools.specpipeline.layout import RepoLayout, default_layout

__all__ = [
    "OPS",
    "Op",
    "Patch",
    "PatchSet",
    "apply_patches",
    "load_patches",
    "parse_patch_set",
    "parse_pointer",
]

Op = Literal["add", "remove", "replace", "move", "copy", "test"]
OPS: tuple[Op, ...] = ("add", "remove", "replace", "move", "copy", "test")
_NEEDS_VALUE = {"add", "replace", "test"}
_NEEDS_FROM = {"move", "copy"}
_FIELDS = {"op", "path", "value", "from", "reason"}
_ABSENT: Any = object()  # "no value" (None is a valid JSON value)


@attrs.frozen
class Patch:
    op: Op
    path: str
    reason: str
    value: Any = _ABSENT
    from_: str | None = None


@attrs.frozen
class PatchSet:
    api: str
    patches: tuple[Patch, ...] = ()


def load_patches(name: str, layout: RepoLayout | None = None) -> PatchSet:
    """specs/patches/<name>.json; an API without a patch file has no patches."""
    path = (layout or default_layout()).patches_path(name)
    if not path.exists():
        return PatchSet(api=name)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PatchFileError(f"cannot read {path}: {exc}") from exc
    return parse_patch_set(raw, expected_api=name, origin=str(path))


def parse_patch_set(raw: Any, *, expected_api: str | None = None, origin: str = "patches") -> PatchSet:
    if not isinstance(raw, dict) or set(raw) != {"api", "patches"} or not isinstance(raw["patches"], list):
        raise PatchFileError(f'{origin}: expected {{"api": name, "patches": [...]}}')
    api = raw["api"]
    if expected_api is not None and api != expected_api:
        raise PatchFileError(f"{origin}: api is {api!r}, expected {expected_api!r}")
    return PatchSet(
        api=str(api), patches=tuple(_parse_patch(origin, i, p) for i, p in enumerate(raw["patches"]))
    )


def _parse_patch(origin: str, index: int, raw: Any) -> Patch:
    where = f"{origin}: patch #{index}"
    if not isinstance(raw, dict):
        raise PatchFileError(f"{where}: expected an object")
    where = f"{where} ({raw.get('op')} {raw.get('path')})"
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise PatchFileError(f"{where}: unknown fields {unknown}")
    op = raw.get("op")
    if op not in OPS:
        raise PatchFileError(f"{where}: op must be one of {', '.join(OPS)}")
    reason = raw.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise PatchFileError(f"{where}: every patch needs a non-empty 'reason' saying why it exists")
    if "\n" in reason:
        raise PatchFileError(f"{where}: 'reason' must be one line")
    path = raw.get("path")
    if not isinstance(path, str):
        raise PatchFileError(f"{where}: 'path' must be a JSON pointer string")
    parse_pointer(path, where=where)
    if (op in _NEEDS_VALUE) != ("value" in raw):
        raise PatchFileError(
            f"{where}: 'value' is {'required' if op in _NEEDS_VALUE else 'not allowed'} for {op}"
        )
    source = raw.get("from")
    if (op in _NEEDS_FROM) != (source is not None):
        raise PatchFileError(
            f"{where}: 'from' is {'required' if op in _NEEDS_FROM else 'not allowed'} for {op}"
        )
    if source is not None:
        if not isinstance(source, str):
            raise PatchFileError(f"{where}: 'from' must be a JSON pointer string")
        parse_pointer(source, where=where)
    return Patch(
        op=cast(Op, op), path=path, reason=reason.strip(), value=raw.get("value", _ABSENT), from_=source
    )


def parse_pointer(pointer: str, *, where: str = "pointer") -> list[str]:
    """RFC 6901: "" is the whole document, "/a~1b/0" is ["a/b", "0"]."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchFileError(f"{where}: JSON pointer {pointer!r} must be empty or start with '/'")
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")]


def apply_patches(doc: dict[str, Any], patch_set: PatchSet) -> dict[str, Any]:
    """A patched deep copy of `doc` (the input is not modified). Patches apply in order."""
    result: Any = copy.deepcopy(doc)
    for index, patch in enumerate(patch_set.patches):
        try:
            result = _apply_one(result, patch)
        except _PointerProblem as problem:
            raise PatchApplyError(
                f"{patch_set.api} patch #{index} ({patch.op} {patch.path}) does not apply: {problem} "
                f"[reason: {patch.reason}]"
            ) from None
    if not isinstance(result, dict):
        raise PatchApplyError(f"{patch_set.api}: patches turned the document into a {type(result).__name__}")
    return cast(dict[str, Any], result)


class _PointerProblem(Exception):
    pass


def _apply_one(doc: Any, patch: Patch) -> Any:
    tokens = parse_pointer(patch.path)
    if patch.op == "add":
        return _add(doc, tokens, copy.deepcopy(patch.value))
    if patch.op == "remove":
        _remove(doc, tokens)
        return doc
    if patch.op == "replace":
        if not tokens:
            return copy.deepcopy(patch.value)
        _get(doc, tokens)  # replace requires the target to exist
        return _add(doc, tokens, copy.deepcopy(patch.value), replace=True)
    if patch.op == "move":
        source = parse_pointer(cast(str, patch.from_))
        if tokens[: len(source)] == source and tokens != source:
            raise _PointerProblem(f"cannot move {patch.from_} into its own child")
        value = _get(doc, source)
        _remove(doc, source)
        return _add(doc, tokens, value)
    if patch.op == "copy":
        return _add(doc, tokens, copy.deepcopy(_get(doc, parse_pointer(cast(str, patch.from_)))))
    actual = _get(doc, tokens)
    if not _json_equal(actual, patch.value):
        raise _PointerProblem(f"test failed: found {_short(actual)}, expected {_short(patch.value)}")
    return doc


def _get(doc: Any, tokens: list[str]) -> Any:
    node = doc
    for depth, token in enumerate(tokens):
        node = _child(node, token, tokens[: depth + 1])
    return node


def _child(node: Any, token: str, seen: list[str]) -> Any:
    if isinstance(node, dict):
        if token not in node:
            raise _PointerProblem(f"no member {token!r} at {_pointer(seen[:-1])}")
        return node[token]
    if isinstance(node, list):
        return node[_index(node, token, seen, allow_end=False)]
    raise _PointerProblem(f"{_pointer(seen[:-1])} is a {type(node).__name__}, not an object or array")


def _index(node: list[Any], token: str, seen: list[str], *, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(node)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise _PointerProblem(f"{token!r} is not an array index at {_pointer(seen[:-1])}")
    index = int(token)
    if index > len(node) or (index == len(node) and not allow_end):
        raise _PointerProblem(f"index {index} out of range (length {len(node)}) at {_pointer(seen[:-1])}")
    return index


def _add(doc: Any, tokens: list[str], value: Any, *, replace: bool = False) -> Any:
    if not tokens:
        return value
    parent = _get(doc, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        index = _index(parent, last, tokens, allow_end=not replace)
        if replace:
            parent[index] = value
        else:
            parent.insert(index, value)
    else:
        raise _PointerProblem(f"{_pointer(tokens[:-1])} is a {type(parent).__name__}, not an object or array")
    return doc


def _remove(doc: Any, tokens: list[str]) -> Any:
    """Remove the target, which must exist."""
    if not tokens:
        raise _PointerProblem("cannot remove the whole document")
    parent = _get(doc, tokens[:-1])
    last = tokens[-1]
    _child(parent, last, tokens)
    if isinstance(parent, dict):
        del parent[last]
    else:
        del parent[int(last)]
    return doc


def _json_equal(a: Any, b: Any) -> bool:
    """JSON equality: unlike Python's ==, true is not 1 and key order does not matter."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=False))
    return type(a) is type(b) and bool(a == b)


def _pointer(tokens: list[str]) -> str:
    return "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in tokens) or "(document root)"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 120 else text[:119] + "…"
