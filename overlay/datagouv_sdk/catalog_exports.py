"""The whole catalog as tables: udata's daily CSV exports, kept in sync in a local DuckDB/Parquet store.

    with DataGouv() as dg:
        dg.catalog.download("datasets", "datasets.csv")              # one export, streamed
        report = dg.catalog.sync("catalog/")                         # every kind; unchanged ones skipped
        dg.catalog.sql("SELECT count(*) FROM resources", "catalog/") # [{"count_star()": 1234567}]

udata publishes every object kind once a day (its ``export-csv`` job): ``/api/1/site/{kind}.csv``
redirects (302) to that day's file, a resource of the "Catalogue des données de data.gouv.fr"
dataset; the files are ``;``-separated, UTF-8, quoted (udata's ``csv.get_writer``). ``tags.csv`` is
streamed by the API itself. `KINDS` lists the routes.

`sync(dir)` keeps ``dir/`` as: ``{kind}.csv`` (the files), ``catalog.duckdb`` (one table per kind,
named as the kind), ``parquet/{kind}.parquet`` (the same tables, for other engines) and
``catalog-state.json`` (per kind: the file URL, ETag, Last-Modified, sha256). A kind is not
downloaded again when the redirect points at the same file and the server answers 304 to a
conditional request, nor reloaded when the new bytes hash like the old ones. A gzip body
(``Content-Encoding`` or a ``.gz`` file) is decompressed while streaming. Downloads go to
``.part`` files renamed when complete, tables are replaced in one transaction: an interrupted sync
leaves the previous store usable.

DuckDB types each column from the file (numbers, booleans, timestamps); a file DuckDB cannot type
is loaded as text (``SyncedKind.as_text`` says why) rather than failing the whole sync.
Needs the `dataframe` extra (duckdb) for the store; `download` does not.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import zlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from datagouv_sdk import errors
from datagouv_sdk.transport import STREAM_EXTENSION

if TYPE_CHECKING:
    from datagouv_sdk.client import DataGouv

__all__ = [
    "KINDS",
    "CatalogExports",
    "CatalogProgress",
    "Downloaded",
    "SyncReport",
    "SyncedKind",
    "default_catalog_dir",
]

# /api/1/site/{kind}.csv routes of udata 17 (datasets, resources, organizations, reuses,
# dataservices, harvests redirect to the day's export; tags is streamed).
KINDS = ("datasets", "resources", "organizations", "reuses", "dataservices", "harvests", "tags")
STATE_FILE = "catalog-state.json"
DATABASE_FILE = "catalog.duckdb"
CHUNK = 1 << 16
# progress(kind, bytes_so_far, total_bytes_or_None)
CatalogProgress = Callable[[str, int, "int | None"], None]


def default_catalog_dir() -> Path:
    """``$DATAGOUV_CATALOG_DIR``, else ``$XDG_CACHE_HOME/datagouv-sdk/catalog`` (``~/.cache/...``)."""
    explicit = os.environ.get("DATAGOUV_CATALOG_DIR")
    if explicit:
        return Path(explicit)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "datagouv-sdk" / "catalog"


@attrs.frozen
class Downloaded:
    kind: str
    path: Path
    url: str  # the file the redirect pointed at
    bytes: int
    sha256: str
    etag: str | None
    last_modified: str | None
    changed: bool  # False: 304, or the same bytes as the previous file

    def state(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "etag": self.etag,
            "last_modified": self.last_modified,
            "sha256": self.sha256,
            "bytes": self.bytes,
        }


@attrs.frozen
class SyncedKind:
    kind: str
    downloaded: bool  # bytes were transferred
    loaded: bool  # the table was (re)built
    rows: int
    bytes: int
    as_text: str | None = None  # why the table was loaded with text columns only


@attrs.frozen
class SyncReport:
    directory: Path
    kinds: tuple[SyncedKind, ...]

    @property
    def database(self) -> Path:
        return self.directory / DATABASE_FILE


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise errors.UsageError(f"unknown catalog kind {kind!r}; kinds: {', '.join(KINDS)}")
    return kind


class _Gunzip:
    def __init__(self) -> None:
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, chunk: bytes) -> bytes:
        return self._inflate.decompress(chunk)

    def close(self) -> bytes:
        if not self._inflate.eof:
            raise errors.ResponseDecodeError("the gzip export ended early (truncated file)")
        return self._inflate.flush()


class CatalogExports:
    """`dg.catalog`: the daily catalog exports of the client's portal."""

    def __init__(self, dg: DataGouv) -> None:
        self._dg = dg

    # --- one file -------------------------------------------------------------------------------
    def export_url(self, kind: str) -> str:
        """Where ``/site/{kind}.csv`` points today (the API URL itself for kinds served directly)."""
        http = self._dg.http("main")
        response = http.get(f"site/{_check_kind(kind)}.csv", follow_redirects=False)
        if response.is_redirect:
            location = response.headers.get("Location", "")
            return str(response.request.url.join(location))
        errors.raise_for_status(response)
        return str(response.request.url)

    def download(
        self,
        kind: str,
        dest: str | os.PathLike[str],
        *,
        previous: dict[str, Any] | None = None,
        progress: CatalogProgress | None = None,
    ) -> Downloaded:
        """Stream the `kind` export into `dest` (``dest.part`` until complete). With `previous`
        (a `Downloaded.state()`), the request is conditional and a 304 leaves `dest` as it is."""
        path = Path(dest)
        url = self.export_url(kind)
        headers: dict[str, str] = {}
        if previous and previous.get("url") == url and path.is_file():
            if previous.get("etag"):
                headers["If-None-Match"] = str(previous["etag"])
            if previous.get("last_modified"):
                headers["If-Modified-Since"] = str(previous["last_modified"])
        http = self._dg.http("main")
        with http.stream("GET", url, headers=headers, extensions={STREAM_EXTENSION: True}) as response:
            if response.status_code == 304 and previous is not None:
                return Downloaded(
                    kind,
                    path,
                    url,
                    int(previous.get("bytes") or path.stat().st_size),
                    str(previous.get("sha256") or ""),
                    response.headers.get("ETag", previous.get("etag")),
                    response.headers.get("Last-Modified", previous.get("last_modified")),
                    changed=False,
                )
            if response.status_code >= 400:
                response.read()
                errors.raise_for_status(response)
            gzipped = url.split("?", 1)[0].endswith(".gz") or "gzip" in response.headers.get(
                "Content-Type", ""
            )
            total = response.headers.get("Content-Length")
            written, digest = self._write(
                response.iter_bytes(CHUNK),
                path,
                gunzip=_Gunzip() if gzipped else None,
                progress=(lambda n: progress(kind, n, int(total) if total and total.isdigit() else None))
                if progress
                else None,
            )
            return Downloaded(
                kind,
                path,
                url,
                written,
                digest,
                response.headers.get("ETag"),
                response.headers.get("Last-Modified"),
                changed=not previous or previous.get("sha256") != digest,
            )

    @staticmethod
    def _write(
        chunks: Iterable[bytes], path: Path, *, gunzip: _Gunzip | None, progress: Callable[[int], None] | None
    ) -> tuple[int, str]:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(path.name + ".part")
        digest = hashlib.sha256()
        written = received = 0
        try:
            with open(part, "wb") as out:
                for chunk in chunks:
                    received += len(chunk)
                    data = gunzip.feed(chunk) if gunzip else chunk
                    out.write(data)
                    digest.update(data)
                    written += len(data)
                    if progress:
                        progress(received)
                if gunzip:
                    rest = gunzip.close()
                    out.write(rest)
                    digest.update(rest)
                    written += len(rest)
            os.replace(part, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                part.unlink()
        return written, digest.hexdigest()

    # --- the store ------------------------------------------------------------------------------
    def sync(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        kinds: Sequence[str] = KINDS,
        force: bool = False,
        progress: CatalogProgress | None = None,
    ) -> SyncReport:
        """Download the exports that changed and (re)build their tables (see the module docstring)."""
        from datagouv_sdk.dataframe._optional import require

        duckdb = require("duckdb", what="the catalog store")
        folder = Path(directory) if directory is not None else default_catalog_dir()
        for kind in kinds:
            _check_kind(kind)
        folder.mkdir(parents=True, exist_ok=True)
        state_path = folder / STATE_FILE
        state: dict[str, Any] = json.loads(state_path.read_text()) if state_path.is_file() else {}
        done: list[SyncedKind] = []
        with duckdb.connect(str(folder / DATABASE_FILE)) as con:
            tables = {
                row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
            }
            for kind in kinds:
                previous = None if force else state.get(kind)
                got = self.download(kind, folder / f"{kind}.csv", previous=previous, progress=progress)
                state[kind] = got.state()
                as_text = None
                must_load = (
                    got.changed
                    or force
                    or kind not in tables
                    or not (folder / "parquet" / f"{kind}.parquet").is_file()
                )
                if must_load:
                    as_text = _load(con, kind, folder)
                rows = int(con.execute(f'SELECT count(*) FROM "{kind}"').fetchone()[0])
                done.append(
                    SyncedKind(kind, got.changed or previous is None, must_load, rows, got.bytes, as_text)
                )
                tmp = state_path.with_name(STATE_FILE + ".part")
                tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
                os.replace(tmp, state_path)
        return SyncReport(folder, tuple(done))

    def sql(self, query: str, directory: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
        """Rows of `query` over the store (read-only; one table per kind)."""
        return catalog_sql(query, directory)


def _load(con: Any, kind: str, folder: Path) -> str | None:
    """(Re)build table `kind` from its CSV, and its Parquet copy; returns why it went text-only."""
    from datagouv_sdk.dataframe._optional import require

    duckdb = require("duckdb")
    csv_path = str(folder / f"{kind}.csv")
    options = "delim=';', header=true, quote='\"', escape='\"', sample_size=-1"
    as_text = None
    con.execute("BEGIN TRANSACTION")
    try:
        try:
            con.execute(
                f'CREATE OR REPLACE TABLE "{kind}" AS SELECT * FROM read_csv(?, {options})', [csv_path]
            )
        except duckdb.Error as exc:
            as_text = f"typed load failed ({str(exc).splitlines()[0]}); columns kept as text"
            con.execute("ROLLBACK")
            con.execute("BEGIN TRANSACTION")
            con.execute(
                f'CREATE OR REPLACE TABLE "{kind}" AS SELECT * FROM read_csv(?, {options}, all_varchar=true)',
                [csv_path],
            )
        con.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(Exception):
            con.execute("ROLLBACK")
        raise
    parquet_dir = folder / "parquet"
    parquet_dir.mkdir(exist_ok=True)
    target = parquet_dir / f"{kind}.parquet"
    part = parquet_dir / f"{kind}.parquet.part"
    con.execute(f"COPY \"{kind}\" TO '{_sql_text(str(part))}' (FORMAT parquet, COMPRESSION zstd)")
    os.replace(part, target)
    return as_text


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def catalog_sql(query: str, directory: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """Run `query` on the catalog store in `directory` (default: `default_catalog_dir()`)."""
    from datagouv_sdk.dataframe._optional import require

    duckdb = require("duckdb", what="catalog SQL")
    folder = Path(directory) if directory is not None else default_catalog_dir()
    database = folder / DATABASE_FILE
    if not database.is_file():
        raise errors.UsageError(f"no catalog store in {folder}: run `dgv catalog sync {folder}` first")
    with duckdb.connect(str(database), read_only=True) as con:
        try:
            cursor = con.execute(query)
        except duckdb.Error as exc:
            raise errors.UsageError(f"catalog SQL: {exc}") from exc
        if cursor.description is None:
            return []
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
