"""The pipeline behind `DataGouv.call`/`AsyncDataGouv.call`, with no I/O of its own: `prepare` (the
flavour check, argument coercion, the field mask, the generated client, and the request built by the
endpoint module's public `request_kwargs`, with the caller's extra query parameters and headers) and
`Call.finish` (the status mapped to the exception tree, then the body parsed by the module's public
`build_response`, or the decoded JSON). Each client's `call` sends the request between the two and
hands `finish` the `httpx.Response` itself; `Call.respond` wraps it as an `APIResponse` instead
(`dg.with_response`).

The generated packages are standalone (users import them directly; discovery generates them for
third-party APIs), so their errors are their own classes: `finish` maps them here, once, to
`errors.ResponseDecodeError` and `errors.ResponseValidationError` (strict clients).
"""

from __future__ import annotations

import datetime as _dt
import inspect
import sys
import types
import typing
from collections.abc import Callable, Mapping
from enum import Enum
from functools import lru_cache
from typing import Any, Literal

import attrs
import httpx

from datagouv_sdk import errors
from datagouv_sdk.codegen.parameters import encode


class JSONBody:
    """A plain mapping passed where a generated function expects a body model: the generated code
    only calls ``body.to_dict()``, so the mapping is sent as JSON, unchanged."""

    def __init__(self, payload: Mapping[str, Any]) -> None:
        self._payload = dict(payload)

    def to_dict(self) -> dict[str, Any]:
        return self._payload


@lru_cache(maxsize=1024)
def _parameter_types(fn: Callable[..., Any]) -> dict[str, tuple[Any, ...]]:
    try:
        hints = typing.get_type_hints(fn)
    except (NameError, TypeError, AttributeError):  # an annotation we cannot resolve: pass arguments through
        return {}
    out: dict[str, tuple[Any, ...]] = {}
    for name, hint in hints.items():
        is_union = typing.get_origin(hint) in (typing.Union, types.UnionType)
        out[name] = typing.get_args(hint) if is_union else (hint,)
    return out


