"""What can go wrong while reading a third-party API's document, as part of the SDK's exception tree.

DataGouvError
├── UsageError
│   └── UnsafeURLError            a URL we refuse to fetch (scheme, plain http to a public host)
├── ResponseTooLargeError         a third-party answer larger than its cap (counted while streaming)
└── DocumentError                 the document could not be used
    ├── DocumentTooLargeError     (also a ResponseTooLargeError) the document is over its cap
    ├── DocumentDeadlineError     the whole fetch took longer than its total deadline
    ├── UnsafeYAMLError           aliases that expand past the cap, or recursive ones
    ├── NotOpenAPIError           parsed, but not an OpenAPI 3.x / Swagger 2.0 document
    └── ClientGenerationError     no client can be generated from it (`.skipped`: what failed, why)
"""

from __future__ import annotations

from typing import Any

from datagouv_sdk.errors import DataGouvError, UsageError

__all__ = [
    "ClientGenerationError",
    "DocumentDeadlineError",
    "DocumentError",
    "DocumentTooLargeError",
    "NotOpenAPIError",
    "ResponseTooLargeError",
    "UnsafeURLError",
    "UnsafeYAMLError",
]


class UnsafeURLError(UsageError):
    """A URL named by a third party (or reached by a redirect) that this SDK will not contact."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(f"{message}: {url}")
        self.url = url


class DocumentError(DataGouvError):
    """A dataservice's machine documentation could not be fetched or used."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(f"{message} ({url})" if url else message)
        self.url = url


class ResponseTooLargeError(DataGouvError):
    def __init__(self, message: str, *, url: str | None = None, limit: int) -> None:
        super().__init__(f"{message} ({url})" if url else message)
        self.url = url
        self.limit = limit


class DocumentTooLargeError(DocumentError, ResponseTooLargeError):
    def __init__(self, message: str, *, url: str | None = None, limit: int) -> None:
        # Both bases take (message, url); initialise the root once instead of following the MRO.
        DataGouvError.__init__(self, f"{message} ({url})" if url else message)
        self.url = url
        self.limit = limit


class DocumentDeadlineError(DocumentError):
    def __init__(self, message: str, *, url: str | None = None, deadline: float) -> None:
        super().__init__(message, url=url)
        self.deadline = deadline


class UnsafeYAMLError(DocumentError):
    pass


class NotOpenAPIError(DocumentError):
    pass


class ClientGenerationError(DocumentError):
    """No client package could be generated: no operation of the document can be, or the generator
    failed. `skipped` lists each operation or schema left out, with its reason."""

    def __init__(self, message: str, *, url: str | None = None, skipped: tuple[Any, ...] = ()) -> None:
        super().__init__(message, url=url)
        self.skipped = skipped
