"""Every operation of the four generated clients, found by its id, with arguments given as text.

What `dgv api OPERATION -p name=value` needs, usable from Python too:

- `catalogue(api=None)` → `list[Operation]`: each operation's API, tag, id (its generated module's
  name, which is the spec's operationId), method and path. Read from the generated files' text, without
  importing them (~300 small modules).
- `find(ref)` → `Operation`: `ref` is an id (`list_datasets`) or `api:id` (`main_v2:search_datasets`;
  `v2` is short for `main_v2`). An id in both Main API versions means v1 (`v2:list_datasets` for the
  other); one in both Metrics and Tabular (`get_health`) must be qualified; an unknown one is a
  `UsageError` suggesting close names.
- `Operation.parameters()` → `list[Parameter]` (name, kind path/query/header/body, annotation,
  required), from the generated `sync_detailed` signature.
- `Operation.arguments(params)` → `(args, kwargs)` for the generated function: `params` maps a
  parameter's name (the API's spelling `X-Fields`/`page-size` or the generated `x_fields`/`page_size`)
  to its text values; each is converted to what the annotation wants (int, float, bool, dates, enums,
  lists when repeated). Unknown names, missing path parameters and bad values are `UsageError`s naming
  the accepted values.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import enum
import importlib
import importlib.util
import inspect
import re
import types
import typing
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, Literal

import attrs

from datagouv_sdk import errors
from datagouv_sdk.generated_types import is_unset_type

__all__ = ["API_ALIASES", "Operation", "Parameter", "catalogue", "find"]

ApiName = Literal["main", "main_v2", "metrics", "tabular"]
PACKAGES: dict[ApiName, str] = {
    "main": "datagouv_main",
    "main_v2": "datagouv_main_v2",
    "metrics": "datagouv_metrics",
    "tabular": "datagouv_tabular",
}
API_ALIASES: dict[str, ApiName] = {
    "main": "main",
    "v1": "main",
    "main_v2": "main_v2",
    "v2": "main_v2",
    "metrics": "metrics",
    "tabular": "tabular",
}
_METHOD = re.compile(r'"method":\s*"(\w+)"')
# upstream's template writes `"url": "/path"` (or .format); ours (codegen/templates/endpoint_module.py.jinja)
# `"url": _parameters.request_target("/path", ...)`, the document's path, parameters styled as it says
_URL = re.compile(r'"url":\s*(?:f|_parameters\.request_target\(\s*)?"([^"]*)"')
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@attrs.frozen
class Parameter:
    name: str  # the generated function's keyword (`x_fields`, `license_`)
    kind: Literal["path", "query", "header", "body"]
    annotation: Any
    required: bool

    @property
    def api_name(self) -> str:
        """How the API spells it (`X-Fields`, `license`), as far as the generated name tells."""
        if self.kind == "header":
            return "-".join(
                part.capitalize() if len(part) > 1 else part.upper() for part in self.name.split("_")
            )
        # The generator appends "_" to names that are Python keywords or builtins (`for_`, `type_`).
        return self.name[:-1] if self.name.endswith("_") and not self.name.endswith("__") else self.name


@attrs.frozen
class Operation:
    api: ApiName
    tag: str
    id: str
    method: str  # upper case
    path: str  # relative to the API's base URL, with {placeholders}

    @property
    def ref(self) -> str:
        return f"{self.api}:{self.id}"

    @property
    def module_name(self) -> str:
        return f"{PACKAGES[self.api]}.api.{self.tag}.{self.id}"

    def load(self) -> types.ModuleType:
        return importlib.import_module(self.module_name)

    def parameters(self) -> list[Parameter]:
        return list(_parameters(self.module_name))

    def arguments(self, params: Mapping[str, Sequence[str]]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Positional (path) and keyword arguments of the generated function, from text values."""
        known = {p.name: p for p in self.parameters() if p.kind != "body"}
        by_api_name = {p.api_name.lower(): p for p in known.values()}
        chosen: dict[str, Any] = {}
        for given, values in params.items():
            key = given.strip().replace("-", "_")
            parameter = known.get(key) or known.get(key + "_") or by_api_name.get(given.strip().lower())
            if parameter is None:
                accepted = ", ".join(sorted(p.api_name for p in known.values())) or "none"
                raise errors.UsageError(f"{self.ref} has no parameter {given!r}; it accepts: {accepted}")
            chosen[parameter.name] = convert(parameter.name, parameter.annotation, list(values))
        missing = [p.api_name for p in known.values() if p.required and p.name not in chosen]
        if missing:
            raise errors.UsageError(f"{self.ref} ({self.method} {self.path}) needs: {', '.join(missing)}")
        args = tuple(chosen.pop(p.name) for p in known.values() if p.kind == "path")
        return args, chosen


@cache
def _parameters(module_name: str) -> tuple[Parameter, ...]:
    module = importlib.import_module(module_name)
    function = module.sync_detailed
    hints = typing.get_type_hints(function)
    found: list[Parameter] = []
    for name, parameter in inspect.signature(function).parameters.items():
        if name == "client":
            continue
        if parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
            kind: Literal["path", "query", "header", "body"] = "path"
        elif name == "body":
            kind = "body"
        elif _is_header(module, name):
            kind = "header"
        else:
            kind = "query"
        required = parameter.default is inspect.Parameter.empty
        found.append(Parameter(name, kind, hints.get(name, Any), required))
    return tuple(found)


