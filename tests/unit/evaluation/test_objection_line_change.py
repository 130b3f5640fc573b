"""Resolving an objection changes its notice line through one small record
(issue 18): the columns a corrector may set, none of them left out when its
value is falsy (an award corrected to 0 fen), nothing written when unchanged."""

from __future__ import annotations

from dataclasses import fields

from services.evaluation.db.models import notice_items
from services.evaluation.notices import WITHDRAWN
from services.evaluation.objections import LineChange


def test_every_field_is_a_column_of_the_notice_line() -> None:
    assert {f.name for f in fields(LineChange)} <= set(notice_items.c.keys())


def test_only_what_changes_is_written_and_a_zero_amount_is_a_change() -> None:
    assert LineChange().values() == {}
    assert LineChange(state=WITHDRAWN, amount_fen=0).values() == {"state": WITHDRAWN, "amount_fen": 0}
    assert LineChange(grade="good", total_centi=0, label="单位：良好").values() == {"grade": "good", "total_centi": 0, "label": "单位：良好"}
