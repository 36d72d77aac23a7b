"""The APIs we generate clients for, as data (specs/sources.json). Adding an API = adding one entry."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal, cast

import attrs

from tools.specpipeline.errors import SourcesError
from tools.specpipeline.layout import RepoLayout, default_layout

__all__ = ["FORMATS", "Source", "SpecFormat", "load_sources", "select_sources"]

SpecFormat = Literal["swagger-2.0", "openapi-3.0"]
FORMATS: tuple[SpecFormat, ...] = ("swagger-2.0", "openapi-3.0")

_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
_PACKAGE = re.compile(r"^[a-z_][a-z0-9_]*$")
_FIELDS = {"name", "url", "format", "mirror", "package"}


@attrs.frozen
class Source:
    name: str  # "main", "main-v2", "metrics", "tabular": names the lock entry, patch and config files
    url: str  # live spec URL
    format: SpecFormat  # what upstream publishes; Swagger 2.0 is converted before generation
    mirror: str  # file name in an offline mirror directory (DATAGOUV_SPECS_MIRROR)
    package: str  # generated package (generated/<package>)


def load_sources(layout: RepoLayout | None = None) -> dict[str, Source]:
    """All sources keyed by name, in file order."""
    path = (layout or default_layout()).sources_path
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SourcesError(f"cannot read {path}: {exc}") from exc
    entries = raw.get("sources") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries:
        raise SourcesError(f'{path}: expected {{"sources": [ {{name, url, format, mirror, package}}, ... ]}}')
    sources: dict[str, Source] = {}
    for index, entry in enumerate(entries):
        source = _parse_entry(path, index, entry)
        if source.name in sources:
            raise SourcesError(f"{path}: sources[{index}]: duplicate name {source.name!r}")
        sources[source.name] = source
    return sources


def select_sources(names: list[str] | tuple[str, ...], layout: RepoLayout | None = None) -> list[Source]:
    """The named sources (all of them when `names` is empty); an unknown name is an error listing the known."""
    sources = load_sources(layout)
    if not names:
        return list(sources.values())
    unknown = [n for n in names if n not in sources]
    if unknown:
        raise SourcesError(f"unknown API {', '.join(unknown)}; known: {', '.join(sources)}")
    return [sources[n] for n in names]


def _parse_entry(path: Path, index: int, entry: Any) -> Source:
    where = f"{path}: sources[{index}]"
    if not isinstance(entry, dict):
        raise SourcesError(f"{where}: expected an object")
    missing = sorted(_FIELDS - entry.keys())
    extra = sorted(entry.keys() - _FIELDS)
    if missing or extra:
        raise SourcesError(f"{where}: missing fields {missing}, unknown fields {extra}")
    if not all(isinstance(entry[f], str) and entry[f] for f in _FIELDS):
        raise SourcesError(f"{where}: every field must be a non-empty string")
    if not _NAME.match(entry["name"]):
        raise SourcesError(f"{where}: name {entry['name']!r} must match {_NAME.pattern}")
    if not _PACKAGE.match(entry["package"]):
        raise SourcesError(f"{where}: package {entry['package']!r} is not a Python package name")
    if entry["format"] not in FORMATS:
        raise SourcesError(f"{where}: format {entry['format']!r} is not one of {', '.join(FORMATS)}")
    if not entry["url"].startswith(("https://", "http://")):
        raise SourcesError(f"{where}: url {entry['url']!r} is not an http(s) URL")
    if "/" in entry["mirror"] or entry["mirror"].startswith("."):
        raise SourcesError(f"{where}: mirror {entry['mirror']!r} must be a plain file name")
    return Source(
        name=entry["name"],
        url=entry["url"],
        format=cast(SpecFormat, entry["format"]),
        mirror=entry["mirror"],
        package=entry["package"],
    )
