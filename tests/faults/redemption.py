"""Redemption and payout journeys (R20), run alongside the order journeys.

A unit collects the vouchers its users spent: once an order journey has
settled with a voucher, the voucher joins its unit's pool; when the pool
holds the claim's size (1 to ``BATCH_MAX``), a *claim journey* starts:

    evidence → claim → review → notice → order → paid → settled

- ``evidence``: the unit uploads the bank receipt and the service results;
- ``claim``: it claims the pooled vouchers, each with its own 20-digit
  invoice. The invoice is unique across all claims, so a retry after a lost
  answer is refused (``redemption.invoice_reused``) and the journey reads its
  claim back;
- ``review``: the center approves every voucher, rejects one (plan
  ``redemption_partial``) or rejects them all (``redemption_rejected``: the
  journey ends, its vouchers stay ``used`` and nothing is paid);
- ``notice``: the claim waits for the center's redemption notice. A
  coordinator (``Redemptions.coordinate``) publishes one whenever evaluation
  has learned approved claims not yet on a notice, moves its window into the
  past (time is the one thing the harness does behind the API, as for the
  expiry of vouchers) and finalizes it; payments then makes the payout due;
- ``order``: finance puts the payout on a payment order; ``paid``: finance
  confirms the bank paid it; ``settled``: vouchers learns it from payments,
  settles the claim and redeems its approved vouchers.

The claim's record and its shape are in ``tests.faults.claims``; the
end-of-run check (``tests.faults.redemption_check.claims_and_payouts``) compares what the clients were
told with what vouchers, evaluation and payments hold: every claim as its
journey left it, one payout per approved claim of its approved amount and
paid once, each approved voucher redeemed once, no voucher in two claims, no
claim, payout or notice line nobody asked for.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from datetime import timedelta
from typing import Any

from services.payments.payouts import payout_id_for
from services.runtime.roles import Role
from services.runtime.clock import local_today
from tests.faults.claims import BATCH_MAX, PLANS, RECEIPT, RESULTS, STEPS, Claim
from tests.faults.client import ApiError
from tests.faults.journeys import EVENTUALLY_S, Journey, World, _eventually

log = logging.getLogger("xciss.faults")

#: a claim waits this long for a notice (the coordinator publishes every few seconds)
NOTICE_WAIT_S = 2 * EVENTUALLY_S


class Redemptions:
    """The claim journeys of a run, and the center that puts them on notice."""

    def __init__(self, world: World, rng: random.Random, first_id: int):
        self.w = world
        self.rng = rng
        self.next_id = first_id
        self.pools: dict[str, list[Journey]] = defaultdict(list)
        self.sizes: dict[str, int] = {}
        self.claims: list[Claim] = []
        self.tasks: list[asyncio.Task[None]] = []
        #: approved claims not yet seen on a notice
        self.pending: set[str] = set()
        #: notice id → the claim ids it lists
        self.notices: dict[str, set[str]] = {}
        self.closing = False
        self.coordinator: asyncio.Task[None] | None = None

    # -- the workload ---------------------------------------------------------

    @staticmethod
    def expected(order_journeys: int, used_share: float) -> int:
        """About how many claims a run of ``order_journeys`` makes (for pacing the faults)."""
        return max(1, round(order_journeys * used_share / ((1 + BATCH_MAX) / 2)))

    @property
    def started(self) -> int:
        return len(self.claims)

    def start(self) -> None:
        self.coordinator = asyncio.create_task(self.coordinate())

    def offer(self, j: Journey) -> None:
        """A finished order journey: its voucher, used at settlement, joins its unit's pool."""
        if not (j.finished and j.voucher_final == "used" and j.voucher_id and j.settled_voucher_fen == j.voucher_fen):
            return
        pool = self.pools[j.unit]
        pool.append(j)
        size = self.sizes.setdefault(j.unit, self.rng.randint(1, BATCH_MAX))
        if len(pool) >= size:
            self._spawn(j.unit)

    def _spawn(self, unit: str) -> None:
        pool, self.pools[unit] = self.pools[unit], []
        self.sizes.pop(unit, None)
        names = [p for p, _ in PLANS]
        plan = self.rng.choices(names, weights=[w for _, w in PLANS])[0]
        if plan == "redemption_partial" and len(pool) < 2:
            plan = "redemption"
        c = Claim(self.next_id, plan, unit, pool)
        self.next_id += 1
        self.claims.append(c)
        self.tasks.append(asyncio.create_task(self.run_claim(c)))

    async def drain(self) -> None:
        """The year's last claims (whatever the pools hold), then every claim to its end."""
        for unit in [u for u, pool in self.pools.items() if pool]:
            self._spawn(unit)
        await asyncio.gather(*self.tasks)
        self.closing = True
        if self.coordinator is not None:
            await self.coordinator

    async def run_claim(self, c: Claim) -> None:
        try:
            for name in STEPS:
                if name == "notice" and c.final == "rejected":
                    break
                await getattr(self, f"_{name}")(c)
                c.done_steps.append(name)
            c.finished = True
        except Exception as exc:  # noqa: BLE001 - the claim is unfinished; the checker reports it
            c.error = f"{type(exc).__name__}: {exc}"

    # -- the steps -------------------------------------------------------------

    async def _evidence(self, c: Claim) -> None:
        async def up(data: bytes, name: str) -> str:
            body = await self.w.api.expect(
                "vouchers", "POST", "/v1/redemption/documents", role=Role.UNIT, org=c.unit, journey=c.id, name=f"upload {name}",
                params={"filename": f"{name}.pdf"}, content=data, headers={"Content-Type": "application/pdf"},
            )
            return str(body["document_id"])

        c.documents = (await up(RECEIPT, "receipt"), await up(RESULTS, "results"))

    async def _claim(self, c: Claim) -> None:
        assert c.documents
        receipt, results = c.documents
        items = [{"voucher_id": v, "invoice_number": c.invoice(k), "receipt_document_id": receipt, "results_document_id": results} for k, v in enumerate(c.voucher_ids)]
        body = {"year": self.w.year, "items": items}

        async def submit() -> bool:
            op, r = await self.w.api.call("vouchers", "POST", "/v1/redemption/claims", role=Role.UNIT, org=c.unit, json=body, journey=c.id, name="claim")
            if r.is_success:
                got = r.json()
                c.claim_id, c.amount_fen = got["claim_id"], got["amount_fen"]
                return True
            if op.code in ("redemption.invoice_reused", "redemption.voucher_claimed"):  # an earlier attempt took effect
                found = await self._find_claim(c)
                if found is not None:
                    c.claim_id, c.amount_fen = found["claim_id"], found["amount_fen"]
                    return True
            raise ApiError(op, r, f"{r.status_code} {r.text[:300]}")

        await _eventually(f"claim {c.id}: vouchers takes the claim", submit)
        if c.amount_fen != sum(j.voucher_fen for j in c.journeys):
            raise AssertionError(f"claim {c.claim_id} is for {c.amount_fen}, its vouchers hold {sum(j.voucher_fen for j in c.journeys)}")

    async def _find_claim(self, c: Claim) -> dict[str, Any] | None:
        """The unit's claim holding this journey's first voucher (its answer was lost)."""
        mine = c.voucher_ids[0]
        for row in await self.w.api.pages("vouchers", "/v1/redemption/claims", role=Role.UNIT, org=c.unit, params={"year": self.w.year}):
            if row["amount_fen"] != sum(j.voucher_fen for j in c.journeys):
                continue
            full = await self.w.api.get("vouchers", f"/v1/redemption/claims/{row['claim_id']}", role=Role.UNIT, org=c.unit)
            if mine in {i["voucher_id"] for i in full["items"] or []}:
                return dict(full)
        return None

    async def _review(self, c: Claim) -> None:
        vids = c.voucher_ids
        if c.plan == "redemption_rejected":
            c.decisions = dict.fromkeys(vids, False)
        elif c.plan == "redemption_partial":
            c.decisions = {v: k > 0 for k, v in enumerate(vids)}
        else:
            c.decisions = dict.fromkeys(vids, True)
        decisions = [{"voucher_id": v, "approved": ok, **({} if ok else {"reason": "发票金额与合同约定的测试费不符"})} for v, ok in c.decisions.items()]
        path = f"/v1/redemption/claims/{c.claim_id}/review"
        op, r = await self.w.api.call("vouchers", "POST", path, role=Role.CENTER, json={"decisions": decisions}, journey=c.id, name="review claim")
        if r.is_success:
            got = r.json()
        elif op.code == "redemption.not_claimed":  # an earlier attempt took effect: it must be ours
            got = await self.w.api.get("vouchers", f"/v1/redemption/claims/{c.claim_id}", role=Role.CENTER)
            if {i["voucher_id"]: i["approved"] for i in got["items"] or []} != c.decisions:
                raise ApiError(op, r, f"claim {c.claim_id} was reviewed otherwise: {got['items']}")
        else:
            raise ApiError(op, r, f"{r.status_code} {r.text[:300]}")
        fen = {j.voucher_id: j.voucher_fen for j in c.journeys}
        c.approved_fen = sum(fen[v] for v, ok in c.decisions.items() if ok)
        if got["approved_fen"] != c.approved_fen:
            raise AssertionError(f"claim {c.claim_id}: approved {got['approved_fen']}, the decisions give {c.approved_fen}")
        c.final = "rejected" if c.approved_fen == 0 else "settled"
        if c.final == "settled":
            c.payout_id = payout_id_for("redemption", c.claim_id or "")
            self.pending.add(c.claim_id or "")

    async def _notice(self, c: Claim) -> None:
        """Until payments holds the payout: the claim's notice is final."""

        async def due() -> bool:
            op, r = await self.w.api.call("payments", "GET", f"/v1/payouts/{c.payout_id}", role=Role.FINANCE, record=False)
            if r.status_code == 404:
                return False
            if not r.is_success:
                raise ApiError(op, r, r.text[:300])
            if r.json()["amount_fen"] != c.approved_fen:
                raise AssertionError(f"payout {c.payout_id} is for {r.json()['amount_fen']}, claim {c.claim_id} was approved for {c.approved_fen}")
            return True

        await _eventually(f"claim {c.id}: payout of {c.claim_id} due", due, timeout_s=NOTICE_WAIT_S)

    async def _order(self, c: Claim) -> None:
        op, r = await self.w.api.call("payments", "POST", "/v1/payment-orders/", role=Role.FINANCE, json={"payout_ids": [c.payout_id]}, journey=c.id, name="payment order")
        if r.is_success:
            return
        if op.code == "payout.not_due":  # an earlier attempt ordered it
            p = await self.w.api.get("payments", f"/v1/payouts/{c.payout_id}", role=Role.FINANCE)
            if p["status"] in ("ordered", "paid"):
                return
        raise ApiError(op, r, f"{r.status_code} {r.text[:300]}")

    async def _paid(self, c: Claim) -> None:
        body = {"bank_reference": f"ICBC-RED-{c.id:08d}"}
        got = await self.w.api.expect("payments", "POST", f"/v1/payouts/{c.payout_id}/paid", role=Role.FINANCE, json=body, journey=c.id, name="payout paid")
        if got["status"] != "paid" or got["amount_fen"] != c.approved_fen:
            raise AssertionError(f"payout {c.payout_id}: {got['status']} {got['amount_fen']}, expected paid {c.approved_fen}")
        c.paid_fen = got["amount_fen"]

    async def _settled(self, c: Claim) -> None:
        async def settled() -> bool:
            got = await self.w.api.get("vouchers", f"/v1/redemption/claims/{c.claim_id}", role=Role.UNIT, org=c.unit)
            return bool(got["status"] == "settled")

        await _eventually(f"claim {c.id}: vouchers settles {c.claim_id}", settled)
        for j in c.journeys:
            if c.decisions.get(j.voucher_id or ""):
                j.voucher_final = "redeemed"

    # -- the center's notices -----------------------------------------------------

    async def coordinate(self) -> None:
        """Publish a redemption notice whenever evaluation knows approved claims
        not yet on one; move its window into the past and finalize it."""
        while True:
            done = self.closing
            try:
                await self._round()
            except Exception as exc:  # noqa: BLE001 - the next round tries again; claims waiting time out if it never succeeds
                log.warning("redemption notice round failed: %r", exc)
            if done:
                return
            await asyncio.sleep(3.0)

    async def _round(self) -> None:
        api, year = self.w.api, self.w.year
        if self.pending:
            known = await api.pages("evaluation", "/v1/redemptions/", role=Role.CENTER, params={"year": year})
            if any(r["notice_id"] is None and r["claim_id"] in self.pending for r in known):
                await api.call("evaluation", "POST", "/v1/notices/", role=Role.CENTER, json={"kind": "redemption", "year": year}, name="publish redemption notice")
        # every notice still published (a lost answer's retry may have made one more): read, backdate, finalize
        for n in await api.pages("evaluation", "/v1/notices/", params={"kind": "redemption", "year": year, "status": "published"}):
            nid = n["notice_id"]
            full = await api.get("evaluation", f"/v1/notices/{nid}")
            refs = {i["ref"] for i in full["items"] or []}
            self.notices[nid] = refs
            self.pending -= refs
            today = local_today()
            await self.w.cluster.sql(
                "evaluation", "UPDATE notices SET published_on = ?, opens_on = ?, closes_on = ? WHERE id = ? AND status = 'published'",
                today - timedelta(days=9), today - timedelta(days=8), today - timedelta(days=1), nid,
            )
            await api.expect("evaluation", "POST", f"/v1/notices/{nid}/finalize", role=Role.CENTER, json={}, name="finalize redemption notice")
