"""Obtain a source's spec document: from its live URL or from an offline mirror folder.

Reading and parsing are the runtime package's (datagouv_sdk.drift.documents: the SDK's transport
with a `RetryPolicy`, the guarded YAML loader, the size cap); this adds the sources, the mirror and
the maintainer's hints.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from datagouv_sdk.drift.documents import get_document, parse_document, spec_client
from datagouv_sdk.retry import RetryPolicy

from tools.specpipeline.errors import SpecFetchError
from tools.specpipeline.sources import Source

__all__ = ["FETCH_RETRY", "MIRROR_ENV", "fetch_document", "resolve_mirror"]

MIRROR_ENV = "DATAGOUV_SPECS_MIRROR"
# Four attempts (the SDK's default is three): a maintainer's run waits out a short upstream hiccup.
FETCH_RETRY = RetryPolicy(max_attempts=4)


def resolve_mirror(flag: str | os.PathLike[str] | None = None) -> Path | None:
    """The mirror folder to read from: the explicit flag, else $DATAGOUV_SPECS_MIRROR, else None (live)."""
    value = os.fspath(flag) if flag is not None else os.environ.get(MIRROR_ENV) or None
    return Path(value) if value else None


def fetch_document(
    source: Source,
    mirror: str | os.PathLike[str] | None = None,
    *,
    use_env: bool = True,
    client: httpx.Client | None = None,
    retry: RetryPolicy = FETCH_RETRY,
    sleep: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """The parsed (not yet normalised) document of `source`.

    From `mirror`/<source.mirror> when a mirror folder is given (or, with `use_env`, when
    $DATAGOUV_SPECS_MIRROR is set); otherwise GET source.url through `client` (default: a spec client
    retrying by `retry`, sleeping with `sleep`). Raises SpecFetchError naming the URL or file,
    SpecInvalidError when the bytes are not a JSON/YAML mapping.
    """
    folder = resolve_mirror(mirror) if (mirror is not None or use_env) else None
    if folder is not None:
        path = folder / source.mirror
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SpecFetchError(
                f"{source.name}: cannot read mirror file {path}: {exc.strerror or exc}"
            ) from exc
        return parse_document(data, origin=str(path))
    http = client or spec_client("spec fetcher", retry=retry, sleep=sleep)
    try:
        data = get_document(source.url, client=http)
    except SpecFetchError as exc:
        hint = f"; offline? set {MIRROR_ENV} to a folder holding {source.mirror}"
        if exc.status is None:  # no response: the message says how many attempts were made
            note = hint
        elif exc.status in retry.retry_statuses:
            note = f" ({retry.max_attempts} attempts at most){hint}"
        else:  # 404 and the like: not retried, and a mirror would not help
            note = ""
        raise SpecFetchError(f"{source.name}: {exc}{note}", status=exc.status) from exc
    finally:
        if client is None:
            http.close()
    return parse_document(data, origin=source.url)
