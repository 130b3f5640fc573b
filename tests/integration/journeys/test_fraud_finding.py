"""Fraud findings (issue 5, R27) end to end on SQLite and PostgreSQL with a real
NATS: the bureau records a finding against a user (one voucher used at
settlement, one not yet used) and one against a unit (an award paid, another
still due). The unused voucher is revoked; the used voucher's deduction and the
paid award become clawback receivables in the ledger, the due award is
cancelled, and the trial balance and the budget-execution report still balance;
both parties are on the public blacklist, the user's next voucher application
fails ``voucher.user_blacklisted``, the unit fails the award check; the events
are on the streams; the same finding twice is refused, a wrong role gets 403, a
missing reason 400 in Chinese and English; an award or redemption line that
comes after the finding is blocked; finance records a repayment once. A finding
with public criticism alone still claws back and revokes, but does not
blacklist."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import select

from contracts import payments as pe
from contracts import registry as ev
from contracts.evaluation import AwardApproved, CycleOpened, NoticeFinalized, NoticeItem
from services.evaluation.db.models import unit_blacklist_view, unit_view
from services.evaluation.readmodel import excluded_units
from services.payments.db.models import order_view as payments_orders
from services.payments.db.models import payouts
from services.payments.db.models import voucher_view as payments_vouchers
from services.runtime.roles import Role
from services.runtime.bus.connect import connect_nats
from services.vouchers.db.models import blacklist_view, vouchers
from tests.support.payouts import publish
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.registry import approved_unit, verified_user
from tests.support.responses import ok
from tests.support.vouchers import YEAR, Registry, activate, approve, open_programme, submit, uid, verified_here

SERVICES = ["registry", "vouchers", "payments", "evaluation"]
AWARD_FEN = 5_000_000


async def last_event(p: Platform, stream: str, event: type[msgspec.Struct]) -> Any:
    """The last event of its type on the producer's stream, decoded (None when there is none)."""
    nc = await connect_nats(p.settings.bus("operator"), "test-fraud-reader")
    try:
        try:
            msg = await nc.jsm().get_last_msg(stream, event.subject)  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 — not found
            return None
        return msgspec.json.decode(msg.data, type=event)
    finally:
        await nc.close()


async def a_user_with_a_used_and_an_unused_voucher(p: Platform) -> tuple[str, str, str, int]:
    """(user, used voucher, unused voucher, the used voucher's deduction in fen)."""
    user = await verified_user(p, "许昌某虚假申报企业")
    reg = Registry(p)
    provider = reg.unit()
    used_order, open_order = reg.order(user, provider, fee=1_000_000), reg.order(user, provider, fee=800_000)
    reg.events.append(
        ev.OrderResultsDelivered(order_id=used_order, version=6, user_id=user, unit_id=provider, instrument_ids=[uid()], status="results_delivered",
                                 amount_fen=1_000_000, testing_fee_fen=1_000_000, purpose="research", service_hours=4)
    )
    await reg.flush()
    await verified_here(p, user)  # the registry's own UserVerified
    await open_programme(p)
    await activate(p, user)
    used, unused = [(await approve(p, (await submit(p, user, o))["application_id"])).json()["voucher_id"] for o in (used_order, open_order)]

    async def seen() -> bool:
        async with p["payments"].db.read() as s:
            o = (await s.execute(select(payments_orders.c.order_id).where(payments_orders.c.order_id == used_order))).first()
            v = (await s.execute(select(payments_vouchers.c.voucher_id).where(payments_vouchers.c.voucher_id == used))).first()
        return o is not None and v is not None

    await eventually(seen)
    settled = await ok(await p.call("payments", "POST", "/v1/settlements/", role=Role.USER, org=user, json={"order_id": used_order}), 201)
    assert settled["voucher_fen"] > 0 and settled["voucher_id"] == used
    return user, used, unused, settled["voucher_fen"]


