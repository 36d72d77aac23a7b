"""The `dataframe` extra is optional: nothing imports it early, and a missing package says what to install."""

from __future__ import annotations

import subprocess
import sys

import pytest
from datagouv_sdk import errors
from datagouv_sdk.dataframe._optional import require


def test_a_missing_package_is_a_usage_error_naming_the_extra() -> None:
    with pytest.raises(errors.UsageError, match=r"pip install 'datagouv-sdk\[dataframe\]'"):
        require("polars_that_is_not_installed", what="to_polars()")


def test_importing_the_sdk_and_its_dataframe_modules_imports_no_dataframe_library() -> None:
    code = (
        "import sys, datagouv_sdk, datagouv_sdk.tabular, datagouv_sdk.dataframe.sources, "
        "datagouv_sdk.catalog_exports, datagouv_sdk.cli.tabular, datagouv_sdk.cli.catalog_store\n"
        "heavy = [m for m in ('pyarrow', 'pandas', 'polars', 'duckdb', 'dask') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
