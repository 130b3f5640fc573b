"""The portal's strings: Chinese first, English on ``?lang=en`` (or its cookie).

Every page string lives in the gettext catalogues beside this module,
``locale/{zh,en}/LC_MESSAGES/messages.po`` (the key is the msgid; each entry
carries its Chinese text as a translator comment), read once at start-up with
Babel; ``make i18n`` extracts the keys the templates and code use and updates
both catalogues (docs/portal.md, "Language"). The words for the values the
services send (``label``) are there too, under msgctxt "label"."""

from __future__ import annotations

import functools
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE = Path(__file__).resolve().parent / "locale"
LANGS = ("zh", "en")


def catalogue_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "messages.po"


@functools.cache
def _entries(lang: str) -> dict[str | None, dict[str, str]]:
    """A catalogue's translated entries by msgctxt, then key (parsed once per language)."""
    with catalogue_path(lang).open("rb") as f:
        catalog = read_po(f)
    found: dict[str | None, dict[str, str]] = {}
    for m in catalog:
        if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string and not m.fuzzy:
            found.setdefault(m.context, {})[m.id] = m.string
    return found


def read_catalogue(lang: str, context: str | None = None) -> dict[str, str]:
    """A catalogue's translated entries of ``context`` (msgctxt) by key: no header, no
    fuzzy, untranslated or obsolete one."""
    return dict(_entries(lang).get(context, {}))


#: the page strings by language, then key
CATALOGUES: dict[str, dict[str, str]] = {lang: read_catalogue(lang) for lang in LANGS}
#: the words for the values the services send (states, purposes, roles), msgctxt "label"
LABEL_WORDS: dict[str, dict[str, str]] = {lang: read_catalogue(lang, "label") for lang in LANGS}

#: every string by key, (zh, en): what the tests and ``key in STRINGS`` checks read
STRINGS: dict[str, tuple[str, str]] = {key: (zh, CATALOGUES["en"].get(key, key)) for key, zh in CATALOGUES["zh"].items()}


def translate(key: str, lang: str, **kw: object) -> str:
    text = CATALOGUES["en" if lang == "en" else "zh"].get(key, key)
    return text.format(**kw) if kw else text


class Words:
    """The entries of one msgctxt of the catalogues (a table of words the code looks up by a
    value it holds: an audit action's object or verb, a reason a service wrote): ``get(key,
    lang)`` is the words in ``lang`` (Chinese unless ``en``), None for a key it does not know."""

    def __init__(self, context: str) -> None:
        self.by_lang = {lang: read_catalogue(lang, context) for lang in LANGS}

    def get(self, key: str, lang: str) -> str | None:
        return self.by_lang["en" if lang == "en" else "zh"].get(key)

    def __contains__(self, key: object) -> bool:
        return key in self.by_lang["zh"]

    def pair(self, key: str) -> tuple[str, str]:
        """The words of ``key`` as (Chinese, English); a key missing from either catalogue is
        an error, raised where the table is read (at import), not on a page."""
        zh, en = self.get(key, "zh"), self.get(key, "en")
        if not zh or not en:
            raise KeyError(f"{key!r} is not in both catalogues")
        return zh, en


def words(context: str) -> Words:
    """The catalogues' words of msgctxt ``context`` (read at import)."""
    return Words(context)


#: the portal's own refusals of a form (a reason or a file missing, a time mistyped), msgctxt "portal_refusal"
PORTAL_REFUSALS = Words("portal_refusal")


def said(key: str) -> tuple[str, str]:
    """A portal refusal's words as (Chinese, English), for the helpers that build an ``ApiError``
    from the pair (``reason_required``, ``no_file``, …); a key the catalogues lack is an error."""
    return PORTAL_REFUSALS.pair(key)


def said_problem(key: str) -> dict[str, str]:
    """The same words as a problem's ``message_zh`` and ``message_en``."""
    zh, en = said(key)
    return {"message_zh": zh, "message_en": en}


def label(value: object, lang: str) -> str:
    """A value the services send (``in_service``, ``per_hour``, a role) in words; else as it is."""
    return LABEL_WORDS["en" if lang == "en" else "zh"].get(str(value), str(value))
