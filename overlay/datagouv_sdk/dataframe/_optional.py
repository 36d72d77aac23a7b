"""Optional dependencies of the `dataframe` extra, imported only when a call needs them.

`import datagouv_sdk` and `dgv --help` never import pyarrow, pandas, polars or duckdb (benchmarks/,
row 1); a call that needs a missing one raises `UsageError` saying what to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from datagouv_sdk.errors import UsageError

__all__ = ["require"]

# module -> (distribution, extra that brings it): every optional module of the dataframe extra.
_PACKAGES = {
    module: (module.partition(".")[0], "dataframe")
    for module in (
        "pyarrow",
        "pyarrow.parquet",
        "pyarrow.dataset",
        "pyarrow.compute",
        "pyarrow.csv",
        "pyarrow.fs",
        "pandas",
        "polars",
        "duckdb",
    )
}


def require(module: str, *, what: str = "") -> ModuleType:
    """Import `module`, or raise UsageError naming the package and the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        distribution, extra = _PACKAGES.get(module, (module.split(".")[0], "dataframe"))
        purpose = f" for {what}" if what else ""
        raise UsageError(
            f"{distribution} is needed{purpose} but is not installed: "
            f"pip install 'datagouv-sdk[{extra}]' (or pip install {distribution})"
        ) from exc