def _is_header(module: types.ModuleType, name: str) -> bool:
    source = inspect.getsource(module.request_kwargs)
    # `headers["X-Fields"] = x_fields` (upstream), `= _parameters.header_text(_styles, "X-Fields", x_fields)` (ours)
    value = rf'(?:str\(|_parameters\.header_text\(_styles,\s*"[^"]*",\s*)?{re.escape(name)}\b'
    return re.search(rf'headers\["[^"]+"\]\s*=\s*{value}', source) is not None


def _options(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = list(typing.get_args(annotation))
    else:
        members = [annotation]
    return [m for m in members if m is not type(None) and not is_unset_type(m)]


def convert(name: str, annotation: Any, values: list[str]) -> Any:
    """Text values → what the annotation wants; a list when the annotation is one (values repeated)."""
    options = _options(annotation)
    list_type = next((o for o in options if typing.get_origin(o) is list), None)
    if list_type is not None:
        (item,) = typing.get_args(list_type) or (str,)
        return [_scalar(name, item, v) for v in values]
    if len(values) != 1:
        raise errors.UsageError(f"{name} takes one value, got {len(values)}")
    errors_seen: list[str] = []
    for option in options or [str]:
        try:
            return _scalar(name, option, values[0])
        except errors.UsageError as exc:
            errors_seen.append(str(exc))
    raise errors.UsageError(
        errors_seen[0] if len(errors_seen) == 1 else f"{name}={values[0]!r}: " + "; ".join(errors_seen)
    )


def _scalar(name: str, kind: Any, text: str) -> Any:
    if kind is Any or kind is str:
        return text
    if typing.get_origin(kind) is Literal:
        allowed = typing.get_args(kind)
        if text not in allowed:
            raise errors.UsageError(
                f"{name}={text!r} is not accepted; expected one of: {', '.join(map(str, allowed))}"
            )
        return text
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        try:
            return kind(text)
        except ValueError:
            values = ", ".join(str(m.value) for m in kind)
            raise errors.UsageError(f"{name}={text!r} is not accepted; expected one of: {values}") from None
    if kind is bool:
        lowered = text.strip().lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise errors.UsageError(f"{name}={text!r} is not a boolean (true or false)")
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise errors.UsageError(f"{name}={text!r} is not an integer") from None
    if kind is float:
        try:
            return float(text)
        except ValueError:
            raise errors.UsageError(f"{name}={text!r} is not a number") from None
    if kind is _dt.datetime:
        try:
            return _dt.datetime.fromisoformat(text)
        except ValueError:
            raise errors.UsageError(f"{name}={text!r} is not an ISO 8601 date-time") from None
    if kind is _dt.date:
        try:
            return _dt.date.fromisoformat(text)
        except ValueError:
            raise errors.UsageError(f"{name}={text!r} is not an ISO 8601 date (YYYY-MM-DD)") from None
    raise errors.UsageError(f"{name} cannot be given as text (it is a {getattr(kind, '__name__', kind)})")


@cache
def catalogue(api: ApiName | None = None) -> tuple[Operation, ...]:
    """Every operation of the generated packages that are installed, sorted by API, tag and id."""
    found: list[Operation] = []
    for name, package in PACKAGES.items():
        if api is not None and name != api:
            continue
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(next(iter(spec.submodule_search_locations))) / "api"
        for module in sorted(root.glob("*/*.py")):
            if module.name.startswith("_"):
                continue
            text = module.read_text(encoding="utf-8")
            method, url = _METHOD.search(text), _URL.search(text)
            if method and url:
                found.append(
                    Operation(name, module.parent.name, module.stem, method.group(1).upper(), url.group(1))
                )
    return tuple(found)


def find(ref: str) -> Operation:
    """The operation `ref` names: `id` or `api:id` (see the module docstring)."""
    ref = ref.strip()
    api_part, _, name = ref.rpartition(":")
    api: ApiName | None = None
    if api_part:
        api = API_ALIASES.get(api_part.lower())
        if api is None:
            raise errors.UsageError(
                f"unknown API {api_part!r} in {ref!r}; expected one of: {', '.join(PACKAGES)}"
            )
    matches = [op for op in catalogue(api) if op.id == name]
    if len(matches) > 1 and {op.api for op in matches} == {"main", "main_v2"}:
        matches = [op for op in matches if op.api == "main"]  # v1 is the Main API; v2:id for the other
    if len(matches) == 1:
        return matches[0]
    if matches:
        choices = ", ".join(op.ref for op in matches)
        raise errors.UsageError(f"{name} exists in several APIs: say which one ({choices})")
    names = sorted({op.id for op in catalogue(api)})
    if not names:
        raise errors.UsageError("no generated client is installed: run `make generate`")
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.6)
    hint = f"; did you mean: {', '.join(close)}?" if close else "; `dgv api --list` shows them all"
    raise errors.UsageError(f"no operation {ref!r}{hint}")
