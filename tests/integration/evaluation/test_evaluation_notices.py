"""Objections on the award plan and on a redemption notice, through the HTTP
API on both databases: a held line keeps the notice open; a corrected award
line follows a provincial award recorded meanwhile (R6), an upheld line stands;
a corrected redemption line takes the claim's latest review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from sqlalchemy import select, text

from contracts import evaluation as ee
from contracts import vouchers as ve
from services.evaluation import notice_finalization, notices, sources
from services.evaluation.db.models import redemption_view
from services.evaluation.domain.measures import Measures
from services.runtime.roles import Role
from tests.support.evaluation_cycle import AFTER, BEST, FULL, PUBLISHED_ON, YEAR, ZERO, call, emitted, scored
from tests.support.payouts import publish
from tests.support.vouchers import uid
from tests.support.platform import Platform, running
from tests.support.polling import eventually


async def test_objections_hold_award_and_redemption_lines_until_resolved(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(["evaluation"])
    a, b = uid(), uid()

    async def fake_source(session, year, unit_ids=None):  # noqa: ANN001
        return {u: Measures(unit_id=u, year=year, **BEST) for u in (a, b) if unit_ids is None or u in unit_ids}

    monkeypatch.setattr(sources, "MEASURES_SOURCE", fake_source)
    monkeypatch.setattr(notices, "today", lambda: PUBLISHED_ON)
    async with running(Platform(settings, ["evaluation"])) as p:
        await scored(p, {a: FULL, b: {**ZERO, "finance": FULL["finance"]}})
        await call(p, "POST", "/v1/notices/", Role.DEPARTMENT, "魏都区科技局", json={"kind": "grades", "year": YEAR}, status=403)
        grades = await call(p, "POST", "/v1/notices/", Role.CENTER, json={"kind": "grades", "year": YEAR}, status=201)
        r = await call(p, "POST", f"/v1/award-plans/{YEAR}", Role.BUREAU, json={}, status=409)
        assert r["code"] == "award_plan.grades_not_final"
        monkeypatch.setattr(notices, "today", lambda: AFTER)
        await call(p, "POST", f"/v1/notices/{grades['notice_id']}/finalize", Role.CENTER, json={}, status=200)

        monkeypatch.setattr(notices, "today", lambda: PUBLISHED_ON)
        await call(p, "POST", f"/v1/award-plans/{YEAR}", Role.BUREAU, json={}, status=201)
        await call(p, "POST", f"/v1/award-plans/{YEAR}/approve", Role.BUREAU, json={}, status=200)
        plan = await call(p, "POST", f"/v1/award-plans/{YEAR}/notice", Role.CENTER, json={}, status=201)
        award = {line["unit_id"]: line["award_id"] for line in plan["lines"]}
        path = f"/v1/notices/{plan['notice']['notice_id']}/objections"
        r = await call(p, "POST", path, json={"ref": uid(), "name": "王五", "phone": "13900001111", "text": "?"}, status=404)
        obj_a = await call(p, "POST", path, json={"ref": award[a], "name": "王五", "id_number": "11010519491231002X", "text": "该单位已获省级奖补"}, status=201)
        assert obj_a["contact"] == "110105********002X"
        obj_b = await call(p, "POST", path, json={"ref": award[b], "name": "赵六", "phone": "13900001111", "text": "等次有误"}, status=201)
        held = await call(p, "GET", f"/v1/notices/{plan['notice']['notice_id']}", status=200)
        assert {i["state"] for i in held["items"]} == {"held"} and held["open_objections"] == 2

        monkeypatch.setattr(notices, "today", lambda: AFTER)
        assert await notice_finalization.finalize_due(p["evaluation"].db) == 0
        await call(p, "POST", "/v1/provincial-awards", Role.BUREAU, json={"unit_id": a, "year": YEAR, "reference": "豫科〔2026〕8号"}, status=201)
        await call(p, "POST", f"/v1/objections/{obj_a['objection_id']}/resolve", Role.CENTER, json={"outcome": "corrected", "reason": "核实已获省级奖补（R6）"}, status=200)
        await call(p, "POST", f"/v1/objections/{obj_b['objection_id']}/resolve", Role.CENTER, json={"outcome": "upheld_line", "reason": "经核实等次无误"}, status=200)
        now = await call(p, "GET", f"/v1/notices/{plan['notice']['notice_id']}", status=200)
        assert {i["unit_id"]: i["state"] for i in now["items"]} == {a: "withdrawn", b: "listed"}
        assert await notice_finalization.finalize_due(p["evaluation"].db) == 1
        assert [(x.unit_id, x.amount_fen) for x in await emitted(p, ee.AwardApproved)] == [(b, 3_000_000)]
        plan_now = await call(p, "GET", f"/v1/award-plans/{YEAR}", Role.BUREAU, status=200)
        assert plan_now["planned_fen"] == 3_000_000
        assert {line["unit_id"]: (line["status"], line["outcome"]) for line in plan_now["lines"]} == {a: ("withdrawn", "provincial_award"), b: ("approved", "funded")}

        # redemption: a re-review lowers the approved amount; the objection corrects the line
        claim = uid()
        first = datetime.now(UTC) - timedelta(minutes=5)
        await publish(p, ve.RedemptionReviewed(claim_id=claim, unit_id=b, year=YEAR, voucher_ids=[uid()], amount_fen=100_000, status="approved", approved=True, approved_fen=100_000, occurred_at=first))

        async def reviewed(fen: int) -> bool:
            async with p["evaluation"].db.read() as s:
                return (await s.execute(select(redemption_view.c.approved_fen).where(redemption_view.c.claim_id == claim))).scalar_one_or_none() == fen

        await eventually(lambda: reviewed(100_000))
        monkeypatch.setattr(notices, "today", lambda: PUBLISHED_ON)
        red = await call(p, "POST", "/v1/notices/", Role.CENTER, json={"kind": "redemption", "year": YEAR}, status=201)
        obj = await call(p, "POST", f"/v1/notices/{red['notice_id']}/objections", json={"ref": claim, "name": "钱七", "phone": "13900002222", "text": "发票金额不符"}, status=201)
        # its event names the notice by its case number and the line as shown, for the center's notice (issue 17), never the objector
        async with p["evaluation"].db.read() as s:
            payloads = (await s.execute(text("SELECT payload FROM outbox WHERE subject = :s"), {"s": ee.ObjectionRaised.subject})).scalars().all()
        [raised] = [e for e in (msgspec.json.decode(bytes(b), type=ee.ObjectionRaised) for b in payloads) if e.objection_id == obj["objection_id"]]
        assert raised.case_no == red["case_no"] and raised.case_no.startswith("GS-") and raised.label and raised.ref == claim
        everything = b"".join(bytes(b) for b in payloads).decode()
        assert "钱七" not in everything and "13900002222" not in everything and "发票金额不符" not in everything
        # an older review arriving late changes nothing; the newer one lowers the amount
        await publish(p,
            ve.RedemptionReviewed(claim_id=claim, unit_id=b, year=YEAR, voucher_ids=[uid()], amount_fen=100_000, status="approved", approved=True, approved_fen=80_000),
            ve.RedemptionReviewed(claim_id=claim, unit_id=b, year=YEAR, voucher_ids=[uid()], amount_fen=100_000, status="approved", approved=True, approved_fen=1, occurred_at=first - timedelta(minutes=1)),
        )
        await eventually(lambda: reviewed(80_000))
        await call(p, "POST", f"/v1/objections/{obj['objection_id']}/resolve", Role.CENTER, json={"outcome": "corrected", "reason": "按复核金额更正"}, status=200)
        monkeypatch.setattr(notices, "today", lambda: AFTER)
        await call(p, "POST", f"/v1/notices/{red['notice_id']}/finalize", Role.CENTER, json={}, status=200)
        finals = {x.kind: x for x in await emitted(p, ee.NoticeFinalized)}
        assert [(i.ref, i.unit_id, i.amount_fen) for i in finals["redemption"].items] == [(claim, b, 80_000)]
        assert await reviewed(80_000)
