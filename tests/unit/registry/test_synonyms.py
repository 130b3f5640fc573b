"""The synonym dictionary's pure rules: how a query is expanded, which forms
match where, validation, and the closest terms for suggestions."""

from __future__ import annotations

import pytest

from services.registry.domain.search_terms import index_terms
from services.registry.domain.synonyms import (
    DEFAULT_SYNONYMS,
    MAX_FORM_CHARS,
    MAX_SYNONYMS,
    Dictionary,
    Entry,
    check_entry,
)
from services.runtime.errors import DomainError

SEED = Dictionary(Entry(str(i), c, s) for i, (c, s) in enumerate(DEFAULT_SYNONYMS))


def finds(query: str, name: str, d: Dictionary = SEED) -> bool:
    """Whether an instrument with this name is found (every group, one alternative)."""
    have = index_terms(name)
    return all(any(all(t in have for t in alt) for alt in group) for group in d.expand(query))


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("扫描电镜", "扫描电子显微镜"),
        ("电镜", "扫描电子显微镜"),
        ("电镜", "透射电子显微镜"),
        ("SEM", "扫描电子显微镜"),
        ("ｓｅｍ", "扫描电子显微镜"),
        ("质谱仪", "液相色谱-质谱联用仪"),
        ("色质联用", "液相色谱-质谱联用仪"),
        ("LC-MS", "液相色谱-质谱联用仪"),
        ("LC-MS", "三重四极杆质谱 LCMS-8060"),
        ("XRD", "X射线衍射仪"),
        ("ICP-MS", "电感耦合等离子体质谱仪"),
        ("NMR", "核磁共振波谱仪"),
        ("拉曼", "显微共焦Raman光谱仪"),
        ("扫描电镜 日立", "日立扫描电子显微镜"),
    ],
)
def test_what_people_type_finds_the_instrument(query: str, name: str) -> None:
    assert finds(query, name)


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("扫描电镜", "透射电子显微镜"),  # a narrower term stays narrow
        ("GC-MS", "液相色谱-质谱联用仪"),
        ("扫描电镜 岛津", "日立扫描电子显微镜"),  # every other word still must match
        ("lcms-8060", "LCMS-2020"),  # a model number is not cut into dictionary forms
    ],
)
def test_and_not_what_it_does_not_mean(query: str, name: str) -> None:
    assert not finds(query, name)


def test_a_form_never_starts_or_ends_inside_a_latin_word() -> None:
    d = Dictionary([Entry("1", "质谱仪", ("MS",))])
    assert d.expand("lcms-8060") == ((("lcms-8060",),),)
    assert d.expand("icpms") == ((("icpms",),),)
    assert d.expand("ms 8060") == (((("质谱", "谱仪")), ("ms",)), (("8060",),))


def test_a_form_in_two_entries_stands_for_both() -> None:
    d = Dictionary([Entry("1", "扫描电子显微镜", ("形貌",)), Entry("2", "原子力显微镜", ("形貌",))])
    assert finds("形貌", "扫描电子显微镜", d) and finds("形貌", "原子力显微镜", d)
    assert not finds("形貌", "透射电子显微镜", d)


def test_without_a_dictionary_a_query_is_its_terms() -> None:
    assert Dictionary().expand("红外光谱 岛津") == tuple(((t,),) for t in ("红外", "外光", "光谱", "岛津"))


def test_entries_are_checked_at_their_field() -> None:
    assert check_entry(" 扫描电子显微镜 ", [" SEM ", "扫描电镜"]) == ("扫描电子显微镜", ("SEM", "扫描电镜"))
    assert check_entry("粒" * MAX_FORM_CHARS, ["x" * MAX_FORM_CHARS])[0] == "粒" * MAX_FORM_CHARS
    assert len(check_entry("粒度仪", [f"粒{i}" for i in range(MAX_SYNONYMS)])[1]) == MAX_SYNONYMS
    for canonical, synonyms, code, field in (
        ("", ["SEM"], "synonyms.empty_form", "canonical"),
        ("粒" * (MAX_FORM_CHARS + 1), ["SEM"], "synonyms.form_too_long", "canonical"),
        ("扫描电镜", ["—"], "synonyms.form_without_words", "synonyms"),
        ("扫描电镜", [], "synonyms.bad_synonym_count", "synonyms"),
        ("扫描电镜", [f"粒{i}" for i in range(MAX_SYNONYMS + 1)], "synonyms.bad_synonym_count", "synonyms"),
        ("扫描电镜", ["SEM", "ｓｅｍ"], "synonyms.duplicate_form", "synonyms"),
        ("SEM", ["sem"], "synonyms.duplicate_form", "synonyms"),
        ("扫描电镜", [3], "synonyms.empty_form", "synonyms"),
    ):
        with pytest.raises(DomainError) as err:
            check_entry(canonical, synonyms)
        assert (err.value.code, err.value.details["field"]) == (code, field), canonical


def test_the_seed_is_valid_and_its_canonical_terms_distinct() -> None:
    keys = [check_entry(c, s)[0].lower() for c, s in DEFAULT_SYNONYMS]
    assert len(keys) == len(set(keys))


def test_the_closest_terms_share_the_most_bigrams() -> None:
    assert SEED.closest("扫描电竞")[0] == "扫描电子显微镜"
    assert SEED.closest("液质连用")[0] == "液相色谱-质谱联用仪"
    assert SEED.closest("咖啡机") == []
