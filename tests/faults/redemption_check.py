"""The fault harness's end-of-run check of the claim journeys (registered with
``tests.faults.checker.check`` when imported): what the clients were told
against what vouchers, evaluation and payments hold. Every claim as its
journey left it, one payout per approved claim of its approved amount and paid
once, each approved voucher redeemed once, no voucher on two live claims, each
approved claim on exactly one final notice, and no claim, payout or notice
line nobody asked for."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from services.runtime.roles import Role
from tests.faults.checker import CheckContext, Result, check

if TYPE_CHECKING:
    from tests.faults.redemption import Redemptions


@check
async def claims_and_payouts(ctx: CheckContext, r: Result) -> None:
    red: Redemptions | None = getattr(ctx.world, "redemptions", None)
    if red is None:
        return
    api, year = ctx.world.api, ctx.world.year
    held = {c["claim_id"]: c for c in await api.pages("vouchers", "/v1/redemption/claims", role=Role.CENTER, params={"year": year})}
    ours = {c.claim_id: c for c in red.claims if c.claim_id}
    in_claims: dict[str, list[str]] = defaultdict(list)
    for cid in held:
        full = await api.get("vouchers", f"/v1/redemption/claims/{cid}", role=Role.CENTER)
        for item in full["items"] or []:
            in_claims[item["voucher_id"]].append(cid)
        held[cid] = full
    for vid, cids in in_claims.items():
        live = [c for c in cids if held[c]["status"] != "rejected"]
        if len(live) > 1:
            r.add("duplicated", f"voucher {vid} is on {len(live)} claims that were not rejected: {live}")
    for cid, h in held.items():
        if cid not in ours:
            r.add("unexpected", f"claim {cid} of unit {h['unit_id']} ({h['status']}) outside any journey")
    vouchers = {v["voucher_id"]: v for v in ctx.vouchers}
    for c in red.claims:
        if c.claim_id is None:
            if not c.finished:
                r.add("unfinished", f"claim journey {c.id} ({c.plan}) never got a claim: {c.error}")
            continue
        h = held.get(c.claim_id)
        if h is None:
            r.add("lost", f"claim journey {c.id}: acknowledged claim {c.claim_id} is absent")
            continue
        if not c.finished:
            r.add("unfinished", f"claim journey {c.id} ({c.plan}) stopped after {c.done_steps[-1:]}: {c.error}")
            continue
        if h["status"] != c.final:
            r.add("lost", f"claim journey {c.id}: claim {c.claim_id} is {h['status']}, should be {c.final}")
        if {i["voucher_id"]: i["approved"] for i in h["items"] or []} != c.decisions:
            r.add("lost", f"claim journey {c.id}: claim {c.claim_id} holds other decisions than the review acknowledged")
        if (h["approved_fen"] or 0) != c.approved_fen:
            r.add("unexpected", f"claim {c.claim_id}: approved {h['approved_fen']}, acknowledged {c.approved_fen}")
        paid = h["paid_fen"] or 0
        if paid > c.approved_fen:
            r.add("duplicated", f"claim {c.claim_id}: paid {paid} > approved {c.approved_fen}")
        elif c.final == "settled" and paid != c.approved_fen:
            r.add("lost", f"claim {c.claim_id}: paid {paid} of {c.approved_fen}")
        for vid, ok in c.decisions.items():
            v = vouchers.get(vid)
            want = "redeemed" if ok and c.final == "settled" else "used"
            if v is not None and v["status"] != want:
                r.add("lost" if want == "redeemed" else "unexpected", f"claim {c.claim_id}: voucher {vid} is {v['status']}, should be {want}")
    # payments: one payout per approved claim, of its approved amount, paid
    payouts = await api.pages("payments", "/v1/payouts/", role=Role.FINANCE, params={"kind": "redemption", "year": year})
    by_ref: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in payouts:
        by_ref[p["ref"]].append(p)
    for ref, group in by_ref.items():
        if len(group) > 1:
            r.add("duplicated", f"claim {ref} has {len(group)} payouts")
        c = ours.get(ref)
        if c is None or c.final != "settled":
            r.add("unexpected", f"payout {group[0]['payout_id']} for claim {ref}, which nobody approved")
    for c in red.claims:
        if not (c.finished and c.final == "settled"):
            continue
        got = by_ref.get(c.claim_id or "")
        if not got:
            r.add("lost", f"claim {c.claim_id}: approved and settled without a payout")
            continue
        p = got[0]
        if p["amount_fen"] != c.approved_fen or p["status"] != "paid":
            r.add("lost", f"payout {p['payout_id']} of claim {c.claim_id}: {p['status']} {p['amount_fen']}, acknowledged paid {c.approved_fen}")
    # evaluation: each approved claim on exactly one final notice
    listed: dict[str, list[str]] = defaultdict(list)
    for n in await api.pages("evaluation", "/v1/notices/", params={"kind": "redemption", "year": year}):
        full = await api.get("evaluation", f"/v1/notices/{n['notice_id']}")
        if full["status"] != "final":
            r.add("unfinished", f"redemption notice {n['notice_id']} is still {full['status']}")
        for item in full["items"] or []:
            listed[item["ref"]].append(n["notice_id"])
    for ref, nids in listed.items():
        if len(nids) > 1:
            r.add("duplicated", f"claim {ref} is on {len(nids)} notices")
        if ref not in ours:
            r.add("unexpected", f"claim {ref} on notice {nids[0]} outside any journey")
    for c in red.claims:
        if c.finished and c.final == "settled" and not listed.get(c.claim_id or ""):
            r.add("lost", f"claim {c.claim_id}: paid without being on a notice")
