"""Run SQL on the Tabular peer's PostgreSQL (the database api_tabular reads), rows typed like ours.

psql's CSV output, with NULL printed as a marker (so NULL and "" stay apart), typed with the SDK's
`convert_value` after the seed's column types. The reference the API and Parquet reads are held to.
"""

from __future__ import annotations

import csv
import io
import subprocess
from typing import Any

from datagouv_sdk.dataframe.types import canonical_json
from datagouv_sdk.query.schema import convert_value

from tests.peers.tabular.launcher import TabularStack, find_pg_bin

NULL = "<<NULL>>"


def run_sql(stack: TabularStack, sql: str, types: dict[str, str]) -> list[dict[str, Any]]:
    """Rows of `sql` (schema csvapi on the search path); `types`: column → csv_detective type."""
    done = subprocess.run(
        [
            str(find_pg_bin() / "psql"),
            "-X",
            "-q",
            "--csv",
            "-P",
            f"null={NULL}",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            str(stack.pg_port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-c",
            f"SET search_path TO csvapi; {sql}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    reader = csv.DictReader(io.StringIO(done.stdout))
    rows = []
    for record in reader:
        row: dict[str, Any] = {}
        for name, text in record.items():
            python_type = types.get(name, "string")
            if text == NULL:
                row[name] = None
            elif python_type == "json":
                row[name] = canonical_json(text)
            elif python_type == "string":
                row[name] = text
            else:
                row[name] = convert_value(python_type, text, column=name)
        rows.append(row)
    return rows
