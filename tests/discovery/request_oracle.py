"""What request an OpenAPI operation describes, written from the specification for the tests, apart
from the SDK's own serialiser (datagouv_sdk.discovery.parameters) so that each can catch the other.

Parameter serialisation follows the OAS 3.1.1 "Style Examples" table and its appendices (RFC 6570
expansion, RFC 3986 percent-encoding); where 3.0.3's table differs (label, explode=false, arrays and
objects: `.blue.black.brown`, an erratum) 3.1.1's RFC 6570 reading is the one expected.
Comparison is on a normal form: percent-encoded unreserved characters decoded, hex digits upper case,
`+` in a query read as a space, and `|`, `[`, `]` (left raw by some clients, OAS appendix E) encoded.
"""

from __future__ import annotations

import datetime
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from tests._http_server import Received

UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
RESERVED = frozenset(":/?#[]@!$&'()*+,;=")


def encode(text: str, *, allow_reserved: bool = False) -> str:
    out = []
    for ch in text:
        if ch in UNRESERVED or (allow_reserved and ch in RESERVED and ch != "#"):
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8"))
    return "".join(out)


def text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


@attrs.frozen
class Param:
    name: str
    location: str
    style: str
    explode: bool
    allow_reserved: bool = False

    @classmethod
    def from_spec(cls, raw: Mapping[str, Any]) -> Param:
        location = raw["in"]
        style = (
            raw.get("style")
            or {"query": "form", "cookie": "form", "path": "simple", "header": "simple"}[location]
        )
        explode = raw.get("explode")
        return cls(
            name=raw["name"],
            location=location,
            style=style,
            explode=(style == "form") if explode is None else bool(explode),
            allow_reserved=bool(raw.get("allowReserved", False)),
        )


def path_value(p: Param, value: Any) -> str:
    """The text that replaces {name} in the path (simple, label, matrix)."""
    enc = encode
    if isinstance(value, Mapping):
        pairs = [(k, text(v)) for k, v in value.items()]
        if p.style == "matrix":
            if p.explode:
                return "".join(f";{enc(k)}={enc(v)}" for k, v in pairs)
            return f";{p.name}=" + ",".join(f"{enc(k)},{enc(v)}" for k, v in pairs)
        if p.style == "label":
            if p.explode:
                return "".join(f".{enc(k)}={enc(v)}" for k, v in pairs)
            return "." + ",".join(f"{enc(k)},{enc(v)}" for k, v in pairs)
        if p.explode:
            return ",".join(f"{enc(k)}={enc(v)}" for k, v in pairs)
        return ",".join(f"{enc(k)},{enc(v)}" for k, v in pairs)
    if isinstance(value, list):
        items = [enc(text(v)) for v in value]
        if p.style == "matrix":
            if p.explode:
                return "".join(f";{p.name}={v}" for v in items)
            return f";{p.name}=" + ",".join(items)
        if p.style == "label":
            return "." + ("." if p.explode else ",").join(items)
        return ",".join(items)
    item = enc(text(value))
    if p.style == "matrix":
        return f";{p.name}" + (f"={item}" if item else "")
    if p.style == "label":
        return "." + item
    return item


def query_pairs(p: Param, value: Any) -> list[str]:
    """The `name=value` pieces of the query string (already percent-encoded)."""

    def enc(s: str) -> str:
        return encode(s, allow_reserved=p.allow_reserved)

    name = encode(p.name)
    if p.style == "deepObject":
        return [f"{name}%5B{encode(k)}%5D={enc(text(v))}" for k, v in value.items()]
    delimiter = {"form": ",", "spaceDelimited": "%20", "pipeDelimited": "%7C"}[p.style]
    if isinstance(value, Mapping):
        if p.explode and p.style == "form":
            return [f"{encode(k)}={enc(text(v))}" for k, v in value.items()]
        return [f"{name}=" + delimiter.join(f"{enc(k)}{delimiter}{enc(text(v))}" for k, v in value.items())]
    if isinstance(value, list):
        if p.explode and p.style == "form":
            return [f"{name}={enc(text(v))}" for v in value]
        return [f"{name}=" + delimiter.join(enc(text(v)) for v in value)]
    return [f"{name}={enc(text(value))}"]


