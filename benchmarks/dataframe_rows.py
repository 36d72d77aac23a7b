"""`make bench` row 9: hydra's Parquet vs paging the Tabular API, on a 1,000,000-row resource.

Set-up (once per bench run, ~1-2 min): the Tabular peer's PostgreSQL gets one more resource table,
`t_million` (8 columns: ints, text, floats, dates, booleans; generated in SQL), with its
`tables_index` profile; hydra's own `db_to_parquet` (.peers/hydra) converts it as production does
(one row group per 50,000 rows, zstd); `tests/peers/range_server.py` serves the file (Range, bytes
counted); the real api_tabular app serves the table. The Main API lookup of the resource's extras
is answered by a one-route loopback stub (the udata peer is not needed to measure the data path).

Rows:
- bytes transferred by a column-pruned (2 of 8 columns), filtered (10,000 rows) Parquet read, as a
  share of the file — server-counted (target < 25 %);
- that read (`to_arrow(source="parquet")`, median) vs the same rows paged from the API
  (`to_arrow(source="api")`: the peer's export cap is 500 rows, so it pages, 50 rows a request;
  one run: it takes tens of seconds) — target >= 5x faster; both give the same rows;
- peak RSS of `export_parquet` of the whole file (all rows, all columns) from the Parquet copy, in
  its own process (GNU time) — target < 150 MiB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness import ROOT, VENV_PY, Row, child_peak_rss_mib, median_seconds

sys.path.insert(0, ROOT)

RID = "bbbbbbbb-0001-4bbb-8222-cccccccccccc"
TABLE = "t_million_0100"
ROWS = 1_000_000
COLUMNS = {
    "n": ("int", "integer"),
    "code": ("string", "character varying"),
    "label": ("string", "character varying"),
    "amount": ("float", "double precision"),
    "ratio": ("float", "double precision"),
    "day": ("date", "date"),
    "flag": ("bool", "boolean"),
    "category": ("string", "character varying"),
}
WINDOW = (500_001, 510_000)  # 10,000 rows, inside one of hydra's 50,000-row groups


def _seed_sql() -> str:
    columns = ", ".join(f'"{c}" {pg}' for c, (_, pg) in COLUMNS.items())
    profile = {
        "header": list(COLUMNS),
        "columns": {c: {"python_type": t, "format": t, "score": 1.0} for c, (t, _) in COLUMNS.items()},
        "total_lines": ROWS,
        "separator": ",",
        "encoding": "UTF-8",
    }
    return f"""
SET search_path TO csvapi;
CREATE TABLE {TABLE} (__id serial PRIMARY KEY, {columns});
INSERT INTO {TABLE} (n, code, label, amount, ratio, day, flag, category)
SELECT g, lpad((g % 100000)::text, 5, '0'), 'label number ' || g, (g::bigint * 7919 % 1000003) / 100.0,
       (g % 1000) / 1000.0, date '2000-01-01' + (g % 9000), g % 3 = 0,
       (ARRAY['north', 'south', 'east', 'west'])[1 + g % 4]
FROM generate_series(1, {ROWS}) AS g;
INSERT INTO tables_index (parsing_table, csv_detective, resource_id, url, created_at, dataset_id)
VALUES ('{TABLE}', '{json.dumps(profile)}', '{RID}', 'https://static.data.gouv.fr/million.csv',
        '2024-06-01T00:00:00+00:00', '5d0b7a5e8b4c41597a1b2c99');
"""


def _main_stub(parquet_url: str, parquet_size: int) -> Any:
    """A loopback server answering ``GET /api/2/datasets/resources/{RID}/``: the resource with
    hydra's extras (all the SDK asks the Main API for)."""
    from tests._http_server import LoopbackHandler, LoopbackServer, Received

    class MainStub(LoopbackHandler):
        def respond(self, request: Received) -> None:
            if request.route.rstrip("/") != f"/api/2/datasets/resources/{RID}":
                self.send_json({"message": "Not Found"}, status=404)
                return
            extras = {
                "analysis:parsing:parquet_url": parquet_url,
                "analysis:parsing:parquet_size": parquet_size,
            }
            resource = {"id": RID, "format": "csv", "extras": extras}
            self.send_json({"resource": resource, "dataset_id": "5d0b7a5e8b4c41597a1b2c99"})

    return LoopbackServer(MainStub, max_lifetime=3600)


