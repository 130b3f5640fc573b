"""A whole year across the four services and the bus (issue 6, "Done when"),
on SQLite and PostgreSQL with a real NATS, nothing faked on the bus, and on the
platform's test clock (issue 15): the system administrator moves every
service's time through the API, from March to 1 January of the next year:

units and users are registered; orders are served with and without vouchers,
settled, paid and rated; the bureau opens the evaluation year; units apply,
their departments forward, experts score and the center grades (the computed
indicators from the measures counted from those events); the grades go on
notice and an objection reopens one case, which is re-scored, re-graded and
corrected; the award plan goes on notice and becomes final; units claim their
vouchers, an expert approves, the redemption notice becomes final; finance
orders every payout, exports the payment order and confirms it paid — and at
the end the ledger balances, every award and every claim is paid exactly once
(however often its event or the confirmation comes again), the budget execution
report balances to the fen with the amounts of this year, and the bureau's
reports show the orders, revenue and voucher orders that were served. Then
two appeals, a minute inside and a minute after their window; a voucher
approved on 31 December, valid at 23:59:59 and void at 00:00 on 1 January with
its reservation returned and the programme closed; the books as of a moment."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import func, select

from contracts import evaluation as ee
from contracts.envelope import new_event_id
from services.evaluation import notice_finalization
from services.evaluation.db.models import redemption_view
from services.payments.db.models import ledger_entries, payouts
from services.runtime.roles import Role
from tests.support.evaluation_cycle import FULL, ZERO, emitted
from tests.support.evidence import documents
from tests.support.payouts import (
    RECEIPT,
    RESULTS,
    claim_item,
    publish,
    read_xlsx,
    upload,
)
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.responses import ok
from tests.support.vouchers import YEAR
from tests.support.year import City, ev, pa, vo
from tests.support.year_clock import clock_at, grades_publication_day, on, workdays_after

SERVICES = ["registry", "vouchers", "evaluation", "payments"]
START = f"{YEAR}-03-02T09:00:00+08:00"  # the year opens (on the test clock)
NOTICE_WORKDAYS = 5  # M14(3)/R14(3): a notice stays up five working days
WEIDU, CHANGGE = "魏都区科技局", "长葛市科技局"
AWARD_BUDGET = 10_000_000
VOUCHER_BUDGET = 100_000_000


async def test_a_whole_year(make_settings) -> None:
    """The whole year on the test clock (issue 15 §1): every date below is the platform's own
    simulated time, set by the system administrator through the API, not a patched function."""
    settings = await make_settings(SERVICES, usage_max_session_h=1000)  # an order's hours are one session of use
    async with running(Platform(settings, SERVICES)) as p:
        city = City(p, YEAR)
        opened = await clock_at(p, START)
        grades_day, makeup = grades_publication_day()

        # ---- the year opens: the voucher programme and the evaluation cycle (its award budget), and with it
        # the voucher redemption window (R20(1): once a year, together with the evaluation)
        await vo(p, "POST", "/v1/programmes/", Role.BUREAU, json={"year": YEAR, "budget_fen": VOUCHER_BUDGET}, status=201)
        window = {"redemption_opens_on": makeup.isoformat(), "redemption_closes_on": f"{YEAR}-12-20"}
        await ev(p, "POST", "/v1/cycles/", Role.BUREAU, json={"year": YEAR, "award_budget_fen": AWARD_BUDGET, **window}, status=201)

        # ---- units and users registered; instruments listed and priced
        a = await city.unit("许昌市分析测试研究院", "411002", WEIDU)
        b = await city.unit("长葛市计量检测研究所", "411082", CHANGGE)
        # accepted today and listed the same day: on time (M5)
        _, pid_a = await city.instrument(a, "液相色谱质谱联用仪", "分析仪器", accepted_on=opened.date().isoformat())
        _, pid_b = await city.instrument(b, "三坐标测量机", "计量仪器", accepted_on=opened.date().isoformat())
        u1, u2 = await city.user("许昌某新材料有限公司"), await city.user("长葛某机械有限公司")
        county = {a: "411002", b: "411082"}

        # ---- orders served, with and without vouchers (30% of the testing fee, R16)
        await city.serve(a, u1, pid_a, "分析仪器", fee=1_000_000, hours=600, voucher=True, rating=5)
        await city.serve(a, u2, pid_a, "分析仪器", fee=49_000_000, hours=400, voucher=False, rating=5)
        await city.serve(b, u2, pid_b, "计量仪器", fee=1_000_000, hours=10, voucher=True, rating=4)
        await city.serve(b, u1, pid_b, "计量仪器", fee=49_000_000, hours=990, voucher=False, rating=5)
        assert [s["voucher_fen"] for s in city.served] == [300_000, 0, 300_000, 0]
        voucher_fen = sum(s["voucher_fen"] for s in city.served)

        # ---- applications: each unit applies, its own department forwards
        async def applied(unit: str) -> Any:
            # once evaluation has learned the unit (and its department) from registry's events
            r = await p.call("evaluation", "POST", "/v1/applications/", role=Role.UNIT, org=unit, json={"year": YEAR, "documents": await documents(p, unit)})
            return r.json() if r.status_code == 201 else None

        app = {a: (await eventually(lambda: applied(a)))["application_id"], b: (await eventually(lambda: applied(b)))["application_id"]}
        await ev(p, "POST", f"/v1/applications/{app[a]}/forward", Role.DEPARTMENT, CHANGGE, {}, status=404)  # not its unit
        await ev(p, "POST", f"/v1/applications/{app[a]}/forward", Role.DEPARTMENT, WEIDU, {})
        # b's department returns it once for a missing table; b resubmits and it is forwarded
        returned = await ev(p, "POST", f"/v1/applications/{app[b]}/return", Role.DEPARTMENT, CHANGGE, {"reason": "缺少服务记录汇总表"})
        assert returned["status"] == "returned"
        await ev(p, "POST", f"/v1/applications/{app[b]}/resubmit", Role.UNIT, b, {"documents": await documents(p, b)})
        assert (await ev(p, "POST", f"/v1/applications/{app[b]}/forward", Role.DEPARTMENT, CHANGGE, {}))["status"] == "forwarded"

        # ---- experts with roles, assigned; one tied to unit a is refused for it
        experts = {r: (await ev(p, "POST", "/v1/experts/", Role.CENTER, json={"name": f"{r}专家", "role": r}, status=201))["expert_id"]
                   for r in ("management", "technical", "finance")}
        tied = (await ev(p, "POST", "/v1/experts/", Role.CENTER, json={"name": "关联专家", "role": "finance", "ties": [a]}, status=201))["expert_id"]
        r = await ev(p, "POST", f"/v1/applications/{app[a]}/assignments", Role.CENTER, json={"expert_id": tied}, status=409)
        assert r["code"] == "assignment.conflict_of_interest"
        assigned: dict[str, dict[str, str]] = {}
        for u in (a, b):
            assigned[u] = {role: (await ev(p, "POST", f"/v1/applications/{app[u]}/assignments", Role.CENTER, json={"expert_id": e}, status=201))["assignment_id"]
                           for role, e in experts.items()}

        async def score(u: str, role: str, sheet: dict[str, int]) -> None:
            body = {"scores": sheet, "onsite_date": f"{YEAR}-05-20", "findings": "现场核查：仪器运行正常，记录完整"}
            await ev(p, "POST", f"/v1/assignments/{assigned[u][role]}/scores", Role.EXPERT, experts[role], body)

        # b's management expert misses its rules and staffing (the objection will say so)
        sheets = {a: FULL, b: {**FULL, "management": ZERO["management"]}}
        for u in (a, b):
            for role in experts:
                await score(u, role, sheets[u][role])

        # ---- grades: the computed indicators come from the measures counted from the events above,
        # once evaluation has counted all of them (its read model follows registry's and vouchers' events)
        async def counted() -> bool:
            r = await p.call("evaluation", "GET", f"/v1/reports/{YEAR}/units", role=Role.BUREAU)
            seen = {i["unit"]["unit_id"]: i["measures"] for i in r.json()["items"]} if r.status_code == 200 else {}
            return all(
                u in seen
                and (seen[u]["orders_served"], seen[u]["ratings_count"], seen[u]["voucher_orders"], seen[u]["outside_users_served"],
                     seen[u]["service_hours_centi"], seen[u]["instruments_listed_on_time"]) == (2, 2, 1, 2, 100_000, 1)
                for u in (a, b)
            )

        await eventually(counted)
        graded = {u: await ev(p, "POST", f"/v1/applications/{app[u]}/grade", Role.CENTER, json={"reason": "材料审查和现场核查完成"}) for u in (a, b)}
        # a: 1,000 hours in the usage log, all for outside users (of 1,600 effective: 2.50 points; of 800 outside:
        # 6, the cap; a sharing rate of 100 %: 4), no idle instrument (2), 500,000 CNY (5, the cap), 2 of 50 orders,
        # 2 of 20 users, 1 of 20 voucher orders, all rated 5
        computed_a = {"op.listed_on_time": 800, "op.effective_hours": 250, "op.outside_hours": 600, "op.sharing_rate": 400, "op.idle": 200, "op.orders": 16, "share.outside_users": 80, "share.voucher_orders": 25, "share.revenue": 500, "share.ratings": 600,
                      "share.refusals": 400, "share.complaints": 400}
        assert {k: graded[a]["scores"][k] for k in computed_a} == computed_a
        # b: the same, but rated 4 and 5: 4.5 of 5 → 5.40 points
        assert graded[b]["scores"]["share.ratings"] == 540 and graded[b]["scores"]["op.outside_hours"] == 600
        expert_points = 4000  # FULL: every expert indicator at its maximum (40 points)
        assert graded[a]["total_centi"] == expert_points + sum(computed_a.values()) == 8271
        assert graded[a]["grade"] == "good"
        assert graded[b]["grade"] == "unqualified" and graded[b]["total_centi"] == graded[a]["total_centi"] - 1400 - 60

        # ---- the grades notice, published on a day whose five working days run over a make-up
        # working day (a weekend day worked counts); an objection with a real name reopens b's case
        await clock_at(p, on(grades_day))
        grades = await ev(p, "POST", "/v1/notices/", Role.CENTER, json={"kind": "grades", "year": YEAR}, status=201)
        assert {i["ref"] for i in grades["items"]} == set(app.values())
        closes = date.fromisoformat(grades["closes_on"])
        assert closes == workdays_after(grades_day, NOTICE_WORKDAYS) and grades_day < makeup <= closes
        objection = await ev(p, "POST", f"/v1/notices/{grades['notice_id']}/objections",
                             json={"ref": app[b], "name": "张三", "phone": "13812345678", "text": "该单位管理制度和专职人员材料被漏评"}, status=201)
        assert (await ev(p, "GET", f"/v1/applications/{app[b]}", Role.CENTER))["status"] == "reopened"
        await clock_at(p, on(closes, "23:59:00"))  # the window's last minute: still open
        r = await ev(p, "POST", f"/v1/notices/{grades['notice_id']}/finalize", Role.CENTER, json={}, status=409)
        assert r["code"] == "notice.window_open"
        await clock_at(p, on(closes + timedelta(days=1), "00:00:01"))  # closed, but the objection is open
        r = await ev(p, "POST", f"/v1/notices/{grades['notice_id']}/finalize", Role.CENTER, json={}, status=409)
        assert r["code"] == "notice.objections_open"
        # the management expert scores the missed material, the center re-decides, the objection is resolved
        await score(b, "management", FULL["management"])
        regraded = await ev(p, "POST", f"/v1/applications/{app[b]}/grade", Role.CENTER, json={"reason": "异议复核：补评管理制度与人员"})
        assert regraded["grade"] == "good" and regraded["total_centi"] == graded[b]["total_centi"] + 1400
        await ev(p, "POST", f"/v1/objections/{objection['objection_id']}/resolve", Role.CENTER, json={"outcome": "corrected", "reason": "异议成立，已更正"})
        assert (await ev(p, "POST", f"/v1/notices/{grades['notice_id']}/finalize", Role.CENTER, json={}))["status"] == "final"

        # ---- the award plan (two good units, 30,000 CNY each, within the budget), its notice, final
        await clock_at(p, on(closes + timedelta(days=1)))
        plan = await ev(p, "POST", f"/v1/award-plans/{YEAR}", Role.BUREAU, json={}, status=201)
        assert {line["unit_id"]: (line["amount_fen"], line["outcome"]) for line in plan["lines"]} == {a: (3_000_000, "funded"), b: (3_000_000, "funded")}
        award_fen = plan["planned_fen"]
        assert award_fen == 6_000_000 and plan["budget_fen"] == AWARD_BUDGET
        award_of = {line["unit_id"]: line["award_id"] for line in plan["lines"]}
        # R14(4): approved by the bureau, then on notice
        await ev(p, "POST", f"/v1/award-plans/{YEAR}/approve", Role.BUREAU, json={"reason": "局务会审议通过"})
        plan = await ev(p, "POST", f"/v1/award-plans/{YEAR}/notice", Role.BUREAU, json={}, status=201)
        await clock_at(p, on(date.fromisoformat(plan["notice"]["closes_on"]) + timedelta(days=1)))
        await notice_finalization.finalize_due(p["evaluation"].db)  # the worker's periodic task, as in test_evaluation_cycle
        assert (await ev(p, "GET", f"/v1/notices/{plan['notice']['notice_id']}"))["status"] == "final"
        approved = await emitted(p, ee.AwardApproved)
        assert sorted((x.award_id, x.unit_id, x.amount_fen) for x in approved) == sorted((award_of[u], u, 3_000_000) for u in (a, b))

        # ---- redemption: each unit claims the voucher it received, with receipt, invoice and results,
        # inside the window that opened with the evaluation cycle
        assert (await vo(p, "GET", f"/v1/redemption/windows/{YEAR}"))["opens_on"] == makeup.isoformat()
        claims: dict[str, dict[str, Any]] = {}
        for n, u in enumerate((a, b)):
            used = (await vo(p, "GET", "/v1/vouchers/", Role.UNIT, u))["items"]
            assert [v["status"] for v in used] == ["used"] and used[0]["unit_id"] == u
            receipt, results = await upload(p, u, RECEIPT), await upload(p, u, RESULTS)
            item = claim_item(used[0]["voucher_id"], receipt, results, number=f"2641200000000001234{n}")
            claims[u] = await vo(p, "POST", "/v1/redemption/claims", Role.UNIT, u, {"year": YEAR, "items": [item]}, status=201)
            claims[u]["voucher_id"] = used[0]["voucher_id"]
            assert claims[u]["amount_fen"] == 300_000
            # the center assigns evaluation's finance expert (vouchers knows it from evaluation.expert.registered);
            # the one tied to unit a may not review a's claim
            cid = claims[u]["claim_id"]

            async def assign(expert: str, cid: str = cid) -> Any:
                r = await p.call("vouchers", "POST", f"/v1/redemption/claims/{cid}/assignments", role=Role.CENTER, json={"expert_id": expert})
                return None if r.status_code == 404 else r  # until vouchers has heard of the expert

            assert (await eventually(lambda: assign(experts["finance"]))).status_code == 201
            if u == a:
                r = await eventually(lambda: assign(tied))
                assert r.status_code == 409 and r.json()["code"] == "assignment.conflict_of_interest", r.text  # as evaluation answers it
            reviewed = await vo(p, "POST", f"/v1/redemption/claims/{cid}/review", Role.EXPERT, experts["finance"],
                                json={"decisions": [{"voucher_id": used[0]["voucher_id"], "approved": True}]})
            assert reviewed["status"] == "approved" and reviewed["approved_fen"] == 300_000
        claim_ids = {claims[u]["claim_id"] for u in (a, b)}

        # evaluation learns the reviews from vouchers' events and puts them on the redemption notice

        async def reviews_known() -> bool:
            async with p["evaluation"].db.read() as s:
                return set((await s.execute(select(redemption_view.c.claim_id))).scalars()) == claim_ids

        await eventually(reviews_known)
        red = await ev(p, "POST", "/v1/notices/", Role.CENTER, json={"kind": "redemption", "year": YEAR}, status=201)
        assert sorted((i["ref"], i["unit_id"], i["amount_fen"]) for i in red["items"]) == sorted((claims[u]["claim_id"], u, 300_000) for u in (a, b))
        await clock_at(p, on(date.fromisoformat(red["closes_on"]) + timedelta(days=1)))
        assert (await ev(p, "POST", f"/v1/notices/{red['notice_id']}/finalize", Role.CENTER, json={}))["status"] == "final"

        # ---- payouts: due once both notices are final (payments learned them from evaluation)
        async def all_due() -> Any:
            due = await pa(p, "GET", f"/v1/payouts/due?year={YEAR}")
            return due if {i["ref"] for i in due["items"]} == set(award_of.values()) | claim_ids else None

        due = await eventually(all_due)
        assert due["total_fen"] == award_fen + voucher_fen and due["blocked_fen"] == award_fen + voucher_fen
        for u, account in ((a, "6222021708001234567"), (b, "104123456789012")):
            await pa(p, "PUT", f"/v1/payees/{u}", Role.UNIT, u, {"bank_name": "中国工商银行许昌分行", "account_name": f"单位{u[:4]}", "account_number": account})
        order = await pa(p, "POST", "/v1/payment-orders/", json={"year": YEAR}, status=201)
        assert order["count"] == 4 and order["total_fen"] == award_fen + voucher_fen
        rows = read_xlsx((await p.call("payments", "GET", f"/v1/payment-orders/{order['payment_order_id']}/export", role=Role.FINANCE)).content)
        assert len(rows) >= 5 and sum(Decimal(str(r[4])) * 100 for r in rows[1:5]) == award_fen + voucher_fen
        assert {r[6] for r in rows[1:5]} == {x["payout_id"] for x in order["payouts"]}

        first = {}
        for x in order["payouts"]:
            first[x["payout_id"]] = await pa(p, "POST", f"/v1/payouts/{x['payout_id']}/paid", json={"bank_reference": f"ICBC-PAY-{x['payout_id'][:8]}"}, status=201)
            assert first[x["payout_id"]]["status"] == "paid"

        async def ledger_state() -> tuple[int, int, list[tuple[str, str, int, str]]]:
            async with p["payments"].db.read() as s:
                entries = (await s.execute(select(func.count()).select_from(ledger_entries))).scalar_one()
                rows = (await s.execute(select(payouts.c.kind, payouts.c.ref, payouts.c.amount_fen, payouts.c.status).where(payouts.c.year == YEAR))).all()
            return entries, len(rows), sorted(tuple(r) for r in rows)

        before = await ledger_state()
        # the confirmation again, and evaluation's events delivered again (as redelivery and under new ids): nothing changes
        for x in order["payouts"]:
            again = await pa(p, "POST", f"/v1/payouts/{x['payout_id']}/paid", json={"bank_reference": f"ICBC-PAY-{x['payout_id'][:8]}"})
            assert again["paid_at"] == first[x["payout_id"]]["paid_at"] and again["status"] == "paid"
        finals = await emitted(p, ee.NoticeFinalized)
        again_events = [*approved, *finals, *(msgspec.structs.replace(e, event_id=new_event_id()) for e in [*approved, *finals])]
        await publish(p, *again_events)
        inbox = p["payments"].db.metadata.tables["inbox"]
        new_ids = [e.event_id for e in again_events[len(approved) + len(finals):]]

        async def processed() -> bool:
            async with p["payments"].db.read() as s:
                return (await s.execute(select(func.count()).select_from(inbox).where(inbox.c.event_id.in_(new_ids)))).scalar_one() == len(new_ids)

        await eventually(processed)
        after = await ledger_state()
        assert after == before
        entries, count, rows_now = after
        assert count == 4 and sorted((k, ref) for k, ref, _, _ in rows_now) == sorted([("award", x) for x in award_of.values()] + [("redemption", c) for c in claim_ids])
        assert all(status == "paid" for *_, status in rows_now)

        # vouchers settles the claims; each voucher redeemed once
        async def settled(u: str) -> Any:
            c = await vo(p, "GET", f"/v1/redemption/claims/{claims[u]['claim_id']}", Role.UNIT, u)
            return c if c["status"] == "settled" else None

        for u in (a, b):
            assert (await eventually(lambda: settled(u)))["paid_fen"] == 300_000
            assert (await vo(p, "GET", f"/v1/vouchers/{claims[u]['voucher_id']}", Role.CENTER))["status"] == "redeemed"

        listing = await ev(p, "GET", f"/v1/notices/?year={YEAR}")
        assert sorted(n["kind"] for n in listing["items"]) == ["award_plan", "grades", "redemption"] and {n["status"] for n in listing["items"]} == {"final"}

        # ---- the books: the ledger balances, the budget execution report balances to the fen
        tb = await pa(p, "GET", "/v1/ledger/trial-balance")
        assert tb["balanced"] is True and tb["debit_fen"] == tb["credit_fen"]
        report = await pa(p, "GET", f"/v1/reports/budget-execution/{YEAR}", Role.BUREAU)
        assert report["balanced"] is True and all(c["ok"] for c in report["checks"]), report["checks"]
        assert report["award"] == {"appropriated_fen": AWARD_BUDGET, "approved_fen": award_fen, "paid_fen": award_fen, "payable_fen": 0,
                                   "remaining_fen": AWARD_BUDGET - award_fen}
        assert report["voucher"]["appropriated_fen"] == VOUCHER_BUDGET and report["voucher"]["used_fen"] == voucher_fen
        assert report["voucher"]["redeemed_fen"] == report["voucher"]["paid_fen"] == voucher_fen and report["voucher"]["payable_fen"] == 0
        assert (await vo(p, "GET", f"/v1/programmes/{YEAR}"))["committed_fen"] == voucher_fen

        # ---- the bureau's reports: the numbers of the orders served above
        want: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for s in city.served:
            for key in (s["unit"], county[s["unit"]], s["category"]):
                m = want[key]
                m["orders_served"] += 1
                m["revenue_fen"] += s["fee"]
                m["revenue_voucher_fen"] += s["voucher_fen"]
                m["voucher_orders"] += bool(s["voucher_fen"])
                m["service_hours_centi"] += s["hours"] * 100
                m["ratings_count"] += s["rating"] is not None
                m["ratings_sum"] += s["rating"] or 0
        fields = ("orders_served", "revenue_fen", "revenue_voucher_fen", "voucher_orders", "service_hours_centi", "ratings_count", "ratings_sum")

        def pick(m: dict[str, int], fields: tuple[str, ...] = fields) -> dict[str, int]:
            return {f: m[f] for f in fields}

        units = await ev(p, "GET", f"/v1/reports/{YEAR}/units", Role.BUREAU)
        assert {i["unit"]["unit_id"]: pick(i["measures"]) for i in units["items"]} == {u: pick(want[u]) for u in (a, b)}
        assert pick(units["totals"]) == {f: sum(want[u][f] for u in (a, b)) for f in fields}
        assert {i["unit"]["unit_id"]: i["measures"]["outside_users_served"] for i in units["items"]} == {a: 2, b: 2}
        counties = await ev(p, "GET", f"/v1/reports/{YEAR}/counties", Role.BUREAU)
        assert {c["county_code"]: pick(c["measures"]) for c in counties["items"]} == {c: pick(want[c]) for c in ("411002", "411082")}
        categories = await ev(p, "GET", f"/v1/reports/{YEAR}/categories", Role.CENTER)
        # a category row carries no voucher order count (CATEGORY_FIELDS), only the voucher revenue
        per_category = tuple(f for f in fields if f != "voucher_orders")
        assert {c["category"]: pick(c["measures"], per_category) for c in categories["items"]} == {c: pick(want[c], per_category) for c in ("分析仪器", "计量仪器")}
        # and the report's revenue is the settlements' fees in the ledger's books
        assert units["totals"]["revenue_fen"] == sum(s["fee"] for s in city.served)
        assert units["totals"]["revenue_voucher_fen"] == report["voucher"]["used_fen"]

        # ---- appeals (R19(2)): two applications rejected on 1 December; one appeal comes a minute
        # inside the programme's window, the other a minute after it
        rejected_at = await clock_at(p, f"{YEAR}-12-01T10:00:00+08:00")
        appealed = {}
        for user, unit_id, pid in ((u1, b, pid_b), (u2, b, pid_b)):
            oid = await city.contracted(unit_id, user, pid, fee=1_000_000)

            async def applied_for(user: str = user, oid: str = oid) -> Any:
                r = await p.call("vouchers", "POST", "/v1/applications/", role=Role.USER, org=user, json={"order_id": oid})
                return r.json() if r.status_code == 201 else None

            aid = (await eventually(applied_for))["application_id"]
            await vo(p, "POST", f"/v1/applications/{aid}/reject", Role.CENTER, json={"reason": "合同金额与服务内容不符"})
            appealed[user] = aid
        window_days = (await vo(p, "GET", f"/v1/programmes/{YEAR}"))["appeal_window_days"]
        await clock_at(p, rejected_at + timedelta(days=window_days, minutes=-1))
        assert (await vo(p, "POST", f"/v1/applications/{appealed[u1]}/appeal", Role.USER, u1, {"reason": "补充说明服务内容"}))["status"] == "appealed"
        await clock_at(p, rejected_at + timedelta(days=window_days, minutes=1))
        r = await vo(p, "POST", f"/v1/applications/{appealed[u2]}/appeal", Role.USER, u2, {"reason": "补充说明服务内容"}, status=409)
        assert r["code"] == "voucher.appeal_window_closed"

        # ---- the year ends: a voucher approved on 31 December is valid to its last second and void at
        # 00:00 on 1 January (Asia/Shanghai); the run voids it and its reservation returns to the budget;
        # the year's programme reads closed
        late_order = await city.contracted(a, u2, pid_a, fee=1_000_000)
        await clock_at(p, f"{YEAR}-12-31T23:58:00+08:00")
        late = await city.voucher(u2, late_order)
        assert (await vo(p, "GET", f"/v1/programmes/{YEAR}"))["committed_fen"] == voucher_fen + late["amount_fen"]
        await clock_at(p, f"{YEAR}-12-31T23:59:59+08:00")
        assert (await vo(p, "GET", f"/v1/vouchers/{late['voucher_id']}", Role.USER, u2))["status"] == "issued"
        assert (await vo(p, "GET", f"/v1/programmes/{YEAR}"))["open"] is True
        await clock_at(p, f"{YEAR + 1}-01-01T00:00:00+08:00")
        r = await vo(p, "POST", f"/v1/vouchers/{late['voucher_id']}/use", Role.UNIT, a, {"order_id": late_order}, status=409)
        assert r["code"] == "voucher.expired"
        assert (await vo(p, "POST", "/v1/vouchers/expire", Role.CENTER))["expired"] == 1
        assert (await vo(p, "GET", f"/v1/vouchers/{late['voucher_id']}", Role.USER, u2))["status"] == "expired"
        closed = await vo(p, "GET", f"/v1/programmes/{YEAR}")
        assert closed["committed_fen"] == voucher_fen and closed["open"] is False and closed["closed_reason"] == "year_ended"

        # ---- the books as of a moment (the ledger's entries are dated on the platform's clock)
        def books(as_of: str) -> Any:
            return p.call("payments", "GET", "/v1/ledger/trial-balance", role=Role.FINANCE, params={"as_of": as_of})

        everything = await pa(p, "GET", "/v1/ledger/trial-balance")
        assert (await ok(await books(START))).get("entries") == 0  # nothing was booked before the year opened
        at_close = await ok(await books(f"{YEAR + 1}-01-01T00:00:00+08:00"))
        assert at_close["balanced"] and at_close["entries"] == everything["entries"] > 0
        r = await books(f"{YEAR + 1}-01-02T00:00:00+08:00")
        assert r.status_code == 422 and r.json()["code"] == "as_of.in_future" and r.json()["details"]["field"] == "as_of"
