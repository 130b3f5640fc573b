"""Issue 17 in the portal: the notifications of a voucher decision, a paid
payout and a published notice read in Chinese (and English on request) with
the case number, and each links to its page under a name saying where it
leads. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

from contracts.evaluation import NoticeItem, NoticePublished, ObjectionRaised
from contracts.payments import ClawbackRecorded, PayoutPaid
from contracts.vouchers import ApplicationRejected, RedemptionReviewed
from services.registry import event_notices
from services.runtime.db.unit_of_work import SYSTEM
from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.registry import approved_unit, verified_user
from tests.support.portal import as_party, gateway, text_of

SERVICES = ["registry"]


async def test_the_new_kinds_of_notification_in_the_portal(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        user, unit = await verified_user(p), await approved_unit(p)
        db = p.services["registry"].db
        async with db.unit_of_work(SYSTEM, None) as uow:  # as the worker would, from the events
            rejected = ApplicationRejected(
                application_id="app-7", user_id=user, unit_id=unit, order_id="ord-7", year=2026, status="rejected", reasons=[], reason="合同与订单不符", case_no="SQ-2026-000007"
            )
            await event_notices.on_application_decided(uow, rejected)
            await event_notices.on_payout_paid(uow, PayoutPaid(payout_id="pay-7", kind="award", ref="aw-7", unit_id=unit, year=2026, amount_fen=300_000, case_no="BF-2026-000007"))
            items = [NoticeItem(ref="ev-7", unit_id=unit, label="许昌学院：良好")]
            notice = NoticePublished(notice_id="nt-7", kind="grades", year=2026, title="评价结果公示", opens_on=date(2026, 12, 7), closes_on=date(2026, 12, 11), items=items, case_no="GS-2026-000007")
            await event_notices.on_notice_published(uow, notice)

        as_party(c, p, Role.USER, user)
        html = (await c.get("/notifications")).text
        assert '<a href="/vouchers?case_no=SQ-2026-000007" class="notification-link">查看创新券申请</a>' in html
        text = text_of(html)
        assert "创新券申请 SQ-2026-000007未获批准。理由：合同与订单不符。" in text and "未读通知 1 条" in text
        english = text_of((await c.get("/notifications?lang=en")).text)
        assert "Voucher application SQ-2026-000007 was rejected." in english and "Voucher application" in english and "未获批准" not in english
        await c.get("/notifications?lang=zh")

        as_party(c, p, Role.UNIT, unit)
        html = (await c.get("/notifications")).text
        assert '<a href="/unit/payee" class="notification-link">查看拨付记录</a>' in html
        assert '<a href="/notices/nt-7" class="notification-link">查看公示</a>' in html
        text = text_of(html)
        assert "BF-2026-000007" in text and "¥3,000.00" in text and "GS-2026-000007" in text and "2026年12月11日（含）前实名提出" in text
        assert "notification_link" not in html and "payout.paid" not in text


async def test_a_clawback_a_reviewed_claim_and_an_objection_in_the_portal(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        unit = await approved_unit(p)
        db = p.services["registry"].db
        async with db.unit_of_work(SYSTEM, None) as uow:  # as the worker would, from the events
            await event_notices.on_clawback_recorded(uow, ClawbackRecorded(
                clawback_id="clawback-7", finding_id="f-7", party_type="unit", party_id=unit, kind="award", ref="pay-7", year=2026, amount_fen=300_000))
            await event_notices.on_redemption_reviewed(uow, RedemptionReviewed(
                claim_id="cl-7", unit_id=unit, year=2026, voucher_ids=["v-7"], amount_fen=200_000, status="rejected", approved=False, approved_fen=0, case_no="DF-2026-000007"))
            await event_notices.on_objection_raised(uow, ObjectionRaised(
                notice_id="nt-8", objection_id="ob-8", kind="grades", year=2026, ref="ev-8", unit_id=unit, case_no="GS-2026-000008", label="许昌学院：良好"))

        as_party(c, p, Role.UNIT, unit)
        html = (await c.get("/notifications")).text
        assert '<a href="/unit/redemption" class="notification-link">查看兑付申请</a>' in html
        text = text_of(html)
        assert "2026年度奖励款 ¥3,000.00" in text and "须予追回" in text and "DF-2026-000007" in text and "未获通过" in text
        assert "GS-2026-000008" not in text and "clawback-7" not in html and "cl-7" not in html  # the objection is the center's (the ids hold letters no UUID on the page can spell)

        as_party(c, p, Role.CENTER)
        html = (await c.get("/notifications")).text
        assert '<a href="/notifications">' in html  # the center's navigation leads to its message centre
        assert '<a href="/notices/nt-8" class="notification-link">查看公示及异议</a>' in html
        assert "GS-2026-000008" in text_of(html) and "“许昌学院：良好”" in text_of(html) and "ob-8" not in html
        english = text_of((await c.get("/notifications?lang=en")).text)
        assert "A real-name objection was raised" in english and "Notice and objections" in english and "实名异议" not in english
        await c.get("/notifications?lang=zh")
        as_party(c, p, Role.BUREAU)
        assert "GS-2026-000008" not in text_of((await c.get("/notifications")).text)
