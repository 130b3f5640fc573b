"""Search terms of the public catalogue: the same tokenizer builds the index
and reads a query, so a query matches exactly what was indexed.

- Chinese (CJK) text becomes character bigrams: 红外光谱仪 → 红外 外光 光谱 谱仪.
  A two-character word such as 光谱 is one bigram and matches every name
  containing it; 质谱 does not match 光谱仪. The index also holds single
  characters, so a one-character query (谱) finds something.
- ASCII words and model numbers are lower-cased; a model with separators
  (LCMS-8060) is indexed whole, in its parts (lcms, 8060) and joined
  (lcms8060). Full-width forms are folded first (ＬＣＭＳ → lcms).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

__all__ = [
    "FIELD_WEIGHTS",
    "MAX_TERM_LENGTH",
    "document_terms",
    "index_terms",
    "query_terms",
]

#: terms longer than this are not indexed (and never match)
MAX_TERM_LENGTH = 64
#: at most this many characters of one field are indexed (long specifications)
MAX_FIELD_CHARS = 4000

#: weight of a term found in a field; an instrument's term keeps its best field
FIELD_WEIGHTS: Mapping[str, int] = {
    "name": 8,
    "model": 4,
    "category": 4,
    "manufacturer": 3,
    "functions": 2,
    "specifications": 2,
    "unit_name": 1,
}

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]+|[a-z0-9]+(?:[-_./+][a-z0-9]+)*")
_SEPARATORS = re.compile(r"[-_./+]")


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _is_cjk(token: str) -> bool:
    return not token[0].isascii()


def _ascii_forms(token: str) -> list[str]:
    parts = _SEPARATORS.split(token)
    if len(parts) == 1:
        return [token]
    return [token, *parts, "".join(parts)]


def index_terms(text: str | None) -> set[str]:
    """The terms under which a text is found."""
    if not text:
        return set()
    terms: set[str] = set()
    for token in _TOKEN.findall(_normalise(text[:MAX_FIELD_CHARS])):
        if _is_cjk(token):
            terms.update(token)
            terms.update(token[i : i + 2] for i in range(len(token) - 1))
        else:
            terms.update(_ascii_forms(token))
    return {t for t in terms if len(t) <= MAX_TERM_LENGTH}


def query_terms(query: str) -> list[str]:
    """The terms a query needs, all of them (AND), in first-seen order. A
    one-character Chinese word is itself; a longer one is its bigrams."""
    seen: dict[str, None] = {}
    for token in _TOKEN.findall(_normalise(query)):
        if _is_cjk(token):
            grams = [token] if len(token) == 1 else [token[i : i + 2] for i in range(len(token) - 1)]
        else:
            grams = [token]
        for g in grams:
            if len(g) <= MAX_TERM_LENGTH:
                seen.setdefault(g, None)
    return list(seen)


def document_terms(fields: Mapping[str, str | None], weights: Mapping[str, int] = FIELD_WEIGHTS) -> dict[str, int]:
    """Term → weight for one instrument: the weight of the best field holding it."""
    out: dict[str, int] = {}
    for field, text in fields.items():
        weight = weights[field]
        for term in index_terms(text):
            if out.get(term, 0) < weight:
                out[term] = weight
    return out


def matches(query: str, texts: Iterable[str | None]) -> bool:
    """Whether every term of ``query`` is in one of ``texts`` (for tests and tools)."""
    wanted = query_terms(query)
    have: set[str] = set()
    for t in texts:
        have |= index_terms(t)
    return bool(wanted) and all(w in have for w in wanted)