@contextmanager
def _million() -> Iterator[tuple[str, str, Path, object]]:
    """(main stub URL, tabular URL, Parquet path, range server) for the 1M-row resource."""
    from tests.peers.analysis_fixtures import run_hydra
    from tests.peers.range_server import RangeServer
    from tests.peers.tabular.launcher import TabularStack, find_pg_bin

    stack = TabularStack()
    folder = Path(tempfile.mkdtemp(prefix="dgv-bench-parquet-"))
    try:
        stack.start_database()
        sql = folder / "million.sql"
        sql.write_text(_seed_sql())
        subprocess.run(
            [str(find_pg_bin() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
             "-p", str(stack.pg_port), "-U", "postgres", "-d", "postgres", "-f", str(sql)],
            check=True, capture_output=True, timeout=600,
        )  # fmt: skip
        index = run_hydra(
            f"postgres://postgres@127.0.0.1:{stack.pg_port}/postgres", folder, only=[RID], timeout=1200
        )
        tabular_url = stack.start_app("tabular")
        with RangeServer(folder) as files:
            parquet = folder / index[RID]["parquet"]
            with _main_stub(files.url_for(parquet.name), parquet.stat().st_size) as stub:
                yield stub.origin, tabular_url, parquet, files
    finally:
        stack.stop()
        for item in folder.iterdir():
            item.unlink()
        folder.rmdir()


_EXPORT = """
import sys
from datagouv_sdk import DataGouv
from datagouv_sdk.tabular import TabularResource
main, tabular, rid, out = sys.argv[1:5]
with DataGouv(base_url=main, tabular_url=tabular) as dg:
    done = TabularResource(dg, rid).export_parquet(out, source="parquet")
    assert done.rows == int(sys.argv[5]), done
"""


def bench_parquet(runs: int) -> list[Row]:
    from datagouv_sdk import DataGouv
    from datagouv_sdk.query import Query, col
    from datagouv_sdk.tabular import TabularResource

    started = time.perf_counter()
    with _million() as (main_url, tabular_url, parquet, files):
        setup = time.perf_counter() - started
        size = parquet.stat().st_size
        query = Query().filter(col("n") >= WINDOW[0], col("n") <= WINDOW[1]).columns("n", "amount")
        with DataGouv(base_url=main_url, tabular_url=tabular_url) as dg:
            resource = TabularResource(dg, RID)
            resource.schema()  # profile cached: both sides start from the same point
            files.reset()  # type: ignore[attr-defined]
            from_parquet = resource.to_arrow(query, source="parquet")
            sent = files.bytes_sent(parquet.name)  # type: ignore[attr-defined]
            parquet_s = median_seconds(lambda: resource.to_arrow(query, source="parquet"), runs)
            start = time.perf_counter()
            from_api = resource.to_arrow(query, source="api")
            api_s = time.perf_counter() - start
        same = (
            from_api.equals(from_parquet, check_metadata=False)
            and from_api.num_rows == WINDOW[1] - WINDOW[0] + 1
        )
        with tempfile.TemporaryDirectory(prefix="dgv-bench-export-") as tmp:
            out = os.path.join(tmp, "million.parquet")
            export_s, rss = child_peak_rss_mib(
                [VENV_PY, "-c", _EXPORT, main_url, tabular_url, RID, out, str(ROWS)]
            )
    note = "" if same else "the two reads differ"
    mib = size / 1024 / 1024
    return [
        Row(
            f"9. 1M rows ({mib:.0f} MiB Parquet): bytes read, 2/8 cols, 10k rows (% file)",
            100.0 * sent / size,
            100.0,
            "%",
            "abs_lt",
            25.0,
            note,
        ),
        Row(
            "9. same rows: Parquet read vs paging the API, speed-up",
            parquet_s,
            api_s,
            "s",
            "ge",
            5.0,
            note,
        ),
        Row(
            f"9. export_parquet of all 1M rows from the Parquet: peak RSS ({export_s:.1f} s)",
            rss,
            150.0,
            "MiB",
            "abs_lt",
            150.0,
        ),
        Row("9. set-up: 1M rows in PostgreSQL + hydra's conversion (wall)", setup, setup, "s", "info", 0.0),
    ]
