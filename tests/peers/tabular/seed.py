"""The peer's database content, as SQL, and the facts tests assert against (ids, row counts).

Stdlib only: the fixtures import it from the project venv and feed `seed_sql()` to psql.
Tables follow what api_tabular reads: `csvapi.tables_index` (csv_detective profile in
`csv_detective`, soft deletion in `deleted_at`), `csvapi.resources_exceptions` (per-resource
indexes), `csvapi.migrations_csv` (pinged by /health/), one table per resource as udata-hydra
creates them (`__id` + typed columns), and the `metric` schema of the Metrics API (`site`,
`datasets`, … with `metric_month` and monthly counters). Data is deterministic (no randomness).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

TABULAR_SCHEMA = "csvapi"
METRICS_SCHEMA = "metric"

# name -> data.gouv.fr resource id
RESOURCES = {
    "typed": "aaaaaaaa-1111-4bbb-8222-cccccccccccc",  # every column type, with nulls
    "paged": "aaaaaaaa-2222-4bbb-8222-cccccccccccc",  # 137 rows: more than one page
    "big": "aaaaaaaa-3333-4bbb-8222-cccccccccccc",  # above the CSV export cap: export must page
    "aggregatable": "aaaaaaaa-4444-4bbb-8222-cccccccccccc",  # in ALLOW_AGGREGATION
    "indexed": "aaaaaaaa-5555-4bbb-8222-cccccccccccc",  # has table_indexes in resources_exceptions
    "deleted": "aaaaaaaa-6666-4bbb-8222-cccccccccccc",  # deleted_at set: 410
    "missing": "aaaaaaaa-7777-4bbb-8222-cccccccccccc",  # not in tables_index: 404
    "odd": "aaaaaaaa-8888-4bbb-8222-cccccccccccc",  # column names as real CSVs have them; aggregatable
    "large": "aaaaaaaa-9999-4bbb-8222-cccccccccccc",  # 10 000 rows (the pages-export benchmark)
}
DELETED_DATASET_ID = "5d0b7a5e8b4c41597a1b2c3d"
AGGREGATION_ALLOWED = [RESOURCES["aggregatable"], RESOURCES["odd"]]
INDEXES = {"indexed": {"code": "index", "label": "index"}}

PG_TYPES = {
    "string": "character varying",
    "int": "integer",
    "float": "double precision",
    "bool": "boolean",
    "date": "date",
    "datetime": "timestamp without time zone",
    "json": "json",
}


@dataclass(frozen=True)
class Table:
    name: str  # key in RESOURCES
    parsing_table: str
    columns: dict[str, str]  # column -> csv_detective python_type
    rows: list[tuple[Any, ...]]


# Column names real CSVs have (the data.gouv.fr tracker's "Corrections des erreurs API tabular"):
# a leading "#" (a URL fragment), spaces, accents, dots, an apostrophe, double quotes, parentheses, a
# comma, "&", "=", "+", "%", a trailing "_" and a "__" (api_tabular's operator separator), a backslash.
ODD_COLUMNS = {
    "#Code_commune_INSEE": "string",
    "Libellé accentué": "string",
    "prix.ttc": "float",
    "l'apostrophe": "string",
    'nom "court"': "string",
    "nom (officiel)": "string",
    "lat,lon": "string",
    "R&D": "int",
    "x=y": "int",
    "a+b": "int",
    "taux %": "float",
    "fin_": "int",
    "a__b": "int",
    "back\\slash": "string",
    "valeur": "string",
}
# Values as awkward as the names: the separators of api_tabular's and PostgREST's grammars.
ODD_VALUES = [
    "a.b",
    "a,b",
    'say "hi"',
    "(x)",
    "x)",
    "R&D",
    "k=v",
    "1+1",
    "#tag",
    "50%",
    "%41",
    "star*",
    "back\\slash",
    "l'été",
    "plain",
    None,
]


def _odd_rows() -> list[tuple[Any, ...]]:
    rows = []
    for i in range(48):
        value = ODD_VALUES[i % len(ODD_VALUES)]
        rows.append(
            (
                None if i % 11 == 5 else f"{1000 + 37 * i % 900:05d}",
                None if i % 13 == 7 else ["Étoile", "Île-de-France", "Noël", "Zoé"][i % 4],
                None if i % 9 == 4 else round(i * 1.5 + 0.25, 2),
                ["l'eau", "d'or", "plain"][i % 3],
                None if i % 7 == 3 else ODD_VALUES[(i * 5) % len(ODD_VALUES)],
                f"nom {i % 6}.{i % 4}",
                f"{48 + i % 3}.{i % 10},{2 + i % 5}.{i % 7}",
                i % 8,
                (i * 3) % 10,
                None if i % 10 == 9 else i % 5,
                round((i % 12) * 8.5, 1),
                i % 4,
                (i * 7) % 9,
                ODD_VALUES[(i * 3) % len(ODD_VALUES)],
                value,
            )
        )
    return rows


def _typed_rows() -> list[tuple[Any, ...]]:
    names = [
        "Alpha",
        "Bravo, with comma",
        'Charlie "quoted"',
        None,
        "Écho accentué",
        "Foxtrot",
        "Golf",
        "Hotel",
        "India",
        "Juliett",
        "Kilo",
        "Lima",
    ]
    rows = []
    for i, name in enumerate(names):
        rows.append(
            (
                name,
                None if i == 2 else i * 7 - 20,
                None if i == 5 else round(i * 1.25 - 3.5, 3),
                None if i == 7 else i % 2 == 0,
                None if i == 3 else date(2020, 1, 1) + timedelta(days=31 * i),
                None if i == 4 else datetime(2021, 6, 1, 8, 30) + timedelta(hours=13 * i),
                None if i == 6 else {"i": i, "tags": ["x"] * (i % 3)},
            )
        )
    return rows


TABLES = [
    Table(
        "typed",
        "t_typed_0001",
        {
            "name": "string",
            "count": "int",
            "score": "float",
            "active": "bool",
            "day": "date",
            "seen_at": "datetime",
            "extra": "json",
        },
        _typed_rows(),
    ),
    # a column name as real CSVs have them: spaces, capitals (api_tabular quotes it for PostgREST)
    Table(
        "paged",
        "t_paged_0002",
        {"n": "int", "label": "string", "Code INSEE": "string"},
        [(n, f"row {n}", f"{75000 + n}") for n in range(1, 138)],
    ),
    Table(
        "big",
        "t_big_0003",
        {"n": "int", "label": "string", "half": "float"},
        [(n, f"big row {n}", n / 2) for n in range(1, 1201)],
    ),
    Table(
        "aggregatable",
        "t_agg_0004",
        {"category": "string", "amount": "int", "ratio": "float"},
        [(["fruit", "vegetable", "grain"][n % 3], n, n / 10) for n in range(1, 31)],
    ),
    Table("odd", "t_odd_0007", ODD_COLUMNS, _odd_rows()),
    Table(
        "large",
        "t_large_0008",
        {"n": "int", "label": "string", "half": "float"},
        [(n, f"large row {n}", n / 2) for n in range(1, 10_001)],
    ),
    Table(
        "indexed",
        "t_indexed_0005",
        {"code": "string", "label": "string", "value": "int"},
        [(f"C{n}", f"label {n}", n * 10) for n in range(1, 6)],
    ),
]

METRIC_MONTHS = [f"{2023 + m // 12}-{m % 12 + 1:02d}" for m in range(24)]  # 2023-01 … 2024-12
METRIC_TABLES: dict[str, tuple[dict[str, str], list[tuple[Any, ...]]]] = {
    "site": (
        {
            "metric_month": "character varying",
            "monthly_visit_dataset": "integer",
            "monthly_visit_reuse": "integer",
            "monthly_visit_organization": "integer",
            "monthly_download_resource": "integer",
        },
        [(m, 1000 + i, 100 + i, 50 + i, 5000 + 10 * i) for i, m in enumerate(METRIC_MONTHS)],
    ),
    "datasets": (
        {
            "dataset_id": "character varying",
            "metric_month": "character varying",
            "monthly_visit": "integer",
            "monthly_download_resource": "integer",
        },
        [
            (f"5d0b7a5e8b4c41597a1b2c{d:02d}", m, 10 * d + i, None if i == 0 else 3 * i)
            for d in range(1, 4)
            for i, m in enumerate(METRIC_MONTHS)
        ],
    ),
    "organizations": (
        {
            "organization_id": "character varying",
            "metric_month": "character varying",
            "monthly_visit_dataset": "integer",
            "monthly_visit_reuse": "integer",
            "monthly_download_resource": "integer",
        },
        [
            (f"534fff81a3a7292c64a77e{o:02d}", m, 40 * o + i, i, 7 * i)
            for o in range(1, 3)
            for i, m in enumerate(METRIC_MONTHS)
        ],
    ),
    "reuses": (
        {"reuse_id": "character varying", "metric_month": "character varying", "monthly_visit": "integer"},
        [("6a1f00000000000000000001", m, 5 + i) for i, m in enumerate(METRIC_MONTHS)],
    ),
    "resources": (
        {
            "resource_id": "character varying",
            "dataset_id": "character varying",
            "metric_month": "character varying",
            "monthly_download_resource": "integer",
        },
        [(RESOURCES["typed"], "5d0b7a5e8b4c41597a1b2c01", m, 2 * i) for i, m in enumerate(METRIC_MONTHS)],
    ),
    "dataservices": (
        {
            "dataservice_id": "character varying",
            "metric_month": "character varying",
            "monthly_visit": "integer",
        },
        [("6b2f00000000000000000001", m, i) for i, m in enumerate(METRIC_MONTHS)],
    ),
}

# Expected row counts, by resource name and by "metrics.<model>".
ROWS: dict[str, int] = {t.name: len(t.rows) for t in TABLES}
ROWS.update({f"metrics.{name}": len(rows) for name, (_, rows) in METRIC_TABLES.items()})


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (dict, list)):
        value = json.dumps(value)
    return "'" + str(value).replace("'", "''") + "'"


def _insert(schema: str, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    if not rows:
        return ""
    values = ",\n".join("(" + ", ".join(literal(v) for v in row) + ")" for row in rows)
    return (
        f"INSERT INTO {ident(schema)}.{ident(table)} ({', '.join(ident(c) for c in columns)}) VALUES\n"
        f"{values};\n"
    )


def csv_detective_profile(table: Table) -> dict[str, Any]:
    """A profile shaped like csv_detective's output (the keys api_tabular and hydra store)."""
    formats: dict[str, list[str]] = {}
    columns: dict[str, Any] = {}
    stats: dict[str, Any] = {}
    for position, (column, python_type) in enumerate(table.columns.items()):
        columns[column] = {"python_type": python_type, "format": python_type, "score": 1.0}
        formats.setdefault(python_type, []).append(column)
        values = [row[position] for row in table.rows]
        present = [v for v in values if v is not None]
        column_stats: dict[str, Any] = {
            "nb_distinct": len({json.dumps(v, default=str, sort_keys=True) for v in present}),
            "nb_missing_values": len(values) - len(present),
        }
        if python_type in ("int", "float") and present:
            column_stats.update(min=min(present), max=max(present), mean=sum(present) / len(present))
        stats[column] = column_stats
    return {
        "encoding": "UTF-8",
        "separator": ",",
        "header_row_idx": 0,
        "header": list(table.columns),
        "total_lines": len(table.rows),
        "nb_duplicates": 0,
        "heading_columns": 0,
        "trailing_columns": 0,
        "categorical": [c for c, t in table.columns.items() if t == "bool"],  # csv_detective: a list
        "columns_fields": columns,
        "columns_labels": {
            c: {"python_type": "string", "format": "string", "score": 1.0} for c in table.columns
        },
        "columns": columns,
        "formats": formats,
        "profile": stats,
    }


