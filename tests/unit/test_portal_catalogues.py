"""The portal's gettext catalogues (issue 17): every key a template or the code
uses is translated in both, nothing fuzzy or left empty, the same placeholders
in Chinese and English, and Jinja2's i18n extension reads them."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from services.gateway.portal import i18n

ROOT = Path(__file__).resolve().parents[2]
PORTAL = ROOT / "services/gateway/portal"


def entries(lang: str) -> dict[tuple[str | None, str], Any]:
    """A catalogue's entries by (msgctxt, key): the page strings have none, the values' words "label"."""
    with i18n.catalogue_path(lang).open("rb") as f:
        catalog = read_po(f)
    return {(m.context, m.id): m for m in catalog if m.id}


def used_keys() -> set[str]:
    """What `make i18n` extracts (babel.cfg): the literal keys of t(), translate(), _()."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")
    found = extract_from_dir(str(PORTAL), method_map, options_map, keywords={"t": None, "translate": None, "_": None, "gettext": None})
    return {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_key_used_is_in_both_catalogues() -> None:
    used = used_keys()
    assert len(used) > 500  # the extraction found the templates and the code
    for lang in i18n.LANGS:
        missing = used - {key for context, key in entries(lang) if context is None}
        assert not missing, f"not in locale/{lang}: {sorted(missing)}: run `make i18n` and fill them in"


#: where the portal's code names a refusal's words by their key (the key is the group)
KEYED = (
    r'\bsaid(?:_problem)?\("([^"]+)"\)',
    r'\breason_required\("([^"]+)"',
    r'\bno_file\("([^"]+)"',
    r'\brefused_at\("[^"]+", "([^"]+)"',
    r'\b_refused\((?:"[^"]+"|f"[^"]+"|\w+), "([^"]+)"\)',
)


def test_every_words_table_key_the_code_names_is_in_both_catalogues() -> None:
    """The portal's own refusals (msgctxt "portal_refusal": the key given to ``said``,
    ``reason_required``, ``no_file``, ``refused_at``, the time page's ``_refused``) and the other
    contexts the code reads with ``i18n.words``: extraction does not see them, so this does."""
    import re

    named: set[tuple[str, str]] = set()
    for path in PORTAL.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for pattern in KEYED:
            named |= {("portal_refusal", k) for k in re.findall(pattern, text)}
    assert len(named) > 20  # the portal's form refusals were found
    for lang in i18n.LANGS:
        missing = named - set(entries(lang))
        assert not missing, f"not in locale/{lang}: {sorted(missing)}"
    contexts = {c for c, _ in entries("zh") if c}
    assert {"label", "portal_refusal", "audit_object", "audit_verb", "audit_reason", "audit_field", "account_refusal", "refusal_failure", "refusal_time", "refusal_status", "indicator_set", "decision_reason"} <= contexts


def test_both_catalogues_hold_the_same_keys_all_translated_none_fuzzy() -> None:
    zh, en = entries("zh"), entries("en")
    assert set(zh) == set(en)
    for lang, catalogue in (("zh", zh), ("en", en)):
        untranslated = [k for k, m in catalogue.items() if not m.string]
        fuzzy = [k for k, m in catalogue.items() if m.fuzzy]
        assert not untranslated, f"untranslated in locale/{lang}: {untranslated}"
        assert not fuzzy, f"fuzzy in locale/{lang}: {fuzzy}"


def test_chinese_and_english_have_the_same_placeholders() -> None:
    zh, en = entries("zh"), entries("en")
    differ = {k: (zh[k].string, en[k].string) for k in zh if k in en and placeholders(zh[k].string) != placeholders(en[k].string)}
    assert not differ, differ


def test_the_english_catalogue_shows_the_translator_the_chinese() -> None:
    zh, en = entries("zh"), entries("en")
    for key, message in en.items():
        assert f"中文：{zh[key].string}" in message.auto_comments, key


def test_translate_reads_the_catalogues_with_their_placeholders() -> None:
    assert i18n.translate("page", "zh", page=2, total=31) == "第 2 页，共 31 条"
    assert i18n.translate("page", "en", page=2, total=31) == "Page 2, 31 in all"
    assert i18n.translate("rejected", "zh") == "已驳回"  # was the bare key before the catalogues
    assert i18n.translate("no_such_key", "zh") == "no_such_key"
    # a value's word and a page string of the same key stay apart (msgctxt "label")
    assert (i18n.label("contract", "en"), i18n.translate("contract", "en")) == ("contract", "Contract")
    assert (i18n.label("in_service", "zh"), i18n.label("sysadmin", "zh"), i18n.label("new_state", "zh")) == ("服务中", "系统管理员", "new_state")


def test_a_words_table_gives_a_key_in_both_languages_or_refuses_it() -> None:
    """``Words.pair``: the tables the portal builds at import (weekdays, the policy's documents,
    its own refusals) read both languages at once; a key either catalogue lacks fails there."""
    assert i18n.words("weekday").pair("mon") == ("周一", "Mon")
    with pytest.raises(KeyError, match="no_such_day"):
        i18n.words("weekday").pair("no_such_day")
    with pytest.raises(KeyError, match="no_such_refusal"):
        i18n.said("no_such_refusal")
