"""A typed client package for a discovered API, made by the same pipeline as the SDK's own packages:
(Swagger 2.0 → OpenAPI 3 by our converter, done when the document was loaded) → openapi-python-client
(pinned, run by `codegen.generate`), into a folder the user chooses."""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from datagouv_sdk.discovery.documents import OpenAPIDocument
from datagouv_sdk.errors import UsageError

__all__ = ["generate_package", "package_name_for"]

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def package_name_for(title: str) -> str:
    """A Python package name from a dataservice's slug or title: "API Adresse (BAN)" → "api_adresse_ban"."""
    name = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_") or "dataservice"
    if name[0].isdigit() or keyword.iskeyword(name):
        name = "api_" + name
    return name[:60].rstrip("_")


def generate_package(
    document: OpenAPIDocument, output_dir: Path, *, package: str, base_url: str | None = None
) -> Path:
    """Generate `package` into `output_dir/package` (replaced on success); returns that folder.

    `base_url`, when given, becomes the document's only server, so the generated client's docs and
    the caller agree on where it points (the client itself still takes base_url at construction).
    """
    if not _IDENTIFIER.match(package) or keyword.iskeyword(package):
        raise UsageError(f"{package!r} is not a valid Python package name (lower case letters, digits, _)")
    try:
        from datagouv_sdk.codegen.generate import document_stamp, generate_client, load_config
        from datagouv_sdk.codegen.normalise import normalise, sha256_hex
    except ImportError as exc:  # openapi-python-client and friends are the `codegen` extra
        raise UsageError(
            f"client generation needs the codegen extra (pip install 'datagouv-sdk[codegen]'): {exc}"
        ) from exc
    spec = normalise(document.spec)
    if base_url:
        spec["servers"] = [{"url": base_url}]
    info = spec.setdefault("info", {})
    info.setdefault("title", package)
    info.setdefault("version", "")
    result = generate_client(
        spec,
        package=package,
        output_dir=Path(output_dir) / package,
        config=load_config(None, package=package),
        stamp=document_stamp(
            package, spec, sha256_hex(normalise(document.original)), regenerate="`dgv dataservices generate`"
        ),
    )
    return result.output_dir
