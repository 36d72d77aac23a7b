"""A stand-in for Elasticsearch 7, speaking the part of its REST API that udata's search uses.

udata 17.18.0 searches (the v2 `/search/` endpoints) through `udata_search_service`, a library it
imports: it builds Elasticsearch queries with elasticsearch-dsl and sends them with elasticsearch-py
7.17 to `ELASTICSEARCH_URL`. Elasticsearch (a JVM service) cannot be installed from a package registry
here, so this module answers those requests itself, from the documents udata indexes into it. Every
other line stays udata's: its adapters serialise the objects, its consumers and the services build the
queries, facets and sorts, and the API marshals the objects it reads back from MongoDB.

What is implemented (exactly what udata_search_service sends; anything else is a 400 like
Elasticsearch's `parsing_exception`, never a silent wrong answer):

- `GET /` (with `X-Elastic-Product`, which the 7.17 client checks), `HEAD|PUT|DELETE /<index>`,
  `PUT /_template/<name>` (mappings and analysis of new indices come from matching templates),
  aliases (`PUT /<index>/_alias/<name>`, `GET /_alias/<name>`, `POST /_aliases`),
  `PUT|POST|GET|DELETE /<index>/_doc/<id>`, `POST|GET /<index>/_search`, `POST /<index>/_refresh`.
- queries: `match_all`, `bool` (must, filter, should, must_not, minimum_should_match), `term`,
  `terms`, `range` (numbers and dates, with date math such as `now-30d/d`), `match` (operator,
  fuzziness, boost), `multi_match` (best_fields, most_fields, cross_fields, phrase; `field^boost`),
  `function_score` (`field_value_factor` with its modifiers, and the one `script_score` script udata
  sends); `post_filter`, `sort` (fields, `_score`, missing values last), `from`/`size` (the
  10,000-result window is enforced as in Elasticsearch), `track_total_hits`.
- aggregations: `terms` (keyword fields, doc_count desc then key), `filter`, `date_range`, nested.
- analysis, built from the template's own settings: `icu_tokenizer` (Unicode words; an apostrophe,
  dot or colon between letters and a dot or comma between digits stay inside a word, as UAX #29
  says), `pattern_replace` char filters, `icu_folding`, `elision`, `synonym`, `stop` (`_french_`),
  `stemmer` (`light_french`, our own light stemmer: plurals, feminine -e, -aux → -al; not
  Lucene's), the standard analyzer (lower case, no folding) for text fields without an analyzer.

Known differences, by design: scores are a simple TF-IDF (1 + ln tf) * idf * boost, not BM25, so
ranking among equally matching documents can differ; no phrase slop; fuzziness is edit distance with
transpositions on whole terms (no prefix length, no expansion cap); documents are searchable as soon as
they are indexed (no one-second refresh); one shard, no replicas; `hits.total` is exact up to 10,000
and then "gte" as in Elasticsearch.

Run alone (for debugging): `python search_service.py [--port N]`; the udata launcher starts it on a
thread of its own process (`start()`), so it lives and dies with the peer.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

VERSION = "7.17.13"  # the elasticsearch-py the udata peer ships (the client checks major.minor)
MAX_RESULT_WINDOW = 10_000  # index.max_result_window's default
TRACK_TOTAL_HITS = 10_000  # hits.total is exact up to this by default ("gte" beyond)


class ESError(Exception):
    """An Elasticsearch error response: status, type and reason, shaped like the real ones."""

    def __init__(self, status: int, kind: str, reason: str, **extra: Any) -> None:
        super().__init__(reason)
        self.status, self.kind, self.reason, self.extra = status, kind, reason, extra

    def body(self) -> dict[str, Any]:
        cause = {"type": self.kind, "reason": self.reason, **self.extra}
        return {"error": {"root_cause": [cause], **cause}, "status": self.status}


def _bad_query(reason: str) -> ESError:
    return ESError(400, "parsing_exception", reason)


# --- analysis ----------------------------------------------------------------------------------

# A word: letters/digits, with an apostrophe, dot, colon or middle dot kept between two letters and a
# dot or comma kept between two digits (UAX #29's MidLetter / MidNumLet / MidNum), as icu_tokenizer
# and the standard tokenizer do.
_WORD = re.compile(r"[^\W_]+(?:(?:(?<=[^\W\d_])['\u2019.:\u00b7](?=[^\W\d_])|(?<=\d)[.,](?=\d))[^\W_]+)*")

# Lucene's _french_ stop set is the Snowball French list: function words only.
FRENCH_STOP_WORDS = frozenset(
    {
        "au",
        "aux",
        "avec",
        "ce",
        "ces",
        "dans",
        "de",
        "des",
        "du",
        "elle",
        "en",
        "et",
        "eux",
        "il",
        "ils",
        "je",
        "la",
        "le",
        "les",
        "leur",
        "lui",
        "ma",
        "mais",
        "me",
        "même",
        "mes",
        "moi",
        "mon",
        "ne",
        "nos",
        "notre",
        "nous",
        "on",
        "ou",
        "par",
        "pas",
        "pour",
        "qu",
        "que",
        "qui",
        "sa",
        "se",
        "ses",
        "son",
        "sur",
        "ta",
        "te",
        "tes",
        "toi",
        "ton",
        "tu",
        "un",
        "une",
        "vos",
        "votre",
        "vous",
        "c",
        "d",
        "j",
        "l",
        "à",
        "m",
        "n",
        "s",
        "t",
        "y",
        "été",
        "étée",
        "étées",
        "étés",
        "étant",
        "étante",
        "étants",
        "étantes",
        "suis",
        "es",
        "est",
        "sommes",
        "êtes",
        "sont",
        "serai",
        "seras",
        "sera",
        "serons",
        "serez",
        "seront",
        "serais",
        "serait",
        "serions",
        "seriez",
        "seraient",
        "étais",
        "était",
        "étions",
        "étiez",
        "étaient",
        "fus",
        "fut",
        "fûmes",
        "fûtes",
        "furent",
        "sois",
        "soit",
        "soyons",
        "soyez",
        "soient",
        "fusse",
        "fusses",
        "fût",
        "fussions",
        "fussiez",
        "fussent",
        "ayant",
        "ayante",
        "ayantes",
        "ayants",
        "eu",
        "eue",
        "eues",
        "eus",
        "ai",
        "as",
        "avons",
        "avez",
        "ont",
        "aurai",
        "auras",
        "aura",
        "aurons",
        "aurez",
        "auront",
        "aurais",
        "aurait",
        "aurions",
        "auriez",
        "auraient",
        "avais",
        "avait",
        "avions",
        "aviez",
        "avaient",
        "eut",
        "eûmes",
        "eûtes",
        "eurent",
        "aie",
        "aies",
        "ait",
        "ayons",
        "ayez",
        "aient",
        "eusse",
        "eusses",
        "eût",
        "eussions",
        "eussiez",
        "eussent",
    }
)


@dataclass(frozen=True)
class Token:
    text: str
    position: int


def fold(text: str) -> str:
    """icu_folding: lower case, accents and other marks removed, compatibility forms unfolded."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def light_french_stem(word: str) -> str:
    """A light French stemmer of our own (Savoy's idea, not Lucene's code): inflection only."""
    if len(word) < 5 or not word.isalpha():
        return word
    if word.endswith("aux") and len(word) > 5:
        word = word[:-3] + "al"
    elif word[-1] in "sx":
        word = word[:-1]
    for suffix in ("euse", "ive", "ère", "ere", "ienne", "enne", "onne", "ette"):
        # feminine forms back to the masculine stem
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = {"euse": "eu", "ive": "if", "ère": "er", "ere": "er"}.get(suffix, suffix[:-2])
            word = word[: -len(suffix)] + base
            break
    if len(word) > 5 and word.endswith("ee"):
        word = word[:-1]
    if len(word) > 4 and word[-1] in "eé":
        word = word[:-1]
    if len(word) > 4 and word[-1] == word[-2] and word[-1].isalpha():
        word = word[:-1]
    return word


