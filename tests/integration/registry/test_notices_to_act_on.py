"""Issue 17: what someone must act on, told in the message centre and by mail
from other services' events — a clawback the party must repay, a payout its unit
will not receive, a reviewed redemption claim (R27, R20(3)), an objection the
center must resolve (R14(3)), which goes to every account of that city-wide role,
and a payout put on a payment order, which finance must pay (and its unit awaits).
Each event once: a redelivery tells nobody twice. SQLite and PostgreSQL; the
helpers are test_event_notices.py's."""

from __future__ import annotations

from contracts.envelope import new_event_id
from contracts.evaluation import ObjectionRaised
from contracts.payments import ClawbackRecorded, PayoutCancelled, PayoutOrdered
from contracts.vouchers import RedemptionReviewed
from services.runtime.roles import Role
from tests.support.notices import (
    duplicates,
    mail_settings,
    mails,
    notes,
    outcomes,
    parties,
    person,
    told,
)
from tests.support.payouts import publish
from tests.support.platform import Platform, running
from tests.support.smtp import smtp_server

SERVICES = ["registry"]


async def test_what_a_party_must_repay_or_will_not_be_paid_and_a_reviewed_claim_tell_it_once(make_settings) -> None:
    with smtp_server() as (_, port):
        settings = await make_settings(SERVICES, **mail_settings(port))
        async with running(Platform(settings, SERVICES)) as p:
            ids = await parties(p)
            unit_back = ClawbackRecorded(clawback_id="cb-1", finding_id="f-1", party_type="unit", party_id=ids["unit"], kind="award", ref="pay-7", year=2026, amount_fen=3_000_000)
            user_back = ClawbackRecorded(clawback_id="cb-2", finding_id="f-2", party_type="user", party_id=ids["user"], kind="voucher", ref="st-1", year=2026, amount_fen=240_000)
            cancelled = PayoutCancelled(payout_id="pay-8", kind="redemption", ref="claim-8", unit_id=ids["unit"], year=2026, amount_fen=90_000, case_no="BF-2026-000008", finding_id="f-1")
            reviewed = RedemptionReviewed(
                claim_id="claim-9", unit_id=ids["unit"], year=2026, voucher_ids=["v-1", "v-2"], amount_fen=800_000, status="approved", approved=True, approved_fen=500_000,
                reasons=["v-2: 发票与合同不符"], case_no="DF-2026-000123",
            )
            await publish(p, unit_back, user_back, cancelled, reviewed)
            mine = {n["kind"]: n for n in await told(p, Role.UNIT, ids["unit"], 3)}
            assert set(mine) == {"clawback.recorded", "payout.cancelled", "redemption.reviewed"}
            back = mine["clawback.recorded"]
            assert "2026年度奖励款 ¥30,000.00" in back["text_zh"] and "须予追回" in back["text_zh"] and back["link"] is None
            assert "BF-2026-000008" in mine["payout.cancelled"]["text_zh"] and "¥900.00" in mine["payout.cancelled"]["text_zh"] and mine["payout.cancelled"]["link"] == "/unit/payee"
            claim = mine["redemption.reviewed"]
            assert "DF-2026-000123" in claim["text_zh"] and "核定金额 ¥5,000.00" in claim["text_zh"] and claim["link"] == "/unit/redemption"
            assert not any(i in n["text_zh"] + (n["text_en"] or "") for n in mine.values() for i in ("pay-7", "pay-8", "claim-9", "v-2", "cb-1", "f-1"))
            [theirs] = await told(p, Role.USER, ids["user"], 1)
            assert theirs["kind"] == "clawback.recorded" and "创新券抵扣资金 ¥2,400.00" in theirs["text_zh"]
            assert await notes(p, Role.UNIT, ids["other_unit"]) == [] and await notes(p, Role.USER, ids["other_user"]) == []
            assert sorted(await mails(p, "clawback.recorded")) == [
                ("a@corp.example.cn", "[科技创新券平台] 2026年度创新券抵扣资金须予追回 / The 2026 voucher deduction is to be clawed back"),
                ("desk@lab.example.edu.cn", "[科技创新券平台] 2026年度奖励款须予追回 / The 2026 award payout is to be clawed back"),
            ]

            # each event again (past JetStream's de-duplication): nobody is told twice
            before = outcomes(p).get("duplicate", 0)
            for e in (unit_back, user_back, cancelled, reviewed):
                await publish(p, e, msg_id=new_event_id())
            await duplicates(p, before, 4)
            assert len(await notes(p, Role.UNIT, ids["unit"])) == 3 and len(await notes(p, Role.USER, ids["user"])) == 1
            assert len(await mails(p, "clawback.recorded")) == 2 and len(await mails(p, "redemption.reviewed")) == 1


