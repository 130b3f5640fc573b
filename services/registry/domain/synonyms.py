"""The catalogue's synonym and abbreviation dictionary, applied at query time.

Each entry is a canonical term and its synonyms and abbreviations (Chinese or
Latin; Latin compared without regard to case or full/half width). A query is
read left to right; where a form of an entry (its canonical term or a synonym)
stands in it, that part of the query is satisfied by *any* form of every entry
holding it, each form matched as the catalogue matches words (Chinese by
character bigrams, so 电子显微镜 also finds 扫描电子显微镜). The rest of the query
is matched as before: every word must match.

Why at query time and not at index time: an edit of the dictionary then takes
effect at once without rebuilding the index of every instrument (the result
cache is invalidated by bumping the index generation), and a form matches the
instruments whose text holds any form, however the unit wrote it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from services.registry.domain.search_terms import query_terms
from services.runtime.errors import DomainError

__all__ = [
    "DEFAULT_SYNONYMS",
    "MAX_FORM_CHARS",
    "MAX_SYNONYMS",
    "Dictionary",
    "Entry",
    "check_entry",
    "form_key",
]

MAX_FORM_CHARS = 50
MAX_SYNONYMS = 20
#: at most this many alternatives stand for one matched form (bounds the SQL)
MAX_ALTERNATIVES = 48

#: the seed of the dictionary (the migration inserts it; the center edits it)
DEFAULT_SYNONYMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("电子显微镜", ("电镜", "电子显微")),
    ("扫描电子显微镜", ("扫描电镜", "SEM", "场发射扫描电镜", "FE-SEM")),
    ("透射电子显微镜", ("透射电镜", "TEM")),
    ("质谱仪", ("质谱", "MS")),
    ("液相色谱-质谱联用仪", ("色质联用", "液质联用", "LC-MS", "LCMS", "液质", "液相色谱质谱联用仪", "HPLC-MS")),
    ("气相色谱-质谱联用仪", ("气质联用", "GC-MS", "GCMS", "气质", "气相色谱质谱联用仪")),
    ("电感耦合等离子体质谱仪", ("ICP-MS", "ICPMS", "等离子体质谱")),
    ("电感耦合等离子体发射光谱仪", ("ICP-OES", "ICP-AES", "ICP光谱")),
    ("X射线衍射仪", ("XRD", "X光衍射仪", "衍射仪")),
    ("X射线荧光光谱仪", ("XRF", "X荧光光谱仪", "X荧光")),
    ("X射线光电子能谱仪", ("XPS",)),
    ("核磁共振波谱仪", ("核磁共振", "核磁", "NMR")),
    ("傅里叶变换红外光谱仪", ("红外", "红外光谱仪", "FTIR", "FT-IR", "IR")),
    ("拉曼光谱仪", ("拉曼", "Raman")),
    ("紫外可见分光光度计", ("紫外", "紫外可见", "UV-Vis", "紫外分光光度计")),
    ("原子吸收光谱仪", ("原子吸收", "AAS", "原子吸收分光光度计")),
    ("高效液相色谱仪", ("液相色谱", "液相", "HPLC")),
    ("气相色谱仪", ("气相色谱", "气相", "GC")),
    ("热重分析仪", ("热重", "TGA", "TG")),
    ("差示扫描量热仪", ("差热", "DSC")),
    ("原子力显微镜", ("AFM",)),
    ("激光共聚焦显微镜", ("共聚焦", "激光共聚焦", "CLSM")),
    ("实时荧光定量PCR仪", ("荧光定量PCR", "qPCR", "定量PCR", "PCR仪")),
    ("流式细胞仪", ("流式", "FCM")),
    ("工业CT", ("工业计算机断层扫描", "CT扫描")),
    ("三坐标测量机", ("三坐标", "CMM")),
    ("万能材料试验机", ("万能试验机", "拉力机", "材料试验机")),
)


def _bad(code: str, zh: str, en: str, field: str, **details: object) -> DomainError:
    return DomainError(code, zh, en, status=422, field=field, **details)


def form_key(text: str) -> str:
    """How forms are compared: full-width folded, Latin lower-cased, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def _check_form(text: object, field: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise _bad("synonyms.empty_form", "词条不能为空", "a form may not be empty", field)
    form = " ".join(unicodedata.normalize("NFKC", text).split())
    if len(form) > MAX_FORM_CHARS:
        raise _bad("synonyms.form_too_long", f"词条不能超过{MAX_FORM_CHARS}个字符：“{form[:20]}…”", f"a form may have at most {MAX_FORM_CHARS} characters", field)
    if not query_terms(form):
        raise _bad("synonyms.form_without_words", f"词条“{form}”中没有可检索的文字", f"the form {form!r} contains no searchable word", field)
    return form


def check_entry(canonical: object, synonyms: Iterable[object]) -> tuple[str, tuple[str, ...]]:
    """A valid entry (its forms trimmed), or a 422 naming the field at fault."""
    canon = _check_form(canonical, "canonical")
    syns = list(synonyms)
    if not 1 <= len(syns) <= MAX_SYNONYMS:
        raise _bad("synonyms.bad_synonym_count", f"同义词或缩写须有1至{MAX_SYNONYMS}个", f"an entry needs 1 to {MAX_SYNONYMS} synonyms or abbreviations", "synonyms")
    seen = {form_key(canon)}
    out: list[str] = []
    for s in syns:
        form = _check_form(s, "synonyms")
        if form_key(form) in seen:
            raise _bad("synonyms.duplicate_form", f"“{form}”在本词条中重复出现（不区分大小写）", f"{form!r} appears twice in the entry (case-insensitive)", "synonyms")
        seen.add(form_key(form))
        out.append(form)
    return canon, tuple(out)


@dataclass(frozen=True)
class Entry:
    entry_id: str
    canonical: str
    synonyms: tuple[str, ...]

    @property
    def forms(self) -> tuple[str, ...]:
        return (self.canonical, *self.synonyms)


#: a query part satisfied by any of its alternatives; an alternative needs all its terms
Alternative = tuple[str, ...]
Group = tuple[Alternative, ...]

_ASCII_TOKEN = re.compile(r"[a-z0-9]+(?:[-_./+][a-z0-9]+)*")
_SEPARATORS = re.compile(r"[-_./+]")


def _alternatives(form: str) -> list[Alternative]:
    terms = query_terms(form)
    alts = [tuple(terms)] if terms else []
    # a Latin form with separators (lc-ms) also matches its joined spelling (lcms, as in LCMS-8060)
    if terms and all(t.isascii() for t in terms) and any(_SEPARATORS.search(t) for t in terms):
        alts.append(tuple(dict.fromkeys(_SEPARATORS.sub("", t) for t in terms)))
    return alts


def _grams(key: str) -> set[str]:
    s = key.replace(" ", "")
    return {s} if len(s) < 2 else {s[i : i + 2] for i in range(len(s) - 1)}


class Dictionary:
    """The entries, looked up by the key of each of their forms."""

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self.entries = tuple(entries)
        self._by_form: dict[str, list[Entry]] = {}
        for e in self.entries:
            for f in e.forms:
                self._by_form.setdefault(form_key(f), []).append(e)
        self._longest = max((len(k) for k in self._by_form), default=0)

    def _group(self, key: str) -> Group:
        alts: dict[Alternative, None] = {}
        for e in self._by_form[key]:
            for f in e.forms:
                for a in _alternatives(f):
                    alts.setdefault(a, None)
        # an alternative holding all the terms of another finds nothing more
        sets = [frozenset(a) for a in alts]
        kept = [a for a, sa in zip(alts, sets, strict=True) if not any(sb < sa for sb in sets)]
        return tuple(kept)[:MAX_ALTERNATIVES]

    def expand(self, query: str) -> tuple[Group, ...]:
        """The groups a query needs, all of them: a dictionary form becomes the
        group of every form of its entries, other words one-term groups. A
        form never starts or ends inside a Latin word or model number."""
        s = form_key(query)
        inside = [False] * (len(s) + 1)  # a position strictly inside a Latin token
        for m in _ASCII_TOKEN.finditer(s):
            for k in range(m.start() + 1, m.end()):
                inside[k] = True
        groups: dict[Group, None] = {}
        plain: list[str] = []

        def flush() -> None:
            for t in query_terms("".join(plain)):
                groups.setdefault(((t,),), None)
            plain.clear()

        i = 0
        while i < len(s):
            for j in range(min(len(s), i + self._longest), i, -1):
                if s[i:j] in self._by_form and not inside[i] and not inside[j]:
                    flush()
                    groups.setdefault(self._group(s[i:j]), None)
                    i = j
                    break
            else:
                plain.append(s[i])
                i += 1
        flush()
        return tuple(groups)

    def closest(self, query: str, limit: int = 8) -> list[str]:
        """Canonical terms whose forms look most like the query (character
        bigrams in common, Dice coefficient), best first."""
        wanted = _grams(form_key(query))
        if not wanted:
            return []
        scored: list[tuple[float, str]] = []
        for e in self.entries:
            best = 0.0
            for f in e.forms:
                have = _grams(form_key(f))
                best = max(best, 2 * len(wanted & have) / (len(wanted) + len(have)))
            if best > 0:
                scored.append((best, e.canonical))
        scored.sort(key=lambda x: (-x[0], x[1]))
        return [c for _, c in scored[:limit]]
