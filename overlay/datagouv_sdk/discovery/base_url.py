"""Where a discovered API's operations are called, chosen so that a third party cannot turn it
against the user.

Candidates, in order: the caller's `base_url=` (always wins); the document's servers (OpenAPI 3
`servers`, each in turn, variables set to their defaults, a relative URL — "/" included — resolved
against the document's own URL as the specification says; Swagger 2.0 host/basePath/schemes); the
catalog's `base_api_url`. The first candidate whose host is public (discovery.urls.host_kind) is
chosen. A placeholder (`IP-GATEWAY`, `to-be-defined`, example domains), an unresolved `{variable}`,
a loopback, private or link-local address is never chosen over a public candidate; when nothing else
is there it is kept, marked not callable (`public=False`), and calls refuse it unless the caller
allows private hosts. `reason` says what was chosen and why the others were not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

import attrs
import httpx

from datagouv_sdk.discovery.urls import host_kind

__all__ = ["BaseURL", "choose_base_url"]

Source = Literal["servers", "host", "base_api_url", "override", "none"]
_VARIABLE = re.compile(r"\{[^}]*\}")


@attrs.frozen
class BaseURL:
    url: str  # "" when there is none (source "none"): listing works, calling needs base_url=
    # servers: the document's `servers` (OpenAPI 3); host: its host/basePath/schemes (Swagger 2.0);
    # base_api_url: the catalog's; override: the caller's base_url=; none: nothing usable
    source: Source
    reason: str = ""  # why this one: the candidates set aside, and why
    public: bool = True  # False: a placeholder, private or loopback host (or none): calls refuse it
    rejected: tuple[tuple[str, str], ...] = ()  # (candidate, why not)

    def __str__(self) -> str:
        return self.url


def choose_base_url(
    original: Mapping[str, Any],
    spec: Mapping[str, Any],
    *,
    document_url: str | None,
    base_api_url: str | None,
    override: str | None = None,
) -> BaseURL:
    """The URL operations are called at; see the module's docstring for the rules."""
    if override:
        return BaseURL(override, "override", "given by the caller (base_url=)")
    candidates: list[tuple[str, str | None, Source]] = []  # (as written, absolute URL or None, source)
    if original.get("swagger") is not None:
        candidates.append(_swagger2_base(original, document_url))
    else:
        servers = spec.get("servers")
        for server in servers if isinstance(servers, list) else ():
            if isinstance(server, Mapping) and isinstance(server.get("url"), str):
                written = str(server["url"])
                candidates.append((written, _absolute(_with_defaults(server), document_url), "servers"))
    if base_api_url:
        candidates.append((base_api_url, base_api_url, "base_api_url"))
    rejected: list[tuple[str, str]] = []
    for written, url, source in candidates:
        why = _problem(url) if url is not None else "relative, and the document's URL is unknown"
        if not why:
            return BaseURL(url or "", source, _reason(source, rejected), True, tuple(rejected))
        rejected.append((url or written, why))
    # Nothing public: the first absolute URL is kept, not callable unless the caller allows it.
    for (_written, url, source), (_shown, why) in zip(candidates, rejected, strict=True):
        if url is not None:
            fixable = why.endswith(" host")  # a real host, not public: the caller may allow it
            hint = "pass base_url=, or allow_private_hosts=True to call it" if fixable else "pass base_url="
            return BaseURL(url, source, f"no public server ({url}: {why}); {hint}", False, tuple(rejected))
    detail = "; ".join(f"{u}: {w}" for u, w in rejected) or "the document names no server"
    return BaseURL("", "none", f"{detail}; pass base_url= to call this API", False, tuple(rejected))


def _reason(source: Source, rejected: list[tuple[str, str]]) -> str:
    chosen = {
        "servers": "the document's server",
        "host": "the document's host and basePath",
        "base_api_url": "the catalog's base_api_url",
    }[source]
    if not rejected:
        return chosen
    return chosen + ", not " + "; ".join(f"{url} ({why})" for url, why in rejected)


def _problem(url: str) -> str:
    """Why `url` may not be chosen, or "" when it is a public http(s) URL."""
    variable = _VARIABLE.search(url)
    if variable:
        return f"unresolved variable {variable.group(0)}"
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "not a valid URL"
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return "not an absolute http(s) URL"
    kind = host_kind(parsed.host)
    return "" if kind == "public" else f"{kind} host"


def _with_defaults(server: Mapping[str, Any]) -> str:
    url = str(server["url"]).strip()
    variables = server.get("variables")
    if isinstance(variables, Mapping):
        for name, var in variables.items():
            if isinstance(var, Mapping) and "default" in var:
                url = url.replace("{" + str(name) + "}", str(var["default"]))
    return url


def _absolute(url: str, document_url: str | None) -> str | None:
    """A server URL made absolute: OAS says a relative one is relative to the document's URL."""
    if _VARIABLE.search(url):
        return url  # kept as written: _problem names the variable
    try:
        if httpx.URL(url).is_absolute_url:
            return url
        if not document_url:
            return None
        return str(httpx.URL(document_url).join(url))
    except (httpx.InvalidURL, TypeError):
        return url  # kept as written: _problem says why it cannot be used


def _swagger2_base(doc: Mapping[str, Any], document_url: str | None) -> tuple[str, str | None, Source]:
    base_path = str(doc.get("basePath") or "")
    if base_path and not base_path.startswith("/"):
        base_path = "/" + base_path
    host = doc.get("host")
    if host:
        schemes = [s for s in doc.get("schemes") or () if s in ("https", "http")]
        if not schemes and document_url:
            schemes = [httpx.URL(document_url).scheme]
        scheme = "https" if "https" in schemes or not schemes else schemes[0]
        url = f"{scheme}://{host}{base_path.rstrip('/')}"
        return url, url, "host"
    # No host: the host serving the document (Swagger 2.0 says so), with basePath.
    return base_path or "/", _absolute(base_path or "/", document_url), "host"
