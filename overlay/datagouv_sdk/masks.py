"""Field masks: udata's `X-Fields` header, which trims an answer to the fields it names.

udata (flask-restx) applies the mask to what an operation marshals: ``id,title`` keeps two fields,
``resources{id,url}`` keeps two fields of each resource, ``*`` keeps everything at that level. The
SDK accepts the mask as udata's string or as a list of its parts (``["id", "title",
"resources{id,url}"]``), checks it before sending (names, braces, commas) and normalises it.

On a paginated operation the mask names the *items'* fields: `for_page` wraps it as
``data{…}`` and keeps the page's own fields (``page``, ``total``, ``next_page``… and a search's
``facets``), so paging still works. The answer then holds partial objects: typed models parse them
(fields the mask left out are unset).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from datagouv_sdk import errors

__all__ = ["Fields", "for_page", "mask"]

Fields = str | Sequence[str]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*|\*")


def mask(fields: Fields) -> str:
    """The normalised mask string of `fields` (a mask string or a list of its parts)."""
    if isinstance(fields, str):
        text = fields
    elif isinstance(fields, Iterable) and all(isinstance(f, str) for f in fields):
        text = ",".join(fields)
    else:
        raise errors.UsageError(f"fields must be a mask string or a list of field names, got {fields!r}")
    compact = re.sub(r"\s*([{},])\s*", r"\1", text.strip())  # spaces around punctuation only
    if compact.startswith("{") and compact.endswith("}"):
        compact = compact[1:-1]  # udata also accepts the whole mask in braces
    _check(compact, fields)
    return compact


def _check(text: str, original: object) -> None:
    position, depth = 0, 0
    expect_name = True
    while position < len(text):
        if expect_name:
            match = _NAME.match(text, position)
            if match is None:
                raise errors.UsageError(
                    f"fields={original!r}: a field name was expected at character {position + 1} of {text!r}"
                )
            position = match.end()
            expect_name = False
            if position < len(text) and text[position] == "{":
                depth += 1
                position += 1
                expect_name = True
            continue
        char = text[position]
        if char == ",":
            expect_name = True
        elif char == "}":
            depth -= 1
            if depth < 0:
                raise errors.UsageError(f"fields={original!r}: an unmatched '}}' at character {position + 1}")
        else:
            raise errors.UsageError(f"fields={original!r}: unexpected {char!r} at character {position + 1}")
        position += 1
    if expect_name:
        raise errors.UsageError(f"fields={original!r}: the mask is empty or ends with ',' or '{{'")
    if depth:
        raise errors.UsageError(f"fields={original!r}: {depth} '{{' left unclosed")


def for_page(fields: Fields, page_fields: Iterable[str]) -> str:
    """The mask for a page whose items should keep `fields`: ``data{fields}`` plus the page's own."""
    own = [name for name in page_fields if name != "data"]
    return ",".join([f"data{{{mask(fields)}}}", *own])
