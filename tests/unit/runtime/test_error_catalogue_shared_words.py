"""Words two codes share are written once, in names, and the error catalogue
(services/runtime/http/error_catalogue.py) still reads them where the codes
are raised: the county refusal of a unit's application and of the catalogue
search (issue 18)."""

from __future__ import annotations

import ast

from services.runtime.http.error_catalogue import BASE_STATUS, raised_codes, scanned

SOURCE = '''
def refusal(code_of_search):
    zh = f"“{code_of_search}”不是本市的县"
    en = f"{code_of_search!r} is not a county"
    if code_of_search:
        return DomainError("search.unknown", zh, en, status=400)
    return DomainError("unit.unknown", zh, en)


def elsewhere(message):
    return DomainError("x.built", message, message)
'''


def test_a_message_in_a_name_assigned_once_is_read_as_its_text() -> None:
    found = {code: (status, zh, en) for code, status, zh, en, _ in raised_codes(ast.parse(SOURCE), dict(BASE_STATUS))}
    assert found["search.unknown"] == (400, "“…”不是本市的县", "… is not a county")
    assert found["unit.unknown"] == (422, "“…”不是本市的县", "… is not a county")
    assert found["x.built"] == (422, "", "")  # a parameter is no text


def test_both_county_refusals_are_in_the_catalogue_with_their_status_and_one_wording() -> None:
    search, unit = scanned()["search.unknown_county"], scanned()["unit.unknown_county"]
    assert (search.statuses, unit.statuses) == ({400}, {422})
    assert (search.message_zh, search.message_en) == (unit.message_zh, unit.message_en) == ("“…”不是…的县（市、区）代码", "… is not a county code of …")
    assert {p.split(":")[0] for p in search.places + unit.places} == {"services/registry/domain/parties.py"}  # raised in one place