def _java_regex(pattern: str) -> re.Pattern[str]:
    """The Java regexes of pattern_replace char filters, in Python's dialect (\\p{L}: a letter)."""
    return re.compile(pattern.replace(r"\p{L}", r"[^\W\d_]"))


Analyzer = Callable[[str], list[Token]]


def _tokenize(text: str, lowercase: Callable[[str], str]) -> list[Token]:
    return [Token(lowercase(m.group()), index) for index, m in enumerate(_WORD.finditer(text))]


def standard_analyzer(text: str) -> list[Token]:
    return _tokenize(text, str.lower)


def build_analyzer(name: str, analysis: dict[str, Any]) -> Analyzer:
    """A custom analyzer from an index's `settings.analysis` (what elasticsearch-dsl sends)."""
    if name == "standard":
        return standard_analyzer
    definition = (analysis.get("analyzer") or {}).get(name)
    if definition is None:
        raise ESError(
            400, "mapper_parsing_exception", f"analyzer [{name}] has not been configured in mappings"
        )
    tokenizer = definition.get("tokenizer")
    if tokenizer not in ("icu_tokenizer", "standard"):
        raise ESError(400, "illegal_argument_exception", f"unsupported tokenizer [{tokenizer}]")
    char_filters = [_char_filter(n, analysis) for n in definition.get("char_filter", [])]
    filters = [_token_filter(n, analysis) for n in definition.get("filter", [])]

    def analyze(text: str) -> list[Token]:
        for char_filter in char_filters:
            text = char_filter(text)
        tokens = _tokenize(text, lambda t: t)
        for token_filter in filters:
            tokens = token_filter(tokens)
        return tokens

    return analyze


def _char_filter(name: str, analysis: dict[str, Any]) -> Callable[[str], str]:
    definition = (analysis.get("char_filter") or {}).get(name)
    if definition is None or definition.get("type") != "pattern_replace":
        raise ESError(400, "illegal_argument_exception", f"unsupported char_filter [{name}]")
    pattern = _java_regex(definition["pattern"])
    replacement = re.sub(r"\$(\d)", r"\\\1", definition.get("replacement", ""))
    return lambda text: pattern.sub(replacement, text)


TokenFilter = Callable[[list[Token]], list[Token]]


def _token_filter(name: str, analysis: dict[str, Any]) -> TokenFilter:
    if name == "icu_folding":
        return lambda tokens: [Token(fold(t.text), t.position) for t in tokens]
    if name == "lowercase":
        return lambda tokens: [Token(t.text.lower(), t.position) for t in tokens]
    definition = (analysis.get("filter") or {}).get(name)
    if definition is None:
        raise ESError(400, "illegal_argument_exception", f"unsupported token filter [{name}]")
    kind = definition.get("type")
    if kind == "elision":
        articles = sorted(definition.get("articles", []))
        flags = re.IGNORECASE if definition.get("articles_case") else 0
        pattern = re.compile(r"^(?:" + "|".join(map(re.escape, articles)) + r")['\u2019]", flags)
        return lambda tokens: [Token(pattern.sub("", t.text), t.position) for t in tokens]
    if kind == "stop":
        words = definition.get("stopwords")
        stop = FRENCH_STOP_WORDS if words == "_french_" else frozenset(words or ())
        folded = stop | {fold(w) for w in stop}
        return lambda tokens: [t for t in tokens if t.text.lower() not in folded]
    if kind == "stemmer":
        if definition.get("language") != "light_french":
            raise ESError(
                400, "illegal_argument_exception", f"unsupported stemmer [{definition.get('language')}]"
            )
        return lambda tokens: [Token(light_french_stem(t.text), t.position) for t in tokens]
    if kind == "synonym":
        return _synonym_filter(definition)
    raise ESError(400, "illegal_argument_exception", f"unsupported token filter type [{kind}]")


def _synonym_filter(definition: dict[str, Any]) -> TokenFilter:
    """Solr-format equivalence groups ("a, b c, d"), expanded: every member stands for the others.
    Analysed like the stream they apply to at this point: folded, lower case."""
    groups: list[list[tuple[str, ...]]] = []
    for line in definition.get("synonyms", []):
        if "=>" in line:
            raise ESError(400, "illegal_argument_exception", "explicit synonym mappings are not supported")
        groups.append([tuple(fold(w) for w in _WORD.findall(member)) for member in line.split(",")])

    def expand(tokens: list[Token]) -> list[Token]:
        out = list(tokens)
        texts = [t.text.lower() for t in tokens]
        for group in groups:
            for member in group:
                if not member:
                    continue
                for start in range(len(texts) - len(member) + 1):
                    if tuple(texts[start : start + len(member)]) != member:
                        continue
                    position = tokens[start].position
                    for other in group:
                        if other != member:
                            out.extend(Token(word, position + i) for i, word in enumerate(other))
        return out

    return expand


# --- fields and documents -----------------------------------------------------------------------


@dataclass
class FieldType:
    kind: str  # text, keyword, date, long, integer, float, double, boolean
    analyzer: str = "standard"
    source: str | None = None  # a multi-field ("name.keyword") reads its parent's values


