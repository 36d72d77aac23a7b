"""Errors of spec reading, conversion and generation. Each message names the API, URL, file or pointer
that was wrong. The maintainer pipeline (tools/specpipeline) adds its own below `SpecError`."""

from __future__ import annotations

from datagouv_sdk.errors import DataGouvError

__all__ = ["GenerationError", "SpecError", "SpecFetchError", "SpecInvalidError"]


class SpecError(DataGouvError):
    """Root of the spec errors."""


class SpecFetchError(SpecError):
    """A spec document could not be obtained (unreachable URL, HTTP error, missing mirror file)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status that refused it, if one did


class SpecInvalidError(SpecError):
    """A spec document was obtained but cannot be parsed or is not a valid OpenAPI/Swagger document."""


class GenerationError(SpecError):
    """openapi-python-client failed, warned, or produced a package that does not match the spec."""
