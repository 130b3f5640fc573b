"""The audit page names in words every field of the registry records the
audit trail keeps as answered (units, users, price items): an auditor reading
Chinese never meets a field key."""

from __future__ import annotations

import re

import msgspec
import pytest

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