async def test_an_objection_tells_every_center_account_once_and_no_other_role(make_settings) -> None:
    with smtp_server() as (_, port):
        settings = await make_settings(SERVICES, **mail_settings(port))
        async with running(Platform(settings, SERVICES)) as p:
            ids = await parties(p)
            await person(p, "center", None, "center-desk", "center@kjj.example.gov.cn")
            await person(p, "center", None, "center-second", "second@kjj.example.gov.cn")
            await person(p, "bureau", None, "bureau-desk", "bureau@kjj.example.gov.cn")
            raised = ObjectionRaised(
                notice_id="notice-3", objection_id="obj-1", kind="grades", year=2026, ref="ev-9", unit_id=ids["unit"], case_no="GS-2026-000013", label="许昌学院：优秀"
            )
            older = ObjectionRaised(notice_id="notice-4", objection_id="obj-2", kind="redemption", year=2026, ref="claim-4", unit_id=ids["other_unit"])  # no case number nor line
            await publish(p, raised, older)
            got = {n["link"]: n for n in await told(p, Role.CENTER, "", 2)}
            assert set(got) == {"/notices/notice-3", "/notices/notice-4"}
            shown = got["/notices/notice-3"]
            assert shown["kind"] == "objection.raised" and "GS-2026-000013" in shown["text_zh"] and "“许昌学院：优秀”" in shown["text_zh"] and "obj-1" not in shown["text_zh"]
            assert "许昌职业技术学院" in got["/notices/notice-4"]["text_zh"]  # the line named by the unit's name the registry holds
            # every active center account is mailed; the bureau, the units and the users are told nothing
            assert sorted(r for r, _ in await mails(p, "objection.raised")) == ["center@kjj.example.gov.cn"] * 2 + ["second@kjj.example.gov.cn"] * 2
            assert await notes(p, Role.BUREAU, "") == [] and await notes(p, Role.UNIT, ids["unit"]) == []
            # one center officer marks it read: read for that officer only (each reader's own read state), and nobody else can
            r = await p.call("registry", "POST", f"/v1/notifications/{shown['notification_id']}/read", role=Role.BUREAU)
            assert r.status_code == 404 and r.json()["code"] == "notification.not_found", r.text
            desk = {"Authorization": f"Bearer {p.token(Role.CENTER, subject='center-desk')}"}
            second = {"Authorization": f"Bearer {p.token(Role.CENTER, subject='center-second')}"}
            r = await p.call("registry", "POST", f"/v1/notifications/{shown['notification_id']}/read", headers=desk)
            assert r.status_code == 200 and r.json()["read_at"], r.text
            again = await p.call("registry", "POST", f"/v1/notifications/{shown['notification_id']}/read", headers=desk)
            assert again.json()["read_at"] == r.json()["read_at"]  # read again: unchanged
            page = await p.call("registry", "GET", "/v1/notifications/?unread=true", headers=desk)
            assert page.json()["unread"] == 1 and [n["link"] for n in page.json()["items"]] == ["/notices/notice-4"]
            assert page.json()["total"] == 1  # the unread filter's total: its own notices, not all of them
            everything = (await p.call("registry", "GET", "/v1/notifications/", headers=desk)).json()
            assert (everything["total"], everything["unread"]) == (2, 1)
            listed = {n["link"]: n["read_at"] for n in everything["items"]}
            assert listed["/notices/notice-3"] == r.json()["read_at"] and listed["/notices/notice-4"] is None
            theirs = (await p.call("registry", "GET", "/v1/notifications/?unread=true", headers=second)).json()
            assert theirs["unread"] == 2 and all(n["read_at"] is None for n in theirs["items"])

            before = outcomes(p).get("duplicate", 0)
            await publish(p, raised, msg_id=new_event_id())
            await duplicates(p, before)
            assert len(await notes(p, Role.CENTER, "")) == 2 and len(await mails(p, "objection.raised")) == 4


