"""The GET operations of the generated Main API packages (v1 + v2), and how to call them on the peer.

Discovery walks `datagouv_main.api` and `datagouv_main_v2.api`: every module with a `sync_detailed`
whose request method is GET is one operation, so a newly generated operation shows up in the
contract tests by itself (covered, or failing until it is listed in main_uncovered.json).

Argument values come from the udata peer's seed through the null census' tables
(tests/peers/udata_null_census.py), so both walk the same objects.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import json
import pkgutil
import re
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from tests.peers.udata_null_census import (
    EXTRA_QUERY,
    ID_BY_PATH,
    MAX_VARIANTS,
    SUGGEST_Q,
    _id_values,
    _path_values,
)

PACKAGES = {"datagouv_main": "/api/1", "datagouv_main_v2": "/api/2"}
UNCOVERED_FILE = Path(__file__).resolve().parent / "main_uncovered.json"
# Generated Python names of path parameters whose spec name is not a valid identifier.
SPEC_PARAM_NAMES = {"field_format_": "_format"}
_METHOD = re.compile(r'"method": "(\w+)"')
# our endpoint template writes `"url": _parameters.request_target("/path", ...)`
_URL = re.compile(r'"url":\s*(?:_parameters\.request_target\(\s*)?"([^"]*)"')


@dataclass(frozen=True)
class GetOperation:
    key: str  # "datagouv_main.datasets.get_dataset": package, tag, module
    package: str
    module: types.ModuleType
    path: str  # "/api/1/datasets/{dataset}/rdf.{_format}": the spec's path, with its parameter names
    path_params: tuple[str, ...]  # the generated function's positional parameters, in path order
    required_query: tuple[str, ...]  # keyword-only parameters without a default (q, scope)
    response_200: Any  # the 200 type of `Response[...]` (typing.Any when the spec gives no schema)

    @property
    def sync_detailed(self) -> Callable[..., Any]:
        fn: Callable[..., Any] = self.module.sync_detailed
        return fn

    @property
    def has_model(self) -> bool:
        return self.response_200 is not Any


def _response_200_type(module: types.ModuleType) -> Any:
    """`X` of `Response[Any | X]`: the documented model (error statuses are untyped `Any`)."""
    hint = typing.get_type_hints(module.sync_detailed)["return"]
    (inner,) = typing.get_args(hint)
    members = typing.get_args(inner) if isinstance(inner, types.UnionType) else (inner,)
    typed = [m for m in members if m is not Any and m is not type(None)]
    if len(typed) > 1:
        raise AssertionError(f"{module.__name__}: several typed responses {typed}; which one is the 200?")
    source = inspect.getsource(module._parse_response)
    has_200_body = re.search(r"status_code == 200:\n\s+response_200: Any = ", source) is not None
    if not has_200_body:
        return Any
    if not typed:
        raise AssertionError(f"{module.__name__}: a 200 is parsed but its type is not in {hint}")
    return typed[0]


def request_line(module: types.ModuleType) -> tuple[str, str]:
    """(method, URL template) of a generated endpoint module, read from its request_kwargs."""
    source = inspect.getsource(module.request_kwargs)
    method, url = _METHOD.search(source), _URL.search(source)
    assert method and url, module.__name__
    return method.group(1), url.group(1)


def discover() -> dict[str, GetOperation]:
    """Every GET operation of both generated Main packages, by key."""
    found: dict[str, GetOperation] = {}
    for package, prefix in PACKAGES.items():
        api = importlib.import_module(f"{package}.api")
        for info in pkgutil.walk_packages(api.__path__, f"{api.__name__}."):
            if info.ispkg:
                continue
            module = importlib.import_module(info.name)
            if not hasattr(module, "sync_detailed") or request_line(module)[0] != "get":
                continue
            signature = inspect.signature(module.request_kwargs)
            path_params = tuple(
                name for name, p in signature.parameters.items() if p.kind is p.POSITIONAL_OR_KEYWORD
            )
            required_query = tuple(
                name
                for name, p in signature.parameters.items()
                if p.kind is p.KEYWORD_ONLY and p.default is inspect.Parameter.empty
            )
            # Placeholders in, the URL template out (quote() encodes the braces).
            placeholders = [f"{{{name}}}" for name in path_params]
            request = module.request_kwargs(*placeholders, **dict.fromkeys(required_query, "x"))
            url = unquote(request["url"].partition("?")[0])  # the query string is in the URL too
            for name in path_params:
                url = url.replace(f"{{{name}}}", f"{{{SPEC_PARAM_NAMES.get(name, name)}}}")
            tag = info.name.split(".")[-2]
            key = f"{package}.{tag}.{info.name.rsplit('.', 1)[-1]}"
            found[key] = GetOperation(
                key=key,
                package=package,
                module=module,
                path=prefix + url,
                path_params=path_params,
                required_query=required_query,
                response_200=_response_200_type(module),
            )
    return dict(sorted(found.items()))


def load_uncovered() -> dict[str, dict[str, str]]:
    """main_uncovered.json: {key: {"path", "reason", "status"}}, reviewed by hand."""
    entries = json.loads(UNCOVERED_FILE.read_text(encoding="utf-8"))["operations"]
    return {entry["operation"]: entry for entry in entries}


def call_arguments(operation: GetOperation, seed: dict[str, Any]) -> list[tuple[list[str], dict[str, Any]]]:
    """Up to MAX_VARIANTS (positional, keyword) argument sets for the operation, from the seed.

    Raises LookupError naming the parameter the seed has no value for."""
    values = _path_values(seed)
    choices: list[list[str]] = []
    for name in operation.path_params:
        spec_name = SPEC_PARAM_NAMES.get(name, name)
        if spec_name == "id":
            kind = ID_BY_PATH.get(operation.path)
            if kind is None:
                raise LookupError(f"{operation.path}: no seeded object kind for {{id}} (census ID_BY_PATH)")
            options = _id_values(seed, kind)
        else:
            options = values.get(spec_name, [])
        if not options:
            raise LookupError(f"{operation.path}: no seeded value for {{{spec_name}}}")
        choices.append(options[:MAX_VARIANTS])
    query: dict[str, Any] = {}
    for name in operation.required_query:
        if name == "q":
            query["q"] = SUGGEST_Q.get(operation.path, "peer")
        elif name == "scope":
            query["scope"] = f"Dataset:{seed['datasets'][0]}"
        else:
            raise LookupError(f"{operation.path}: no value for the required query parameter {name!r}")
    if operation.path in EXTRA_QUERY:
        query.update(EXTRA_QUERY[operation.path](seed))
    combos: Iterable[tuple[str, ...]] = itertools.product(*choices)
    if "dataset" in operation.path_params and "rid" in operation.path_params:
        # Only pairs where the resource belongs to the dataset (others are honest 404s).
        d, r = operation.path_params.index("dataset"), operation.path_params.index("rid")
        combos = (c for c in combos if c[r] in seed["resources"].get(c[d], []))
    return [(list(combo), dict(query)) for combo in itertools.islice(combos, MAX_VARIANTS)]
