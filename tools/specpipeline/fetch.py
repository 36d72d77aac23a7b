"""Obtain a spec document: from its live URL (httpx, timeouts, retries) or from an offline mirror folder."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml

from datagouv_sdk._version import __version__
from datagouv_sdk.codegen.errors import SpecFetchError, SpecInvalidError
from datagouv_sdk.codegen.sources import Source

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_DOCUMENT_BYTES",
    "MIRROR_ENV",
    "fetch_document",
    "parse_document",
    "resolve_mirror",
    "spec_client",
]

MIRROR_ENV = "DATAGOUV_SPECS_MIRROR"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# The Main spec is ~0.5 MB; anything far larger is not a spec.
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def resolve_mirror(flag: str | os.PathLike[str] | None = None) -> Path | None:
    """The mirror folder to read from: the explicit flag, else $DATAGOUV_SPECS_MIRROR, else None (live)."""
    value = os.fspath(flag) if flag is not None else os.environ.get(MIRROR_ENV) or None
    return Path(value) if value else None


def fetch_document(
    source: Source,
    mirror: str | os.PathLike[str] | None = None,
    *,
    use_env: bool = True,
    client: httpx.Client | None = None,
    retries: int = 3,
    backoff: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """The parsed (not yet normalised) document of `source`.

    From `mirror`/<source.mirror> when a mirror folder is given (or, with `use_env`, when
    $DATAGOUV_SPECS_MIRROR is set); otherwise GET source.url, retrying connection errors, timeouts,
    429 and 5xx `retries` times with exponential backoff. Raises SpecFetchError naming the URL or file,
    SpecInvalidError when the bytes are not a JSON/YAML mapping.
    """
    folder = resolve_mirror(mirror) if (mirror is not None or use_env) else None
    if folder is not None:
        path = folder / source.mirror
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SpecFetchError(
                f"{source.name}: cannot read mirror file {path}: {exc.strerror or exc}"
            ) from exc
        return parse_document(data, origin=str(path))
    data = _get_with_retries(source, client=client, retries=retries, backoff=backoff, sleep=sleep)
    return parse_document(data, origin=source.url)


def spec_client(purpose: str, *, timeout: httpx.Timeout | float = DEFAULT_TIMEOUT) -> httpx.Client:
    """The httpx client that reads spec documents (fetch, diff, live check): sane timeouts, redirects
    followed, a user agent naming the purpose. Never carries an API key: specs are public."""
    return httpx.Client(
        timeout=timeout,
        follow_redirects=True,
        headers={"User-Agent": f"datagouv-sdk/{__version__} ({purpose})"},
    )


def _get_with_retries(
    source: Source,
    *,
    client: httpx.Client | None,
    retries: int,
    backoff: float,
    sleep: Callable[[float], None],
) -> bytes:
    own_client = client is None
    http = client or spec_client("spec fetcher")
    try:
        last = ""
        for attempt in range(retries + 1):
            if attempt:
                sleep(min(backoff * 2 ** (attempt - 1), 8.0))
            try:
                response = http.get(source.url)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                continue
            if response.status_code in _RETRY_STATUSES:
                last = f"HTTP {response.status_code}"
                continue
            if response.status_code >= 400:
                raise SpecFetchError(f"{source.name}: GET {source.url} answered HTTP {response.status_code}")
            if len(response.content) > MAX_DOCUMENT_BYTES:
                raise SpecFetchError(
                    f"{source.name}: GET {source.url}: body larger than {MAX_DOCUMENT_BYTES} bytes"
                )
            return response.content
        raise SpecFetchError(
            f"{source.name}: cannot fetch {source.url} after {retries + 1} attempts (last: {last}); "
            f"offline? set {MIRROR_ENV} to a folder holding {source.mirror}"
        )
    finally:
        if own_client:
            http.close()


class _SpecYamlLoader(yaml.SafeLoader):
    """SafeLoader without aliases (no billion-laughs expansion) and without timestamps (dates stay
    strings, as they would in JSON)."""

    yaml_implicit_resolvers = {  # noqa: RUF012 - PyYAML's class-level registry, a dict by contract
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.YAMLError(f"YAML aliases are not accepted in spec documents ({event.start_mark})")
        return super().compose_node(parent, index)


def parse_document(data: bytes, *, origin: str) -> dict[str, Any]:
    """JSON (when it looks like JSON) or guarded YAML; must be a mapping. `origin` names it in errors."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise SpecInvalidError(f"{origin}: document larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecInvalidError(f"{origin}: not UTF-8 ({exc})") from exc
    doc: Any
    json_error: ValueError | None = None
    if text.lstrip().startswith(("{", "[")):
        try:
            return _mapping(json.loads(text), origin)
        except ValueError as exc:
            json_error = exc  # flow-style YAML also starts with "{": try YAML before giving up
    try:
        doc = yaml.load(text, Loader=_SpecYamlLoader)
    except yaml.YAMLError as exc:
        if json_error is not None:
            raise SpecInvalidError(f"{origin}: invalid JSON: {json_error}") from json_error
        raise SpecInvalidError(f"{origin}: invalid YAML: {exc}") from exc
    return _mapping(doc, origin)


def _mapping(doc: Any, origin: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise SpecInvalidError(f"{origin}: expected a mapping at the top level, got {type(doc).__name__}")
    return doc
