"""The audit page names in words every field of the registry records the
audit trail keeps as answered (units, users, price items) and every indicator
a score sheet records: an auditor reading Chinese never meets a field key."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

import services.evaluation.policy as policy
from services.evaluation.policy import load_policy
from services.gateway.portal.audit_trail import field_name
from services.registry.schemas.parties import Unit
from services.registry.schemas.prices import PriceItem
from services.registry.schemas.users import User
from services.runtime.settings import Settings

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("record", [Unit, User, PriceItem], ids=lambda r: r.__name__)
def test_every_audited_field_has_a_chinese_and_an_english_name(record: type[msgspec.Struct]) -> None:
    for f in msgspec.structs.fields(record):
        zh, en = field_name(f.encode_name, "zh"), field_name(f.encode_name, "en")
        assert HAN.search(zh) and "_" not in zh, (record.__name__, f.encode_name, zh)
        assert not HAN.search(en) and "_" not in en, (record.__name__, f.encode_name, en)


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
