"""datagouv-sdk: typed clients for the data.gouv.fr Main, Metrics and Tabular APIs.

    from datagouv_sdk import DataGouv, errors

    with DataGouv() as dg:
        for dataset in dg.datasets.list(q="vélo", limit=10):
            print(dataset.title)

The public names below are imported on first use (PEP 562), so `import datagouv_sdk` — which every
`dgv` command does — stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from datagouv_sdk._version import __version__

if TYPE_CHECKING:
    from datagouv_sdk import errors
    from datagouv_sdk.client import AsyncDataGouv, DataGouv
    from datagouv_sdk.config import Config
    from datagouv_sdk.errors import (
        APIConnectionError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ConflictError,
        DataGouvError,
        GoneError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        RateLimitInfo,
        ResponseDecodeError,
        ServerError,
        UnprocessableEntityError,
        UsageError,
    )
    from datagouv_sdk.retry import RetryPolicy
    from datagouv_sdk.uploads import aupload_resource, upload_resource

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncDataGouv",
    "AuthenticationError",
    "BadRequestError",
    "Config",
    "ConflictError",
    "DataGouv",
    "DataGouvError",
    "GoneError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RateLimitInfo",
    "ResponseDecodeError",
    "RetryPolicy",
    "ServerError",
    "UnprocessableEntityError",
    "UsageError",
    "__version__",
    "aupload_resource",
    "errors",
    "upload_resource",
]

_LAZY: dict[str, str] = {
    "DataGouv": "datagouv_sdk.client",
    "AsyncDataGouv": "datagouv_sdk.client",
    "Config": "datagouv_sdk.config",
    "RetryPolicy": "datagouv_sdk.retry",
    "upload_resource": "datagouv_sdk.uploads",
    "aupload_resource": "datagouv_sdk.uploads",
}


def __getattr__(name: str) -> Any:
    if name == "errors":
        return importlib.import_module("datagouv_sdk.errors")
    module = _LAZY.get(name)
    if module is None and name in __all__:
        module = "datagouv_sdk.errors"
    if module is None:
        raise AttributeError(f"module 'datagouv_sdk' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
