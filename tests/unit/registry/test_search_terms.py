"""The catalogue's tokenizer: Chinese bigrams, ASCII words and model numbers."""

from __future__ import annotations

from services.registry.domain.search_terms import (
    FIELD_WEIGHTS,
    document_terms,
    index_terms,
    matches,
    query_terms,
)


def test_two_character_words_match_by_bigram() -> None:
    assert query_terms("光谱") == ["光谱"]
    assert matches("光谱", ["红外光谱仪"])
    assert matches("光谱", ["原子吸收光谱仪"])
    assert not matches("质谱", ["光谱仪"])
    assert matches("质谱", ["液相色谱质谱联用仪"])
    assert index_terms("红外光谱仪") >= {"红外", "外光", "光谱", "谱仪"}


def test_longer_and_single_character_queries() -> None:
    assert query_terms("原子吸收") == ["原子", "子吸", "吸收"]
    assert matches("原子吸收", ["原子吸收光谱仪"])
    assert not matches("原子吸收", ["原子荧光光谱仪"])
    assert query_terms("谱") == ["谱"]
    assert matches("谱", ["红外光谱仪"])


def test_ascii_model_numbers_case_insensitive() -> None:
    assert matches("lcms-8060", ["LCMS-8060"])
    assert matches("LCMS8060", ["lcms-8060"])
    assert matches("8060", ["LCMS-8060"])
    assert matches("ｌｃｍｓ", ["LCMS-8060"])  # full width folds
    assert not matches("lcms-8050", ["LCMS-8060"])
    assert matches("x射线", ["X射线衍射仪"])


def test_several_words_all_required() -> None:
    assert query_terms("  光谱  Thermo ") == ["光谱", "thermo"]
    assert matches("光谱 thermo", ["红外光谱仪", "Thermo Fisher"])
    assert not matches("光谱 bruker", ["红外光谱仪", "Thermo Fisher"])
    assert query_terms("！？ ，") == []
    assert not matches("", ["红外光谱仪"])


def test_a_term_keeps_its_best_field() -> None:
    terms = document_terms({"name": "红外光谱仪", "functions": "光谱分析", "unit_name": "许昌学院"})
    assert terms["光谱"] == FIELD_WEIGHTS["name"]
    assert terms["分析"] == FIELD_WEIGHTS["functions"]
    assert terms["许昌"] == FIELD_WEIGHTS["unit_name"]
    assert FIELD_WEIGHTS["name"] > FIELD_WEIGHTS["model"] == FIELD_WEIGHTS["category"] > FIELD_WEIGHTS["functions"] > FIELD_WEIGHTS["unit_name"]
