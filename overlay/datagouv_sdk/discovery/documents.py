"""Turn fetched bytes into an OpenAPI 3 document we can read: JSON or guarded YAML, version check,
Swagger 2.0 converted by the same converter the SDK's own pipeline uses.

YAML is guarded in two ways before any Python object is built:

- nesting depth: libyaml (the C loader, ~30x faster than PyYAML's pure-Python one) composes nested
  collections by C recursion, so a few megabytes of ``[[[[`` could overflow the C stack. Its event
  parser, though, is iterative: one event pass measures the depth and refuses past `MAX_DEPTH`
  before the composer runs. Without libyaml the Python loader is used (RecursionError is caught).
- aliases: allowed (some real documents use anchors for shared fragments), but the size of the
  document they expand to is capped on the composed node graph, so a "billion laughs" is refused
  in milliseconds instead of being materialised when the spec is walked or serialised.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Mapping
from typing import Any

import attrs
import yaml

from datagouv_sdk.discovery.errors import DocumentError, NotOpenAPIError, UnsafeYAMLError

__all__ = [
    "MAX_YAML_NODES",
    "OpenAPIDocument",
    "load_document",
    "load_yaml",
    "openapi_version",
    "parse_bytes",
]

# Nodes a YAML document may expand to once aliases are followed. A 10 MB OpenAPI document has well
# under a million; a billion-laughs bomb has 10**9 and more.
MAX_YAML_NODES = 2_000_000
# Collections nested in collections; real OpenAPI documents stay well under 50.
MAX_DEPTH = 256

_SafeLoader: Any = getattr(yaml, "CSafeLoader", None) if yaml.__with_libyaml__ else None
_SafeLoader = _SafeLoader or yaml.SafeLoader


class _YAMLLoader(_SafeLoader):  # type: ignore[misc]  # a base chosen at runtime (libyaml or not)
    """Dates and times stay the strings they were written as, as in JSON: a spec's hash must not
    depend on how PyYAML renders a datetime."""

    yaml_implicit_resolvers = {  # noqa: RUF012 - PyYAML's class-level registry, a dict by contract
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()
    }


_OPENAPI3 = re.compile(r"^3\.\d+(\.\d+)?(-.+)?$")


@attrs.frozen
class OpenAPIDocument:
    """A third-party API's description, as OpenAPI 3 (`spec`), with where it came from."""

    url: str | None
    version: str  # as published: "2.0", "3.0.3", "3.1.0"…
    spec: dict[str, Any]  # OpenAPI 3.x (Swagger 2.0 documents converted)
    original: dict[str, Any] = attrs.field(repr=False)

    @property
    def title(self) -> str | None:
        info = self.spec.get("info")
        title = info.get("title") if isinstance(info, Mapping) else None
        return str(title) if title else None

    @property
    def converted(self) -> bool:
        return self.version == "2.0"


def load_document(
    content: bytes, *, url: str | None = None, content_type: str | None = None
) -> OpenAPIDocument:
    """Parse, check and (for Swagger 2.0) convert a machine documentation document."""
    data = parse_bytes(content, url=url, content_type=content_type)
    version = openapi_version(data, url=url)
    assert isinstance(data, dict)
    if version == "2.0":
        from datagouv_sdk.codegen.swagger2 import convert  # the SDK's one converter

        try:
            spec = convert(data)
        except (ValueError, TypeError, KeyError) as exc:  # SwaggerConversionError is a ValueError
            raise DocumentError(f"the Swagger 2.0 document could not be converted: {exc}", url=url) from exc
    else:
        spec = data
    return OpenAPIDocument(url=url, version=version, spec=spec, original=data)


