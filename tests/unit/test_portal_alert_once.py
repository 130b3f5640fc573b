"""A page's error is shown once: base.html's alert block shows ``error`` for every page
that extends it, so a template that also prints ``{% if error %}`` itself shows the
message twice (the schedule, bookings and synonyms pages did)."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "services" / "gateway" / "portal" / "templates"
OWN_ALERT = re.compile(r"\{%-?\s*if\s+error\s*-?%\}")


def test_pages_extending_base_leave_the_error_to_its_alert_block() -> None:
    twice = []
    for page in sorted(TEMPLATES.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        if '{% extends "base.html" %}' not in text or "{% block alert %}" in text:
            continue
        if OWN_ALERT.search(text):
            twice.append(page.name)
    assert twice == [], f"these pages print the error besides base.html's alert: {twice}"
