"""The RFC 6902 patch engine and the patch file format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tools.specpipeline.errors import PatchApplyError, PatchFileError
from tools.specpipeline.layout import RepoLayout
from tools.specpipeline.patches import apply_patches, load_patches, parse_patch_set, parse_pointer

DOC: dict[str, Any] = {"paths": {"/a/b": {"get": {"tags": ["x", "y"]}}}, "n": 1, "t~": True}


def run(*patches: dict[str, Any]) -> dict[str, Any]:
    patch_set = parse_patch_set({"api": "t", "patches": [{"reason": "test", **p} for p in patches]})
    return apply_patches(DOC, patch_set)


def test_add_to_object_array_index_and_end() -> None:
    out = run(
        {"op": "add", "path": "/paths/~1a~1b/get/summary", "value": "S"},
        {"op": "add", "path": "/paths/~1a~1b/get/tags/1", "value": "mid"},
        {"op": "add", "path": "/paths/~1a~1b/get/tags/-", "value": "end"},
    )
    assert out["paths"]["/a/b"]["get"] == {"tags": ["x", "mid", "y", "end"], "summary": "S"}
    assert DOC["paths"]["/a/b"]["get"] == {"tags": ["x", "y"]}  # input untouched


def test_remove_and_replace() -> None:
    out = run(
        {"op": "remove", "path": "/paths/~1a~1b/get/tags/0"}, {"op": "replace", "path": "/n", "value": [2]}
    )
    assert out["paths"]["/a/b"]["get"]["tags"] == ["y"]
    assert out["n"] == [2]


def test_replace_requires_an_existing_target() -> None:
    with pytest.raises(PatchApplyError, match="no member 'missing'"):
        run({"op": "replace", "path": "/missing", "value": 1})


def test_move_and_copy() -> None:
    out = run(
        {"op": "copy", "from": "/paths/~1a~1b/get", "path": "/paths/~1a~1b/head"},
        {"op": "move", "from": "/n", "path": "/paths/~1a~1b/get/n"},
    )
    assert out["paths"]["/a/b"]["head"] == {"tags": ["x", "y"]}
    assert out["paths"]["/a/b"]["get"]["n"] == 1 and "n" not in out
    out["paths"]["/a/b"]["head"]["tags"].append("z")  # a copy, not an alias
    assert out["paths"]["/a/b"]["get"]["tags"] == ["x", "y"]


def test_move_into_own_child_is_refused() -> None:
    with pytest.raises(PatchApplyError, match="into its own child"):
        run({"op": "move", "from": "/paths", "path": "/paths/inner"})


def test_test_op_uses_json_equality_and_escaped_pointers() -> None:
    run({"op": "test", "path": "/t~0", "value": True}, {"op": "test", "path": "/n", "value": 1.0})
    with pytest.raises(PatchApplyError, match="test failed: found true, expected 1"):
        run({"op": "test", "path": "/t~0", "value": 1})


def test_failing_pointer_names_index_path_and_reason() -> None:
    patch_set = parse_patch_set(
        {
            "api": "tabular",
            "patches": [
                {"op": "test", "path": "/n", "value": 1, "reason": "fine"},
                {"op": "remove", "path": "/paths/~1gone~1/get", "reason": "the gone endpoint lies"},
            ],
        }
    )
    with pytest.raises(PatchApplyError) as caught:
        apply_patches(DOC, patch_set)
    message = str(caught.value)
    assert "tabular patch #1 (remove /paths/~1gone~1/get)" in message
    assert "no member '/gone/' at /paths" in message
    assert "reason: the gone endpoint lies" in message


def test_array_index_errors() -> None:
    with pytest.raises(PatchApplyError, match="index 5 out of range"):
        run({"op": "add", "path": "/paths/~1a~1b/get/tags/5", "value": 1})
    with pytest.raises(PatchApplyError, match="'01' is not an array index"):
        run({"op": "remove", "path": "/paths/~1a~1b/get/tags/01"})


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"op": "add", "path": "/x", "value": 1}, "needs a non-empty 'reason'"),
        ({"op": "add", "path": "/x", "value": 1, "reason": "  "}, "needs a non-empty 'reason'"),
        ({"op": "add", "path": "/x", "value": 1, "reason": "two\nlines"}, "must be one line"),
        ({"op": "merge", "path": "/x", "reason": "r"}, "op must be one of"),
        ({"op": "add", "path": "/x", "reason": "r"}, "'value' is required"),
        ({"op": "remove", "path": "/x", "value": 1, "reason": "r"}, "'value' is not allowed"),
        ({"op": "move", "path": "/x", "reason": "r"}, "'from' is required"),
        ({"op": "add", "path": "x", "value": 1, "reason": "r"}, "must be empty or start with '/'"),
        ({"op": "add", "path": "/x", "value": 1, "reason": "r", "note": "?"}, "unknown fields"),
    ],
)
def test_malformed_patches_are_rejected(patch: dict[str, Any], message: str) -> None:
    with pytest.raises(PatchFileError, match=message):
        parse_patch_set({"api": "t", "patches": [patch]})


def test_patch_file_api_must_match(layout: RepoLayout) -> None:
    layout.patches_path("metrics").write_text(json.dumps({"api": "tabular", "patches": []}))
    with pytest.raises(PatchFileError, match="api is 'tabular', expected 'metrics'"):
        load_patches("metrics", layout)


def test_missing_patch_file_means_no_patches(tmp_path: Path) -> None:
    assert load_patches("new-api", RepoLayout(tmp_path)).patches == ()


def test_pointer_unescaping() -> None:
    assert parse_pointer("") == []
    assert parse_pointer("/a~1b/~01/") == ["a/b", "~1", ""]


def test_every_committed_patch_file_parses() -> None:
    for name in ("main", "main-v2", "metrics", "tabular"):
        patch_set = load_patches(name)
        assert patch_set.api == name
        assert all(p.reason for p in patch_set.patches)
