"""The pipeline behind `DataGouv.call`/`AsyncDataGouv.call`, with no I/O of its own: `prepare` (the
flavour check, argument coercion, the generated client, the request built by the endpoint module's
public `request_kwargs`) and `Call.finish` (the status mapped to the exception tree, then the body
parsed by the module's public `build_response`, or the decoded JSON). Each client's `call` sends the
request between the two and hands `finish` the `httpx.Response` itself.

The generated packages are standalone (users import them directly; discovery generates them for
third-party APIs), so their errors are their own classes: `finish` maps them here, once, to
`errors.ResponseDecodeError` and `errors.ResponseValidationError` (strict clients).
"""

from __future__ import annotations

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
    """One call of a generated function, ready to send: the endpoint module, the generated client and
    the request (keyword arguments of `httpx.Client.request`)."""

    fn: Callable[..., Any]
    module: Any  # the generated endpoint module: request_kwargs, build_response, errors
    client: Any  # the generated Client whose httpx client sends the request
    request: dict[str, Any]
    raw: bool

    def finish(self, response: httpx.Response) -> Any:
        """The status mapped to the exception tree, then the parsed model or the decoded JSON."""
        errors.raise_for_status(response)
        if self.raw:
            return errors.decode_json(response) if response.content.strip() else None
        generated = self.module.errors
        try:
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


def _endpoint_module(fn: Callable[..., Any]) -> Any:
    module = sys.modules.get(getattr(fn, "__module__", ""))
    if module is None or not hasattr(module, "request_kwargs") or not hasattr(module, "build_response"):
        raise errors.UsageError(
            f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', fn)} is not an endpoint of a "
            "client generated with datagouv-sdk's templates (no request_kwargs/build_response); "
            "regenerate it (make generate, or dgv dataservices generate)"
        )
    return module


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
    module = _endpoint_module(fn)
    kwargs = coerce(fn, kwargs)
    client = kwargs.pop("client", None) or generated_client(fn)
    try:
        request: dict[str, Any] = module.request_kwargs(*args, **kwargs)
    except (TypeError, AttributeError, ValueError) as exc:
        # Nothing was sent: an unknown keyword, a missing argument, a body without to_dict().
        name = f"{module.__name__}.{getattr(fn, '__name__', '')}"
        raise errors.UsageError(f"{name}: {exc}") from exc
    return Call(fn, module, client, request, raw)
