"""Read a spec document to diff: a file or an http(s) URL, JSON or YAML, Swagger 2.0 or OpenAPI 3.x.

`spec_client`, `get_document` and `parse_document` are also how the live check and the maintainer
pipeline (tools/specpipeline) read specs: one HTTP path (the SDK's transport, with its retry policy),
one guarded YAML loader (discovery.documents'), one size cap. Every document then goes through the
pipeline's own steps (codegen.normalise, codegen.swagger2.convert), so the diff sees exactly what
generation sees before our patches. Swagger 2.0 component names are sanitised by the conversion (`Dataset (read)` →
`Dataset_read`); `SpecDocument.schema_names` maps them back so reports name upstream's schemas
verbatim.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import httpx

from datagouv_sdk.codegen.errors import SpecFetchError, SpecInvalidError
from datagouv_sdk.codegen.normalise import normalise, sha256_hex
from datagouv_sdk.codegen.swagger2 import component_names, convert, is_swagger2
from datagouv_sdk.config import DEFAULT_USER_AGENT
from datagouv_sdk.drift.changes import ApiDiff
from datagouv_sdk.drift.compare import diff_documents
from datagouv_sdk.errors import APIConnectionError, DataGouvError, ResponseDecodeError
from datagouv_sdk.retry import RetryPolicy
from datagouv_sdk.transport import DataGouvTransport

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_DOCUMENT_BYTES",
    "SpecDocument",
    "diff_specs",
    "get_document",
    "parse_document",
    "prepare",
    "read_location",
    "spec_client",
]

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# The Main spec is ~0.5 MB; anything far larger is not a spec.
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024


@attrs.frozen
class SpecDocument:
    """One spec, ready to diff."""

    origin: str  # file path or URL, for messages
    upstream: dict[str, Any]  # normalised upstream document (what the lock hashes)
    openapi: dict[str, Any]  # OpenAPI 3 form (converted when upstream is Swagger 2.0)
    schema_names: dict[str, str]  # OpenAPI 3 component name -> upstream name
    sha256: str  # of the normalised upstream document, as in specs/lock.json

    @property
    def version(self) -> str | None:
        version = (self.upstream.get("info") or {}).get("version")
        return None if version is None else str(version)


def spec_client(
    purpose: str,
    *,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] | None = None,
    inner: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """The httpx client that reads spec documents: the SDK's transport (retries by `retry`, default
    `RetryPolicy()`; a user agent naming the purpose), redirects followed. It never carries an API key
    (no auth host is configured): specs are public."""
    transport = DataGouvTransport(
        inner, retry=retry, user_agent=f"{DEFAULT_USER_AGENT} ({purpose})", sleep=sleep
    )
    return httpx.Client(transport=transport, timeout=timeout, follow_redirects=True)


def get_document(url: str, *, client: httpx.Client | None = None) -> bytes:
    """The body at `url` (retried by the client's policy). SpecFetchError naming the URL when it cannot
    be had: no response, an HTTP error status (after the retries it allows), a body over the cap."""
    own = client is None
    http = client or spec_client("spec diff")
    try:
        response = http.get(url)
    except (httpx.HTTPError, APIConnectionError, ResponseDecodeError) as exc:
        cause = exc.__cause__ if isinstance(exc, DataGouvError) and exc.__cause__ is not None else exc
        detail = str(exc) if isinstance(exc, DataGouvError) else f"GET {url} failed: {exc}"
        raise SpecFetchError(f"{type(cause).__name__}: {detail}") from exc
    finally:
        if own:
            http.close()
    if response.status_code >= 400:
        raise SpecFetchError(f"GET {url} answered HTTP {response.status_code}", status=response.status_code)
    if len(response.content) > MAX_DOCUMENT_BYTES:
        raise SpecFetchError(f"GET {url}: body larger than {MAX_DOCUMENT_BYTES} bytes")
    return response.content


def parse_document(data: bytes, *, origin: str) -> dict[str, Any]:
    """JSON (when it looks like JSON) or guarded YAML; must be a mapping. `origin` names it in errors.

    YAML goes through discovery.documents.load_yaml (depth and alias-expansion limits; dates stay the
    strings they were written as). Keys stay as YAML typed them (`200:` is an int): normalise() turns
    them into strings and refuses a document where two keys collide that way.
    """
    if len(data) > MAX_DOCUMENT_BYTES:
        raise SpecInvalidError(f"{origin}: document larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecInvalidError(f"{origin}: not UTF-8 ({exc})") from exc
    json_error: ValueError | RecursionError | None = None
    if text.lstrip().startswith(("{", "[")):
        try:
            return _mapping(json.loads(text), origin)
        except (ValueError, RecursionError) as exc:
            json_error = exc  # flow-style YAML also starts with "{": try YAML before giving up
    # Imported here: JSON documents (the Main API's) never need it.
    from datagouv_sdk.discovery.documents import load_yaml
    from datagouv_sdk.discovery.errors import DocumentError

    try:
        doc = load_yaml(text)
    except DocumentError as exc:
        if json_error is not None:
            raise SpecInvalidError(f"{origin}: invalid JSON: {json_error}") from json_error
        raise SpecInvalidError(f"{origin}: invalid YAML: {exc}") from exc
    return _mapping(doc, origin)


def read_location(location: str, *, client: httpx.Client | None = None) -> dict[str, Any]:
    """Parse the document at a file path or an http(s) URL. SpecFetchError when it cannot be read."""
    if location.startswith(("http://", "https://")):
        return parse_document(get_document(location, client=client), origin=location)
    path = Path(location)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SpecFetchError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return parse_document(data, origin=str(path))


def prepare(doc: dict[str, Any], *, origin: str) -> SpecDocument:
    """Normalise, then convert Swagger 2.0 to OpenAPI 3. SpecInvalidError for anything else."""
    upstream = normalise(doc)
    if is_swagger2(upstream):
        definitions = upstream.get("definitions") or {}
        names = component_names(definitions) if isinstance(definitions, dict) else {}
        renamed = {new: old for old, new in names.items()}
        return SpecDocument(origin, upstream, convert(upstream), renamed, sha256_hex(upstream))
    version = upstream.get("openapi")
    if not (isinstance(version, str) and version.startswith("3.")):
        declared = upstream.get("openapi") or upstream.get("swagger") or "no swagger/openapi field"
        raise SpecInvalidError(f"{origin}: not a Swagger 2.0 or OpenAPI 3 document ({declared!r})")
    schemas = (upstream.get("components") or {}).get("schemas") or {}
    return SpecDocument(origin, upstream, upstream, {name: name for name in schemas}, sha256_hex(upstream))


def diff_specs(old: SpecDocument, new: SpecDocument) -> ApiDiff:
    return diff_documents(old.openapi, new.openapi, old_names=old.schema_names, new_names=new.schema_names)


def _mapping(doc: Any, origin: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise SpecInvalidError(f"{origin}: expected a mapping at the top level, got {type(doc).__name__}")
    return doc
