"""The recording test API (served by servers.RecordingServer under /v1) and its description in the
three forms dataservices publish: OpenAPI 3.0 JSON, OpenAPI 3.1 YAML, Swagger 2.0 JSON."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

from tests.discovery import servers
from tests.discovery.servers import Handler, RecordingServer

_ITEM = {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}


def openapi30(servers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    item_id = {"name": "item_id", "in": "path", "required": True, "schema": {"type": "string"}}
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "Recording API", "version": "1.0"},
        "paths": {
            "/items/{item_id}": {
                "parameters": [item_id],
                "get": {
                    "operationId": "getItem",
                    "summary": "One item",
                    "parameters": [{"name": "verbose", "in": "query", "schema": {"type": "boolean"}}],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Item"}}
                            },
                        }
                    },
                },
            },
            "/items": {
                "get": {
                    "operationId": "listItems",
                    "summary": "Items",
                    "parameters": [
                        {"$ref": "#/components/parameters/Limit"},
                        {
                            "name": "tags",
                            "in": "query",
                            "schema": {"type": "array", "items": {"type": "string"}},
                        },
                        {
                            "name": "order",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["asc", "desc"]},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                },
                "post": {
                    "operationId": "createItem",
                    "summary": "Create an item",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
                    },
                    "responses": {
                        "201": {
                            "description": "created",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Item"}}
                            },
                        }
                    },
                },
            },
            "/missing": {
                "get": {"operationId": "getMissing", "responses": {"404": {"description": "never there"}}}
            },
            "/away": {"get": {"operationId": "goAway", "responses": {"200": {"description": "elsewhere"}}}},
            "/flaky": {"get": {"operationId": "flaky", "responses": {"200": {"description": "second time"}}}},
            "/slow": {"get": {"operationId": "slow", "responses": {"200": {"description": "trickles"}}}},
            "/huge": {"get": {"operationId": "huge", "responses": {"200": {"description": "11 MB"}}}},
            "/to-file": {"get": {"operationId": "toFile", "responses": {"302": {"description": "file://"}}}},
            "/text": {
                "get": {
                    "operationId": "getText",
                    "responses": {
                        "200": {
                            "description": "text",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": {"Item": _ITEM},
            "parameters": {"Limit": {"name": "limit", "in": "query", "schema": {"type": "integer"}}},
        },
    }
    if servers is not None:
        doc["servers"] = servers
    return doc


def openapi31_yaml() -> bytes:
    doc = openapi30()
    doc["openapi"] = "3.1.0"
    doc["paths"]["/items"]["get"]["parameters"][2]["schema"] = {
        "type": ["string", "null"],
        "enum": ["asc", "desc", None],
    }
    # anchors and aliases of modest size are legitimate YAML and must load
    text = yaml.safe_dump(doc, sort_keys=False)
    return (text + "x-shared: &shared {note: reused}\nx-again: *shared\n").encode()


def swagger20(host: str) -> dict[str, Any]:
    return {
        "swagger": "2.0",
        "info": {"title": "Recording API (Swagger)", "version": "1.0"},
        "host": host,
        "basePath": "/v1",
        "schemes": ["http"],
        "paths": {
            "/items/{item_id}": {
                "get": {
                    "operationId": "getItem",
                    "parameters": [
                        {"name": "item_id", "in": "path", "required": True, "type": "string"},
                        {"name": "verbose", "in": "query", "type": "boolean"},
                    ],
                    "responses": {
                        "200": {"description": "ok", "schema": {"$ref": "#/definitions/Item (read)"}}
                    },
                }
            },
            "/items": {
                "get": {
                    "operationId": "listItems",
                    "parameters": [{"name": "limit", "in": "query", "type": "integer"}],
                    "responses": {"200": {"description": "ok"}},
                },
                "post": {
                    "operationId": "createItem",
                    "parameters": [
                        {
                            "name": "payload",
                            "in": "body",
                            "required": True,
                            "schema": {"$ref": "#/definitions/Item (read)"},
                        }
                    ],
                    "responses": {"201": {"description": "created"}},
                },
            },
        },
        "definitions": {"Item (read)": _ITEM},
    }


def install_api(server: RecordingServer, *, other: RecordingServer | None = None) -> None:
    """The /v1 routes of the recording API."""
    flaky_state = {"calls": 0}

    def item(h: Handler) -> None:
        raw = urlsplit(h.path)
        ident = unquote(raw.path[len("/v1/items/") :])
        h.send_json({"id": ident, "raw_path": raw.path, "query": parse_qs(raw.query)})

    def items(h: Handler) -> None:
        if h.command == "POST":
            h.send_json(json.loads(h.body or b"null"), status=201)
        else:
            h.send_json({"query": parse_qs(urlsplit(h.path).query)})

    def flaky(h: Handler) -> None:
        flaky_state["calls"] += 1
        if flaky_state["calls"] == 1:
            h.send_json({"message": "warming up"}, status=503)
        else:
            h.send_json({"ok": True, "calls": flaky_state["calls"]})

    server.routes.update(
        {
            "/v1/items/*": item,
            "/v1/items": items,
            "/v1/missing": lambda h: h.send_json({"message": "no such thing"}, status=404),
            "/v1/flaky": flaky,
            "/v1/slow": servers.trickle_body,
            "/v1/huge": servers.oversized_unsized,
            "/v1/to-file": lambda h: h.redirect("file:///etc/passwd"),
            "/v1/text": lambda h: h.send_bytes("héllo".encode(), "text/plain; charset=utf-8"),
        }
    )
    if other is not None:
        server.routes["/v1/away"] = lambda h: h.redirect(other.url("/v1/echo"), status=307)
        other.routes["/v1/echo"] = lambda h: h.send_json({"echo": True})
