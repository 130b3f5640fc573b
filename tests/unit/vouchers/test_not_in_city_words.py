"""R4's refusal of a voucher application names the city of the city file (issue 18)."""

from __future__ import annotations

from pathlib import Path

from services.runtime.city import packaged_city
from services.vouchers.application_steps import checks_failed
from services.vouchers.domain.applications import Check
from tests.support.city import ZHENGZHOU, settings_of


def test_the_not_in_the_city_refusal_names_the_files_city(tmp_path: Path) -> None:
    """R4's refusal of a voucher application says which city, in both languages."""
    for city, zh, en in ((packaged_city(), "许昌市", "Xuchang"), (settings_of(tmp_path, ZHENGZHOU).city, "郑州市", "Zhengzhou")):
        refused = checks_failed([Check.USER_NOT_IN_CITY, Check.USER_NOT_VERIFIED], city)
        assert (refused.code, refused.message_zh, refused.message_en) == ("voucher.user_not_in_city", f"用户不是在{zh}登记注册的企业或团队", f"the user is not registered in {en}")
        assert refused.details["failures"][0]["message_zh"] == f"用户不是在{zh}登记注册的企业或团队"