async def test_an_ordered_payout_tells_finance_it_awaits_payment_and_its_unit_once(make_settings) -> None:
    with smtp_server() as (_, port):
        settings = await make_settings(SERVICES, **mail_settings(port))
        async with running(Platform(settings, SERVICES)) as p:
            ids = await parties(p)
            await person(p, "finance", None, "finance-desk", "pay@czj.example.gov.cn")
            await person(p, "finance", None, "finance-second", "second@czj.example.gov.cn")
            await person(p, "center", None, "center-desk", "center@kjj.example.gov.cn")
            ordered = PayoutOrdered(
                payout_id="pay-5", kind="award", ref="aw-5", unit_id=ids["unit"], year=2026, amount_fen=3_000_000, case_no="BF-2026-000005",
                batch_id="po-1", payment_order_case_no="FK-2026-000003",
            )
            await publish(p, ordered)
            [theirs] = await told(p, Role.FINANCE, "", 1)
            assert theirs["kind"] == "payout.ordered" and theirs["link"] == "/finance"
            assert theirs["text_zh"].startswith("许昌学院的2026年度奖励款 ¥30,000.00（拨付编号 BF-2026-000005）已列入付款单 FK-2026-000003，待支付")
            assert theirs["text_en"].startswith("许昌学院's 2026 award payout of ¥30,000.00")
            [mine] = await told(p, Role.UNIT, ids["unit"], 1)
            assert mine["kind"] == "payout.ordered" and mine["link"] == "/unit/payee" and "BF-2026-000005" in mine["text_zh"] and "等待市财政局支付" in mine["text_zh"]
            assert not any(i in n["text_zh"] + (n["text_en"] or "") for n in (theirs, mine) for i in ("pay-5", "aw-5", "po-1", ids["unit"]))
            # every active finance account and the unit's desk are mailed; the center, the other unit and the users are told nothing
            assert sorted(await mails(p, "payout.ordered")) == [
                ("desk@lab.example.edu.cn", "[科技创新券平台] 奖励款已列入付款单（BF-2026-000005） / The award payout is ordered (BF-2026-000005)"),
                ("pay@czj.example.gov.cn", "[科技创新券平台] 奖励款待支付（BF-2026-000005） / An award payout awaits payment (BF-2026-000005)"),
                ("second@czj.example.gov.cn", "[科技创新券平台] 奖励款待支付（BF-2026-000005） / An award payout awaits payment (BF-2026-000005)"),
            ]
            assert await notes(p, Role.CENTER, "") == [] and await notes(p, Role.UNIT, ids["other_unit"]) == [] and await notes(p, Role.USER, ids["user"]) == []

            # the event again (past JetStream's de-duplication): nobody is told twice
            before = outcomes(p).get("duplicate", 0)
            await publish(p, ordered, msg_id=new_event_id())
            await duplicates(p, before)
            assert len(await notes(p, Role.FINANCE, "")) == 1 and len(await notes(p, Role.UNIT, ids["unit"])) == 1
            assert len(await mails(p, "payout.ordered")) == 3
