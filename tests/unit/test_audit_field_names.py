"""The audit page names in words every key the services can put in an audit
entry's before and after (every field of every struct they audit, with the
structs nested in them, and every key of the dicts they write out, as
tests/support/audited_images.py reads them from the services' audit calls) and
every indicator a score sheet records: an auditor reading Chinese never meets a
field key, and a struct that gains a field without words fails here."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

import services.evaluation.policy as policy
from services.evaluation.policy import load_policy
from services.evaluation.schemas.notices import NoticeItem
from services.gateway.portal.audit_trail import FIELDS, field_name
from services.payments.schemas import Payout, Settlement
from services.registry.domain.schedules import WEEKDAYS
from services.registry.instruments import CHANGEABLE
from services.registry.schemas.orders import OrderLine
from services.registry.schemas.parties import Unit
from services.registry.schemas.prices import PriceItem
from services.registry.schemas.users import User
from services.runtime.settings import Settings
from services.vouchers.schemas import ClaimItem, Programme
from tests.support.audited_images import audited_images

HAN = re.compile(r"[\u4e00-\u9fff]")
IMAGES = audited_images()
#: the one image the reading cannot follow: an instrument's change records the changed columns
#: of the request (``{k: row[k] for k in values}``), which are CHANGEABLE ones and its status
CHANGED_COLUMNS = "services/registry/instruments.py"


def named(key: str) -> tuple[str, str]:
    """``key``'s words on the audit page, Chinese and English: in both catalogues (not the key
    shown for want of them), Chinese in Chinese, English in English, neither a code."""
    assert FIELDS.get(key, "zh") is not None and FIELDS.get(key, "en") is not None, f"{key}: no msgctxt audit_field words"
    zh, en = field_name(key, "zh"), field_name(key, "en")
    assert HAN.search(zh) and "_" not in zh, (key, zh)
    assert not HAN.search(en) and "_" not in en, (key, en)
    return zh, en


def test_the_audit_calls_are_read_to_their_structs_and_keys() -> None:
    """The reading finds what the audit trail is known to keep (a unit, a payout with its
    settlement's payments, a claim's items, an order request's lines, a notice line), and
    follows every image but the one it is told of: a new image it cannot follow fails here."""
    assert {Unit, User, PriceItem, Payout, Settlement, ClaimItem, OrderLine, Programme, NoticeItem} <= IMAGES.structs
    assert len(IMAGES.structs) >= 35, sorted(s.__name__ for s in IMAGES.structs)
    assert {"above_list", "sessions_revoked", "payout_ids", "handling_workdays", "created_count", "full_time_staff"} <= IMAGES.keys
    assert IMAGES.unresolved and all(u.startswith(CHANGED_COLUMNS) and "changes.items()" in u for u in IMAGES.unresolved), IMAGES.unresolved


@pytest.mark.parametrize("record", sorted(IMAGES.structs, key=lambda r: f"{r.__module__}.{r.__name__}"), ids=lambda r: f"{r.__module__.split('.')[1]}.{r.__name__}")
def test_every_field_of_an_audited_struct_has_a_chinese_and_an_english_name(record: type[msgspec.Struct]) -> None:
    for f in msgspec.structs.fields(record):
        named(f.encode_name)


def test_every_key_an_audit_call_writes_out_has_a_chinese_and_an_english_name() -> None:
    """The dicts' keys, an instrument's changeable columns, and the days of an audited
    schedule's opening hours (``weekly_hours``: ``{"mon": [["08:30", "12:00"]], …}``)."""
    for key in sorted({*IMAGES.keys, *CHANGEABLE, "status", "version", *WEEKDAYS}):
        named(key)


def _indicator_codes() -> set[str]:
    """Every indicator of the evaluation policy files (``op.listed_on_time`` …), as the
    service reads them (parse_policy), not by a guess at the YAML's shape."""
    codes: set[str] = set()
    for path in Path(policy.__file__).parent.glob("indicators-*.yaml"):
        parsed = load_policy(Settings(data_dir=path.parent, evaluation_policy_file=path))
        codes |= {i.code for i in parsed.indicators()}
    return codes


def test_every_indicator_a_score_sheet_records_has_a_name() -> None:
    """A grading's and an expert's scores are audited by indicator (``scores``:
    ``op.listed_on_time：0；…``): the auditor reads the indicators' names, never their codes."""
    codes = _indicator_codes()
    assert len(codes) >= 18, codes
    for code in sorted(codes):
        zh, en = field_name(code, "zh"), field_name(code, "en")
        assert HAN.search(zh) and code not in zh, (code, zh)
        assert not HAN.search(en) and code not in en, (code, en)


def test_every_amount_in_fen_is_named_with_its_unit() -> None:
    """A ``*_fen`` value is shown in yuan (¥1,000.00), so its name says so, as every money
    field's does: 金额（元）, amount (CNY); never a bare 金额 beside 预算（元）."""
    keys = {k for k in FIELDS.by_lang["zh"] if k.endswith("_fen")}
    assert {"amount_fen", "price_fen", "budget_fen"} <= keys
    for key in sorted(keys):
        zh, en = named(key)
        assert zh.endswith("（元）") and en.endswith("(CNY)"), (key, zh, en)
