"""The pipeline behind `DataGouv.call`/`AsyncDataGouv.call`, with no I/O of its own: `prepare` (the
flavour check, argument coercion, the field mask, the generated client, and the request itself, built
by the generated module, with the caller's extra query parameters and headers) and `Call.finish` (the
status mapped to the exception tree, then the parsed model or the decoded JSON). Each client's `call`
sends between the two, inside `capturing`; `Call.respond` wraps the answer as an `APIResponse` instead
(`dg.with_response`).

The response capture (a ContextVar filled by an httpx response hook) lives here and only here: a
function without a request builder is run as is, and its `*_detailed` result carries status, headers
and content but not the `httpx.Response` the exception tree needs.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import inspect
import sys
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from enum import Enum
from functools import lru_cache
from typing import Any, Literal

import attrs
import httpx

from datagouv_sdk import errors

# The responses seen during the current `call` (one per redirect hop), collected by `capture`, the
# clients' httpx response hook. A ContextVar keeps concurrent calls apart (prefetch threads, tasks).
_captured: ContextVar[list[httpx.Response] | None] = ContextVar("datagouv_captured", default=None)


def capture(response: httpx.Response) -> None:
    holder = _captured.get()
    if holder is not None:
        holder.append(response)


async def acapture(response: httpx.Response) -> None:
    capture(response)


@contextlib.contextmanager
def capturing(fn: Callable[..., Any]) -> Iterator[list[httpx.Response]]:
    """Collect the responses of the block; an error the generated code raised while parsing them
    becomes the status error or a ResponseDecodeError."""
    responses: list[httpx.Response] = []
    token = _captured.set(responses)
    try:
        yield responses
    except errors.DataGouvError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise decode_failure(responses[-1] if responses else None, exc, fn) from exc
    finally:
        _captured.reset(token)


def decode_failure(
    response: httpx.Response | None, exc: Exception, fn: Callable[..., Any]
) -> errors.DataGouvError:
    name = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__name__', '')}"
    if response is None:  # nothing was sent: the arguments were wrong (unknown keyword, wrong body type)
        return errors.UsageError(f"{name}: {exc}")
    if response.status_code >= 400:
        return errors.error_from_response(response)
    return errors.ResponseDecodeError(
        f"the response of {name} does not match the model the spec declares: {exc!r}", response=response
    )


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
    """One call of a generated function, ready to send: coerced arguments with the generated client,
    and the request itself when the module can build it (always, for the generated clients)."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    raw: bool
    request: dict[str, Any] | None

    @property
    def client(self) -> Any:
        return self.kwargs["client"]

    def finish(self, responses: list[httpx.Response], detailed: Any = None) -> Any:
        """The status mapped to the exception tree, then the parsed model or the decoded JSON.
        `detailed`: the generated function's result when it ran itself (no request builder)."""
        if not responses:
            raise errors.UsageError(f"{self.fn!r} sent no request through this client's httpx client")
        response = responses[-1]
        errors.raise_for_status(response)
        if not self.raw and detailed is None and self.request is not None:
            build = getattr(sys.modules.get(getattr(self.fn, "__module__", "")), "_build_response", None)
            if build is not None:
                detailed = build(client=self.client, response=response)
        if self.raw or getattr(detailed, "parsed", None) is None:
            # Empty body (204, a delete) → None; otherwise the JSON the generated code could not type.
            return errors.decode_json(response) if response.content.strip() else None
        return detailed.parsed

    def respond(self, responses: list[httpx.Response], detailed: Any = None) -> APIResponse:
        """The answer as an `APIResponse` (the status is mapped first, as for `finish`)."""
        if not responses:
            raise errors.UsageError(f"{self.fn!r} sent no request through this client's httpx client")
        errors.raise_for_status(responses[-1])
        fn = self.fn

        def parse() -> Any:
            with capturing(fn) as seen:
                seen.extend(responses)
                return self.finish(responses, detailed)

        return APIResponse(responses[-1], parse)


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


def _builder(fn: Callable[..., Any]) -> Callable[..., dict[str, Any]] | None:
    """The request builder of a generated function's module (`_get_kwargs`: every
    openapi-python-client endpoint module has one), or None."""
    module = sys.modules.get(getattr(fn, "__module__", ""))
    build: Callable[..., dict[str, Any]] | None = getattr(module, "_get_kwargs", None)
    return build


@lru_cache(maxsize=1024)
def _page_fields(fn: Callable[..., Any]) -> tuple[str, ...] | None:
    """The fields of the page model a paginated operation returns (None: not a page)."""
    try:
        returned = typing.get_type_hints(fn).get("return")
    except (NameError, TypeError, AttributeError):
        return None
    for model in typing.get_args(returned):
        names = [f.name for f in getattr(model, "__attrs_attrs__", ())]
        if "data" in names and "page" in names:
            return tuple(n for n in names if n != "additional_properties")
    return None


def _with_extras(
    request: dict[str, Any], extra_query: Mapping[str, Any] | None, extra_headers: Mapping[str, str] | None
) -> dict[str, Any]:
    if extra_query:
        params = dict(request.get("params") or {})
        for name, value in extra_query.items():
            if value is None:
                params.pop(name, None)  # None removes a parameter the function would send
            else:
                params[name] = (
                    [_query_text(v) for v in value] if isinstance(value, list | tuple) else _query_text(value)
                )
        request = {**request, "params": params}
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
    if "client" not in kwargs:
        kwargs["client"] = generated_client(fn)
    build = _builder(fn)
    if build is None:
        if extra_query or extra_headers:
            raise errors.UsageError(
                f"{fn!r} builds no request this client can add to (extra_query, extra_headers)"
            )
        return Call(fn, args, kwargs, raw, None)
    try:
        request = build(*args, **{k: v for k, v in kwargs.items() if k != "client"})
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise decode_failure(None, exc, fn) from exc
    return Call(fn, args, kwargs, raw, _with_extras(request, extra_query, extra_headers))
