"""Dataservice discovery: search the catalog for third-party APIs, read their OpenAPI documents
safely, list and call their operations with checked arguments, generate typed clients.

Start with `Discovery` (explorer.py), or its asyncio twin `AsyncDiscovery`. The pieces are usable
alone: `DocumentFetcher` (fetch.py), `load_document` (documents.py), `list_operations` /
`check_arguments` (operations.py), `choose_base_url` (base_url.py), `OperationCaller` (calls.py),
`generate_package` (generation.py).
"""

from datagouv_sdk.discovery.base_url import BaseURL, choose_base_url
from datagouv_sdk.discovery.calls import AsyncOperationCaller, CallLimits, CallResult, OperationCaller
from datagouv_sdk.discovery.catalog import DataserviceInfo
from datagouv_sdk.discovery.documents import OpenAPIDocument, load_document
from datagouv_sdk.discovery.errors import (
    ClientGenerationError,
    DocumentDeadlineError,
    DocumentError,
    DocumentTooLargeError,
    NotOpenAPIError,
    ResponseTooLargeError,
    UnsafeURLError,
    UnsafeYAMLError,
)
from datagouv_sdk.discovery.explorer import AsyncDiscovery, DiscoveredAPI, Discovery
from datagouv_sdk.discovery.fetch import AsyncDocumentFetcher, DocumentFetcher, FetchedDocument, FetchLimits
from datagouv_sdk.discovery.generation import GeneratedClient, generate_package
from datagouv_sdk.discovery.operations import (
    Operation,
    Parameter,
    RequestBody,
    check_arguments,
    find_operation,
    list_operations,
)

__all__ = [
    "AsyncDiscovery",
    "AsyncDocumentFetcher",
    "AsyncOperationCaller",
    "BaseURL",
    "CallLimits",
    "CallResult",
    "ClientGenerationError",
    "DataserviceInfo",
    "DiscoveredAPI",
    "Discovery",
    "DocumentDeadlineError",
    "DocumentError",
    "DocumentFetcher",
    "DocumentTooLargeError",
    "FetchLimits",
    "FetchedDocument",
    "GeneratedClient",
    "NotOpenAPIError",
    "OpenAPIDocument",
    "Operation",
    "OperationCaller",
    "Parameter",
    "RequestBody",
    "ResponseTooLargeError",
    "UnsafeURLError",
    "UnsafeYAMLError",
    "check_arguments",
    "choose_base_url",
    "find_operation",
    "generate_package",
    "list_operations",
    "load_document",
]
