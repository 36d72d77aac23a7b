"""Parameters serialised as an OpenAPI document says: `style` and `explode` for path, query, header
and cookie parameters (OAS 3.1.1 "Style Values" and "Style Examples"; RFC 6570 expansion), values
percent-encoded as RFC 3986 requires.

One implementation for both ways the SDK sends a third party's operation: `Discovery.call` imports
it, and every generated package carries a verbatim copy as `_parameters.py` (standard library only,
so generated packages stay standalone), followed by a `STYLES` table of the document's parameters.

    >>> query_pairs("color", ["blue", "black"], "form", False)
    ['color=blue,black']
    >>> path_value("color", {"R": 100, "G": 200}, "matrix", True)
    ';R=100;G=200'

Choices where the specification leaves room: the label style without explode joins arrays with ","
(RFC 6570 and OAS 3.1.1; 3.0.3's table shows "." there, an erratum); cookies are `name=value` pairs
joined by "; " (RFC 6265; OAS 3.1.1 appendix D calls form's `&` wrong there); a `#` is encoded even
with allowReserved, since it would end the URL's query; booleans are `true`/`false`.
"""

from __future__ import annotations

import datetime
import enum
import uuid
from collections.abc import Mapping
from typing import Any

__all__ = [
    "DEFAULT_STYLES",
    "STYLES",
    "cookie_header",
    "cookie_pairs",
    "encode",
    "header_text",
    "header_value",
    "path_value",
    "query_pairs",
    "request_target",
    "to_text",
]

Style = tuple[str, bool, bool]  # (style, explode, allowReserved)
StyleTable = dict[tuple[str, str], dict[tuple[str, str], Style]]

DEFAULT_STYLES: dict[str, Style] = {
    "path": ("simple", False, False),
    "header": ("simple", False, False),
    "query": ("form", True, False),
    "cookie": ("form", True, False),
}

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_RESERVED_KEPT = frozenset(":/?[]@!$&'()*+,;=")  # RFC 3986 reserved, less "#"


def encode(text: str, allow_reserved: bool = False) -> str:
    """Percent-encode every character but the unreserved ones (and the reserved, if allowed), UTF-8."""
    out: list[str] = []
    for ch in text:
        if ch in _UNRESERVED or (allow_reserved and ch in _RESERVED_KEPT):
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8"))
    return "".join(out)


def to_text(value: Any) -> str:
    """A primitive value as text: `true`/`false`, ISO dates, enum values, UUIDs, numbers as Python writes them."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, enum.Enum):
        return to_text(value.value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (int, float, uuid.UUID)):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


def _plain(value: Any) -> Any:
    """Generated models (`to_dict`) and tuples as the JSON-like values the styles are defined on."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        value = to_dict()
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    return value


def path_value(name: str, value: Any, style: str = "simple", explode: bool = False) -> str:
    """What replaces `{name}` in the path: simple, label or matrix."""
    value = _plain(value)
    if isinstance(value, Mapping):
        pairs = [(encode(str(k)), encode(to_text(v))) for k, v in value.items()]
        if explode:
            lead, sep, kv = {"matrix": (";", ";", "="), "label": (".", ".", "=")}.get(style, ("", ",", "="))
            return lead + sep.join(f"{k}{kv}{v}" for k, v in pairs)
        flat = ",".join(f"{k},{v}" for k, v in pairs)
        return {"matrix": f";{name}={flat}", "label": f".{flat}"}.get(style, flat)
    if isinstance(value, list):
        items = [encode(to_text(v)) for v in value]
        if style == "matrix":
            return "".join(f";{name}={v}" for v in items) if explode else f";{name}=" + ",".join(items)
        if style == "label":
            return "." + ("." if explode else ",").join(items)
        return ",".join(items)
    item = encode(to_text(value))
    if style == "matrix":
        return f";{name}" + (f"={item}" if item else "")
    if style == "label":
        return "." + item
    return item


