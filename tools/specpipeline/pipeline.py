"""From a fetched upstream document to the exact OpenAPI 3 document fed to the generator.

prepare(name, doc) = normalise → convert (Swagger 2.0 only) → apply specs/patches/<name>.json
"""

from __future__ import annotations

import json
from typing import Any

from datagouv_sdk.codegen.normalise import normalise

from tools.specpipeline.errors import SpecInvalidError
from tools.specpipeline.layout import RepoLayout, default_layout
from tools.specpipeline.patches import PatchSet, apply_patches, load_patches
from tools.specpipeline.validate import detect_format

__all__ = ["load_upstream", "prepare"]


def prepare(
    name: str,
    doc: dict[str, Any],
    *,
    patches: PatchSet | None = None,
    layout: RepoLayout | None = None,
) -> dict[str, Any]:
    """The OAS 3 document generated from. `patches` defaults to specs/patches/<name>.json. Pure: `doc` is
    not modified; the result is normalised, so its canonical bytes (and hash) are stable."""
    document: dict[str, Any] = normalise(doc)
    found = detect_format(document)
    if found == "swagger-2.0":
        # Imported here: the converter is only needed for Swagger 2.0 sources.
        from datagouv_sdk.codegen.swagger2 import convert

        document = normalise(convert(document))
    elif found is None:
        raise SpecInvalidError(f"{name}: neither Swagger 2.0 nor OpenAPI 3.0; cannot prepare it")
    patch_set = patches if patches is not None else load_patches(name, layout)
    result: dict[str, Any] = normalise(apply_patches(document, patch_set))
    return result


def load_upstream(name: str, layout: RepoLayout | None = None) -> dict[str, Any]:
    """specs/upstream/<name>.json, as written by the fetch step."""
    path = (layout or default_layout()).upstream_path(name)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecInvalidError(
            f"{name}: {path} is missing; fetch it first (`make specs`, offline: DATAGOUV_SPECS_MIRROR=DIR make specs)"
        ) from None
    except (OSError, ValueError) as exc:
        raise SpecInvalidError(f"{name}: cannot read {path}: {exc}") from exc
    if not isinstance(doc, dict):
        raise SpecInvalidError(f"{name}: {path} is not a JSON object")
    return doc