def parse_bytes(
    content: bytes,
    *,
    url: str | None = None,
    content_type: str | None = None,
    max_yaml_nodes: int = MAX_YAML_NODES,
) -> Any:
    """JSON when it looks like JSON, else guarded YAML (YAML 1.1 is a superset of most JSON)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"the document is not UTF-8 text ({exc.reason} at byte {exc.start})", url=url
        ) from exc
    head = text.lstrip()[:1]
    if head == "<":
        kind = "an HTML page" if re.match(r"\s*<(!doctype html|html)", text, re.IGNORECASE) else "XML"
        raise NotOpenAPIError(
            f"the document is {kind}, not an OpenAPI/Swagger document (content-type {content_type or 'unknown'})",
            url=url,
        )
    if head in ("{", "["):
        try:
            return json.loads(text)
        except RecursionError as exc:
            raise DocumentError("the JSON document is nested too deeply", url=url) from exc
        except ValueError:
            pass  # YAML flow style also starts with { or [: let the YAML parser have a go.
    return _load_yaml(text, url=url, max_nodes=max_yaml_nodes)


def openapi_version(data: Any, *, url: str | None = None) -> str:
    """ "2.0" or "3.x.y", or NotOpenAPIError saying what the document looks like instead."""
    if not isinstance(data, dict):
        raise NotOpenAPIError(
            f"not an OpenAPI/Swagger document: the top level is a {type(data).__name__}, not a mapping",
            url=url,
        )
    openapi, swagger = data.get("openapi"), data.get("swagger")
    if isinstance(openapi, str) and _OPENAPI3.match(openapi):
        version = openapi
    elif str(swagger) == "2.0":
        version = "2.0"
    else:
        keys = ", ".join(sorted(map(str, data))[:8]) or "none"
        found = (
            f"openapi={openapi!r}"
            if openapi is not None
            else f"swagger={swagger!r}"
            if swagger
            else "no version field"
        )
        raise NotOpenAPIError(
            f"not an OpenAPI 3.x or Swagger 2.0 document ({found}; top-level keys: {keys})", url=url
        )
    paths = data.get("paths")
    if paths is None and version.startswith("3.1"):
        return version  # 3.1 allows webhooks-only documents
    if not isinstance(paths, dict):
        raise NotOpenAPIError(f"the {version} document has no 'paths' mapping", url=url)
    return version


# -- guarded YAML ---------------------------------------------------------------------------------


def _load_yaml(text: str, *, url: str | None, max_nodes: int) -> Any:
    return _jsonable(load_yaml(text, url=url, max_nodes=max_nodes))


def load_yaml(text: str, *, url: str | None = None, max_nodes: int = MAX_YAML_NODES) -> Any:
    """The SDK's one YAML loader (discovery, spec diff, the spec pipeline): safe, with the depth and
    alias-expansion limits above. Data as YAML typed it (`200:` is an int key); dates stay strings."""
    try:
        _check_depth(text, url)
    except yaml.YAMLError as exc:
        raise DocumentError(f"the document is neither JSON nor valid YAML: {exc}", url=url) from exc
    loader = _YAMLLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise NotOpenAPIError("the document is empty", url=url)
        _check_expansion(node, max_nodes, url)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise DocumentError(f"the document is neither JSON nor valid YAML: {exc}", url=url) from exc
    except RecursionError as exc:
        raise DocumentError("the YAML document is nested too deeply", url=url) from exc
    finally:
        loader.dispose()
    return data


def _check_depth(text: str, url: str | None) -> None:
    parser = _YAMLLoader(text)
    try:
        depth = 0
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise DocumentError(
                        f"the YAML document is nested too deeply (more than {MAX_DEPTH} levels)", url=url
                    )
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    finally:
        parser.dispose()


def _check_expansion(root: yaml.Node, limit: int, url: str | None) -> None:
    """Count the nodes the document has once every alias is expanded; refuse cycles and excess.

    Shared nodes are counted once per reference but computed once (memo), so the check itself is
    linear in the document's real size.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        known = sizes.get(key)
        if known is not None:
            return known
        if key in active:
            raise UnsafeYAMLError("the YAML document has a recursive alias", url=url)
        active.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            for child in node.value:
                total += size(child)
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                total += size(k) + size(v)
        active.discard(key)
        if total > limit:
            raise UnsafeYAMLError(
                f"the YAML document expands to more than {limit:,} nodes through its aliases (a YAML bomb?)",
                url=url,
            )
        sizes[key] = total
        return total

    size(root)


def _jsonable(value: Any) -> Any:
    """YAML → JSON data model: string keys (`200:` is an int in YAML), ISO dates, lists for sets."""
    if isinstance(value, dict):
        return {_key(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, (datetime.date, datetime.datetime)):
        return key.isoformat()
    return str(key)
