"""The complaint pages' choices are the registry's (the portal may not import the registry,
so they are tied here), each said in Chinese and English by the catalogue, and every
string the complaint templates ask for is in it (a missing key would show as the key)."""

from __future__ import annotations

import re
from pathlib import Path

from services.gateway.portal import complaints
from services.gateway.portal.i18n import STRINGS
from services.registry.domain.complaints import ComplaintCategory, ComplaintStatus, Outcome

TEMPLATES = Path(complaints.__file__).parent / "templates"


def test_the_forms_offer_the_registrys_categories_states_and_outcomes_in_words() -> None:
    assert complaints.CATEGORIES == tuple(ComplaintCategory)
    assert complaints.STATES == tuple(ComplaintStatus)
    assert complaints.OUTCOMES == tuple(Outcome)
    for key in [f"complaint_category_{c}" for c in ComplaintCategory] + [f"complaint_status_{s}" for s in ComplaintStatus]:
        zh, en = STRINGS[key]
        assert zh and en and zh != en
    # the portal keeps no copy of the registry's lengths: no limit of its own, no maxlength on a form
    assert not hasattr(complaints, "LIMITS")
    for name in ("complaint.html", "complaint_form.html"):
        assert "maxlength" not in (TEMPLATES / name).read_text(encoding="utf-8")


def test_every_string_of_the_complaint_pages_is_in_the_catalogue() -> None:
    for name in ("complaint.html", "complaint_form.html", "complaints.html"):
        html = (TEMPLATES / name).read_text(encoding="utf-8")
        keys = set(re.findall(r"\bt\('([a-z_]+)'[,)]", html))
        assert keys and not keys - set(STRINGS), (name, keys - set(STRINGS))
