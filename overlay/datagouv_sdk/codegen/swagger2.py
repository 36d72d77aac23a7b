"""Swagger 2.0 → OpenAPI 3.0.3, as a pure function over parsed documents.

The Main API (udata / flask-restx) still publishes Swagger 2.0, and so do many third-party
dataservices; openapi-python-client only reads OpenAPI 3. `convert()` does the translation in
process: no network, no Node, same input → same output (dict order follows the input).

Scope is what real Swagger 2.0 documents use: parameters in query/path/header/body/formData
(`collectionFormat` → `style`/`explode`), file uploads (multipart bodies with binary parts),
`definitions`, top-level `parameters`/`responses`, `securityDefinitions`, host/basePath/schemes,
`x-nullable` (→ `nullable`; beside a `$ref`, which OpenAPI 3.0 would ignore, the reference is wrapped
in a one-item `allOf`), the string `discriminator`, `type: file`, response headers and `examples`.

Component names. OpenAPI 3 component keys must match ``^[a-zA-Z0-9._-]+$``; flask-restx emits
names such as ``Dataset (read)``. The rule (see `component_names`):

1. a name that already matches is kept unchanged, and reserved first;
2. any other name has each run of other characters replaced by one ``_``, then leading and
   trailing ``_`` stripped (``Dataset (read)`` → ``Dataset_read``; empty → ``Schema``);
3. if that result is already taken, ``_2``, ``_3``, … is appended; names are processed in sorted
   order so the outcome does not depend on the input's key order.

Every ``$ref`` is rewritten, whether written raw (``#/definitions/Dataset (read)``) or
percent-encoded (``#/definitions/Dataset%20%28read%29``).

Known, deliberate simplifications: operation-level `schemes` are dropped (servers come from the
document level); `collectionFormat: tsv` has no OpenAPI 3 style and is kept as
``x-collectionFormat`` beside ``style: form, explode: false``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, unquote

from datagouv_sdk.codegen.errors import SpecInvalidError

__all__ = [
    "OPENAPI_VERSION",
    "SwaggerConversionError",
    "component_name",
    "component_names",
    "convert",
    "is_swagger2",
]

OPENAPI_VERSION = "3.0.3"

_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_VALID_NAME = re.compile(r"^[A-Za-z0-9._-]+$")
_INVALID_RUN = re.compile(r"[^A-Za-z0-9._-]+")
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
_DEFAULT_MEDIA_TYPE = "application/json"

# Keywords a Swagger 2.0 non-body parameter (or items object / header) carries that belong in the
# OpenAPI 3 `schema` of that parameter.
_SCHEMA_KEYS = (
    "type",
    "format",
    "items",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "enum",
    "multipleOf",
)
# Keys of a schema object whose value is itself a schema, or a list/map of schemas.
_SUBSCHEMA_KEYS = ("items", "additionalProperties", "not")
_SUBSCHEMA_LIST_KEYS = ("allOf", "anyOf", "oneOf")
_SUBSCHEMA_MAP_KEYS = ("properties", "patternProperties")

# query collectionFormat → (style, explode). Swagger 2.0's default is csv; OpenAPI 3's default for
# query is form/explode=true (repeated keys), so csv must be spelled out.
_QUERY_STYLES: dict[str, tuple[str, bool]] = {
    "csv": ("form", False),
    "multi": ("form", True),
    "ssv": ("spaceDelimited", False),
    "pipes": ("pipeDelimited", False),
    "tsv": ("form", False),
}

# securityDefinitions oauth2 `flow` → OpenAPI 3 flow name.
_OAUTH_FLOWS = {
    "implicit": "implicit",
    "password": "password",
    "application": "clientCredentials",
    "accessCode": "authorizationCode",
}


class SwaggerConversionError(SpecInvalidError):
    """The document is not Swagger 2.0, or is malformed in a way the conversion cannot carry."""


def is_swagger2(doc: object) -> bool:
    """True for a parsed Swagger 2.0 document (``swagger: "2.0"``)."""
    return isinstance(doc, Mapping) and str(doc.get("swagger", "")).strip().startswith("2.")


def component_name(name: str) -> str:
    """The sanitised form of one name, before collision handling (rule 2 of the module doc)."""
    if _VALID_NAME.match(name):
        return name
    return _INVALID_RUN.sub("_", name).strip("_") or "Schema"


def component_names(names: Iterable[str]) -> dict[str, str]:
    """Original → OpenAPI 3 component name for one component section, collision-free."""
    originals = sorted(set(names))
    mapping = {name: name for name in originals if _VALID_NAME.match(name)}
    taken = set(mapping)
    for name in originals:
        if name in mapping:
            continue
        base = candidate = component_name(name)
        suffix = 2
        while candidate in taken:
            candidate = f"{base}_{suffix}"
            suffix += 1
        mapping[name] = candidate
        taken.add(candidate)
    return mapping


def convert(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The OpenAPI 3.0.3 equivalent of a Swagger 2.0 document. The input is not modified."""
    if not is_swagger2(doc):
        found = doc.get("openapi") or doc.get("swagger") if isinstance(doc, Mapping) else type(doc).__name__
        raise SwaggerConversionError(f"not a Swagger 2.0 document (found version {found!r})")
    return _Converter(copy.deepcopy(dict(doc))).run()