async def a_unit_with_a_paid_and_a_due_award(p: Platform) -> tuple[str, str, str]:
    """(unit, paid award's payout, due award's payout): awards published as evaluation would."""
    unit = await approved_unit(p, "许昌某弄虚作假研究所")
    paid_award, due_award = uid(), uid()
    await publish(
        p,
        CycleOpened(year=YEAR, indicator_set_version=f"{YEAR}.1", award_budget_fen=20_000_000, excellent_award_fen=AWARD_FEN, good_award_fen=3_000_000),
        AwardApproved(award_id=paid_award, unit_id=unit, year=YEAR, grade="excellent", amount_fen=AWARD_FEN, notice_id="n-award"),
    )

    async def payout_of(award: str) -> Any:
        async with p["payments"].db.read() as s:
            return (await s.execute(select(payouts).where(payouts.c.ref == award))).mappings().first()

    paid_payout = (await eventually(lambda: payout_of(paid_award)))["id"]
    await ok(await p.call("payments", "PUT", f"/v1/payees/{unit}", role=Role.UNIT, org=unit,
                          json={"bank_name": "中国银行许昌分行", "account_name": "许昌某弄虚作假研究所", "account_number": "104123456789012"}))
    await ok(await p.call("payments", "POST", "/v1/payment-orders/", role=Role.FINANCE, json={"payout_ids": [paid_payout]}), 201)
    await ok(await p.call("payments", "POST", f"/v1/payouts/{paid_payout}/paid", role=Role.FINANCE, json={"bank_reference": "BOC-F1"}), 201)
    await publish(p, AwardApproved(award_id=due_award, unit_id=unit, year=YEAR - 1, grade="good", amount_fen=3_000_000, notice_id="n-award-prev"))
    due_payout = (await eventually(lambda: payout_of(due_award)))["id"]
    return unit, paid_payout, due_payout


