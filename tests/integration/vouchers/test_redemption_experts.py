"""An expert sees and reviews only the redemption claims assigned to them
(R20); the center or the bureau assigns, and an expert of the claimant unit,
its parent or child unit, or with a declared tie is refused (evaluation's
conflict-of-interest rule, R14(3)). Experts come from evaluation's
``evaluation.expert.registered`` event."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from contracts.evaluation import ExpertRegistered
from services.runtime.roles import Role
from services.vouchers.db.models import expert_view
from tests.support.payouts import RECEIPT, RESULTS, claim_item, open_window, publish, upload, used_vouchers
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.vouchers import YEAR, Registry, call, uid

SERVICES = ["vouchers", "payments"]


async def test_an_expert_sees_and_reviews_only_the_claims_assigned_to_them(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        reg = Registry(p)
        university = reg.unit()
        college = reg.unit(parent=university)
        await reg.flush()
        college, (v1,) = await used_vouchers(p, 1, unit=college)
        other, (v2,) = await used_vouchers(p, 1)

        # the experts evaluation registered: one free, one of the college's university, one tied to the college
        free, another, of_parent, tied = uid(), uid(), uid(), uid()
        await publish(
            p,
            ExpertRegistered(expert_id=free, role="finance"),
            ExpertRegistered(expert_id=another, role="technical", unit_id=other),
            ExpertRegistered(expert_id=of_parent, role="technical", unit_id=university),
            ExpertRegistered(expert_id=tied, role="management", ties=[college]),
        )

        async def experts_known() -> bool:
            async with p["vouchers"].db.read() as s:
                return (await s.execute(select(func.count()).select_from(expert_view))).scalar_one() == 4

        await eventually(experts_known)

        await open_window(p)
        receipt, results = await upload(p, college, RECEIPT), await upload(p, college, RESULTS)
        claim = (await call(p, "POST", "/v1/redemption/claims", Role.UNIT, org=college,
                            json={"year": YEAR, "items": [claim_item(v1, receipt, results, number="26412000000000011111")]}, status=201)).json()
        cid = claim["claim_id"]
        r2, s2 = await upload(p, other, RECEIPT), await upload(p, other, RESULTS)
        other_claim = (await call(p, "POST", "/v1/redemption/claims", Role.UNIT, org=other,
                                  json={"year": YEAR, "items": [claim_item(v2, r2, s2, number="26412000000000022222")]}, status=201)).json()["claim_id"]
        decisions = {"decisions": [{"voucher_id": v1, "approved": True}]}

        async def hidden_from(expert: str) -> None:
            assert (await call(p, "GET", "/v1/redemption/claims", Role.EXPERT, org=expert, status=200)).json() == {"items": [], "total": 0, "page": 1, "page_size": 20}
            for path in (f"/v1/redemption/claims/{cid}", f"/v1/redemption/documents/{receipt}"):
                await call(p, "GET", path, Role.EXPERT, org=expert, status=404)
            r = await call(p, "POST", f"/v1/redemption/claims/{cid}/review", Role.EXPERT, org=expert, json=decisions, status=404)
            assert r.json()["code"] == "redemption_claim.not_found"

        # before any assignment no expert sees a claim
        await hidden_from(free)
        # an expert token without its id sees nothing either
        assert (await call(p, "GET", "/v1/redemption/claims", Role.EXPERT, status=200)).json()["total"] == 0

        # conflicts of interest are refused, with the units concerned (409, as evaluation refuses them)
        for expert, unit in ((of_parent, university), (tied, college)):
            r = await call(p, "POST", f"/v1/redemption/claims/{cid}/assignments", Role.CENTER, json={"expert_id": expert}, status=409)
            assert r.json()["code"] == "assignment.conflict_of_interest" and r.json()["details"]["units"] == [unit], r.text
        r = await call(p, "POST", f"/v1/redemption/claims/{cid}/assignments", Role.CENTER, json={"expert_id": uid()}, status=404)
        assert r.json()["code"] == "expert.not_found"
        for role, org in ((Role.UNIT, college), (Role.EXPERT, free), (Role.FINANCE, None)):
            await call(p, "POST", f"/v1/redemption/claims/{cid}/assignments", role, org=org, json={"expert_id": free}, status=403)
        await hidden_from(free)

        # the bureau assigns the free expert: they see this claim (and not the other), its evidence, and review it
        a = (await call(p, "POST", f"/v1/redemption/claims/{cid}/assignments", Role.BUREAU, json={"expert_id": free}, status=201)).json()
        assert (a["claim_id"], a["expert_id"]) == (cid, free)
        r = await call(p, "POST", f"/v1/redemption/claims/{cid}/assignments", Role.CENTER, json={"expert_id": free}, status=409)
        assert r.json()["code"] == "assignment.duplicate"
        assert [x["expert_id"] for x in (await call(p, "GET", f"/v1/redemption/claims/{cid}/assignments", Role.CENTER, status=200)).json()] == [free]
        listed = (await call(p, "GET", "/v1/redemption/claims", Role.EXPERT, org=free, status=200)).json()
        assert [c["claim_id"] for c in listed["items"]] == [cid] and listed["total"] == 1
        assert (await call(p, "GET", f"/v1/redemption/claims/{cid}", Role.EXPERT, org=free, status=200)).json()["items"][0]["voucher_id"] == v1
        assert (await call(p, "GET", f"/v1/redemption/documents/{receipt}", Role.EXPERT, org=free, status=200)).content == RECEIPT
        await call(p, "GET", f"/v1/redemption/claims/{other_claim}", Role.EXPERT, org=free, status=404)
        await call(p, "GET", f"/v1/redemption/documents/{r2}", Role.EXPERT, org=free, status=404)
        await hidden_from(another)  # assigned to someone else: still nothing for this expert
        assert (await call(p, "GET", f"/v1/redemption/claims/{cid}", Role.CENTER, status=200)).json()["status"] == "claimed"
        reviewed = (await call(p, "POST", f"/v1/redemption/claims/{cid}/review", Role.EXPERT, org=free, json=decisions, status=200)).json()
        assert reviewed["status"] == "approved" and reviewed["approved_fen"] == claim["amount_fen"]
        r = await call(p, "POST", f"/v1/redemption/claims/{cid}/assignments", Role.CENTER, json={"expert_id": another}, status=409)
        assert r.json()["code"] == "redemption.not_claimed"

        # the assignment is audited
        audit = (await p.call("vouchers", "GET", "/v1/audit", role=Role.AUDITOR, params={"object_type": "redemption_claim", "object_id": cid, "action": "redemption.assign"})).json()
        assert [row["after"]["expert_id"] for row in audit["items"]] == [free]


async def test_experts_registered_before_the_event_are_announced_by_the_operators_task(make_settings) -> None:
    """An expert that evaluation holds but never published (registered before
    ``evaluation.expert.registered`` existed) reaches vouchers through
    ``xciss task evaluation announce-experts``; running it twice changes nothing."""
    from sqlalchemy import insert

    from services.evaluation.db.models import experts
    from services.evaluation.expert_announcements import announce_experts
    from services.runtime.service import load_spec

    services = ["evaluation", "vouchers"]
    settings = await make_settings(services)
    async with running(Platform(settings, services)) as p:
        old, tied_unit = uid(), uid()
        async with p["evaluation"].db.unit_of_work() as uow:  # as a migrated database holds it: no event was ever written
            await uow.session.execute(insert(experts).values(id=old, name="王专家", role="technical", unit_id=None, ties=[tied_unit], registered_at=datetime.now(UTC)))

        async def known() -> list[tuple[str, list[str]]]:
            async with p["vouchers"].db.read() as s:
                return [(r.expert_id, list(r.ties)) for r in await s.execute(select(expert_view.c.expert_id, expert_view.c.ties).where(expert_view.c.expert_id == old))]

        assert await known() == []
        assert "announce-experts" in load_spec("evaluation").tasks()
        assert await announce_experts(p["evaluation"].db) == 1
        await eventually(known)
        assert await announce_experts(p["evaluation"].db) == 1
        assert await known() == [(old, [tied_unit])]
