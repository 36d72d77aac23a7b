"""The pipeline behind `DataGouv.call`/`AsyncDataGouv.call`, with no I/O of its own: `prepare` (the
flavour check, argument coercion, the generated client, the raw request) and `Call.finish` (the status
mapped to the exception tree, then the parsed model or the decoded JSON). Each client's `call` sends
between the two, inside `capturing`.

The response capture (a ContextVar filled by an httpx response hook) lives here and only here:
generated `*_detailed` functions hand back status, headers and content but not the `httpx.Response`
the exception tree needs.
"""

from __future__ import annotations

import contextlib
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


class _JSONBody:
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
            value = _JSONBody(value)
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
    and in raw mode the request itself (so model parsing is skipped altogether)."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    raw: bool
    request: dict[str, Any] | None

    @property
    def client(self) -> Any:
        return self.kwargs["client"]

    def finish(self, responses: list[httpx.Response], detailed: Any) -> Any:
        """The status mapped to the exception tree, then the parsed model or the decoded JSON."""
        if not responses:
            raise errors.UsageError(f"{self.fn!r} sent no request through this client's httpx client")
        response = responses[-1]
        errors.raise_for_status(response)
        if self.raw or getattr(detailed, "parsed", None) is None:
            # Empty body (204, a delete) → None; otherwise the JSON the generated code could not type.
            return errors.decode_json(response) if response.content.strip() else None
        return detailed.parsed


def _raw_request(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any] | None:
    """The request a generated function would send, built by its module's ``_get_kwargs`` (every
    openapi-python-client endpoint module has one). None when the module has no such builder: the
    function then runs and raw mode decodes its response."""
    module = sys.modules.get(getattr(fn, "__module__", ""))
    build = getattr(module, "_get_kwargs", None)
    if build is None:
        return None
    request: dict[str, Any] = build(*args, **{k: v for k, v in kwargs.items() if k != "client"})
    return request


def prepare(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    raw: bool,
    is_async: bool,
    generated_client: Callable[[Callable[..., Any]], Any],
) -> Call:
    """Everything `call` does before sending. `generated_client(fn)` gives the generated client of the
    function's API, used unless ``client=`` is passed. Raises UsageError for arguments the function
    cannot take, before any request."""
    if inspect.iscoroutinefunction(fn) != is_async:
        kind, other, flavour = (
            ("not async", "DataGouv", "asyncio") if is_async else ("async", "AsyncDataGouv", "sync")
        )
        raise errors.UsageError(f"{fn.__qualname__} is {kind}: use {other}.call, or pass {flavour}_detailed")
    kwargs = coerce(fn, kwargs)
    if "client" not in kwargs:
        kwargs["client"] = generated_client(fn)
    try:
        request = _raw_request(fn, args, kwargs) if raw else None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise decode_failure(None, exc, fn) from exc
    return Call(fn, args, kwargs, raw, request)
