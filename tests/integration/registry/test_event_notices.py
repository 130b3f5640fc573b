"""Issue 17: the registry tells people what vouchers, payments and evaluation
decided about them. Events are published into JetStream as their producers'
relays would (a real nats-server with per-service permissions); the registry
worker writes one notification and one mail per account with an e-mail of the
organisation concerned, in the inbox's transaction; the mails reach a real
SMTP server (aiosmtpd) with the case number and the portal link. A redelivered
event tells nobody twice; a failure after the notice was written (the worker
crashing before its commit) loses nothing and doubles nothing. SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import create_async_engine

from contracts.envelope import new_event_id
from contracts.evaluation import NoticeItem, NoticePublished
from contracts.payments import PayoutPaid
from contracts.vouchers import (
    AppealDecided,
    AppealFiled,
    ApplicationApproved,
    ApplicationRejected,
    VoucherIssued,
    VoucherRevoked,
    VoucherSnapshot,
    VoucherUsed,
)
from services.registry import event_notices, password_reset
from services.registry import scheduled_notices as scheduled
from services.registry.db.notification_models import notifications, scheduled_notices
from services.runtime.clock import POLICY_ZONE as SHANGHAI
from services.runtime.db.migrations import alembic_config, upgrade
from services.runtime.roles import Role
from tests.support.notices import (
    PORTAL,
    duplicates,
    mail_settings,
    mails,
    notes,
    outcomes,
    parties,
    told,
)
from tests.support.payouts import publish
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.smtp import Inbox, smtp_server

SERVICES = ["registry"]
#: 2031-01-01 00:00 in Beijing: the end of 2030's vouchers
EXPIRES = datetime(2030, 12, 31, 16, 0, tzinfo=UTC)


async def send(p: Platform, inbox: Inbox, n: int, now: datetime | None = None) -> None:
    assert await password_reset.deliver_pending(p.services["registry"].db, p.settings, now) == n
    assert len(inbox.mails) >= n


async def test_application_decisions_tell_the_applicant_once_by_app_and_mail(make_settings) -> None:
    with smtp_server() as (inbox, port):
        settings = await make_settings(SERVICES, **mail_settings(port))
        async with running(Platform(settings, SERVICES)) as p:
            ids = await parties(p)
            base = {"user_id": ids["user"], "unit_id": ids["unit"], "year": 2026}
            approved = ApplicationApproved(**base, application_id="app-1", order_id="ord-1", status="approved", amount_fen=2_400_000, case_no="SQ-2026-000123")
            until = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=10)  # the rejection plus the window
            rejected = ApplicationRejected(
                **base, application_id="app-2", order_id="ord-2", status="rejected", reasons=["voucher.unit_not_acceptor"], reason="仪器单位尚未取得受理资格", appeal_until=until, case_no="SQ-2026-000124"
            )
            await publish(p, approved, rejected)
            got = await told(p, Role.USER, ids["user"], 2)
            assert sorted(n["kind"] for n in got) == ["application.approved", "application.rejected"]
            by_kind = {n["kind"]: n for n in got}
            ok, no = by_kind["application.approved"], by_kind["application.rejected"]
            assert "SQ-2026-000123" in ok["text_zh"] and "¥24,000.00" in ok["text_zh"] and ok["link"] == "/vouchers?case_no=SQ-2026-000123"
            assert "SQ-2026-000124" in no["text_zh"] and "仪器单位尚未取得受理资格" in no["text_zh"] and f"{until.astimezone(SHANGHAI):%Y-%m-%d %H:%M}（北京时间）前提出复议" in no["text_zh"]
            # nobody else is told
            assert await notes(p, Role.USER, ids["other_user"]) == [] and await notes(p, Role.UNIT, ids["unit"]) == []
            assert sorted(await mails(p, "application.approved")) == [("a@corp.example.cn", "[科技创新券平台] 创新券申请已批准（SQ-2026-000123） / Voucher application approved (SQ-2026-000123)")]

            # the mails reach the SMTP server, with the case number and the portal link
            await send(p, inbox, 2)
            assert [m["To"] for m in inbox.mails] == ["a@corp.example.cn", "a@corp.example.cn"]
            bodies = {m["Subject"]: Inbox.body(m) for m in inbox.mails}
            [rejection] = [b for subject, b in bodies.items() if "SQ-2026-000124" in subject]
            assert "仪器单位尚未取得受理资格" in rejection and f"详情：{PORTAL}/vouchers?case_no=SQ-2026-000124" in rejection

            # the same event again (another message id, past JetStream's de-duplication): nobody is told twice
            before = outcomes(p).get("duplicate", 0)
            await publish(p, approved, msg_id=new_event_id())
            await duplicates(p, before)
            assert len(await notes(p, Role.USER, ids["user"])) == 2 and len(await mails(p, "application.approved")) == 1
            assert await password_reset.deliver_pending(p.services["registry"].db, p.settings) == 0 and len(inbox.mails) == 2

            # 3 days before the appeal window closes, the rejected applicant that has not appealed is reminded, once;
            # an applicant that appealed (even before its rejection's event arrived here) is not
            appealed = ApplicationRejected(**base, application_id="app-3", order_id="ord-3", status="rejected", reasons=[], reason="材料不全", appeal_until=until, case_no="SQ-2026-000125")
            filed = AppealFiled(**base, application_id="app-3", order_id="ord-3", status="appealed", case_no="SQ-2026-000125")
            await publish(p, filed, appealed)
            await told(p, Role.USER, ids["user"], 3)
            db = p.services["registry"].db
            await eventually(lambda: _cancelled(db, "app-3"))  # the appeal has arrived too
            # the appeal tells the bureau, which must decide it, once (a city-wide role: not the applicant's organisation)
            [appeal] = await notes(p, Role.BUREAU, "")
            assert appeal["kind"] == "application.appealed" and "SQ-2026-000125" in appeal["text_zh"] and "请组织复议" in appeal["text_zh"] and "app-3" not in appeal["text_zh"]
            assert appeal["link"] == "/review?case_no=SQ-2026-000125" and await notes(p, Role.CENTER, "") == []
            before = outcomes(p).get("duplicate", 0)
            await publish(p, filed, msg_id=new_event_id())
            await duplicates(p, before)
            assert len(await notes(p, Role.BUREAU, "")) == 1
            assert await scheduled.send_due(db, until - timedelta(days=3, minutes=1)) == 0
            assert await scheduled.send_due(db, until - timedelta(days=3)) == 1
            assert await scheduled.send_due(db, until) == 0
            latest = (await notes(p, Role.USER, ids["user"]))[0]
            assert latest["kind"] == "application.appeal_closing" and "SQ-2026-000124" in latest["text_zh"] and "复议期将于" in latest["text_zh"]
            assert latest["link"] == "/vouchers?case_no=SQ-2026-000124"
            assert [n["kind"] for n in await notes(p, Role.USER, ids["user"])].count("application.appeal_closing") == 1


async def test_the_bureaus_decision_on_an_appeal_tells_the_applicant_once(make_settings) -> None:
    with smtp_server() as (_, port):
        settings = await make_settings(SERVICES, **mail_settings(port))
        async with running(Platform(settings, SERVICES)) as p:
            ids = await parties(p)
            base = {"user_id": ids["user"], "unit_id": ids["unit"], "year": 2026}
            upheld = AppealDecided(**base, application_id="app-4", order_id="ord-4", status="rejected", outcome="uphold", reason="合同签订日期早于账户开通日期", case_no="SQ-2026-000126")
            overturned = AppealDecided(**base, application_id="app-5", order_id="ord-5", status="approved", outcome="overturn", amount_fen=1_800_000, reason="补充材料齐全", case_no="SQ-2026-000127")
            unknown = AppealDecided(**base, application_id="app-6", order_id="ord-6", status="appealed", outcome="withdrawn", case_no="SQ-2026-000128")
            done = outcomes(p).get("done", 0)
            await publish(p, unknown, upheld, overturned)
            await eventually(lambda: outcomes(p).get("done", 0) >= done + 3, what="three appeal decisions handled")
            got = {n["link"]: n for n in await notes(p, Role.USER, ids["user"])}
            assert set(got) == {"/vouchers?case_no=SQ-2026-000126", "/vouchers?case_no=SQ-2026-000127"}  # an outcome it does not know: nothing
            stands, reversed_ = got["/vouchers?case_no=SQ-2026-000126"], got["/vouchers?case_no=SQ-2026-000127"]
            assert stands["kind"] == reversed_["kind"] == "application.appeal_decided"
            assert "SQ-2026-000126" in stands["text_zh"] and "维持原驳回决定" in stands["text_zh"] and "理由：合同签订日期早于账户开通日期。" in stands["text_zh"]
            assert "撤销原驳回决定，申请已批准，创新券金额 ¥18,000.00" in reversed_["text_zh"] and "app-5" not in reversed_["text_zh"]
            assert sorted(await mails(p, "application.appeal_decided")) == [
                ("a@corp.example.cn", "[科技创新券平台] 复议决定：撤销驳回（SQ-2026-000127） / Appeal decided: rejection overturned (SQ-2026-000127)"),
                ("a@corp.example.cn", "[科技创新券平台] 复议决定：维持驳回（SQ-2026-000126） / Appeal decided: rejection upheld (SQ-2026-000126)"),
            ]
            assert await notes(p, Role.USER, ids["other_user"]) == []
            before = outcomes(p).get("duplicate", 0)
            await publish(p, upheld, msg_id=new_event_id())
            await duplicates(p, before)
            assert len(await notes(p, Role.USER, ids["user"])) == 2


async def _cancelled(db: Any, ref: str) -> bool:
    async with db.read() as s:
        row = (await s.execute(select(scheduled_notices.c.cancelled_at).where(scheduled_notices.c.ref == ref))).first()
    return row is not None and row[0] is not None


async def test_a_paid_payout_and_a_published_notice_tell_their_units(make_settings) -> None:
    with smtp_server() as (inbox, port):
        settings = await make_settings(SERVICES, **mail_settings(port))
        async with running(Platform(settings, SERVICES)) as p:
            ids = await parties(p)
            paid = PayoutPaid(payout_id="pay-1", kind="award", ref="award-1", unit_id=ids["unit"], year=2026, amount_fen=5_000_000, case_no="BF-2026-000007")
            items = [
                NoticeItem(ref="ev-1", unit_id=ids["unit"], label="许昌学院：优秀"),
                NoticeItem(ref="ev-2", unit_id=ids["other_unit"], label="许昌职业技术学院：良好"),
            ]
            opens = datetime.now(SHANGHAI).date()
            closes = opens + timedelta(days=7)
            notice = NoticePublished(
                notice_id="notice-1", kind="grades", year=2026, title="2026年度开放共享评价结果公示", opens_on=opens, closes_on=closes, items=items, case_no="GS-2026-000012"
            )
            await publish(p, paid, notice)
            mine = {n["kind"]: n for n in await told(p, Role.UNIT, ids["unit"], 2)}
            assert set(mine) == {"payout.paid", "notice.published"}
            assert "BF-2026-000007" in mine["payout.paid"]["text_zh"] and "¥50,000.00" in mine["payout.paid"]["text_zh"] and mine["payout.paid"]["link"] == "/unit/payee"
            shown = mine["notice.published"]
            assert "GS-2026-000012" in shown["text_zh"] and "许昌学院：优秀" in shown["text_zh"] and "许昌职业技术学院" not in shown["text_zh"]
            assert f"{closes.year}年{closes.month}月{closes.day}日（含）前实名提出" in shown["text_zh"] and shown["link"] == "/notices/notice-1"
            [theirs] = await notes(p, Role.UNIT, ids["other_unit"])  # the other unit: its own line of the notice only
            assert theirs["kind"] == "notice.published" and "许昌职业技术学院：良好" in theirs["text_zh"]
            assert await notes(p, Role.USER, ids["user"]) == []

            await send(p, inbox, 3)
            assert sorted(m["To"] for m in inbox.mails) == ["desk@lab.example.edu.cn", "desk@lab.example.edu.cn", "desk@other.example.edu.cn"]
            [payout_mail] = [m for m in inbox.to("desk@lab.example.edu.cn") if "BF-2026-000007" in m["Subject"]]
            assert f"{PORTAL}/unit/payee" in Inbox.body(payout_mail)

            before = outcomes(p).get("duplicate", 0)
            await publish(p, paid, msg_id=new_event_id())
            await publish(p, notice, msg_id=new_event_id())
            await duplicates(p, before, 2)
            assert len(await notes(p, Role.UNIT, ids["unit"])) == 2 and len(await notes(p, Role.UNIT, ids["other_unit"])) == 1

            # 09:00 Beijing time the day before the last day: each named unit is reminded that objections close, once
            db = p.services["registry"].db
            reminder = datetime.combine(closes - timedelta(days=1), time(9, 0), tzinfo=SHANGHAI)
            assert await scheduled.send_due(db, reminder - timedelta(minutes=1)) == 0
            assert await scheduled.send_due(db, reminder) == 2
            assert await scheduled.send_due(db, reminder + timedelta(days=1)) == 0
            for unit in (ids["unit"], ids["other_unit"]):
                latest = (await notes(p, Role.UNIT, unit))[0]
                assert latest["kind"] == "notice.closing" and "GS-2026-000012" in latest["text_zh"] and latest["link"] == "/notices/notice-1"
            assert [n["kind"] for n in await notes(p, Role.UNIT, ids["unit"])].count("notice.closing") == 1


async def test_a_crash_before_the_commit_loses_no_notice_and_doubles_none(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        ids = await parties(p)
        real, calls = event_notices.tell, []

        async def tell_then_crash(*args: Any, **kw: Any) -> int:
            written = await real(*args, **kw)
            calls.append(1)
            if len(calls) == 1:  # the notice is written, then the worker fails before its commit
                raise ConnectionError("database went away")
            return written

        monkeypatch.setattr(event_notices, "tell", tell_then_crash)
        paid = PayoutPaid(payout_id="pay-9", kind="redemption", ref="claim-9", unit_id=ids["unit"], year=2026, amount_fen=120_000, case_no="BF-2026-000009")
        retries = outcomes(p).get("retry", 0)
        await publish(p, paid)
        [n] = await told(p, Role.UNIT, ids["unit"], 1)  # redelivered after the failure, then written once
        assert len(calls) == 2 and outcomes(p).get("retry", 0) == retries + 1
        assert n["kind"] == "payout.paid" and "BF-2026-000009" in n["text_zh"]
        assert await mails(p, "payout.paid") == [("desk@lab.example.edu.cn", "[科技创新券平台] 创新券兑付款已支付（BF-2026-000009） / The voucher redemption payout is paid (BF-2026-000009)")]
        async with p.services["registry"].db.read() as s:
            assert (await s.execute(select(func.count()).select_from(notifications))).scalar_one() == 1


def issued(kind: type[VoucherSnapshot], voucher_id: str, user_id: str, unit_id: str, **extra: Any) -> Any:
    return kind(
        voucher_id=voucher_id, application_id=f"app-{voucher_id}", user_id=user_id, unit_id=unit_id, order_id=f"ord-{voucher_id}", year=2030,
        amount_fen=1_500_000, expires_at=EXPIRES, status="issued", **extra,
    )


async def test_a_voucher_is_reminded_of_once_30_days_before_it_expires_unless_it_ended(make_settings) -> None:
    with smtp_server() as (inbox, port):
        settings = await make_settings(SERVICES, **mail_settings(port))
        async with running(Platform(settings, SERVICES)) as p:
            ids = await parties(p)
            db = p.services["registry"].db
            u, unit = ids["user"], ids["unit"]
            # v1 stays unused; v2 is used after it was issued; v3's use arrives before its issue (other consumers, any order)
            v1 = issued(VoucherIssued, "v1", u, unit)
            await publish(p, issued(VoucherUsed, "v3", u, unit), v1, issued(VoucherIssued, "v2", u, unit))
            await publish(p, issued(VoucherUsed, "v2", u, unit), issued(VoucherIssued, "v3", u, unit), issued(VoucherRevoked, "v4", u, unit, reason="fraud"))

            async def all_recorded() -> bool:
                async with db.read() as s:
                    rows = dict((await s.execute(select(scheduled_notices.c.ref, scheduled_notices.c.cancelled_at))).all())
                assert set(rows) == {"v1", "v2", "v3", "v4"} and rows["v2"] is not None, rows
                return True

            await eventually(all_recorded)
            assert await scheduled.send_due(db, datetime(2030, 12, 1, 15, 0, tzinfo=UTC)) == 0  # 2030-12-01 23:00 in Beijing: not yet
            assert await scheduled.send_due(db, datetime(2030, 12, 1, 16, 0, tzinfo=UTC)) == 1  # 30 days before: v1 only
            assert await scheduled.send_due(db, datetime(2030, 12, 20, tzinfo=UTC)) == 0  # once
            [n] = await notes(p, Role.USER, u)
            # an order it does not hold: named neither by number nor by id
            assert n["kind"] == "voucher.expiring" and "ord-v1" not in n["text_zh"] and "¥15,000.00" in n["text_zh"] and "2031-01-01 00:00（北京时间）到期作废" in n["text_zh"]
            assert n["link"] == "/vouchers" and await notes(p, Role.USER, ids["other_user"]) == []
            await send(p, inbox, 1, datetime(2030, 12, 1, 16, 1, tzinfo=UTC))
            [mail] = inbox.to("a@corp.example.cn")
            assert mail["Subject"].startswith("[科技创新券平台] 创新券即将到期") and f"详情：{PORTAL}/vouchers" in Inbox.body(mail)
            # the same event again (redelivered): still one reminder; another issue event of the voucher neither
            before = outcomes(p).get("duplicate", 0)
            await publish(p, v1, msg_id=new_event_id())
            await duplicates(p, before)
            done = outcomes(p).get("done", 0)
            await publish(p, issued(VoucherIssued, "v1", u, unit))
            await eventually(lambda: outcomes(p).get("done", 0) == done + 1)
            assert await scheduled.send_due(db, datetime(2030, 12, 20, tzinfo=UTC)) == 0 and len(await notes(p, Role.USER, u)) == 1


async def test_the_scheduled_notices_migration_goes_down_and_up(make_settings) -> None:
    settings = await make_settings(SERVICES)
    url = settings.database_url("registry")

    async def tables() -> set[str]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        finally:
            await engine.dispose()

    assert "scheduled_notices" in await tables()
    await asyncio.to_thread(command.downgrade, alembic_config("registry", url), "b3d8f2a6c1e4")
    assert "scheduled_notices" not in await tables() and "notifications" in await tables()
    await asyncio.to_thread(upgrade, "registry", url)
    assert "scheduled_notices" in await tables()
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p, p["registry"].db.read() as s:
        assert (await s.execute(select(func.count()).select_from(scheduled_notices))).scalar_one() == 0
