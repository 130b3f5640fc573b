"""`make i18n`, after `pybabel extract` wrote the keys the templates and code use
into locale/messages.pot: add the keys only the catalogues know (a key the code
computes, ``t('p_' ~ state)``, ``link_key(kind)``, and the words for the values the
services send, msgctxt "label": extraction cannot see them, and they stay until
removed from zh by hand), and the Chinese text of every key as
the translator comment ("#. 中文：…") from the Chinese catalogue, so the English
one shows it in Poedit or Weblate. `pybabel update` then merges the template
into both catalogues: a new key arrives untranslated in each, and
tests/unit/test_portal_catalogues.py fails until both are filled in."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

LOCALE = Path(__file__).resolve().parents[1] / "services/gateway/portal/locale"


def read(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


def main() -> int:
    pot_path = LOCALE / "messages.pot"
    pot, zh = read(pot_path), read(LOCALE / "zh/LC_MESSAGES/messages.po")
    pot.project, pot.version, pot.copyright_holder, pot.msgid_bugs_address = "xciss portal", "1", "xciss", ""
    for message in zh:
        if message.id and pot.get(message.id, message.context) is None:
            note = "a value's word (label())" if message.context == "label" else "a computed key: extraction does not see it"
            pot.add(message.id, "", auto_comments=[note], context=message.context)
    for message in pot:
        if not message.id:
            continue
        words = zh.get(message.id, message.context)
        if words is not None and words.string:
            kept = [c for c in message.auto_comments if not c.startswith("中文：")]
            message.auto_comments = [f"中文：{words.string}", *kept]
    with pot_path.open("wb") as f:
        write_po(f, pot, omit_header=False, sort_output=True)
    print(f"{pot_path}: {len([m for m in pot if m.id])} keys")
    return 0


if __name__ == "__main__":
    sys.exit(main())
