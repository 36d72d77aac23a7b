"""Errors of the maintainer pipeline, under the runtime package's `SpecError` (so one `except` catches
a failed fetch, an invalid document and a bad patch alike)."""

from __future__ import annotations

from datagouv_sdk.codegen.errors import GenerationError, SpecError, SpecFetchError, SpecInvalidError
from datagouv_sdk.errors import UsageError

__all__ = [
    "GenerationError",
    "PatchApplyError",
    "PatchFileError",
    "SourcesError",
    "SpecError",
    "SpecFetchError",
    "SpecInvalidError",
    "SpecLockMismatchError",
]


class SourcesError(SpecError, UsageError):
    """specs/sources.json is malformed, or names an API that is not in it."""


class SpecLockMismatchError(SpecError):
    """The fetched upstream document is not the one recorded in specs/lock.json."""


class PatchFileError(SpecError, UsageError):
    """A patch file is malformed (unknown op, missing reason, wrong api name...)."""


class PatchApplyError(SpecError):
    """A patch does not apply to the document (missing pointer, failed test op)."""