def header_value(p: Param, value: Any) -> str:
    if isinstance(value, Mapping):
        sep = "=" if p.explode else ","
        return ",".join(f"{k}{sep}{text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ",".join(text(v) for v in value)
    return text(value)


def cookie_pairs(p: Param, value: Any) -> list[str]:
    """form style in a Cookie header: pairs joined by "; " (OAS 3.1.1 appendix D: `&` is wrong there)."""
    if isinstance(value, Mapping):
        if p.explode:
            return [f"{encode(k)}={encode(text(v))}" for k, v in value.items()]
        return [f"{p.name}=" + ",".join(f"{encode(k)},{encode(text(v))}" for k, v in value.items())]
    if isinstance(value, list):
        if p.explode:
            return [f"{p.name}={encode(text(v))}" for v in value]
        return [f"{p.name}=" + ",".join(encode(text(v)) for v in value)]
    return [f"{p.name}={encode(text(value))}"]


@attrs.frozen
class ExpectedRequest:
    method: str
    path: str  # raw, percent-encoded
    query: tuple[str, ...]  # raw pairs
    headers: tuple[tuple[str, str], ...]
    cookies: tuple[str, ...]
    json_body: Any = None
    has_body: bool = False


def expected_request(
    method: str, base_path: str, path_template: str, args: list[tuple[Param, Any]], *, json_body: Any = None
) -> ExpectedRequest:
    path = path_template
    query: list[str] = []
    headers: list[tuple[str, str]] = []
    cookies: list[str] = []
    for p, value in args:
        if p.location == "path":
            path = path.replace("{" + p.name + "}", path_value(p, value))
        elif p.location == "query":
            query.extend(query_pairs(p, value))
        elif p.location == "header":
            headers.append((p.name.lower(), header_value(p, value)))
        else:
            cookies.extend(cookie_pairs(p, value))
    full = base_path.rstrip("/") + (path if path.startswith("/") else "/" + path)
    return ExpectedRequest(
        method.upper(), full, tuple(query), tuple(headers), tuple(cookies), json_body, json_body is not None
    )


# -- comparing with what a server received ------------------------------------------------------

_PCT = re.compile(r"%([0-9A-Fa-f]{2})")


def normal(raw: str, *, query: bool) -> str:
    def fix(match: re.Match[str]) -> str:
        ch = chr(int(match.group(1), 16))
        return ch if ch in UNRESERVED else "%" + match.group(1).upper()

    out = _PCT.sub(fix, raw)
    if query:
        out = out.replace("+", "%20")
    return out.replace("|", "%7C").replace("[", "%5B").replace("]", "%5D")


_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$")


def _canonical(value: Any) -> Any:
    """JSON values compared by meaning: "…T12:00:00Z" and "…T12:00:00+00:00" are one instant (a
    generated model writes dates back its own way)."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, str) and _DATETIME.match(value):
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def differences(
    expected: ExpectedRequest, received: Received, *, allowed_extra_query: Iterable[str] = ()
) -> list[str]:
    """What the received request gets wrong; empty when right.
    `allowed_extra_query`: pairs that may also be present (a parameter's default value, sent)."""
    problems = []
    raw_path, _, raw_query = received.path.partition("?")
    if received.method != expected.method:
        problems.append(f"method {received.method} != {expected.method}")
    if normal(raw_path, query=False) != normal(expected.path, query=False):
        problems.append(f"path {raw_path!r} != {expected.path!r}")
    got_query = Counter(normal(q, query=True) for q in raw_query.split("&") if q)
    want_query = Counter(normal(q, query=True) for q in expected.query)
    extra = got_query - want_query
    allowed = {normal(q, query=True) for q in allowed_extra_query}
    if got_query - extra == want_query and all(q in allowed for q in extra):
        got_query = want_query
    if got_query != want_query:
        problems.append(f"query {raw_query!r} != {'&'.join(expected.query)!r}")
    headers = received.headers
    for name, value in expected.headers:
        if headers.get(name) != value:
            problems.append(f"header {name}: {headers.get(name)!r} != {value!r}")
    if expected.cookies:
        got = sorted(c.strip() for c in (headers.get("cookie") or "").split(";") if c.strip())
        if got != sorted(expected.cookies):
            problems.append(f"cookies {got} != {sorted(expected.cookies)}")
    if expected.has_body:
        try:
            body = json.loads(received.body or b"null")
        except ValueError:
            problems.append(f"body is not JSON: {received.body[:80]!r}")
        else:
            if _canonical(body) != _canonical(expected.json_body):
                problems.append(f"body {body!r} != {expected.json_body!r}")
    return problems