def seed_sql() -> str:
    out = [
        f"CREATE SCHEMA {TABULAR_SCHEMA};",
        f"CREATE SCHEMA {METRICS_SCHEMA};",
        f"""
CREATE TABLE {TABULAR_SCHEMA}.tables_index (
    id serial PRIMARY KEY, parsing_table varchar, csv_detective jsonb, resource_id uuid, url varchar,
    created_at timestamptz DEFAULT now(), deleted_at timestamptz, dataset_id varchar(24));
CREATE TABLE {TABULAR_SCHEMA}.resources_exceptions (
    id serial PRIMARY KEY, resource_id uuid, table_indexes jsonb, comment varchar);
CREATE TABLE {TABULAR_SCHEMA}.migrations_csv (id serial PRIMARY KEY, name varchar, applied_at timestamptz);
INSERT INTO {TABULAR_SCHEMA}.migrations_csv (name, applied_at) VALUES ('initial', '2024-01-01T00:00:00Z');
""",
    ]
    index_rows: list[tuple[Any, ...]] = []
    for i, table in enumerate(TABLES):
        columns = ", ".join(f"{ident(c)} {PG_TYPES[t]}" for c, t in table.columns.items())
        out.append(
            f"CREATE TABLE {TABULAR_SCHEMA}.{ident(table.parsing_table)} "
            f"(__id serial PRIMARY KEY, {columns});\n"
        )
        out.append(_insert(TABULAR_SCHEMA, table.parsing_table, list(table.columns), table.rows))
        index_rows.append(
            (
                table.parsing_table,
                csv_detective_profile(table),
                RESOURCES[table.name],
                f"https://static.data.gouv.fr/resources/example/{table.name}.csv",
                f"2024-0{1 + i}-15T10:00:00+00:00",
                None,
                "5d0b7a5e8b4c41597a1b2c01",
            )
        )
    # A resource converted once, then deleted by its producer (api_tabular answers 410).
    index_rows.append(
        (
            "t_deleted_0006",
            {"header": ["a"], "columns": {"a": {"python_type": "string"}}},
            RESOURCES["deleted"],
            "https://static.data.gouv.fr/resources/example/deleted.csv",
            "2023-05-01T00:00:00+00:00",
            "2024-03-01T12:00:00+00:00",
            DELETED_DATASET_ID,
        )
    )
    out.append(
        _insert(
            TABULAR_SCHEMA,
            "tables_index",
            [
                "parsing_table",
                "csv_detective",
                "resource_id",
                "url",
                "created_at",
                "deleted_at",
                "dataset_id",
            ],
            index_rows,
        )
    )
    out.append(
        _insert(
            TABULAR_SCHEMA,
            "resources_exceptions",
            ["resource_id", "table_indexes", "comment"],
            [(RESOURCES[name], indexes, "seeded by the test peer") for name, indexes in INDEXES.items()],
        )
    )
    for name, (metric_columns, rows) in METRIC_TABLES.items():
        defs = ", ".join(f"{ident(c)} {t}" for c, t in metric_columns.items())
        out.append(f"CREATE TABLE {METRICS_SCHEMA}.{ident(name)} (__id serial PRIMARY KEY, {defs});\n")
        out.append(_insert(METRICS_SCHEMA, name, list(metric_columns), rows))
    return "\n".join(out)


if __name__ == "__main__":
    print(seed_sql())
