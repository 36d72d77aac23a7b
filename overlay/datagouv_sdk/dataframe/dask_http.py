"""An fsspec HTTP filesystem Dask can read Parquet from (the manifest recipe, README "Data analysis").

    import dask.dataframe as dd
    from datagouv_sdk.dataframe.dask_http import http_filesystem

    ddf = dd.read_parquet(urls, filesystem=http_filesystem())
    len(ddf)

Why: ``dd.read_parquet(["http://…/x.parquet"])`` builds fsspec's ``HTTPFileSystem``, and dask
(2026.8) opens each file for its row-count statistics with ``fs.open(path, default_cache="none")``
— a keyword of the object-store filesystems. ``HTTPFileSystem._open`` forwards unknown keywords to
aiohttp's request, which refuses them (``TypeError: ClientSession._request() got an unexpected
keyword argument 'default_cache'``); fsspec turns that into ``FileNotFoundError``, so ``len(ddf)``
fails on every http:// URL. And dask first tries each path as a folder: fsspec's ``isdir`` GETs the
whole file to look for links in it, and ``exists``/``isfile`` GET it too (dropping the body the
server still sends). `RangeHTTPFileSystem` is fsspec's own class with that keyword dropped,
``isdir`` answering False and ``exists`` asking with HEAD; reads stay fsspec's (Range requests).
Module-level so Dask's distributed workers can unpickle it. Needs ``fsspec[http]`` (aiohttp),
which the `dask` extra installs.
"""

from __future__ import annotations

import importlib
from typing import Any

from datagouv_sdk.errors import UsageError

__all__ = ["RangeHTTPFileSystem", "http_filesystem"]

# Importable without the extra (the package's modules all are); the class needs fsspec's at
# definition time, module-level so that Dask's workers can unpickle it.
_base: Any
try:
    _base = importlib.import_module("fsspec.implementations.http").HTTPFileSystem
    _missing: ImportError | None = None
except ImportError as exc:  # fsspec, or aiohttp, which its HTTP filesystem needs
    _base, _missing = object, exc


class RangeHTTPFileSystem(_base):  # type: ignore[misc]
    async def _isdir(self, path: str) -> bool:
        # fsspec answers by GETting the whole URL and looking for HTML links in it; dask asks for every
        # path (it tries each as a folder first), which downloads every Parquet file in full. A
        # manifest lists files.
        return False

    async def _exists(self, path: str, strict: bool = False, **kwargs: Any) -> bool:
        # fsspec's is a GET whose body it drops: the server still sends the whole file. HEAD instead.
        try:
            await self._info(path, **kwargs)
        except FileNotFoundError:
            if strict:
                raise
            return False
        return True

    def _open(self, path: str, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("default_cache", None)  # dask's keyword for object stores; aiohttp refuses it
        return super()._open(path, mode, *args, **kwargs)


def http_filesystem(**storage_options: Any) -> RangeHTTPFileSystem:
    """An instance for ``dd.read_parquet(urls, filesystem=...)`` (options as fsspec's HTTPFileSystem)."""
    if _missing is not None:
        raise UsageError(
            f"reading http:// URLs with Dask needs fsspec's HTTP filesystem ({_missing}): "
            "pip install 'datagouv-sdk[dask]'"
        )
    return RangeHTTPFileSystem(**storage_options)
