"""Streaming exports of Metrics and Tabular data to files (constant memory, ``.part`` then rename),
lazy CSV row iteration, and the paging fallback above the server's export cap. See `files`;
the resource-level entry points are `datagouv_sdk.tabular.TabularResource.export` and
`MetricsModel.export`."""

from datagouv_sdk.export.files import (
    ExportResult,
    ExportTooLargeError,
    iter_csv_rows,
    stream_to_file,
    write_rows,
)

__all__ = ["ExportResult", "ExportTooLargeError", "iter_csv_rows", "stream_to_file", "write_rows"]
