"""Manifests: the files behind many resources, as JSON Lines an engine beyond one machine reads directly.

    entries = manifest_for_dataset(dg, "dataset-id-or-slug")
    entries = manifest_for_catalog(dg, "SELECT id FROM resources WHERE format = 'csv' AND filesize > 1e9")
    write_manifest(entries, "files.jsonl")
    urls = parquet_urls(read_manifest("files.jsonl"))      # for dask/spark/ray/duckdb

One line per resource: ``resource_id``, ``dataset_id``, ``title``, ``url`` (hydra's Parquet copy
when the resource has one, else the resource's own file), ``format`` (``parquet``, or the
resource's format), ``size`` (bytes of ``url``'s file when known), ``checksum`` (``"sha1:…"``:
of the resource's own file, so only when ``url`` is that file), ``last_modified`` (the resource's;
for Parquet, when hydra finished it), ``columns`` (``{name: csv_detective type}`` from the Tabular
API's profile; null when the API has none, or with ``columns=False``), and ``source_url`` /
``source_format`` (the resource's own file, always).

From a dataset: its resources that are tabular (a Parquet copy, or a csv/tsv/xls/xlsx/ods/parquet
format). From the catalog: the rows of a SQL query over the local catalog store
(`catalog_exports`, ``dgv catalog sync``) that returns a resource ``id`` column; the entries come
from the ``resources`` table (the day's export: no request per resource but the profiles).

No scheduler here: Dask, Spark, Ray and DuckDB read the URLs themselves (README "Data analysis").
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datagouv_sdk import errors

if TYPE_CHECKING:
    from datagouv_sdk.client import DataGouv

__all__ = [
    "TABULAR_FORMATS",
    "manifest_for_catalog",
    "manifest_for_dataset",
    "parquet_urls",
    "read_manifest",
    "write_manifest",
]

TABULAR_FORMATS = frozenset({"csv", "tsv", "xls", "xlsx", "ods", "parquet", "csv.gz"})
PARQUET_URL = "analysis:parsing:parquet_url"
PARQUET_SIZE = "analysis:parsing:parquet_size"
PARQUET_FINISHED = "analysis:parsing:finished_at"


def _extras(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str) and value.strip():
        with contextlib.suppress(ValueError):
            parsed = json.loads(value)
            if isinstance(parsed, dict):
                return parsed
    return {}


def _checksum(checksum_type: Any, value: Any) -> str | None:
    if not value:
        return None
    return f"{checksum_type or 'sha1'}:{value}"


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def entry(
    *,
    resource_id: str,
    dataset_id: str | None,
    title: str | None,
    url: str | None,
    format: str | None,
    filesize: Any,
    checksum: str | None,
    last_modified: Any,
    extras: Mapping[str, Any],
) -> dict[str, Any] | None:
    """One manifest line, or None for a resource that is not tabular."""
    fmt = (format or "").lower().strip() or None
    parquet = extras.get(PARQUET_URL)
    if isinstance(parquet, str) and parquet.startswith(("http://", "https://")):
        return {
            "resource_id": resource_id,
            "dataset_id": dataset_id,
            "title": title,
            "url": parquet,
            "format": "parquet",
            "size": _int(extras.get(PARQUET_SIZE)),
            "checksum": None,
            "last_modified": _text(extras.get(PARQUET_FINISHED)) or _text(last_modified),
            "columns": None,
            "source_url": url,
            "source_format": fmt,
        }
    if fmt not in TABULAR_FORMATS or not url:
        return None
    return {
        "resource_id": resource_id,
        "dataset_id": dataset_id,
        "title": title,
        "url": url,
        "format": fmt,
        "size": _int(filesize),
        "checksum": checksum,
        "last_modified": _text(last_modified),
        "columns": None,
        "source_url": url,
        "source_format": fmt,
    }


def _with_columns(dg: DataGouv, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from datagouv_sdk.query.schema import ResourceSchema
    from datagouv_sdk.tabular import TabularResource

    for item in entries:
        try:
            profile = TabularResource(dg, item["resource_id"]).profile()
            schema = ResourceSchema.from_profile(item["resource_id"], profile)
        except (errors.NotFoundError, errors.GoneError, errors.ResponseDecodeError):
            continue  # not in the Tabular API: no known columns
        item["columns"] = {n: c.python_type for n, c in schema.columns.items() if n != "__id"}
    return entries


def manifest_for_dataset(dg: DataGouv, dataset: str, *, columns: bool = True) -> list[dict[str, Any]]:
    """The tabular resources of `dataset` (an id or a slug), read from the Main API."""
    response = dg.http("main").get(f"datasets/{dataset}/")
    errors.raise_for_status(response)
    body = errors.decode_json(response)
    if not isinstance(body, Mapping) or not isinstance(body.get("resources"), list):
        raise errors.ResponseDecodeError(f"dataset {dataset}: no resources list in the answer")
    out = []
    for resource in body["resources"]:
        if not isinstance(resource, Mapping):
            continue
        checksum = resource.get("checksum") or {}
        item = entry(
            resource_id=str(resource.get("id")),
            dataset_id=str(body.get("id")),
            title=resource.get("title"),
            url=resource.get("url"),
            format=resource.get("format"),
            filesize=resource.get("filesize"),
            checksum=_checksum(checksum.get("type"), checksum.get("value"))
            if isinstance(checksum, Mapping)
            else None,
            last_modified=resource.get("last_modified"),
            extras=_extras(resource.get("extras")),
        )
        if item is not None:
            out.append(item)
    return _with_columns(dg, out) if columns else out


def manifest_for_catalog(
    dg: DataGouv, sql: str, directory: str | os.PathLike[str] | None = None, *, columns: bool = True
) -> list[dict[str, Any]]:
    """The resources whose ids `sql` returns (column ``id`` or ``resource_id``), from the local
    catalog store's ``resources`` table."""
    from datagouv_sdk.catalog_exports import catalog_sql

    picked = catalog_sql(sql, directory)
    if picked and not ({"id", "resource_id"} & set(picked[0])):
        raise errors.UsageError(
            f"the catalog query must return a resource id column named 'id' or 'resource_id'; it returned "
            f"{', '.join(picked[0])}"
        )
    ids = list(dict.fromkeys(str(row.get("resource_id", row.get("id"))) for row in picked))
    if not ids:
        return []
    rows = catalog_sql(
        'SELECT "dataset.id", "id", "title", "url", "format", "filesize", "checksum.type", "checksum.value", '
        '"modified", "extras" FROM resources WHERE CAST("id" AS VARCHAR) IN ('
        + ", ".join("'" + i.replace("'", "''") + "'" for i in ids)
        + ")",
        directory,
    )
    by_id = {str(r["id"]): r for r in rows}
    out = []
    for rid in ids:
        row = by_id.get(rid)
        if row is None:
            continue
        item = entry(
            resource_id=rid,
            dataset_id=_text(row.get("dataset.id")),
            title=row.get("title"),
            url=row.get("url"),
            format=row.get("format"),
            filesize=row.get("filesize"),
            checksum=_checksum(row.get("checksum.type"), row.get("checksum.value")),
            last_modified=row.get("modified"),
            extras=_extras(row.get("extras")),
        )
        if item is not None:
            out.append(item)
    return _with_columns(dg, out) if columns else out


def write_manifest(entries: Iterable[Mapping[str, Any]], dest: str | os.PathLike[str]) -> int:
    """JSON Lines to `dest` (``dest.part`` renamed when complete); returns the number of lines."""
    target = Path(dest)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    count = 0
    try:
        with open(part, "w", encoding="utf-8") as out:
            for item in entries:
                out.write(json.dumps(item, ensure_ascii=False, sort_keys=False) + "\n")
                count += 1
        os.replace(part, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
    return count


def read_manifest(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The entries of a manifest file."""
    return list(_lines(Path(path)))


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError as exc:
                raise errors.UsageError(f"{path}:{number}: not a JSON object: {exc}") from exc
            if not isinstance(item, dict) or "url" not in item:
                raise errors.UsageError(f"{path}:{number}: a manifest line needs a 'url'")
            yield item


def parquet_urls(entries: Iterable[Mapping[str, Any]]) -> list[str]:
    """The URLs of the entries that are Parquet files (what ``read_parquet`` takes)."""
    return [str(e["url"]) for e in entries if e.get("format") == "parquet"]
