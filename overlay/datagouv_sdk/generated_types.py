"""What the overlay knows of the generated packages' own types: each package (ours, per-resource and
dataservice clients) defines its own ``types.Unset``, so absent values are recognised by identity with
that class, looked up once per package, never by class name."""

from __future__ import annotations

import importlib
from functools import cache

__all__ = ["is_unset_type", "unset_type"]


@cache
def unset_type(package: str) -> type | None:
    """The ``types.Unset`` of a generated package; None for a package that has none."""
    try:
        unset = importlib.import_module(f"{package}.types").Unset
    except (ImportError, AttributeError):
        return None
    return unset if isinstance(unset, type) else None


def is_unset_type(annotation: object) -> bool:
    """Whether a type annotation member is its own package's ``Unset`` (as in ``str | Unset``)."""
    if not isinstance(annotation, type):
        return False
    return annotation is unset_type(annotation.__module__.partition(".")[0])
