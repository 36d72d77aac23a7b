"""Reading documents to diff (files, URLs, JSON/YAML, Swagger 2.0), the reports and `dgv specs diff`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from datagouv_sdk.cli import cli
from datagouv_sdk.codegen.errors import SpecFetchError, SpecInvalidError
from datagouv_sdk.drift.documents import diff_specs, parse_document, prepare, read_location
from datagouv_sdk.drift.report import ApiReport, Side, Status, render_json, render_text

from tests.discovery.servers import BILLION_LAUGHS
from tests.drift.spec_server import SpecServer, running_spec_server


def swagger(definitions: dict[str, Any], body_ref: str, out_ref: str) -> dict[str, Any]:
    return {
        "swagger": "2.0",
        "info": {"title": "udata-like", "version": "1.0"},
        "basePath": "/api/1",
        "paths": {
            "/things/": {
                "post": {
                    "parameters": [
                        {
                            "name": "payload",
                            "in": "body",
                            "required": True,
                            "schema": {"$ref": f"#/definitions/{body_ref}"},
                        }
                    ],
                    "responses": {
                        "201": {"description": "created", "schema": {"$ref": f"#/definitions/{out_ref}"}}
                    },
                }
            }
        },
        "definitions": definitions,
    }


OLD = swagger(
    {
        "Thing (write)": {"type": "object", "properties": {"title": {"type": "string"}}},
        "Thing (read)": {
            "type": "object",
            "properties": {"id": {"type": "string"}, "legacy": {"type": "string"}},
        },
    },
    "Thing (write)",
    "Thing (read)",
)
NEW = swagger(
    {
        "Thing (write)": {
            "type": "object",
            "required": ["title", "slug"],
            "properties": {"title": {"type": "string"}, "slug": {"type": "string"}},
        },
        "Thing (read)": {"type": "object", "properties": {"id": {"type": "string"}}},
    },
    "Thing (write)",
    "Thing (read)",
)


@pytest.fixture
def server() -> Iterator[SpecServer]:
    with running_spec_server() as srv:
        yield srv


def test_swagger2_is_converted_and_reported_with_upstream_names(tmp_path: Path) -> None:
    (tmp_path / "old.json").write_text(json.dumps(OLD))
    (tmp_path / "new.yaml").write_text(yaml.safe_dump(NEW))  # format does not matter, content does
    old = prepare(read_location(str(tmp_path / "old.json")), origin="old")
    new = prepare(read_location(str(tmp_path / "new.yaml")), origin="new")
    assert "Thing_read" in new.openapi["components"]["schemas"]
    result = diff_specs(old, new)
    assert {(c.kind, c.severity.value, c.schema, c.property, c.operations) for c in result.changes} == {
        ("request-property-added", "breaking", "Thing (write)", "slug", ("POST /things/",)),
        ("request-property-became-required", "breaking", "Thing (write)", "title", ("POST /things/",)),
        ("response-property-removed", "breaking", "Thing (read)", "legacy", ("POST /things/",)),
    }
    assert result.schemas_changed == ("Thing (read)", "Thing (write)")


def test_upstream_moving_to_openapi3_shows_only_the_renamed_schemas() -> None:
    swagger_doc = prepare(OLD, origin="swagger")
    converted = prepare(swagger_doc.openapi, origin="oas3")  # same API, sanitised component names
    result = diff_specs(swagger_doc, converted)
    assert {(c.kind, c.old, c.new) for c in result.changes} == {
        ("request-schema-renamed", "Thing (write)", "Thing_write"),
        ("response-schema-renamed", "Thing (read)", "Thing_read"),
    }


def test_read_location_from_a_url(server: SpecServer) -> None:
    url = server.serve("/swagger.json", json.dumps(OLD).encode())
    assert read_location(url)["info"]["title"] == "udata-like"
    missing = server.base_url + "/nope.json"
    with pytest.raises(SpecFetchError, match=r"GET .*/nope\.json answered HTTP 404"):
        read_location(missing)


def test_unreadable_and_invalid_inputs_name_what_was_wrong(tmp_path: Path) -> None:
    with pytest.raises(SpecFetchError, match=r"missing.json"):
        read_location(str(tmp_path / "missing.json"))
    with pytest.raises(SpecInvalidError, match=r"not a Swagger 2\.0 or OpenAPI 3 document \('1\.2'\)"):
        prepare({"swaggerVersion": "x", "swagger": "1.2"}, origin="ancient.json")


def test_cli_diff_of_two_urls_prints_grouped_report(server: SpecServer) -> None:
    old = server.serve("/old.json", json.dumps(OLD).encode())
    new = server.serve("/new.yaml", yaml.safe_dump(NEW).encode(), content_type="application/yaml")
    run = CliRunner().invoke(cli, ["specs", "diff", old, new])
    assert run.exit_code == 0, run.output
    lines = run.output.splitlines()
    assert lines[0].startswith("udata-like: changed, 1.0 (sha256:")
    assert lines[1] == "  3 breaking, 0 non-breaking; operations +0 -0; schemas +0 -0 ~2"
    assert lines[2] == "  BREAKING (3)"
    assert (
        "    response Thing (read).legacy: property removed [POST /things/] (response-property-removed)"
        in lines
    )


def test_cli_diff_of_a_missing_file_is_one_error_line(tmp_path: Path) -> None:
    run = CliRunner().invoke(cli, ["specs", "diff", str(tmp_path / "a.json"), str(tmp_path / "b.json")])
    assert run.exit_code == 2
    assert run.output.strip().startswith("error: cannot read") and run.output.count("\n") == 1


def test_global_json_flag_is_honoured(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps(OLD))
    run = CliRunner().invoke(
        cli, ["--json", "specs", "diff", str(tmp_path / "a.json"), str(tmp_path / "a.json")]
    )
    assert run.exit_code == 0
    (api,) = json.loads(run.output)["apis"]
    assert (api["status"], api["changes"], api["summary"]["schemas_changed"]) == ("unchanged", [], 0)


def test_json_report_is_stable_and_complete() -> None:
    result = diff_specs(prepare(OLD, origin="a"), prepare(NEW, origin="b"))
    report = ApiReport("main", Status.CHANGED, Side("a", "1.0", "aa"), Side("b", "1.0", "bb"), result)
    text = render_json([report])
    assert text == render_json([report])
    doc = json.loads(text)
    assert (doc["format"], doc["version"]) == ("datagouv-sdk/spec-diff", 1)
    change = doc["apis"][0]["changes"][0]
    assert set(change) == {
        "kind",
        "severity",
        "direction",
        "path",
        "method",
        "parameter",
        "parameter_in",
        "status",
        "media_type",
        "schema",
        "property",
        "old",
        "new",
        "operations",
        "message",
    }
    # Sorted by location: the same order however the documents list their keys.
    reordered = json.loads(json.dumps(NEW), object_pairs_hook=lambda kv: dict(reversed(kv)))
    again = diff_specs(prepare(OLD, origin="a"), prepare(reordered, origin="b"))
    assert again.changes == result.changes


def test_text_report_of_an_error_and_an_unchanged_api() -> None:
    text = render_text(
        [
            ApiReport("main", Status.ERROR, note="main: cannot read mirror file x"),
            ApiReport("tabular", Status.UNCHANGED, new=Side("m", "1.0.0", "ab" * 32)),
        ]
    )
    assert text == (
        "main: error\n  note: main: cannot read mirror file x\n"
        "tabular: unchanged, 1.0.0 (sha256:abababababab)\n"
    )


# ---- parsing: JSON, or YAML through the SDK's one guarded loader (discovery.documents.load_yaml) ----


def test_yaml_unquoted_status_codes_parse_as_integers_until_normalised(specs_mirror: Path) -> None:
    doc = parse_document((specs_mirror / "tabular.yaml").read_bytes(), origin="tabular.yaml")
    responses = doc["paths"]["/api/resources/{rid}/"]["get"]["responses"]
    assert 200 in responses and "200" not in responses  # what normalise() fixes (test_normalise)


def test_yaml_aliases_are_expanded_within_the_cap() -> None:
    shared = b"a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n"
    doc = parse_document(shared, origin="anchors.yaml")
    assert doc["c"] == [[["x"] * 3] * 3] * 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (BILLION_LAUGHS.encode(), r"bomb\.yaml: invalid YAML: .*expands to more than"),
        (b"a: &a [*a]\n", r"bomb\.yaml: invalid YAML: .*recursive alias"),
        (b"x: " + b"[" * 300 + b"]" * 300 + b"\n", r"bomb\.yaml: invalid YAML: .*nested too deeply"),
    ],
)
def test_yaml_bombs_are_refused_by_the_guarded_loader(data: bytes, message: str) -> None:
    with pytest.raises(SpecInvalidError, match=message):
        parse_document(data, origin="bomb.yaml")


def test_yaml_dates_and_times_stay_the_strings_written() -> None:
    doc = parse_document(
        b"openapi: 3.0.3\ninfo: {version: 2026-02-03, x-at: 2026-02-03 10:00:00}\n", origin="x.yaml"
    )
    assert doc["info"] == {"version": "2026-02-03", "x-at": "2026-02-03 10:00:00"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"openapi": ', "invalid JSON"),
        (b"- just\n- a list\n", "expected a mapping"),
        (b"key: [unclosed\n", "invalid YAML"),
        (b"", "invalid YAML: the document is empty"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_unparseable_documents(data: bytes, message: str) -> None:
    with pytest.raises(SpecInvalidError, match=message):
        parse_document(data, origin="doc")
