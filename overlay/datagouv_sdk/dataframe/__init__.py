"""DataFrames and SQL over Tabular resources, hydra's Parquet copies and the catalog (extra `dataframe`).

- `sources`: `to_arrow` / `to_pandas` / `to_polars` (and async twins) from the Tabular API or from
  hydra's Parquet, with the same `Query` semantics both ways.
- `pushdown`: a `Query` run over a Parquet file (row groups pruned, columns projected).
- `http_file`: Range reads of remote files for pyarrow (and DuckDB through it).
- `types`: the Arrow types of a resource, from its csv_detective profile.

Nothing here imports pyarrow, pandas, polars or duckdb until a function needs it.
"""
