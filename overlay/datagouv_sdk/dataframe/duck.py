"""A Tabular resource as a DuckDB view: hydra's Parquet read in place, or the API's rows.

    con = to_duckdb(resource, name="trees")          # a duckdb connection (new, or the one given)
    con.sql("SELECT genre, count(*) FROM trees GROUP BY ALL").fetchall()

`via`:

- ``"httpfs"``: DuckDB's own ``read_parquet(url)`` over its httpfs extension (range reads, DuckDB's
  pushdown). DuckDB downloads that extension from its servers at run time (``INSTALL httpfs``), so
  this works only where the extension is installed or DuckDB may fetch it.
- ``"arrow"``: a ``pyarrow.dataset`` over the SDK's Range reader (`http_file.HttpFileSystem`),
  registered in DuckDB, which pushes its projections and filters into the dataset scan: only the
  needed column chunks of the row groups that can match are fetched. Needs no extension; the view
  reads through the SDK client, so it works while that client is open.
- ``"api"``: the API's rows (`sources.to_arrow(source="api")`), registered as an Arrow table (read
  once, held in memory).
- ``"auto"`` (default): ``httpfs`` if DuckDB can load it, else ``arrow``, when the resource has a
  Parquet copy; ``api`` otherwise.

The view's columns are the profile's, in the CSV's order (hydra's ``datetime`` columns are dates:
see `pushdown`). `register` returns a `DuckView` (connection, name, the ``via`` chosen, the URL).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import attrs

from datagouv_sdk import errors
from datagouv_sdk.dataframe._optional import require
from datagouv_sdk.dataframe.http_file import HttpFileSystem
from datagouv_sdk.dataframe.sources import parquet_location, to_arrow

if TYPE_CHECKING:
    from datagouv_sdk.tabular import TabularResource

__all__ = ["DuckVia", "DuckView", "httpfs_available", "register"]

DuckVia = Literal["auto", "httpfs", "arrow", "api"]


@attrs.frozen
class DuckView:
    connection: Any  # duckdb.DuckDBPyConnection
    name: str
    via: str  # "httpfs", "arrow" or "api"
    url: str | None  # the Parquet file, when read in place


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def httpfs_available(con: Any) -> bool:
    """Whether DuckDB can load its httpfs extension here (installed, or autoloadable)."""
    duckdb = require("duckdb")
    try:
        con.execute("LOAD httpfs")
        return True
    except duckdb.Error:
        return False


def register(
    resource: TabularResource, con: Any = None, name: str = "resource", *, via: DuckVia = "auto"
) -> DuckView:
    """Register `resource` in DuckDB as view `name` (see the module docstring)."""
    duckdb = require("duckdb", what="to_duckdb()")
    if via not in ("auto", "httpfs", "arrow", "api"):
        raise errors.UsageError(f"via must be 'auto', 'httpfs', 'arrow' or 'api', got {via!r}")
    if not name or not isinstance(name, str):
        raise errors.UsageError(f"a view name must be a non-empty string, got {name!r}")
    con = con if con is not None else duckdb.connect()
    location = None if via == "api" else parquet_location(resource._dg, resource.resource_id)
    if location is None and via in ("httpfs", "arrow"):
        raise errors.UsageError(
            f"resource {resource.resource_id} has no Parquet copy to read in place: use via='api'"
        )
    columns = [c for c in resource.schema().columns if c != "__id"]
    select = ", ".join(_ident(c) for c in columns)
    if location is not None and via in ("auto", "httpfs") and (via == "httpfs" or httpfs_available(con)):
        if via == "httpfs" and not httpfs_available(con):
            raise errors.UsageError(
                "DuckDB's httpfs extension cannot be loaded here (DuckDB downloads it at run time: "
                "INSTALL httpfs needs its servers); use via='arrow', which needs no extension"
            )
        con.execute(
            f"CREATE OR REPLACE VIEW {_ident(name)} AS SELECT {select} FROM read_parquet({_literal(location.url)})"
        )
        return DuckView(con, name, "httpfs", location.url)
    if location is not None:
        ds = require("pyarrow.dataset")
        files = HttpFileSystem(resource._dg.http("main"))
        dataset = ds.dataset(location.url, filesystem=files.pyarrow, format="parquet")
        source = f"{name}__parquet"
        con.register(source, dataset)
        con.execute(f"CREATE OR REPLACE VIEW {_ident(name)} AS SELECT {select} FROM {_ident(source)}")
        return DuckView(con, name, "arrow", location.url)
    table = to_arrow(resource, source="api")
    source = f"{name}__api"
    con.register(source, table)
    con.execute(f"CREATE OR REPLACE VIEW {_ident(name)} AS SELECT * FROM {_ident(source)}")
    return DuckView(con, name, "api", None)