def _flatten_mapping(properties: dict[str, Any], prefix: str = "") -> dict[str, FieldType]:
    out: dict[str, FieldType] = {}
    for name, spec in properties.items():
        path = prefix + name
        if "properties" in spec:
            out.update(_flatten_mapping(spec["properties"], path + "."))
            continue
        out[path] = FieldType(spec.get("type", "object"), spec.get("analyzer", "standard"))
        for sub, sub_spec in (spec.get("fields") or {}).items():
            out[f"{path}.{sub}"] = FieldType(
                sub_spec.get("type", "keyword"), sub_spec.get("analyzer", "standard"), source=path
            )
    return out


def _leaves(source: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(source, dict):
        for key, value in source.items():
            yield from _leaves(value, f"{prefix}{key}.")
    elif isinstance(source, list):
        for item in source:
            yield from _leaves(item, prefix)
    elif source is not None:
        yield prefix[:-1], source


def _dynamic_type(value: Any) -> FieldType | None:
    """Elasticsearch's dynamic mapping for a value no mapping declares."""
    if isinstance(value, bool):
        return FieldType("boolean")
    if isinstance(value, int):
        return FieldType("long")
    if isinstance(value, float):
        return FieldType("float")
    if isinstance(value, str):
        return FieldType("date") if _looks_like_date(value) else FieldType("text")
    return None


def _looks_like_date(value: str) -> bool:
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?", value))


def _source_values(source: Any, path: list[str]) -> list[Any]:
    """Every leaf value at a dotted path, through lists, as Elasticsearch flattens objects."""
    if isinstance(source, list):
        return [v for item in source for v in _source_values(item, path)]
    if not path:
        return [] if source is None else [source]
    if isinstance(source, dict) and path[0] in source:
        return _source_values(source[path[0]], path[1:])
    return []


def parse_date(value: Any, now: datetime | None = None) -> float:
    """Epoch milliseconds of a date value: ISO 8601, epoch millis, or date math (`now-30d/d`)."""
    if isinstance(value, bool):
        raise ESError(400, "parse_exception", f"failed to parse date field [{str(value).lower()}]")
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        raise ESError(400, "parse_exception", f"failed to parse date field [{value}]")
    text = value.strip()
    if text.startswith("now"):
        return _date_math((now or datetime.now(UTC)), text[3:]).timestamp() * 1000
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ESError(400, "parse_exception", f"failed to parse date field [{value}]") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp() * 1000


_MATH = re.compile(r"([+-])(\d+)([yMwdhHms])|/([yMwdhHms])")


def _date_math(now: datetime, expression: str) -> datetime:
    result, position = now, 0
    for match in _MATH.finditer(expression):
        if match.start() != position:
            break
        position = match.end()
        sign, amount, unit, rounding = match.groups()
        if rounding:
            result = _round_down(result, rounding)
            continue
        delta = int(amount) * (1 if sign == "+" else -1)
        if unit == "y":
            result = result.replace(year=result.year + delta)
        elif unit == "M":
            month = result.month - 1 + delta
            result = result.replace(year=result.year + month // 12, month=month % 12 + 1)
        else:
            seconds = {"w": 604800, "d": 86400, "h": 3600, "H": 3600, "m": 60, "s": 1}[unit]
            result = result + timedelta(seconds=delta * seconds)
    if position != len(expression):
        raise ESError(400, "parse_exception", f"failed to parse date math [now{expression}]")
    return result


def _round_down(moment: datetime, unit: str) -> datetime:
    if unit == "y":
        return moment.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "M":
        return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "w":
        start = moment - timedelta(days=moment.weekday())
        return start.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "d":
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit in "hH":
        return moment.replace(minute=0, second=0, microsecond=0)
    if unit == "m":
        return moment.replace(second=0, microsecond=0)
    return moment.replace(microsecond=0)


@dataclass
class Index:
    name: str
    mapping: dict[str, FieldType] = field(default_factory=dict)
    analysis: dict[str, Any] = field(default_factory=dict)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)  # insertion order = doc order
    versions: dict[str, int] = field(default_factory=dict)
    seq_no: int = 0
    _analyzers: dict[str, Analyzer] = field(default_factory=dict)
    _tokens: dict[tuple[str, str], list[Token]] = field(default_factory=dict)

    def field_type(self, path: str) -> FieldType | None:
        return self.mapping.get(path)

    def analyzer(self, name: str) -> Analyzer:
        if name not in self._analyzers:
            self._analyzers[name] = build_analyzer(name, self.analysis)
        return self._analyzers[name]

    def raw_values(self, doc_id: str, path: str) -> list[Any]:
        kind = self.mapping.get(path)
        source_path = kind.source if kind is not None and kind.source else path
        return _source_values(self.documents[doc_id], source_path.split("."))

    def tokens(self, doc_id: str, path: str) -> list[Token]:
        key = (doc_id, path)
        cached = self._tokens.get(key)
        if cached is None:
            kind = self.field_type(path)
            analyze = self.analyzer(kind.analyzer if kind else "standard")
            cached, offset = [], 0
            for value in self.raw_values(doc_id, path):
                tokens = analyze(str(value))
                cached += [Token(t.text, t.position + offset) for t in tokens]
                offset += max((t.position for t in tokens), default=0) + 100  # position_increment_gap
            self._tokens[key] = cached
        return cached

    def put(self, doc_id: str, source: dict[str, Any]) -> tuple[str, int]:
        created = doc_id not in self.documents
        for path, value in _leaves(source):  # dynamic mapping: a new field is typed when first seen
            if path not in self.mapping and (kind := _dynamic_type(value)) is not None:
                self.mapping[path] = kind
                if kind.kind == "text":
                    self.mapping[path + ".keyword"] = FieldType("keyword", source=path)
        self.documents[doc_id] = source
        self.versions[doc_id] = self.versions.get(doc_id, 0) + 1
        self.seq_no += 1
        self._tokens = {k: v for k, v in self._tokens.items() if k[0] != doc_id}
        return ("created" if created else "updated"), self.versions[doc_id]

    def delete(self, doc_id: str) -> bool:
        if self.documents.pop(doc_id, None) is None:
            return False
        self.seq_no += 1
        self._tokens = {k: v for k, v in self._tokens.items() if k[0] != doc_id}
        return True


# --- queries ----------------------------------------------------------------------------------------


def _fuzzy_distance(fuzziness: Any, term: str) -> int:
    if fuzziness in (None, 0, "0"):
        return 0
    text = str(fuzziness)
    if text.upper().startswith("AUTO"):
        low, high = 3, 6
        if ":" in text:
            low, high = (int(x) for x in text.split(":", 1)[1].split(","))
        return 0 if len(term) < low else 1 if len(term) < high else 2
    return min(2, int(text))


def _within(a: str, b: str, limit: int) -> bool:
    """Damerau-Levenshtein (optimal string alignment) distance of a and b is at most `limit`."""
    if a == b:
        return True
    if limit == 0 or abs(len(a) - len(b)) > limit:
        return False
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return False
        previous2, previous = previous, current
    return previous[-1] <= limit


class Searcher:
    """Evaluates one search body against one index: scores, filters, aggregations."""

    def __init__(self, index: Index, now: datetime | None = None) -> None:
        self.index = index
        self.now = now or datetime.now(UTC)
        self._df: dict[tuple[str, str], int] = {}

    # scores: None = no match
    def score(self, query: dict[str, Any], doc_id: str) -> float | None:
        if not isinstance(query, dict) or len(query) != 1:
            raise _bad_query(f"a query must be an object with one key, got {json.dumps(query)[:200]}")
        ((kind, body),) = query.items()
        method = getattr(self, "_q_" + kind, None)
        if method is None:
            raise _bad_query(f"unknown query [{kind}]")
        result: float | None = method(body, doc_id)
        return result

    def matches(self, query: dict[str, Any] | None, doc_id: str) -> bool:
        return query is None or self.score(query, doc_id) is not None

    def _q_match_all(self, body: dict[str, Any], doc_id: str) -> float:
        return float(body.get("boost", 1.0))

    def _q_match_none(self, body: dict[str, Any], doc_id: str) -> None:
        return None

    def _q_bool(self, body: dict[str, Any], doc_id: str) -> float | None:
        def clauses(name: str) -> list[dict[str, Any]]:
            value = body.get(name, [])
            return value if isinstance(value, list) else [value]

        total = 0.0
        for clause in clauses("must"):
            score = self.score(clause, doc_id)
            if score is None:
                return None
            total += score
        for clause in clauses("filter"):
            if not self.matches(clause, doc_id):
                return None
        for clause in clauses("must_not"):
            if self.matches(clause, doc_id):
                return None
        should = clauses("should")
        matched = 0
        for clause in should:
            score = self.score(clause, doc_id)
            if score is not None:
                matched += 1
                total += score
        required = body.get("minimum_should_match")
        if required is None:
            required = 1 if should and not clauses("must") and not clauses("filter") else 0
        if matched < _minimum(required, len(should)):
            return None
        if not clauses("must") and not should:
            total = 0.0 if clauses("filter") or clauses("must_not") else 1.0
        return total * float(body.get("boost", 1.0))

    def _q_term(self, body: dict[str, Any], doc_id: str) -> float | None:
        ((path, spec),) = body.items()
        value = spec.get("value") if isinstance(spec, dict) else spec
        boost = float(spec.get("boost", 1.0)) if isinstance(spec, dict) else 1.0
        return boost if self._term_matches(path, value, doc_id) else None

    def _q_terms(self, body: dict[str, Any], doc_id: str) -> float | None:
        boost = float(body.get("boost", 1.0))
        ((path, values),) = ((k, v) for k, v in body.items() if k != "boost")
        return boost if any(self._term_matches(path, v, doc_id) for v in values) else None

    def _term_matches(self, path: str, value: Any, doc_id: str) -> bool:
        kind = self.index.field_type(path)
        if kind is None:
            return False
        if kind.kind == "text":
            return any(t.text == str(value) for t in self.index.tokens(doc_id, path))
        values = self.index.raw_values(doc_id, path)
        if kind.kind == "date":
            target = parse_date(value, self.now)
            return any(parse_date(v) == target for v in values)
        if kind.kind in ("long", "integer", "short", "float", "double"):
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ESError(400, "number_format_exception", f'For input string: "{value}"') from None
            return any(isinstance(v, int | float) and float(v) == number for v in values)
        if kind.kind == "boolean":
            wanted = value if isinstance(value, bool) else str(value).lower() == "true"
            return any(v is wanted for v in values)
        wanted_text = str(value).lower() if isinstance(value, bool) else str(value)
        return any((str(v).lower() if isinstance(v, bool) else str(v)) == wanted_text for v in values)

    def _q_range(self, body: dict[str, Any], doc_id: str) -> float | None:
        ((path, bounds),) = body.items()
        kind = self.index.field_type(path)
        if kind is None:
            return None
        convert: Callable[[Any], float] = (
            (lambda v: parse_date(v, self.now)) if kind.kind == "date" else (lambda v: float(v))
        )
        checks = {"gte": float.__ge__, "gt": float.__gt__, "lte": float.__le__, "lt": float.__lt__}
        limits = [(checks[op], convert(v)) for op, v in bounds.items() if op in checks and v is not None]
        for raw in self.index.raw_values(doc_id, path):
            try:
                value = convert(raw)
            except (ESError, TypeError, ValueError):
                continue
            if all(check(value, limit) for check, limit in limits):
                return float(bounds.get("boost", 1.0))
        return None

    def _q_match(self, body: dict[str, Any], doc_id: str) -> float | None:
        ((path, spec),) = body.items()
        if not isinstance(spec, dict):
            spec = {"query": spec}
        return self._match_field(
            path,
            str(spec["query"]),
            doc_id,
            operator=spec.get("operator", "or"),
            fuzziness=spec.get("fuzziness"),
            boost=float(spec.get("boost", 1.0)),
        )

    def _q_multi_match(self, body: dict[str, Any], doc_id: str) -> float | None:
        text = str(body["query"])
        kind = body.get("type", "best_fields")
        operator = body.get("operator", "or")
        fuzziness = body.get("fuzziness")
        fields = [_field_boost(f) for f in body.get("fields", [])]
        boost = float(body.get("boost", 1.0))
        if kind == "phrase":
            scores = [self._phrase(path, text, doc_id, b) for path, b in fields]
            best = max((s for s in scores if s is not None), default=None)
            return None if best is None else best * boost
        if kind == "cross_fields":
            return self._cross_fields(fields, text, doc_id, operator, fuzziness, boost)
        scores = [
            self._match_field(path, text, doc_id, operator=operator, fuzziness=fuzziness, boost=b)
            for path, b in fields
        ]
        found = [s for s in scores if s is not None]
        if not found:
            return None
        if kind == "most_fields":
            return sum(found) * boost
        if kind == "best_fields":
            return max(found) * boost
        raise _bad_query(f"multi_match type [{kind}] is not supported by this stand-in")

    def _q_function_score(self, body: dict[str, Any], doc_id: str) -> float | None:
        inner = body.get("query", {"match_all": {}})
        score = self.score(inner, doc_id)
        if score is None:
            return None
        factors = [self._function(f, doc_id) for f in body.get("functions", [])]
        mode = body.get("score_mode", "multiply")
        if not factors:
            combined = 1.0
        elif mode == "multiply":
            combined = math.prod(factors)
        elif mode == "sum":
            combined = sum(factors)
        elif mode == "max":
            combined = max(factors)
        else:
            raise _bad_query(f"function_score score_mode [{mode}] is not supported by this stand-in")
        boost_mode = body.get("boost_mode", "multiply")
        if boost_mode == "multiply":
            return score * combined * float(body.get("boost", 1.0))
        if boost_mode == "replace":
            return combined * float(body.get("boost", 1.0))
        if boost_mode == "sum":
            return (score + combined) * float(body.get("boost", 1.0))
        raise _bad_query(f"function_score boost_mode [{boost_mode}] is not supported by this stand-in")

    def _function(self, spec: dict[str, Any], doc_id: str) -> float:
        weight = float(spec.get("weight", 1.0))
        if "field_value_factor" in spec:
            fvf = spec["field_value_factor"]
            values = [v for v in self.index.raw_values(doc_id, fvf["field"]) if isinstance(v, int | float)]
            if values:
                value = float(values[0])
            elif "missing" in fvf:
                value = float(fvf["missing"])
            else:
                raise ESError(
                    400, "exception", f"Missing value for field [{fvf['field']}]"
                )  # as Elasticsearch: no value, no `missing`
            value *= float(fvf.get("factor", 1.0))
            modifier = fvf.get("modifier", "none")
            modifiers: dict[str, Callable[[float], float]] = {
                "none": lambda v: v,
                "sqrt": lambda v: math.sqrt(max(v, 0.0)),
                "log": lambda v: math.log10(v) if v > 0 else float("-inf"),
                "log1p": lambda v: math.log10(v + 1),
                "log2p": lambda v: math.log10(v + 2),
                "ln": lambda v: math.log(v) if v > 0 else float("-inf"),
                "ln1p": lambda v: math.log(v + 1),
                "ln2p": lambda v: math.log(v + 2),
                "square": lambda v: v * v,
                "reciprocal": lambda v: 1 / v if v else float("inf"),
            }
            if modifier not in modifiers:
                raise _bad_query(f"unknown field_value_factor modifier [{modifier}]")
            return modifiers[modifier](value) * weight
        if "script_score" in spec:
            source = spec["script_score"].get("script", {}).get("source", "")
            known = re.fullmatch(r"doc\['(\w+)'\]\.size\(\) == 0 \? ([\d.]+) : ([\d.]+)", source)
            if known is None:
                raise ESError(400, "script_exception", f"this stand-in runs no painless scripts: {source!r}")
            name, empty, present = known.groups()
            return (float(empty) if not self.index.raw_values(doc_id, name) else float(present)) * weight
        if "weight" in spec:
            return weight
        raise _bad_query(f"unsupported score function {sorted(spec)}")

    # text matching
    def _analyze_query(self, path: str, text: str) -> list[Token]:
        kind = self.index.field_type(path)
        analyzer = self.index.analyzer(kind.analyzer) if kind and kind.kind == "text" else None
        if analyzer is None:  # keyword or numeric fields: the whole text is one term
            return [Token(text, 0)]
        return analyzer(text)

    def _term_weight(self, path: str, term: str) -> float:
        key = (path, term)
        if key not in self._df:
            self._df[key] = sum(
                1 for d in self.index.documents if any(t.text == term for t in self.index.tokens(d, path))
            )
        total = len(self.index.documents)
        return math.log(1 + (total - self._df[key] + 0.5) / (self._df[key] + 0.5))

    def _term_in_field(self, path: str, term: str, doc_id: str, fuzziness: Any) -> float | None:
        kind = self.index.field_type(path)
        if kind is None:
            return None
        if kind.kind != "text":
            return 1.0 if self._term_matches(path, term, doc_id) else None
        distance = _fuzzy_distance(fuzziness, term)
        tokens = self.index.tokens(doc_id, path)
        hits = [t.text for t in tokens if _within(term, t.text, distance)]
        if not hits:
            return None
        exact = hits.count(term)
        tf = len(hits)
        weight = self._term_weight(path, term if exact else hits[0])
        return (1.0 + math.log(tf)) * weight * (1.0 if exact else 0.5)

    def _match_field(
        self, path: str, text: str, doc_id: str, *, operator: str, fuzziness: Any, boost: float
    ) -> float | None:
        terms = self._unique_terms(self._analyze_query(path, text))
        if not terms:
            return None
        scores = [self._term_in_field(path, term, doc_id, fuzziness) for term in terms]
        found = [s for s in scores if s is not None]
        if not found or (operator.lower() == "and" and len(found) < len(terms)):
            return None
        return sum(found) * boost

    def _cross_fields(
        self,
        fields: list[tuple[str, float]],
        text: str,
        doc_id: str,
        operator: str,
        fuzziness: Any,
        boost: float,
    ) -> float | None:
        # Term-centric: each term may be found in any of the fields (its best field counts).
        per_field = {path: self._unique_terms(self._analyze_query(path, text)) for path, _ in fields}
        groups: list[list[tuple[str, str, float]]] = []
        width = max((len(t) for t in per_field.values()), default=0)
        for position in range(width):
            groups.append(
                [
                    (path, terms[position], b)
                    for (path, b) in fields
                    if position < len(terms := per_field[path])
                ]
            )
        total, matched = 0.0, 0
        for group in groups:
            best = max(
                (
                    s * b
                    for path, term, b in group
                    if (s := self._term_in_field(path, term, doc_id, fuzziness)) is not None
                ),
                default=None,
            )
            if best is not None:
                matched += 1
                total += best
        if matched == 0 or (operator.lower() == "and" and matched < len(groups)):
            return None
        return total * boost

    def _phrase(self, path: str, text: str, doc_id: str, boost: float) -> float | None:
        kind = self.index.field_type(path)
        if kind is None:
            return None
        query = self._analyze_query(path, text)
        if not query:
            return None
        if kind.kind != "text":
            return boost if self._term_matches(path, text, doc_id) else None
        positions: dict[str, set[int]] = {}
        for token in self.index.tokens(doc_id, path):
            positions.setdefault(token.text, set()).add(token.position)
        first = query[0]
        starts = positions.get(first.text, set())
        count = 0
        for start in starts:
            if all(start + (t.position - first.position) in positions.get(t.text, set()) for t in query[1:]):
                count += 1
        if not count:
            return None
        weight = sum(self._term_weight(path, t.text) for t in query)
        return (1.0 + math.log(count)) * weight * boost

    @staticmethod
    def _unique_terms(tokens: Iterable[Token]) -> list[str]:
        seen: list[str] = []
        for token in tokens:
            if token.text not in seen:
                seen.append(token.text)
        return seen

    # aggregations
    def aggregate(self, aggs: dict[str, Any], doc_ids: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, spec in aggs.items():
            sub = spec.get("aggs") or spec.get("aggregations") or {}
            kinds = [k for k in spec if k not in ("aggs", "aggregations", "meta")]
            if len(kinds) != 1:
                raise _bad_query(f"aggregation [{name}] must have exactly one type, got {kinds}")
            kind = kinds[0]
            body = spec[kind]
            if kind == "filter":
                selected = [d for d in doc_ids if self.matches(body, d)]
                out[name] = {"doc_count": len(selected), **self.aggregate(sub, selected)}
            elif kind == "terms":
                out[name] = self._terms_agg(name, body, sub, doc_ids)
            elif kind == "date_range":
                out[name] = self._date_range_agg(body, sub, doc_ids)
            else:
                raise _bad_query(f"unknown aggregation type [{kind}] for [{name}]")
        return out

    def _terms_agg(
        self, name: str, body: dict[str, Any], sub: dict[str, Any], doc_ids: list[str]
    ) -> dict[str, Any]:
        path = body["field"]
        kind = self.index.field_type(path)
        if kind is not None and kind.kind == "text":
            raise ESError(
                400,
                "illegal_argument_exception",
                f"Text fields are not optimised for operations that require per-document field data "
                f"like aggregations and sorting, so these operations are disabled by default. "
                f"Please use a keyword field instead [{path}]",
            )
        members: dict[Any, list[str]] = {}
        for doc_id in doc_ids:
            for value in dict.fromkeys(_hashable(v) for v in self.index.raw_values(doc_id, path)):
                members.setdefault(value, []).append(doc_id)
        ordered = sorted(members.items(), key=lambda item: (-len(item[1]), str(item[0])))
        size = int(body.get("size", 10))
        buckets = [
            {"key": key, "doc_count": len(ids), **self.aggregate(sub, ids)} for key, ids in ordered[:size]
        ]
        return {
            "doc_count_error_upper_bound": 0,
            "sum_other_doc_count": sum(len(ids) for _, ids in ordered[size:]),
            "buckets": buckets,
        }

    def _date_range_agg(
        self, body: dict[str, Any], sub: dict[str, Any], doc_ids: list[str]
    ) -> dict[str, Any]:
        path = body["field"]
        buckets = []
        for spec in body.get("ranges", []):
            low = parse_date(spec["from"], self.now) if "from" in spec else None
            high = parse_date(spec["to"], self.now) if "to" in spec else None
            selected = []
            for doc_id in doc_ids:
                for raw in self.index.raw_values(doc_id, path):
                    try:
                        value = parse_date(raw)
                    except ESError:
                        continue
                    if (low is None or value >= low) and (high is None or value < high):
                        selected.append(doc_id)
                        break
            bucket: dict[str, Any] = {"key": spec.get("key") or _range_key(low, high)}
            if low is not None:
                bucket |= {"from": low, "from_as_string": _iso(low)}
            if high is not None:
                bucket |= {"to": high, "to_as_string": _iso(high)}
            bucket |= {"doc_count": len(selected), **self.aggregate(sub, selected)}
            buckets.append(bucket)
        return {"buckets": buckets}

    # sorting
    def sort_key(self, spec: list[Any], doc_id: str, score: float) -> tuple[list[Any], list[Any]]:
        """(comparison key, the `sort` values Elasticsearch returns) for one hit."""
        keys: list[Any] = []
        shown: list[Any] = []
        for item in spec:
            path, order = _sort_item(item)
            if path == "_score":
                value: Any = score
            elif path == "_doc":
                value = list(self.index.documents).index(doc_id)
            else:
                kind = self.index.field_type(path)
                if kind is not None and kind.kind == "text":
                    raise ESError(
                        400,
                        "illegal_argument_exception",
                        f"Text fields are not optimised for operations that require per-document field "
                        f"data like aggregations and sorting [{path}]",
                    )
                raw = self.index.raw_values(doc_id, path)
                if kind is not None and kind.kind == "date":
                    numbers = [parse_date(v) for v in raw]
                    value = (min if order == "asc" else max)(numbers) if numbers else None
                elif raw:
                    value = (min if order == "asc" else max)(raw, key=_hashable)
                else:
                    value = None
            shown.append(value)
            missing = value is None  # missing values sort last in both orders
            if missing:
                keys.append((1, 0))
            elif isinstance(value, int | float):
                keys.append((0, -value if order == "desc" else value))
            else:
                keys.append((0, _Reversed(str(value)) if order == "desc" else str(value)))
        return keys, shown


class _Reversed:
    """A string that sorts backwards (descending sorts on keyword fields)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __lt__(self, other: _Reversed) -> bool:
        return self.text > other.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.text == other.text

    def __hash__(self) -> int:
        return hash(self.text)


def _sort_item(item: Any) -> tuple[str, str]:
    if isinstance(item, str):
        if item.startswith("-"):
            return item[1:], "desc"
        return item, ("desc" if item == "_score" else "asc")
    if isinstance(item, dict) and len(item) == 1:
        ((path, spec),) = item.items()
        order = spec.get("order", "desc" if path == "_score" else "asc") if isinstance(spec, dict) else spec
        return path, str(order)
    raise _bad_query(f"malformed sort {item!r}")


def _minimum(required: Any, clauses: int) -> int:
    if isinstance(required, str) and required.endswith("%"):
        return math.floor(clauses * int(required[:-1]) / 100)
    return int(required)


def _field_boost(spec: str) -> tuple[str, float]:
    name, _, boost = spec.partition("^")
    return name, float(boost) if boost else 1.0


def _hashable(value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value


def _iso(millis: float) -> str:
    return datetime.fromtimestamp(millis / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _range_key(low: float | None, high: float | None) -> str:
    return f"{_iso(low) if low is not None else '*'}-{_iso(high) if high is not None else '*'}"


# --- the cluster -----------------------------------------------------------------------------------


class Cluster:
    """Indices, aliases and templates, behind one lock (the HTTP server is threaded)."""

    def __init__(self) -> None:
        self.indices: dict[str, Index] = {}
        self.aliases: dict[str, set[str]] = {}  # alias -> index names
        self.templates: dict[str, dict[str, Any]] = {}
        self.lock = threading.RLock()

    def resolve(self, expression: str, *, must_exist: bool = True) -> list[Index]:
        found: list[Index] = []
        for name in expression.split(","):
            if any(c in name for c in "*?"):
                matched = [i for n, i in self.indices.items() if fnmatch.fnmatchcase(n, name)]
                matched += [
                    self.indices[n]
                    for a, ns in self.aliases.items()
                    if fnmatch.fnmatchcase(a, name)
                    for n in ns
                ]
            elif name in self.indices:
                matched = [self.indices[name]]
            elif name in self.aliases:
                matched = [self.indices[n] for n in sorted(self.aliases[name])]
            elif must_exist:
                raise ESError(
                    404,
                    "index_not_found_exception",
                    f"no such index [{name}]",
                    index=name,
                    **{"resource.id": name},
                )
            else:
                matched = []
            found += [i for i in matched if i not in found]
        return found

    def create_index(self, name: str, body: dict[str, Any] | None = None) -> Index:
        if name in self.indices or name in self.aliases:
            raise ESError(
                400, "resource_already_exists_exception", f"index [{name}] already exists", index=name
            )
        index = Index(name)
        for template in sorted(self.templates.values(), key=lambda t: t.get("order", 0)):
            if any(fnmatch.fnmatchcase(name, p) for p in template.get("index_patterns", [])):
                self._apply(index, template)
                for alias in template.get("aliases") or {}:
                    self.aliases.setdefault(alias, set()).add(name)
        if body:
            self._apply(index, body)
        self.indices[name] = index
        return index

    @staticmethod
    def _apply(index: Index, body: dict[str, Any]) -> None:
        settings = body.get("settings") or {}
        analysis = settings.get("analysis") or (settings.get("index") or {}).get("analysis") or {}
        for section, entries in analysis.items():
            index.analysis.setdefault(section, {}).update(entries)
        index.mapping.update(_flatten_mapping((body.get("mappings") or {}).get("properties") or {}))

    def writable(self, name: str) -> Index:
        """The index a document write goes to: the index, an alias's single index, or a new index."""
        if name in self.indices:
            return self.indices[name]
        if name in self.aliases:
            targets = sorted(self.aliases[name])
            if len(targets) != 1:
                raise ESError(
                    400,
                    "illegal_argument_exception",
                    f"no write index is defined for alias [{name}]. The write index may be explicitly "
                    "disabled using is_write_index=false or the alias points to multiple indices without "
                    "one being designated as a write index",
                )
            return self.indices[targets[0]]
        return self.create_index(name)  # auto-create, templates applied

    def delete(self, expression: str) -> None:
        for index in self.resolve(expression):
            del self.indices[index.name]
            for names in self.aliases.values():
                names.discard(index.name)
        self.aliases = {a: ns for a, ns in self.aliases.items() if ns}

    def search(self, expression: str, body: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
        indices = self.resolve(expression)
        start = int(body.get("from", 0))
        size = int(body.get("size", 10))
        if start < 0 or size < 0:
            raise ESError(400, "illegal_argument_exception", "[from] and [size] must not be negative")
        if start + size > MAX_RESULT_WINDOW:
            raise ESError(
                400,
                "illegal_argument_exception",
                f"Result window is too large, from + size must be less than or equal to: "
                f"[{MAX_RESULT_WINDOW}] but was [{start + size}]. See the scroll api for a more efficient "
                "way to request large data sets. This limit can be set by changing the "
                "[index.max_result_window] index level setting.",
            )
        query = body.get("query") or {"match_all": {}}
        hits: list[tuple[list[Any], list[Any], float, Index, str]] = []
        aggregations: dict[str, Any] = {}
        for index in indices:
            searcher = Searcher(index, now)
            scored = [(d, searcher.score(query, d)) for d in list(index.documents)]
            matching = [(d, s) for d, s in scored if s is not None]
            aggs: dict[str, Any] | None = body.get("aggs") or body.get("aggregations")
            if aggs:
                aggregations = searcher.aggregate(aggs, [d for d, _ in matching])
            post = body.get("post_filter")
            sort = body.get("sort") or ["_score"]
            for doc_id, score in matching:
                if post is not None and not searcher.matches(post, doc_id):
                    continue
                key, shown = searcher.sort_key(sort if isinstance(sort, list) else [sort], doc_id, score)
                hits.append((key, shown, score, index, doc_id))
        hits.sort(key=lambda h: h[0])  # stable: index order breaks ties
        total = len(hits)
        page = hits[start : start + size]
        explicit_sort = bool(body.get("sort"))
        tracked = body.get("track_total_hits", TRACK_TOTAL_HITS)
        limit = TRACK_TOTAL_HITS if tracked is None else (total if tracked is True else int(tracked or 0))
        relation = "eq" if total <= limit else "gte"
        result: dict[str, Any] = {
            "took": 1,
            "timed_out": False,
            "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
            "hits": {
                "total": {"value": min(total, limit), "relation": relation},
                "max_score": max((h[2] for h in hits), default=None),
                "hits": [
                    {
                        "_index": index.name,
                        "_type": "_doc",
                        "_id": doc_id,
                        "_score": score,
                        "_source": index.documents[doc_id],
                        **({"sort": shown} if explicit_sort else {}),
                    }
                    for _, shown, score, index, doc_id in page
                ],
            },
        }
        if aggregations:
            result["aggregations"] = aggregations
        return result


# --- HTTP ------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body in one segment: two small writes on a kept-alive connection meet the client's
    # delayed ACK (Nagle), ~40 ms a request.
    disable_nagle_algorithm = True
    wbufsize = 1 << 16  # flushed by handle_one_request after each response
    cluster: Cluster  # set on the subclass `start()` builds
    server_version = "udata-peer-search-service"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the peer's stderr is for udata
        pass

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return {}
        raw = self.rfile.read(length)
        try:
            parsed = json.loads(raw)
        except ValueError as exc:
            raise ESError(400, "x_content_parse_exception", f"request body is not JSON: {exc}") from exc
        if not isinstance(parsed, dict):
            raise ESError(400, "x_content_parse_exception", "request body must be a JSON object")
        return parsed

    def _send(self, status: int, payload: dict[str, Any] | None) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.split("/") if p]
        query = parse_qs(url.query)
        try:
            body = self._body()
            with self.cluster.lock:
                status, payload = route(self.cluster, self.command, parts, body, query)
        except ESError as exc:
            status, payload = exc.status, exc.body()
        except Exception as exc:  # a bug here must show as a 500 with its reason, not a hang
            status, payload = 500, ESError(500, "exception", f"{type(exc).__name__}: {exc}").body()
        self._send(status, payload)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _dispatch


def route(
    cluster: Cluster, method: str, parts: list[str], body: dict[str, Any], query: dict[str, list[str]]
) -> tuple[int, dict[str, Any] | None]:
    """One request: (status, JSON body), errors included. Pure over the cluster: tests call it directly."""
    try:
        return _route(cluster, method, parts, body, query)
    except ESError as exc:
        return exc.status, exc.body()


def _route(
    cluster: Cluster, method: str, parts: list[str], body: dict[str, Any], query: dict[str, list[str]]
) -> tuple[int, dict[str, Any] | None]:
    if not parts:
        if method in ("GET", "HEAD"):
            return 200, {
                "name": "udata-peer",
                "cluster_name": "udata-peer",
                "cluster_uuid": "udata-peer-search-service",
                "version": {
                    "number": VERSION,
                    "build_flavor": "default",
                    "build_type": "stand-in",
                    "lucene_version": "8.11.1",
                    "minimum_wire_compatibility_version": "6.8.0",
                    "minimum_index_compatibility_version": "6.0.0-beta1",
                },
                "tagline": "You Know, for Search",
            }
        raise ESError(405, "method_not_allowed", f"Incorrect HTTP method for uri [/] and method [{method}]")
    head = parts[0]
    if head == "_template" and len(parts) == 2:
        if method == "PUT" or method == "POST":
            cluster.templates[parts[1]] = body
            return 200, {"acknowledged": True}
        if method == "GET":
            return (
                (200, {parts[1]: cluster.templates[parts[1]]}) if parts[1] in cluster.templates else (404, {})
            )
        if method == "DELETE":
            cluster.templates.pop(parts[1], None)
            return 200, {"acknowledged": True}
    if head == "_alias" and len(parts) == 2 and method == "GET":
        names = sorted(n for a, ns in cluster.aliases.items() if fnmatch.fnmatchcase(a, parts[1]) for n in ns)
        if not names:
            return 404, {"error": f"alias [{parts[1]}] missing", "status": 404}
        return 200, {n: {"aliases": {a: {} for a, ns in cluster.aliases.items() if n in ns}} for n in names}
    if head == "_aliases" and method == "POST":
        for action in body.get("actions", []):
            ((kind, spec),) = action.items()
            targets = [i.name for i in cluster.resolve(spec["index"])]
            if kind == "add":
                cluster.aliases.setdefault(spec["alias"], set()).update(targets)
            elif kind == "remove":
                cluster.aliases.get(spec["alias"], set()).difference_update(targets)
            else:
                raise _bad_query(f"unsupported alias action [{kind}]")
        cluster.aliases = {a: ns for a, ns in cluster.aliases.items() if ns}
        return 200, {"acknowledged": True}
    if head.startswith("_"):
        raise ESError(
            400, "illegal_argument_exception", f"this stand-in does not implement [/{'/'.join(parts)}]"
        )

    name = head
    if len(parts) == 1:
        if method == "HEAD":
            return (200 if cluster.resolve(name, must_exist=False) else 404), None
        if method == "PUT":
            cluster.create_index(name, body)
            return 200, {"acknowledged": True, "shards_acknowledged": True, "index": name}
        if method == "DELETE":
            cluster.delete(name)
            return 200, {"acknowledged": True}
        if method == "GET":
            return 200, {
                i.name: {"mappings": {"properties": {p: {"type": t.kind} for p, t in i.mapping.items()}}}
                for i in cluster.resolve(name)
            }
    action = parts[1] if len(parts) > 1 else ""
    if action == "_alias" and len(parts) == 3 and method in ("PUT", "POST"):
        for index in cluster.resolve(name):
            cluster.aliases.setdefault(parts[2], set()).add(index.name)
        return 200, {"acknowledged": True}
    if action == "_refresh":
        cluster.resolve(name)
        return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
    if action == "_search" and method in ("GET", "POST"):
        return 200, cluster.search(name, body)
    if action == "_count" and method in ("GET", "POST"):
        result = cluster.search(name, {"query": body.get("query"), "size": 0, "track_total_hits": True})
        return 200, {"count": result["hits"]["total"]["value"]}
    if action in ("_doc", "_create") and len(parts) == 3:
        doc_id = parts[2]
        if method in ("PUT", "POST"):
            index = cluster.writable(name)
            if action == "_create" and doc_id in index.documents:
                raise ESError(409, "version_conflict_engine_exception", f"[{doc_id}]: version conflict")
            outcome, version = index.put(doc_id, body)
            return (201 if outcome == "created" else 200), {
                "_index": index.name,
                "_type": "_doc",
                "_id": doc_id,
                "_version": version,
                "result": outcome,
                "_shards": {"total": 1, "successful": 1, "failed": 0},
                "_seq_no": index.seq_no,
                "_primary_term": 1,
            }
        if method in ("GET", "HEAD"):
            for index in cluster.resolve(name):
                if doc_id in index.documents:
                    return 200, {
                        "_index": index.name,
                        "_type": "_doc",
                        "_id": doc_id,
                        "_version": index.versions[doc_id],
                        "_seq_no": index.seq_no,
                        "_primary_term": 1,
                        "found": True,
                        "_source": index.documents[doc_id],
                    }
            return 404, {"_index": name, "_type": "_doc", "_id": doc_id, "found": False}
        if method == "DELETE":
            if name not in cluster.aliases and name not in cluster.indices:
                raise ESError(404, "index_not_found_exception", f"no such index [{name}]", index=name)
            index = cluster.writable(name)
            deleted = index.delete(doc_id)
            return (200 if deleted else 404), {
                "_index": index.name,
                "_type": "_doc",
                "_id": doc_id,
                "_version": index.versions.get(doc_id, 0) + 1,
                "result": "deleted" if deleted else "not_found",
                "_shards": {"total": 1, "successful": 1, "failed": 0},
                "_seq_no": index.seq_no,
                "_primary_term": 1,
            }
    raise ESError(
        400, "illegal_argument_exception", f"this stand-in does not implement {method} /{'/'.join(parts)}"
    )


@dataclass
class SearchService:
    """A running stand-in: `url` for ELASTICSEARCH_URL, `cluster` for inspection, `stop()`."""

    url: str
    cluster: Cluster
    server: ThreadingHTTPServer
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start(port: int = 0) -> SearchService:
    """Serve on 127.0.0.1:port (0: any free port) from a daemon thread."""
    cluster = Cluster()
    handler = type("Handler", (_Handler,), {"cluster": cluster})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="search-service", daemon=True)
    thread.start()
    return SearchService(f"http://127.0.0.1:{server.server_address[1]}", cluster, server, thread)


def iter_documents(cluster: Cluster, expression: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for index in cluster.resolve(expression):
        yield from index.documents.items()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9200)
    args = parser.parse_args()
    service = start(args.port)
    print(f"search service stand-in on {service.url}", flush=True)
    try:
        service.thread.join()
    except KeyboardInterrupt:
        service.stop()


if __name__ == "__main__":
    main()
