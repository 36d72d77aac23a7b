"""Validation of upstream documents with openapi-spec-validator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datagouv_sdk.codegen.errors import SpecInvalidError
from datagouv_sdk.drift.documents import parse_document

from tools.specpipeline.validate import detect_format, validate_document


def _tabular(specs_mirror: Path) -> dict[str, object]:
    return parse_document((specs_mirror / "tabular.yaml").read_bytes(), origin="tabular.yaml")


def test_tabular_yaml_with_integer_status_codes_is_valid(specs_mirror: Path) -> None:
    doc = _tabular(specs_mirror)
    assert validate_document(doc, "openapi-3.0", name="tabular") == []


def test_structural_error_is_fatal_and_names_the_place(specs_mirror: Path) -> None:
    doc = _tabular(specs_mirror)
    del doc["paths"]["/health/"]["get"]["responses"]  # type: ignore[index]
    with pytest.raises(
        SpecInvalidError,
        match=r"(?s)tabular: invalid openapi-3.0 document.*/paths//health//get: .responses. is a required",
    ):
        validate_document(doc, "openapi-3.0", name="tabular")


def test_wrong_format_is_fatal(specs_mirror: Path) -> None:
    with pytest.raises(SpecInvalidError, match=r"expected a swagger-2.0 document, got '3.0.3'"):
        validate_document(_tabular(specs_mirror), "swagger-2.0", name="tabular")
    assert detect_format({"swagger": "2.0"}) == "swagger-2.0"
    assert detect_format({"openapi": "3.1.0"}) is None


def test_udata_defaults_that_break_their_own_schema_are_findings_not_errors(specs_mirror: Path) -> None:
    doc = json.loads((specs_mirror / "main-v2.json").read_text())
    findings = validate_document(doc, "swagger-2.0", name="main-v2")
    assert findings and all("default rejected by its own schema" in f for f in findings)
    assert any("'other'" in f and "granularity" in f for f in findings)


@pytest.mark.parametrize("paths", [7, "nope", [1, 2]])
def test_malformed_document_is_invalid_not_a_crash(paths: object) -> None:
    # openapi-spec-validator raises KeyError/TypeError on some of these instead of reporting them.
    doc = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": paths}
    with pytest.raises(SpecInvalidError, match=r"invalid openapi-3.0 document"):
        validate_document(doc, "openapi-3.0", name="t")
