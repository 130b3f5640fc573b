"""The audit page names in words every field of the registry records the
audit trail keeps as answered (units, users, price items) and every indicator
a score sheet records: an auditor reading Chinese never meets a field key."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest
import yaml

import services.evaluation.policy as policy
from services.gateway.portal.audit_trail import field_name
from services.registry.schemas.parties import Unit
from services.registry.schemas.prices import PriceItem
from services.registry.schemas.users import User

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("record", [Unit, User, PriceItem], ids=lambda r: r.__name__)
def test_every_audited_field_has_a_chinese_and_an_english_name(record: type[msgspec.Struct]) -> None:
    for f in msgspec.structs.fields(record):
        zh, en = field_name(f.encode_name, "zh"), field_name(f.encode_name, "en")
        assert HAN.search(zh) and "_" not in zh, (record.__name__, f.encode_name, zh)
        assert not HAN.search(en) and "_" not in en, (record.__name__, f.encode_name, en)


def _indicator_codes() -> set[str]:
    """Every indicator of the evaluation policy files (``op.listed_on_time`` …)."""
    codes: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("code"), str) and "name_zh" in node and "." in node["code"]:
                codes.add(node["code"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for path in Path(policy.__file__).parent.glob("indicators-*.yaml"):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
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