def query_pairs(
    name: str, value: Any, style: str = "form", explode: bool = True, allow_reserved: bool = False
) -> list[str]:
    """The `name=value` pieces of a query string, percent-encoded (form, spaceDelimited,
    pipeDelimited, deepObject)."""
    value = _plain(value)
    key = encode(name)

    def enc(v: Any) -> str:
        return encode(to_text(v), allow_reserved)

    if style == "deepObject" and isinstance(value, Mapping):
        return [f"{key}%5B{encode(str(k))}%5D={enc(v)}" for k, v in value.items()]
    delimiter = {"spaceDelimited": "%20", "pipeDelimited": "%7C"}.get(style, ",")
    if isinstance(value, Mapping):
        if explode and style == "form":
            return [f"{encode(str(k))}={enc(v)}" for k, v in value.items()]
        return [f"{key}=" + delimiter.join(f"{encode(str(k))}{delimiter}{enc(v)}" for k, v in value.items())]
    if isinstance(value, list):
        if explode and style == "form":
            return [f"{key}={enc(v)}" for v in value]
        return [f"{key}=" + delimiter.join(enc(v) for v in value)]
    return [f"{key}={enc(value)}"]


def header_value(value: Any, explode: bool = False) -> str:
    """A header parameter (style simple), not percent-encoded: HTTP headers are not URLs."""
    value = _plain(value)
    if isinstance(value, Mapping):
        sep = "=" if explode else ","
        return ",".join(f"{k}{sep}{to_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ",".join(to_text(v) for v in value)
    return to_text(value)


def cookie_pairs(name: str, value: Any, explode: bool = True) -> list[str]:
    """A cookie parameter (style form) as `name=value` pieces of a Cookie header, values percent-encoded."""
    value = _plain(value)
    if isinstance(value, Mapping):
        if explode:
            return [f"{encode(str(k))}={encode(to_text(v))}" for k, v in value.items()]
        return [f"{name}=" + ",".join(f"{encode(str(k))},{encode(to_text(v))}" for k, v in value.items())]
    if isinstance(value, list):
        if explode:
            return [f"{name}={encode(to_text(v))}" for v in value]
        return [f"{name}=" + ",".join(encode(to_text(v)) for v in value)]
    return [f"{name}={encode(to_text(value))}"]


def request_target(
    path: str,
    styles: Mapping[tuple[str, str], Style],
    *,
    path_params: Mapping[str, Any] | None = None,
    query: Mapping[str, Any] | None = None,
) -> str:
    """`path` with its `{name}`s replaced and the query string appended: the request target.
    `styles`: (location, name) → (style, explode, allowReserved) where not the default."""
    target = path
    for name, value in (path_params or {}).items():
        style, explode, _reserved = styles.get(("path", name), DEFAULT_STYLES["path"])
        target = target.replace("{" + name + "}", path_value(name, value, style, explode))
    pairs: list[str] = []
    for name, value in (query or {}).items():
        if value is None:
            continue
        style, explode, reserved = styles.get(("query", name), DEFAULT_STYLES["query"])
        pairs += query_pairs(name, value, style, explode, reserved)
    return target + ("?" + "&".join(pairs) if pairs else "")


def header_text(styles: Mapping[tuple[str, str], Style], name: str, value: Any) -> str:
    """One header parameter's value, with its document's `explode`."""
    return header_value(value, styles.get(("header", name), DEFAULT_STYLES["header"])[1])


def cookie_header(styles: Mapping[tuple[str, str], Style], values: Mapping[str, Any]) -> str:
    """Cookie parameters as one Cookie header value."""
    pairs: list[str] = []
    for name, value in values.items():
        if value is not None:
            pairs += cookie_pairs(name, value, styles.get(("cookie", name), DEFAULT_STYLES["cookie"])[1])
    return "; ".join(pairs)


# (method, path) → {(location, name): style} for each parameter whose serialisation is not the
# default: empty here; each generated package's copy holds its document's (empty when all are default).
STYLES: StyleTable = {}
