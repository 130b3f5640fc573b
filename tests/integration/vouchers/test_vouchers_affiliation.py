"""R26 隶属 on both databases, on the reviewed and the batched (auto-approved)
path: a user whose credit code is a unit's, its parent's or a college's is
that unit and gets no voucher on its service; an unrelated enterprise does."""

from __future__ import annotations

import pytest

from tests.support.codes import credit_code
from tests.support.platform import Platform, running
from tests.support.vouchers import (
    Registry,
    activate,
    approve,
    open_programme,
    programme,
    submit,
)

AFFILIATED = "voucher.affiliated_with_unit"


@pytest.mark.parametrize("auto_approve", [False, True], ids=["reviewed", "auto_approved"])
async def test_r26_a_party_is_its_credit_code_across_units_and_users(make_settings, auto_approve: bool) -> None:
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        uni_code, own_code, enterprise_code = credit_code(), credit_code(), credit_code()
        university = reg.unit(credit_code=uni_code)
        college = reg.unit(parent=university, credit_code=uni_code)  # the registry gives a college its university's code (R13)
        own_college = reg.unit(parent=university, credit_code=own_code)  # a college with a code of its own
        elsewhere = reg.unit(credit_code=credit_code())
        university_user = reg.user(credit_code=uni_code)  # the university registered as a user
        college_user = reg.user(credit_code=own_code)
        enterprise = reg.user(credit_code=enterprise_code)
        refused = {
            "its own college (parent -> child)": (university_user, reg.order(university_user, college)),
            "the college with its own code (parent -> child)": (university_user, reg.order(university_user, own_college)),
            "itself": (university_user, reg.order(university_user, university)),
            "its university (child -> parent)": (college_user, reg.order(college_user, university)),
        }
        allowed = {
            "an unrelated enterprise": (enterprise, reg.order(enterprise, college)),
            "the university buying elsewhere": (university_user, reg.order(university_user, elsewhere)),
        }
        await reg.flush()
        await open_programme(p, auto_approve=auto_approve)
        for u in (university_user, college_user, enterprise):
            await activate(p, u)

        for case, (user, order) in refused.items():
            app = await submit(p, user, order)
            assert app["status"] == "submitted" and app["failures"] == [AFFILIATED] and app["voucher_id"] is None, case
            r = await approve(p, app["application_id"])
            assert r.status_code == 422, (case, r.text)
            body = r.json()
            assert body["code"] == AFFILIATED and body["message_zh"] and body["message_en"], case
        assert (await programme(p))["committed_fen"] == 0

        for case, (user, order) in allowed.items():
            app = await submit(p, user, order)
            assert app["failures"] == [], case
            if not auto_approve:
                assert (await approve(p, app["application_id"])).status_code == 200, case
            else:
                assert app["status"] == "approved" and app["voucher_id"], case
        assert (await programme(p))["committed_fen"] == 2 * 300_000