async def test_a_fraud_finding_flows_to_the_ledger_the_blacklist_and_the_events(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        user, used, unused, voucher_fen = await a_user_with_a_used_and_an_unused_voucher(p)
        unit, paid_payout, due_payout = await a_unit_with_a_paid_and_a_due_award(p)

        # ---- who may, and what a finding needs
        body = {"party_type": "user", "party_id": user, "reason": "虚构检测合同套取创新券", "evidence_ref": "许科监〔2031〕7号"}
        r = await p.call("registry", "POST", "/v1/fraud-findings/", role=Role.CENTER, json=body)
        assert r.status_code == 403, r.text
        r = await p.call("registry", "POST", "/v1/fraud-findings/", role=Role.BUREAU, json={k: v for k, v in body.items() if k != "reason"})
        assert r.status_code == 400 and r.json()["message_zh"] and r.json()["message_en"], r.text
        r = await p.call("registry", "POST", "/v1/fraud-findings/", role=Role.BUREAU, json={**body, "reason": "   "})
        assert r.status_code == 422 and r.json()["code"] == "decision.reason_required" and r.json()["message_zh"] and r.json()["message_en"]
        r = await p.call("registry", "POST", "/v1/fraud-findings/", role=Role.BUREAU, json={**body, "sanctions": ["disqualification"]})
        assert r.status_code == 400 and r.json()["code"] == "fraud.disqualify_user"

        # ---- the findings
        on_user = await ok(await p.call("registry", "POST", "/v1/fraud-findings/", role=Role.BUREAU, json=body), 201)
        assert on_user["sanctions"] == ["criticism", "blacklist"] and on_user["blacklist_entry_id"]
        on_unit = await ok(await p.call("registry", "POST", "/v1/fraud-findings/", role=Role.BUREAU,
                                        json={"party_type": "unit", "party_id": unit, "reason": "伪造开放共享服务记录骗取奖补"}), 201)
        assert on_unit["sanctions"] == ["criticism", "disqualification", "blacklist"]
        again = await p.call("registry", "POST", "/v1/fraud-findings/", role=Role.BUREAU, json=body)
        assert again.status_code == 409 and again.json()["code"] == "fraud.duplicate"
        listed = await ok(await p.call("registry", "GET", "/v1/fraud-findings/?page_size=10", role=Role.CENTER))
        assert listed["total"] == 2 and {i["finding_id"] for i in listed["items"]} == {on_user["finding_id"], on_unit["finding_id"]}
        assert (await p.call("registry", "GET", "/v1/fraud-findings/", role=Role.USER, org=user)).status_code == 403
        assert (await p.call("registry", "GET", "/v1/fraud-findings/", role=Role.AUDITOR)).status_code == 403
        trail = await ok(await p.call("registry", "GET", f"/v1/audit/?action=fraud.find&object_id={on_user['finding_id']}", role=Role.AUDITOR))
        assert trail["total"] == 1 and trail["items"][0]["reason"] == body["reason"]  # who, when, why: the auditor's view
        # the auditor reads the finding as the bureau was answered it (its time as ISO 8601 text)
        image = trail["items"][0]["after"]
        assert datetime.fromisoformat(image["recorded_at"]) == datetime.fromisoformat(on_user["recorded_at"])
        assert {**image, "recorded_at": on_user["recorded_at"]} == on_user
        assert (await ok(await p.call("registry", "GET", f"/v1/units/{unit}", role=Role.BUREAU)))["status"] == "disqualified"

        # ---- the public blacklist, without a token
        public = await ok(await p.call("registry", "GET", "/v1/blacklist/?page_size=50"))
        names = {i["party_name"] for i in public["items"]}
        assert {"许昌某虚假申报企业", "许昌某弄虚作假研究所"} <= names
        assert all("party_id" not in i for i in public["items"])
        criticised = await ok(await p.call("registry", "GET", "/v1/fraud-findings/public"))  # 通报批评, public
        assert {i["party_name"] for i in criticised["items"]} == {"许昌某虚假申报企业", "许昌某弄虚作假研究所"}
        assert all(set(i) == {"finding_id", "party_type", "party_name", "credit_code", "reason", "found_on"} for i in criticised["items"])

        # ---- vouchers: the unused voucher revoked, the used one stays used; a new application fails
        async def statuses() -> dict[str, str] | None:
            async with p["vouchers"].db.read() as s:
                got = dict((await s.execute(select(vouchers.c.id, vouchers.c.status).where(vouchers.c.id.in_([used, unused])))).all())
            return got if got.get(unused) == "revoked" else None

        assert await eventually(statuses) == {used: "used", unused: "revoked"}
        reg = Registry(p)
        reg.expect(blacklist_view, on_user["blacklist_entry_id"], None)  # the revocation may have come from the finding first
        new_order = reg.order(user, reg.unit())
        await reg.flush()
        app = await submit(p, user, new_order)
        assert app["failures"] == ["voucher.user_blacklisted"]
        refused = await approve(p, app["application_id"])
        assert refused.status_code == 422 and refused.json()["code"] == "voucher.user_blacklisted" and refused.json()["message_zh"]

        # ---- payments: clawback receivables, the due award cancelled, the books balance
        async def clawed() -> Any:
            page = await ok(await p.call("payments", "GET", "/v1/clawbacks/?page_size=50", role=Role.FINANCE))
            return page if page["total"] == 2 else None

        claws = {c["kind"]: c for c in (await eventually(clawed))["items"]}
        assert claws["voucher"]["amount_fen"] == voucher_fen and claws["voucher"]["party_id"] == user
        assert claws["voucher"]["finding_id"] == on_user["finding_id"] and claws["voucher"]["status"] == "outstanding"
        assert claws["award"]["amount_fen"] == AWARD_FEN and claws["award"]["ref"] == paid_payout and claws["award"]["party_id"] == unit

        async def cancelled() -> bool:
            return (await ok(await p.call("payments", "GET", f"/v1/payouts/{due_payout}", role=Role.FINANCE)))["status"] == "cancelled"

        await eventually(cancelled)
        assert (await ok(await p.call("payments", "GET", f"/v1/payouts/{paid_payout}", role=Role.FINANCE)))["status"] == "paid"  # never edited
        balances = await ok(await p.call("payments", "GET", "/v1/ledger/balances", role=Role.FINANCE, params={"page_size": 100}))
        assert balances["total"] <= 100
        by_account = {b["account"]: b["balance_fen"] for b in balances["items"]}
        assert by_account[f"clawback_receivable:user:{user}"] == voucher_fen
        assert by_account[f"clawback_receivable:unit:{unit}"] == AWARD_FEN
        assert (await ok(await p.call("payments", "GET", "/v1/ledger/trial-balance", role=Role.FINANCE)))["balanced"] is True
        report = await ok(await p.call("payments", "GET", f"/v1/reports/budget-execution/{YEAR}", role=Role.FINANCE))
        assert report["balanced"] is True, report["checks"]
        assert report["clawback"]["voucher"] == {"clawed_back_fen": voucher_fen, "repaid_fen": 0, "outstanding_fen": voucher_fen}
        assert report["clawback"]["award"]["clawed_back_fen"] == AWARD_FEN
        prev = await ok(await p.call("payments", "GET", f"/v1/reports/budget-execution/{YEAR - 1}", role=Role.FINANCE))
        assert prev["balanced"] is True and prev["award"]["approved_fen"] == 0, prev

        # from the finding on, the unit gets nothing: a later award or redemption line is blocked, nothing posted
        late_award, late_claim = uid(), uid()
        await publish(
            p,
            AwardApproved(award_id=late_award, unit_id=unit, year=YEAR, grade="good", amount_fen=3_000_000, notice_id="n-award-late"),
            NoticeFinalized(notice_id="n-redemption-late", kind="redemption", year=YEAR, finalized_at=datetime.now(UTC),
                            items=[NoticeItem(ref=late_claim, unit_id=unit, label="兑付", amount_fen=400_000)]),
        )

        async def blocked() -> bool:
            async with p["payments"].db.read() as s:
                rows = (await s.execute(select(payouts.c.status).where(payouts.c.ref.in_([late_award, late_claim])))).scalars().all()
            return sorted(rows) == ["blocked", "blocked"]

        await eventually(blocked)
        report = await ok(await p.call("payments", "GET", f"/v1/reports/budget-execution/{YEAR}", role=Role.FINANCE))
        assert report["balanced"] is True, report["checks"]
        assert report["award"]["approved_fen"] == AWARD_FEN and report["voucher"]["redeemed_fen"] == 0

        # a redelivered finding changes nothing
        found = await last_event(p, "REGISTRY", ev.FraudFound)
        await publish(p, msgspec.structs.replace(found, event_id=found.event_id + "-again"))

        # ---- finance records a repayment, once per key
        repayment = {"amount_fen": voucher_fen, "bank_reference": "BOC-R1", "idempotency_key": "repay-voucher-0001"}
        cid = claws["voucher"]["clawback_id"]
        assert (await p.call("payments", "POST", f"/v1/clawbacks/{cid}/repayments", role=Role.CENTER, json=repayment)).status_code == 403
        first = await ok(await p.call("payments", "POST", f"/v1/clawbacks/{cid}/repayments", role=Role.FINANCE, json=repayment), 201)
        assert first["status"] == "repaid" and first["outstanding_fen"] == 0
        assert (await ok(await p.call("payments", "POST", f"/v1/clawbacks/{cid}/repayments", role=Role.FINANCE, json=repayment)))["repaid_fen"] == voucher_fen
        more = await p.call("payments", "POST", f"/v1/clawbacks/{cid}/repayments", role=Role.FINANCE, json={**repayment, "idempotency_key": "repay-voucher-0002"})
        assert more.status_code == 409 and more.json()["code"] == "clawback.exceeds_outstanding"
        report = await ok(await p.call("payments", "GET", f"/v1/reports/budget-execution/{YEAR}", role=Role.FINANCE))
        assert report["balanced"] is True and report["clawback"]["voucher"]["outstanding_fen"] == 0
        page = await ok(await p.call("payments", "GET", "/v1/clawbacks/?page_size=50", role=Role.FINANCE))
        assert page["total"] == 2  # the redelivered finding added nothing

        # ---- evaluation: the unit fails the award check from now on (disqualified and blacklisted)
        await eventually(lambda: excluded_and_both(p, unit))
        async with p["evaluation"].db.read() as s:
            assert await excluded_units(s, [unit, uid()]) == {unit: "disqualified"}

        # ---- the events, as partners and the platform see them
        assert found.finding_id == on_unit["finding_id"] and found.party_type == "unit" and found.party_id == unit
        assert found.sanctions == ["criticism", "disqualification", "blacklist"] and found.reason == "伪造开放共享服务记录骗取奖补"
        added = await last_event(p, "REGISTRY", ev.BlacklistAdded)
        assert added is not None and (added.party_type, added.party_id) == ("unit", unit)
        disq = await last_event(p, "REGISTRY", ev.UnitDisqualified)
        assert disq is not None and disq.unit_id == unit and disq.status == "disqualified"
        recorded = await last_event(p, "PAYMENTS", pe.ClawbackRecorded)
        assert recorded is not None and (recorded.kind, recorded.amount_fen) in {("voucher", voucher_fen), ("award", AWARD_FEN)}
        cancelled = await last_event(p, "PAYMENTS", pe.PayoutCancelled)
        assert cancelled is not None and cancelled.payout_id == due_payout and (cancelled.case_no or "").startswith("BF-")  # the unit's notice names it by this
        repaid = await last_event(p, "PAYMENTS", pe.ClawbackRepaid)
        assert repaid.clawback_id == cid and repaid.repaid_fen == voucher_fen and repaid.outstanding_fen == 0

        # ---- the parties are told in the registry's message centre (issue 17): the user and the unit what they must repay,
        # the unit also the payout it will not receive
        async def told(role: Role, org: str, kinds: set[str]) -> bool:
            r = await p.call("registry", "GET", "/v1/notifications/?page_size=50", role=role, org=org)
            assert r.status_code == 200, r.text
            assert kinds <= {n["kind"] for n in r.json()["items"]}, r.json()
            return True

        await eventually(lambda: told(Role.USER, user, {"clawback.recorded"}))
        await eventually(lambda: told(Role.UNIT, unit, {"clawback.recorded", "payout.cancelled"}))


async def excluded_and_both(p: Platform, unit: str) -> bool:
    """Disqualified and blacklisted both reached evaluation's read model."""
    async with p["evaluation"].db.read() as s:
        status = (await s.execute(select(unit_view.c.status).where(unit_view.c.unit_id == unit))).scalar_one_or_none()
        black = (await s.execute(select(unit_blacklist_view.c.active).where(unit_blacklist_view.c.unit_id == unit))).scalar_one_or_none()
    return status == "disqualified" and black is True


async def test_criticism_alone_still_claws_back_and_revokes_but_does_not_blacklist(make_settings) -> None:
    """R27 (视情节分别给予): the sanctions are chosen per case; the clawback and the
    revocation of the vouchers concerned follow from the finding itself."""
    services = ["registry", "vouchers", "payments"]
    settings = await make_settings(services)
    async with running(Platform(settings, services)) as p:
        user, used, unused, voucher_fen = await a_user_with_a_used_and_an_unused_voucher(p)
        body = {"party_type": "user", "party_id": user, "reason": "申报材料不实", "sanctions": ["criticism"], "years": [YEAR]}
        finding = await ok(await p.call("registry", "POST", "/v1/fraud-findings/", role=Role.BUREAU, json=body), 201)
        assert finding["sanctions"] == ["criticism"] and finding["blacklist_entry_id"] is None and finding["years"] == [YEAR]

        async def revoked() -> Any:
            async with p["vouchers"].db.read() as s:
                row = (await s.execute(select(vouchers.c.status, vouchers.c.revoked_reason).where(vouchers.c.id == unused))).first()
            return row if row is not None and row.status == "revoked" else None

        assert tuple(await eventually(revoked)) == ("revoked", "fraud")

        async def clawed() -> Any:
            page = await ok(await p.call("payments", "GET", f"/v1/clawbacks/?party_id={user}", role=Role.BUREAU))
            return page["items"] if page["total"] == 1 else None

        [claw] = await eventually(clawed)
        assert (claw["kind"], claw["amount_fen"], claw["year"]) == ("voucher", voucher_fen, YEAR)
        public = await ok(await p.call("registry", "GET", "/v1/blacklist/?page_size=50"))
        assert "许昌某虚假申报企业" not in {i["party_name"] for i in public["items"]}
        criticised = await ok(await p.call("registry", "GET", "/v1/fraud-findings/public"))
        assert [i["party_name"] for i in criticised["items"]] == ["许昌某虚假申报企业"]
        # another year's finding is another scope; the same scope again is refused
        again = await p.call("registry", "POST", "/v1/fraud-findings/", role=Role.BUREAU, json={**body, "years": [YEAR, YEAR]})
        assert again.status_code == 409 and again.json()["code"] == "fraud.duplicate"
        await ok(await p.call("registry", "POST", "/v1/fraud-findings/", role=Role.BUREAU, json={**body, "years": [YEAR - 1]}), 201)
