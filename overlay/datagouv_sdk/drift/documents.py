"""Read a spec document to diff: a file or an http(s) URL, JSON or YAML, Swagger 2.0 or OpenAPI 3.x.

Every document goes through the pipeline's own steps (codegen.fetch.parse_document,
codegen.normalise, codegen.swagger2.convert), so the diff sees exactly what generation sees before
our patches. Swagger 2.0 component names are sanitised by the conversion (`Dataset (read)` →
`Dataset_read`); `SpecDocument.schema_names` maps them back so reports name upstream's schemas
verbatim.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import httpx

from datagouv_sdk.codegen.errors import SpecFetchError, SpecInvalidError
from datagouv_sdk.codegen.fetch import MAX_DOCUMENT_BYTES, parse_document, spec_client
from datagouv_sdk.codegen.normalise import normalise, sha256_hex
from datagouv_sdk.codegen.swagger2 import component_names, convert, is_swagger2
from datagouv_sdk.drift.changes import ApiDiff
from datagouv_sdk.drift.compare import diff_documents

__all__ = ["SpecDocument", "diff_specs", "prepare", "read_location"]


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


def read_location(location: str, *, client: httpx.Client | None = None) -> dict[str, Any]:
    """Parse the document at a file path or an http(s) URL. SpecFetchError when it cannot be read."""
    if location.startswith(("http://", "https://")):
        return parse_document(_get(location, client), origin=location)
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


def _get(url: str, client: httpx.Client | None) -> bytes:
    own = client is None
    http = client or spec_client("spec diff")
    try:
        response = http.get(url)
    except httpx.HTTPError as exc:
        raise SpecFetchError(f"GET {url} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        if own:
            http.close()
    if response.status_code >= 400:
        raise SpecFetchError(f"GET {url} answered HTTP {response.status_code}")
    if len(response.content) > MAX_DOCUMENT_BYTES:
        raise SpecFetchError(f"GET {url}: body larger than {MAX_DOCUMENT_BYTES} bytes")
    return response.content