class _Converter:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.consumes: list[str] = list(doc.get("consumes") or [_DEFAULT_MEDIA_TYPE])
        self.produces: list[str] = list(doc.get("produces") or [_DEFAULT_MEDIA_TYPE])
        self.schema_names = component_names(_mapping(doc, "definitions", "definitions"))
        self.param_names = component_names(_mapping(doc, "parameters", "parameters"))
        self.response_names = component_names(_mapping(doc, "responses", "responses"))

    def run(self) -> dict[str, Any]:
        doc = self.doc
        out: dict[str, Any] = {"openapi": OPENAPI_VERSION}
        info = dict(doc.get("info") or {})
        info.setdefault("title", "")
        info.setdefault("version", "")
        out["info"] = info
        out["servers"] = self._servers()
        for key in ("tags", "externalDocs", "security"):
            if key in doc:
                out[key] = doc[key]
        out["paths"] = {
            path: item if path.startswith("x-") else self._path_item(path, item)
            for path, item in _mapping(doc, "paths", "paths").items()
        }
        components = self._components()
        if components:
            out["components"] = components
        out.update({k: v for k, v in doc.items() if k.startswith("x-")})
        return out

    # -- document level -------------------------------------------------------------------------

    def _servers(self) -> list[dict[str, str]]:
        base_path = str(self.doc.get("basePath") or "")
        if base_path and not base_path.startswith("/"):
            base_path = "/" + base_path
        host = self.doc.get("host")
        if not host:
            return [{"url": base_path or "/"}]
        schemes = self.doc.get("schemes") or ["https"]
        suffix = "" if base_path == "/" else base_path
        return [{"url": f"{scheme}://{host}{suffix}"} for scheme in schemes]

    def _components(self) -> dict[str, Any]:
        components: dict[str, Any] = {}
        definitions = _mapping(self.doc, "definitions", "definitions")
        if definitions:
            components["schemas"] = {
                self.schema_names[name]: self._schema(schema) for name, schema in definitions.items()
            }
        parameters = {
            self.param_names[name]: self._parameter(param)
            for name, param in _mapping(self.doc, "parameters", "parameters").items()
            if param.get("in") not in ("body", "formData")  # these are inlined into request bodies
        }
        if parameters:
            components["parameters"] = parameters
        responses = _mapping(self.doc, "responses", "responses")
        if responses:
            components["responses"] = {
                self.response_names[name]: self._response(resp, self.produces)
                for name, resp in responses.items()
            }
        schemes = _mapping(self.doc, "securityDefinitions", "securityDefinitions")
        if schemes:
            components["securitySchemes"] = {name: _security_scheme(name, s) for name, s in schemes.items()}
        return components

    # -- paths ----------------------------------------------------------------------------------

    def _path_item(self, path: str, item: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(item, Mapping):
            raise SwaggerConversionError(f"paths[{path!r}] is not an object")
        shared = [self._resolve_parameter(p) for p in item.get("parameters") or []]
        out: dict[str, Any] = {}
        for key, value in item.items():
            if key in _HTTP_METHODS:
                out[key] = self._operation(f"{key.upper()} {path}", value, shared)
            elif key == "parameters":
                kept = [
                    self._parameter_or_ref(raw)
                    for raw, p in shared
                    if p.get("in") not in ("body", "formData")
                ]
                if kept:
                    out["parameters"] = kept
            else:  # summary, description, x-* extensions
                out[key] = value
        return out

    def _operation(
        self,
        where: str,
        op: Mapping[str, Any],
        shared: list[tuple[dict[str, Any], dict[str, Any]]],
    ) -> dict[str, Any]:
        own = [self._resolve_parameter(p) for p in op.get("parameters") or []]
        own_keys = {(p.get("name"), p.get("in")) for _, p in own}
        # Path-level body/formData parameters apply to every operation unless overridden.
        inherited = [(r, p) for r, p in shared if (p.get("name"), p.get("in")) not in own_keys]
        body = [p for _, p in inherited + own if p.get("in") == "body"]
        form = [p for _, p in inherited + own if p.get("in") == "formData"]
        if body and form:
            raise SwaggerConversionError(f"{where}: has both body and formData parameters")
        if len(body) > 1:
            raise SwaggerConversionError(f"{where}: has {len(body)} body parameters (at most one allowed)")

        out: dict[str, Any] = {}
        for key, value in op.items():
            if key == "responses":
                produces = list(op.get("produces") or self.produces)
                out["responses"] = {
                    str(code): self._response(resp, produces)
                    for code, resp in _as_mapping(where, value).items()
                }
            elif key not in ("parameters", "consumes", "produces", "schemes"):
                out[key] = value
        params = [self._parameter_or_ref(raw) for raw, p in own if p.get("in") not in ("body", "formData")]
        if params:
            out["parameters"] = params
        consumes = list(op.get("consumes") or self.consumes)
        if body:
            out["requestBody"] = self._body_request(body[0], consumes)
        elif form:
            out["requestBody"] = self._form_request(where, form, consumes)
        out.setdefault("responses", {"default": {"description": ""}})
        return out

    # -- parameters -----------------------------------------------------------------------------

    def _resolve_parameter(self, raw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """(as written, resolved): a `#/parameters/X` reference is looked up for its location."""
        if not isinstance(raw, Mapping):
            raise SwaggerConversionError(f"parameter is not an object: {raw!r}")
        raw = dict(raw)
        ref = raw.get("$ref")
        if ref is None:
            return raw, raw
        section, name, rest = _split_local_ref(ref)
        if section != "parameters" or rest:
            raise SwaggerConversionError(f"parameter $ref {ref!r} does not point into #/parameters")
        target = _mapping(self.doc, "parameters", "parameters").get(name)
        if target is None:
            raise SwaggerConversionError(f"parameter $ref {ref!r} does not resolve")
        return raw, dict(target)

    def _parameter_or_ref(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        if "$ref" in raw:
            return {"$ref": self._ref(str(raw["$ref"]))}
        return self._parameter(raw)

    def _parameter(self, param: Mapping[str, Any]) -> dict[str, Any]:
        location = param.get("in")
        out: dict[str, Any] = {}
        for key in ("name", "in", "description"):
            if key in param:
                out[key] = param[key]
        if location == "path" or param.get("required"):
            out["required"] = True
        if param.get("allowEmptyValue") and location == "query":
            out["allowEmptyValue"] = True
        schema = _simple_schema(param)
        if schema.get("type") == "array":
            fmt = str(param.get("collectionFormat") or "csv")
            if location == "query" or location == "formData":
                style, explode = _QUERY_STYLES.get(fmt, ("form", False))
                out["style"], out["explode"] = style, explode
            else:  # path / header: csv is `simple`, the default; multi is not allowed there
                out["style"], out["explode"] = "simple", False
            if fmt == "tsv":
                out["x-collectionFormat"] = "tsv"
        out["schema"] = self._schema(schema)
        if "x-example" in param:
            out["example"] = param["x-example"]
        out.update({k: v for k, v in param.items() if k.startswith("x-") and k != "x-example"})
        return out

    # -- request bodies -------------------------------------------------------------------------

    def _body_request(self, param: Mapping[str, Any], consumes: list[str]) -> dict[str, Any]:
        schema = self._schema(param.get("schema") or {})
        out: dict[str, Any] = {}
        if "description" in param:
            out["description"] = param["description"]
        # A body parameter's consumes never sensibly includes form types; keep them all the same.
        out["content"] = {media: {"schema": copy.deepcopy(schema)} for media in consumes}
        if param.get("required"):
            out["required"] = True
        return out

    def _form_request(self, where: str, params: list[dict[str, Any]], consumes: list[str]) -> dict[str, Any]:
        has_file = any(p.get("type") == "file" for p in params)
        media_types = [m for m in consumes if m.split(";")[0].strip() in _FORM_TYPES]
        if has_file:
            # Files can only travel in multipart bodies, whatever `consumes` claims.
            media_types = [m for m in media_types if m.startswith("multipart/")] or ["multipart/form-data"]
        elif not media_types:
            media_types = ["application/x-www-form-urlencoded"]
        properties: dict[str, Any] = {}
        required: list[str] = []
        encoding: dict[str, Any] = {}
        for param in params:
            name = param.get("name")
            if not isinstance(name, str):
                raise SwaggerConversionError(f"{where}: formData parameter without a name")
            prop = self._schema(_simple_schema(param))
            if "description" in param:
                prop["description"] = param["description"]
            properties[name] = prop
            if param.get("required"):
                required.append(name)
            fmt = param.get("collectionFormat")
            if param.get("type") == "array" and fmt and fmt != "multi":
                style, explode = _QUERY_STYLES.get(str(fmt), ("form", False))
                encoding[name] = {"style": style, "explode": explode}
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        content: dict[str, Any] = {}
        for media in media_types:
            entry: dict[str, Any] = {"schema": copy.deepcopy(schema)}
            if encoding and media.startswith("application/x-www-form-urlencoded"):
                entry["encoding"] = copy.deepcopy(encoding)
            content[media] = entry
        out: dict[str, Any] = {"content": content}
        if required:
            out["required"] = True
        return out

    # -- responses ------------------------------------------------------------------------------

    def _response(self, resp: Any, produces: list[str]) -> dict[str, Any]:
        if not isinstance(resp, Mapping):
            raise SwaggerConversionError(f"response is not an object: {resp!r}")
        if "$ref" in resp:
            return {"$ref": self._ref(str(resp["$ref"]))}
        out: dict[str, Any] = {"description": resp.get("description", "")}
        examples = resp.get("examples") or {}
        if "schema" in resp:
            schema = self._schema(resp["schema"])
            out["content"] = {media: {"schema": copy.deepcopy(schema)} for media in produces}
        if examples:
            content = out.setdefault("content", {})
            for media, example in examples.items():
                content.setdefault(media, {})["example"] = example
        if resp.get("headers"):
            out["headers"] = {name: _header(self, header) for name, header in resp["headers"].items()}
        out.update({k: v for k, v in resp.items() if k.startswith("x-")})
        return out

    # -- schemas and references -----------------------------------------------------------------

    def _schema(self, schema: Any) -> Any:
        if not isinstance(schema, Mapping):
            return schema
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str):
                # A bare definition name ("$ref": "Pet", Swagger 1.2 style) means #/definitions/Pet.
                local = value in self.schema_names and "#" not in value
                out[key] = self._ref("#/definitions/" + quote(value, safe="") if local else value)
            elif key == "items" and isinstance(value, list):
                # Tuple-style items (invalid in Swagger 2.0, seen in the wild): one schema is meant
                # as "every item"; several become a union, the closest OpenAPI 3.0 can say.
                items = [self._schema(v) for v in value]
                out[key] = items[0] if len(items) == 1 else {"anyOf": items}
            elif key in _SUBSCHEMA_KEYS:
                out[key] = self._schema(value)
            elif key in _SUBSCHEMA_LIST_KEYS and isinstance(value, list):
                out[key] = [self._schema(v) for v in value]
            elif key in _SUBSCHEMA_MAP_KEYS and isinstance(value, Mapping):
                out[key] = {name: self._schema(v) for name, v in value.items()}
            elif key == "x-nullable":
                if value is True:
                    out["nullable"] = True
            elif key == "discriminator" and isinstance(value, str):
                out[key] = {"propertyName": value}
            elif key == "type" and value == "file":
                out["type"], out["format"] = "string", "binary"
            elif key == "format" and schema.get("type") == "file":
                continue
            else:
                out[key] = value
        if "$ref" in out and out.get("nullable"):
            # OpenAPI 3.0 ignores keywords beside $ref: wrap it so `nullable` is honoured.
            ref = out.pop("$ref")
            return {"allOf": [{"$ref": ref}], **out}
        return out

    def _ref(self, ref: str) -> str:
        if not ref.startswith("#"):
            return ref  # external documents are left to the consumer
        section, name, rest = _split_local_ref(ref)
        names = {
            "definitions": (self.schema_names, "schemas"),
            "parameters": (self.param_names, "parameters"),
            "responses": (self.response_names, "responses"),
        }.get(section)
        if names is None or name not in names[0]:
            raise SwaggerConversionError(
                f"$ref {ref!r} does not resolve to a definition, parameter or response"
            )
        mapping, target = names
        return "/".join(["#", "components", target, mapping[name], *rest])


def _split_local_ref(ref: str) -> tuple[str, str, list[str]]:
    """`#/definitions/Dataset%20(read)/properties/x` → ("definitions", "Dataset (read)", [...])."""
    if not ref.startswith("#/"):
        raise SwaggerConversionError(f"unsupported $ref {ref!r}")
    parts = ref[2:].split("/")
    if len(parts) < 2:
        raise SwaggerConversionError(f"$ref {ref!r} names no component")
    name = unquote(parts[1]).replace("~1", "/").replace("~0", "~")
    return parts[0], name, parts[2:]


def _simple_schema(param: Mapping[str, Any]) -> dict[str, Any]:
    """The schema keywords of a non-body parameter, header or items object."""
    schema = {k: param[k] for k in _SCHEMA_KEYS if k in param}
    if isinstance(schema.get("items"), Mapping):
        items = dict(schema["items"])
        items.pop("collectionFormat", None)  # nested arrays: kept flat, the outer format wins
        schema["items"] = _simple_schema(items) if "$ref" not in items else items
    return schema


def _header(conv: _Converter, header: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "description" in header:
        out["description"] = header["description"]
    out["schema"] = conv._schema(_simple_schema(header))
    return out


def _security_scheme(name: str, scheme: Mapping[str, Any]) -> dict[str, Any]:
    kind = scheme.get("type")
    out: dict[str, Any]
    if kind == "apiKey":
        out = {"type": "apiKey", "name": scheme.get("name"), "in": scheme.get("in")}
    elif kind == "basic":
        out = {"type": "http", "scheme": "basic"}
    elif kind == "oauth2":
        flow_name = _OAUTH_FLOWS.get(str(scheme.get("flow")))
        if flow_name is None:
            raise SwaggerConversionError(
                f"securityDefinitions[{name!r}]: unknown oauth2 flow {scheme.get('flow')!r}"
            )
        flow: dict[str, Any] = {"scopes": dict(scheme.get("scopes") or {})}
        for key in ("authorizationUrl", "tokenUrl"):
            if key in scheme:
                flow[key] = scheme[key]
        out = {"type": "oauth2", "flows": {flow_name: flow}}
    else:
        raise SwaggerConversionError(f"securityDefinitions[{name!r}]: unknown type {kind!r}")
    if "description" in scheme:
        out["description"] = scheme["description"]
    out.update({k: v for k, v in scheme.items() if k.startswith("x-")})
    return out


def _mapping(doc: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = doc.get(key) or {}
    return _as_mapping(where, value)


def _as_mapping(where: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise SwaggerConversionError(f"{where} is not an object")
    return dict(value)
