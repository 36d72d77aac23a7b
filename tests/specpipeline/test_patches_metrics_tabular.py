"""Each Metrics and Tabular patch has its intended effect on the document fed to the generator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from datagouv_sdk.drift.documents import parse_document

from tools.specpipeline.patches import PatchSet
from tools.specpipeline.pipeline import prepare


@pytest.fixture(scope="module")
def metrics(specs_mirror: Path) -> dict[str, Any]:
    return prepare("metrics", parse_document((specs_mirror / "metrics.yaml").read_bytes(), origin="metrics"))


@pytest.fixture(scope="module")
def tabular(specs_mirror: Path) -> dict[str, Any]:
    return prepare("tabular", parse_document((specs_mirror / "tabular.yaml").read_bytes(), origin="tabular"))


def _json_schema(operation: dict[str, Any], status: str = "200") -> dict[str, Any]:
    schema: dict[str, Any] = operation["responses"][status]["content"]["application/json"]["schema"]
    return schema


def _check_page_envelope(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    page = schemas["DataPage"]
    assert page["required"] == ["data", "links", "meta"]
    assert page["properties"]["data"]["items"]["type"] == "object"
    links = schemas["PageLinks"]["properties"]
    assert links["next"] == {**links["next"], "type": "string", "nullable": True}
    assert links["prev"]["nullable"] is True
    meta = schemas["PageMeta"]
    assert set(meta["properties"]) == {"page", "page_size", "total"}
    assert meta["required"] == ["page", "page_size"]
    error = schemas["ErrorResponse"]["properties"]["errors"]["items"]["$ref"]
    assert error == "#/components/schemas/ErrorItem"
    assert set(schemas["ErrorItem"]["properties"]) == {"code", "title", "detail"}
    health = schemas["Health"]
    assert {"uptime_since", "uptime_seconds"} <= set(health["properties"]) and "required" not in health


def test_metrics_column_placeholders_are_gone(metrics: dict[str, Any]) -> None:
    for path_item in metrics["paths"].values():
        names = [p["name"] for p in path_item.get("parameters", [])]
        assert not [n for n in names if n.startswith("column__")], names
    data_params = metrics["paths"]["/api/{model}/data/"]["parameters"]
    assert [p["name"] for p in data_params] == ["model", "page", "page_size"]
    assert data_params[2]["schema"]["maximum"] == 50


def test_metrics_page_envelope_and_csv_text(metrics: dict[str, Any]) -> None:
    _check_page_envelope(metrics)
    data = metrics["paths"]["/api/{model}/data/"]["get"]
    assert _json_schema(data) == {"$ref": "#/components/schemas/DataPage"}
    csv = metrics["paths"]["/api/{model}/data/csv/"]["get"]["responses"]["200"]["content"]
    assert csv == {"text/csv": {"schema": {"type": "string"}}}


def test_tabular_page_envelope_and_page_params(tabular: dict[str, Any]) -> None:
    _check_page_envelope(tabular)
    data = tabular["paths"]["/api/resources/{rid}/data/"]["get"]
    assert _json_schema(data) == {"$ref": "#/components/schemas/DataPage"}
    params = {p["name"]: p for p in data["parameters"]}
    assert params["page"]["in"] == "query" and params["page"]["schema"]["type"] == "integer"
    assert params["page_size"]["schema"]["maximum"] == 50
    assert set(tabular["components"]["schemas"]["PageLinks"]["properties"]) == {
        "next",
        "prev",
        "profile",
        "swagger",
    }


def test_tabular_text_bodies(tabular: dict[str, Any]) -> None:
    paths = tabular["paths"]
    csv = paths["/api/resources/{rid}/data/csv/"]["get"]["responses"]["200"]["content"]
    assert csv == {"text/csv": {"schema": {"type": "string"}}}
    swagger = paths["/api/resources/{rid}/swagger/"]["get"]["responses"]["200"]["content"]
    assert swagger == {"text/plain": {"schema": {"type": "string"}}}


def test_tabular_aggregation_exceptions_accepts_both_shapes(tabular: dict[str, Any]) -> None:
    schema = _json_schema(tabular["paths"]["/api/aggregation-exceptions/"]["get"])
    array, ref = schema["anyOf"]
    assert array["type"] == "array" and array["items"] == {"type": "string"}
    assert ref == {"$ref": "#/components/schemas/AggregationExceptions"}
    obj = tabular["components"]["schemas"]["AggregationExceptions"]
    assert set(obj["properties"]) == {"allowed", "exceptions"}


def test_tabular_status_codes_are_strings_after_prepare(tabular: dict[str, Any]) -> None:
    for path_item in tabular["paths"].values():
        for code in path_item["get"]["responses"]:
            assert isinstance(code, str)


def test_patches_change_the_hash_only_through_the_patch_files(specs_mirror: Path) -> None:
    raw = parse_document((specs_mirror / "tabular.yaml").read_bytes(), origin="tabular")
    unpatched = prepare("tabular", raw, patches=PatchSet(api="tabular"))
    assert "content" not in unpatched["paths"]["/api/resources/{rid}/data/"]["get"]["responses"]["200"]
    assert prepare("tabular", raw) == prepare("tabular", raw)  # pure and repeatable
