"""Produce the Parquet copies of the Tabular peer's resources with hydra's own code; runs in .peers/hydra.

Production: udata-hydra loads a CSV into PostgreSQL (the table api_tabular serves), then
`udata_hydra.data_formats.table.to_parquet.db_to_parquet` reads that table back and writes
``<resource_id>.parquet`` (pyarrow ParquetWriter, zstd, one row group per 50,000-row batch, column
types from the csv_detective profile, the profile in the file's metadata), uploads it and publishes
``analysis:parsing:parquet_url`` / ``parquet_size`` in the resource's extras. Here the same function
runs, unchanged, against the peer's PostgreSQL (hydra's configuration pointed at it); only the upload
is replaced by the output folder, which a local HTTP server then serves.

Beside each Parquet file it writes the "source" CSV (the original file of the resource, as the
Main API's ``url`` points at it) with PostgreSQL's COPY, and ``index.json``:
``{resource_id: {"parquet": name, "parquet_size": n, "csv": name, "csv_size": n, "table": ...,
"rows": n, "columns": {name: python_type}}}``.

    .peers/hydra/bin/python tests/peers/hydra/convert.py --dsn postgres://... --schema csvapi --out DIR
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path


async def convert(dsn: str, schema: str, out: Path, only: list[str]) -> dict[str, dict[str, object]]:
    from udata_hydra import config

    # hydra reads its settings at import time from config_default.toml (+ HYDRA_SETTINGS); the
    # conversion needs only these.
    config.override(
        DATABASE_URL_CSV=dsn,
        DATABASE_SCHEMA=schema,
        TEMPORARY_DOWNLOAD_FOLDER=str(out),
        DB_TO_PARQUET=True,
        TESTING=True,
    )
    from udata_hydra import context
    from udata_hydra.data_formats.table import Table

    pool = await context.pool("csv")
    entries = await pool.fetch(
        "SELECT DISTINCT ON (parsing_table) parsing_table, resource_id, dataset_id, csv_detective "
        "FROM tables_index WHERE deleted_at IS NULL ORDER BY parsing_table, created_at DESC"
    )
    index: dict[str, dict[str, object]] = {}
    for entry in entries:
        rid = str(entry["resource_id"])
        if only and rid not in only:
            continue
        inspection = json.loads(entry["csv_detective"])
        table = Table(
            table_name=entry["parsing_table"],
            inspection=inspection,
            resource_id=rid,
            dataset_id=entry["dataset_id"],
        )
        parquet = await table.to_parquet()
        if parquet is None:
            raise RuntimeError(f"hydra produced no Parquet for {rid} (DB_TO_PARQUET off?)")
        columns = list(inspection["columns"])
        csv_name = f"{rid}.csv"
        quoted = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
        async with pool.acquire() as conn:
            await conn.copy_from_query(
                f'SELECT {quoted} FROM "{entry["parsing_table"]}" ORDER BY __id',
                output=str(out / csv_name),
                format="csv",
                header=True,
            )
            rows = await conn.fetchval(f'SELECT count(*) FROM "{entry["parsing_table"]}"')
        index[rid] = {
            "parquet": parquet.file_name,
            "parquet_size": (out / parquet.file_name).stat().st_size,
            "csv": csv_name,
            "csv_size": (out / csv_name).stat().st_size,
            "table": entry["parsing_table"],
            "rows": rows,
            "columns": {c: inspection["columns"][c]["python_type"] for c in columns},
        }
    await pool.close()
    return index


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", required=True, help="postgres://user@host:port/db of the peer")
    parser.add_argument("--schema", default="csvapi")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--only", action="append", default=[], help="resource ids (default: all)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    index = asyncio.run(convert(args.dsn, args.schema, args.out.resolve(), args.only))
    (args.out / "index.json").write_text(json.dumps(index, indent=2, sort_keys=True))
    print(json.dumps({"converted": len(index)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
