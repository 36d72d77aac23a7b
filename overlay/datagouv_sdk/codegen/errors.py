"""Errors of the spec pipeline. Each message names the API, URL, file or pointer that was wrong."""

from __future__ import annotations

from datagouv_sdk.errors import DataGouvError, UsageError

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


class SpecError(DataGouvError):
    """Root of the spec pipeline errors."""


class SourcesError(SpecError, UsageError):
    """specs/sources.json is malformed, or names an API that is not in it."""


class SpecFetchError(SpecError):
    """A spec document could not be obtained (unreachable URL, HTTP error, missing mirror file)."""


class SpecInvalidError(SpecError):
    """A spec document was obtained but cannot be parsed or is not a valid OpenAPI/Swagger document."""


class SpecLockMismatchError(SpecError):
    """The fetched upstream document is not the one recorded in specs/lock.json."""


class PatchFileError(SpecError, UsageError):
    """A patch file is malformed (unknown op, missing reason, wrong api name...)."""


class PatchApplyError(SpecError):
    """A patch does not apply to the document (missing pointer, failed test op)."""


class GenerationError(SpecError):
    """openapi-python-client failed, warned, or produced a package that does not match the spec."""
