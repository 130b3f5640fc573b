"""A list table scrolls sideways inside itself on a phone (portal.css, ``max-width: 720px``):
a keyboard user scrolls it only if it can take the focus, so every ``table.list`` has
``tabindex="0"`` (axe's scrollable-region-focusable, a serious violation, found it on
every page whose table holds no link; tests/browser/test_portal_accessibility.py runs axe
on the pages the navigation reaches, this names any template, reached or not)."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "services" / "gateway" / "portal" / "templates"
LIST_TABLE = re.compile(r"<table\b[^>]*\bclass=\"list\"[^>]*>")


def test_every_list_table_can_take_the_keyboard_focus() -> None:
    tables = {page.name: LIST_TABLE.findall(page.read_text(encoding="utf-8")) for page in sorted(TEMPLATES.glob("*.html"))}
    assert sum(len(found) for found in tables.values()) > 30  # the pattern finds the tables
    unfocusable = [f"{name}: {tag}" for name, found in tables.items() for tag in found if 'tabindex="0"' not in tag]
    assert unfocusable == [], unfocusable