def coerce(fn: Callable[..., Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    types_ = _parameter_types(fn)
    result: dict[str, Any] = {}
    for name, value in kwargs.items():
        if value is None:
            continue  # None means "not given" here, as in the generated query builders
        options = types_.get(name, ())
        if isinstance(value, Mapping) and name == "body":
            value = JSONBody(value)
        elif isinstance(value, str):
            enum_cls = next((t for t in options if isinstance(t, type) and issubclass(t, Enum)), None)
            wants_list = any(typing.get_origin(t) is list for t in options)
            if enum_cls is not None and not isinstance(value, enum_cls):
                try:
                    value = enum_cls(value)
                except ValueError:
                    allowed = ", ".join(str(m.value) for m in enum_cls)
                    raise errors.UsageError(
                        f"{name}={value!r} is not accepted; expected one of: {allowed}"
                    ) from None
            elif wants_list and str not in options:
                value = [value]
            else:
                literals = [a for t in options if typing.get_origin(t) is Literal for a in typing.get_args(t)]
                if literals and str not in options and value not in literals:
                    allowed = ", ".join(str(a) for a in literals)
                    raise errors.UsageError(f"{name}={value!r} is not accepted; expected one of: {allowed}")
        result[name] = value
    return result


@attrs.frozen
class Call:
    """One call of a generated function, ready to send: the endpoint module, the generated client and
    the request (keyword arguments of `httpx.Client.request`)."""

    fn: Callable[..., Any]
    module: Any  # the generated endpoint module: request_kwargs, build_response, errors, OPERATION
    client: Any  # the generated Client whose httpx client sends the request
    request: dict[str, Any]
    raw: bool
    masked: bool = False  # a field mask (X-Fields) leaves properties out on purpose

    def finish(self, response: httpx.Response) -> Any:
        """The status mapped to the exception tree, then the parsed model or the decoded JSON."""
        errors.raise_for_status(response)
        if self.raw:
            return errors.decode_json(response) if response.content.strip() else None
        generated = self.module.errors
        try:
            if self.masked:
                detailed = self._masked_response(response)
            else:
                detailed = self.module.build_response(client=self.client, response=response)
        except generated.ResponseValidationError as exc:
            raise errors.ResponseValidationError(
                str(exc), operation=exc.operation, deviations=exc.deviations, response=response
            ) from exc
        except generated.ResponseDecodeError as exc:
            raise errors.ResponseDecodeError(str(exc), response=response) from exc
        if detailed.parsed is None:
            # Empty body (204, a delete) → None; otherwise the JSON of a status the spec types nowhere.
            return errors.decode_json(response) if response.content.strip() else None
        return detailed.parsed

    def _masked_response(self, response: httpx.Response) -> Any:
        """build_response for a masked body: the properties the mask left out are missing by request,
        not by the server's doing, so missing properties are not deviations; the rest are, as usual
        (strict raises, lenient logs)."""
        quiet = attrs.evolve(self.client, strict=False, log_deviations=False)
        detailed = self.module.build_response(client=quiet, response=response)
        found = [d for d in detailed.deviations if not d.missing]
        if found and self.client.strict:
            raise self.module.errors.ResponseValidationError(self.module.OPERATION, found, response=response)
        if found and self.client.log_deviations:
            self.module.log_deviations(found, context=self.module.OPERATION)
        return detailed

    def respond(self, response: httpx.Response) -> APIResponse:
        """The answer as an `APIResponse` (the status is mapped first, as for `finish`)."""
        errors.raise_for_status(response)
        return APIResponse(response, lambda: self.finish(response))


class APIResponse:
    """An answer as it came (`dg.with_response`): status, headers, URL, elapsed time; the body parsed
    only when asked (`parse()`: what the call would have returned, the typed model or, with
    ``raw=True``, the decoded JSON; `json()`: the decoded JSON)."""

    def __init__(self, response: httpx.Response, parse: Callable[[], Any]) -> None:
        self.http_response = response
        self._parse = parse

    def __repr__(self) -> str:
        return f"<APIResponse {self.status_code} {self.method} {self.url}>"

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def url(self) -> httpx.URL:
        return self.http_response.url

    @property
    def method(self) -> str:
        return self.http_response.request.method

    @property
    def elapsed(self) -> _dt.timedelta:
        """From sending the request to reading the whole answer (the last attempt, when retried)."""
        return self.http_response.elapsed

    @property
    def content(self) -> bytes:
        return self.http_response.content

    @property
    def text(self) -> str:
        return self.http_response.text

    def json(self) -> Any:
        return errors.decode_json(self.http_response)

    def parse(self) -> Any:
        return self._parse()


def _endpoint_module(fn: Callable[..., Any]) -> Any:
    module = sys.modules.get(getattr(fn, "__module__", ""))
    if module is None or not hasattr(module, "request_kwargs") or not hasattr(module, "build_response"):
        raise errors.UsageError(
            f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', fn)} is not an endpoint of a "
            "client generated with datagouv-sdk's templates (no request_kwargs/build_response); "
            "regenerate it (make generate, or dgv dataservices generate)"
        )
    return module


@lru_cache(maxsize=1024)
def _page_fields(fn: Callable[..., Any]) -> tuple[str, ...] | None:
    """The fields of the page model a paginated operation returns (None: not a page)."""
    try:
        returned = typing.get_type_hints(fn).get("return")
    except (NameError, TypeError, AttributeError):
        return None
    for model in typing.get_args(returned):
        # The model's properties: its init fields (not additional_properties, not _deviations).
        names = [f.name for f in getattr(model, "__attrs_attrs__", ()) if f.init]
        if "data" in names and "page" in names:
            return tuple(names)
    return None


def _with_extras(
    request: dict[str, Any], extra_query: Mapping[str, Any] | None, extra_headers: Mapping[str, str] | None
) -> dict[str, Any]:
    if extra_query:
        # The generated function writes its query string into the URL, styled as the spec says
        # (codegen/templates): an extra parameter replaces the function's pairs of that name there.
        url, _, query = str(request["url"]).partition("?")
        pairs = [pair for pair in query.split("&") if pair]
        params = dict(request.get("params") or {})
        for name, value in extra_query.items():
            pairs = [pair for pair in pairs if pair.partition("=")[0] != encode(name)]
            params.pop(name, None)
            if value is not None:  # None removes a parameter the function would send
                params[name] = (
                    [_query_text(v) for v in value] if isinstance(value, list | tuple) else _query_text(value)
                )
        request = {**request, "url": url + ("?" + "&".join(pairs) if pairs else ""), "params": params}
    if extra_headers:
        headers = httpx.Headers(request.get("headers") or {})
        for name, value in extra_headers.items():
            if not isinstance(name, str) or not isinstance(value, str):
                raise errors.UsageError(f"extra_headers must map names to strings, got {name!r}: {value!r}")
            headers[name] = value
        request = {**request, "headers": headers}
    return request


def _query_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"  # what udata's boolean inputs accept
    if isinstance(value, Enum):
        return value.value
    return value


def prepare(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    raw: bool,
    is_async: bool,
    generated_client: Callable[[Callable[..., Any]], Any],
    fields: Any = None,
    extra_query: Mapping[str, Any] | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> Call:
    """Everything `call` does before sending. `generated_client(fn)` gives the generated client of the
    function's API, used unless ``client=`` is passed. `fields`: a field mask (`datagouv_sdk.masks`;
    on a paginated operation it names the items' fields). Raises UsageError for arguments the function
    cannot take, before any request."""
    if inspect.iscoroutinefunction(fn) != is_async:
        kind, other, flavour = (
            ("not async", "DataGouv", "asyncio") if is_async else ("async", "AsyncDataGouv", "sync")
        )
        raise errors.UsageError(f"{fn.__qualname__} is {kind}: use {other}.call, or pass {flavour}_detailed")
    module = _endpoint_module(fn)
    kwargs = coerce(fn, kwargs)
    if fields is not None:
        if "x_fields" not in _parameter_types(fn):
            raise errors.UsageError(
                f"{fn.__module__}.{fn.__name__} takes no field mask (X-Fields); "
                "send one anyway with extra_headers={'X-Fields': ...}"
            )
        from datagouv_sdk import masks

        page = _page_fields(fn)
        kwargs["x_fields"] = masks.mask(fields) if page is None else masks.for_page(fields, page)
    client = kwargs.pop("client", None) or generated_client(fn)
    try:
        request: dict[str, Any] = module.request_kwargs(*args, **kwargs)
    except (TypeError, AttributeError, ValueError) as exc:
        # Nothing was sent: an unknown keyword, a missing argument, a body without to_dict().
        raise errors.UsageError(f"{module.__name__}.{getattr(fn, '__name__', '')}: {exc}") from exc
    request = _with_extras(request, extra_query, extra_headers)
    return Call(fn, module, client, request, raw, masked=fields is not None)
