"""Text search for the udata peer: MongoDB's `$text` operator, emulated on top of mongomock.

Without Elasticsearch, udata answers every `q=` (v1 list endpoints and the v2 `/search/` endpoints)
with MongoDB text search: `QuerySet.search_text()` adds `{"$text": {"$search": ...}}` to the query,
projects `{"$meta": "textScore"}` and sorts by `$text_score`. mongomock implements none of the three
(v1 answers 500, v2 search 501), so this module teaches them to the peer process:

- `$text` is matched against the collection's text-index fields (as declared in each udata model's
  `meta["indexes"]`, e.g. `$title` for datasets), case- and accent-insensitively, with MongoDB's
  query grammar: every "quoted phrase" must occur, at least one bare term must occur (if any),
  no -negated term may occur. Stemming and stop words are not emulated.
- the text score is neither projected nor sorted on: results keep the query's other ordering.

`install()` patches mongomock and mongoengine in place; call it once before the app serves.
"""

from __future__ import annotations

import contextvars
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

import mongomock.collection
import mongomock.filtering
from mongoengine.base import common as mongoengine_common
from mongoengine.queryset.base import BaseQuerySet

# Text-index fields of the collection whose documents are being filtered right now.
_text_fields: contextvars.ContextVar[tuple[str, ...] | None] = contextvars.ContextVar(
    "udata_peer_text_fields", default=None
)
_fields_by_collection: dict[str, tuple[str, ...]] = {}

_TOKEN = re.compile(r'(-?)"([^"]*)"|(-?)(\S+)')


def _fold(text: str) -> str:
    """Lower-case and strip accents, like a MongoDB text index (version 3)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _collection_text_fields(collection_name: str) -> tuple[str, ...]:
    if not _fields_by_collection:
        for document in mongoengine_common._document_registry.values():
            meta = getattr(document, "_meta", {})
            if meta.get("abstract") or not hasattr(document, "_get_collection_name"):
                continue
            name = document._get_collection_name()
            if not name:
                continue
            fields: list[str] = []
            for spec in meta.get("index_specs") or []:
                fields += [key for key, kind in spec.get("fields", []) if kind == "text"]
            if fields:
                known = _fields_by_collection.get(name, ())
                _fields_by_collection[name] = known + tuple(f for f in fields if f not in known)
    return _fields_by_collection.get(collection_name, ())


def _values(document: Any, path: list[str]) -> Iterator[str]:
    """Every string reached by a dotted path, descending through lists like MongoDB does."""
    if isinstance(document, list):
        for item in document:
            yield from _values(item, path)
        return
    if not path:
        if isinstance(document, str):
            yield document
        return
    if isinstance(document, dict) and path[0] in document:
        yield from _values(document[path[0]], path[1:])


def text_matches(search: str, document: dict[str, Any], fields: tuple[str, ...]) -> bool:
    """Whether `document` matches the `$search` string over `fields` (MongoDB's grammar)."""
    haystack = _fold(" ".join(v for f in fields for v in _values(document, f.split("."))))
    phrases: list[str] = []
    terms: list[str] = []
    negated: list[str] = []
    for match in _TOKEN.finditer(search):
        neg_phrase, phrase, neg_term, term = match.groups()
        if phrase is not None:
            (negated if neg_phrase else phrases).append(_fold(phrase))
        else:
            (negated if neg_term else terms).append(_fold(term))
    if any(n and n in haystack for n in negated):
        return False
    if not all(p in haystack for p in phrases if p):
        return False
    return not terms or any(t in haystack for t in terms)


def install() -> None:
    original_apply = mongomock.filtering._Filterer.apply
    original_iter = mongomock.collection.Collection._iter_documents
    original_search_text = BaseQuerySet.search_text
    original_order_by = BaseQuerySet._get_order_by

    def apply(self: Any, search_filter: Any, document: Any) -> bool:
        if isinstance(search_filter, dict) and "$text" in search_filter:
            fields = _text_fields.get()
            if fields is None:
                raise NotImplementedError("$text outside a collection scan")
            rest = {k: v for k, v in search_filter.items() if k != "$text"}
            if not text_matches(search_filter["$text"]["$search"], document, fields):
                return False
            return bool(original_apply(self, rest, document)) if rest else True
        return bool(original_apply(self, search_filter, document))

    def iter_documents(self: Any, filter: Any) -> Iterator[Any]:
        # The original is a lazy generator: evaluate it while this collection's fields are set.
        token = _text_fields.set(_collection_text_fields(self.name))
        try:
            return iter(list(original_iter(self, filter)))
        finally:
            _text_fields.reset(token)

    def search_text(self: Any, text: str, language: str | None = None, text_score: bool = True) -> Any:
        return original_search_text(self, text, language=language, text_score=False)

    def get_order_by(self: Any, keys: Any) -> Any:
        return original_order_by(self, [k for k in keys if k not in ("$text_score", "-$text_score")])

    mongomock.filtering._Filterer.apply = apply
    mongomock.collection.Collection._iter_documents = iter_documents
    BaseQuerySet.search_text = search_text
    BaseQuerySet._get_order_by = get_order_by
