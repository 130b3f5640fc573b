"""The checker, in the manner of Jepsen's set checker: what the clients were
told (acknowledged) and believe (the journeys' model) against what the
services hold at the end, read back through their APIs once the platform is
quiet.

Counts:
- lost: acknowledged but absent (an order, application, voucher, settlement,
  payment, rating or cancellation), or an effect that should have followed
  but did not (a voucher not deducted at settlement, not revoked on
  cancellation, not released on expiry).
- duplicated: an effect applied twice (two applications or vouchers for one
  order, two settlements, more ledger entries or postings than operations; a
  second order of a journey, or a second document of one kind on an order:
  creating orders and documents is idempotent (Idempotency-Key), so a retry
  after a lost answer must not make another).
- unexpected: effects nobody asked for (orders, vouchers, settlements outside
  any journey).
- overspend: committed > budget, or committed ≠ what the live vouchers hold.
- cap: a user's committed > cap, or ≠ what its live vouchers hold.
- unbalanced: the trial balance, or an account's balance against the journeys.
- unfinished: journeys that did not reach their end (client error or timeout),
  or whose end the services do not show after recovery.
- indeterminate: operations whose outcome the client cannot know (a lost
  answer to a non-idempotent request) that explain an observation. None of
  the workload's creating operations is left in that class (they carry an
  Idempotency-Key); the count stays in the line for the runs to come.

Claims, payouts and redemption notices are checked by
``tests.faults.redemption_check.claims_and_payouts``; the ledger check here counts
the payouts' entries. More checks: ``@check`` registers ``fn(ctx: CheckContext, result: Result)``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from services.runtime.roles import Role
from tests.faults.client import Api
from tests.faults.journeys import Journey, World

FIELDS = ("journeys", "faults", "lost", "duplicated", "unexpected", "overspend", "cap", "unbalanced", "unfinished", "indeterminate")


@dataclass
class Result:
    journeys: int = 0
    faults: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    #: one line per finding, for the report
    details: list[str] = field(default_factory=list)
    #: what the run counted besides findings (tests/faults/counts.py), printed after the line
    extra: Counter[str] = field(default_factory=Counter)

    def add(self, kind: str, detail: str, n: int = 1) -> None:
        self.counts[kind] += n
        if len(self.details) < 200:
            self.details.append(f"{kind}: {detail}")

    def line(self) -> str:
        values = {"journeys": self.journeys, "faults": self.faults, **{k: self.counts[k] for k in FIELDS[2:]}}
        line = " ".join(f"{k}={values[k]}" for k in FIELDS)
        return line + "".join(f" {k}={v}" for k, v in self.extra.items())

    @property
    def clean(self) -> bool:
        return all(self.counts[k] == 0 for k in FIELDS[2:-1])


@dataclass
class CheckContext:
    world: World
    journeys: list[Journey]
    orders: dict[str, dict[str, Any]]
    applications: list[dict[str, Any]]
    vouchers: list[dict[str, Any]]
    settlements: list[dict[str, Any]]
    programme: dict[str, Any]
    accounts: dict[str, dict[str, Any]]
    balances: dict[str, dict[str, Any]]
    trial: dict[str, Any]
    #: the year's payouts (redemption claims; no awards in this workload)
    payouts: list[dict[str, Any]] = field(default_factory=list)


Check = Callable[[CheckContext, Result], Awaitable[None] | None]
CHECKS: list[Check] = []


def check(fn: Check) -> Check:
    CHECKS.append(fn)
    return fn


async def observe(w: World, journeys: list[Journey]) -> CheckContext:
    api: Api = w.api
    orders: dict[str, dict[str, Any]] = {}
    for u in w.users:
        for o in await api.pages("registry", "/v1/orders/", role=Role.USER, org=u):
            orders[o["order_id"]] = o
    applications = await api.pages("vouchers", "/v1/applications/", role=Role.CENTER)
    vouchers = await api.pages("vouchers", "/v1/vouchers/", role=Role.CENTER)
    settlements = await api.pages("payments", "/v1/settlements", role=Role.CENTER)
    programme = await api.get("vouchers", f"/v1/programmes/{w.year}")
    accounts = {u: await api.get("vouchers", f"/v1/accounts/{w.year}", role=Role.USER, org=u) for u in w.users}
    balances = {b["account"]: b for b in await api.pages("payments", "/v1/ledger/balances", role=Role.FINANCE)}
    trial = await api.get("payments", "/v1/ledger/trial-balance", role=Role.FINANCE)
    payouts = await api.pages("payments", "/v1/payouts/", role=Role.FINANCE, params={"year": w.year})
    return CheckContext(w, journeys, orders, applications, vouchers, settlements, programme, accounts, balances, trial, payouts)


async def run_checks(ctx: CheckContext, result: Result) -> Result:
    for fn in CHECKS:
        got = fn(ctx, result)
        if got is not None:
            await got
    return result


def _group(items: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for i in items:
        out[i[key]].append(i)
    return out


@check
def orders_and_journeys(ctx: CheckContext, r: Result) -> None:
    """Every acknowledged order exists and ends as its journey says. An order
    outside the acknowledged ones is a duplicate when its journey (named in its
    description) has another order — the create carries an Idempotency-Key, so a
    retry must get the first order back — and unexpected otherwise; one order of
    a journey whose create was never acknowledged is that create's effect."""
    ours = {j.order_id for j in ctx.journeys if j.order_id}
    by_description = {f"journey {j.id}": j for j in ctx.journeys}
    #: a journey whose create was never acknowledged may hold that create's one order
    unacknowledged = {j.id for j in ctx.journeys if j.order_id is None}
    for j in ctx.journeys:
        if j.order_id is None:
            if not j.finished:
                r.add("unfinished", f"journey {j.id} ({j.plan}) never got an order: {j.error}")
            continue
        o = ctx.orders.get(j.order_id)
        if o is None:
            r.add("lost", f"journey {j.id}: acknowledged order {j.order_id} is absent")
            continue
        if not j.finished:
            r.add("unfinished", f"journey {j.id} ({j.plan}) stopped after {j.done_steps[-1:]} : {j.error}")
            continue
        if o["status"] != j.order_final:
            r.add("lost", f"journey {j.id}: order {j.order_id} is {o['status']}, acknowledged {j.order_final}")
    strays = [o for oid, o in ctx.orders.items() if oid not in ours]
    for o in strays:
        owner = by_description.get(o.get("description") or "")
        if o["status"] != "requested":
            r.add("unexpected", f"order {o['order_id']} outside any journey is {o['status']}")
        elif owner is None:
            r.add("unexpected", f"order {o['order_id']} outside any journey")
        elif owner.id in unacknowledged:
            unacknowledged.discard(owner.id)  # the one effect of a create whose answer never arrived (the journey is unfinished)
        else:
            r.add("duplicated", f"journey {owner.id}: order {o['order_id']} besides {owner.order_id or 'its first'}: a retried create made a second order")


@check
def documents(ctx: CheckContext, r: Result) -> None:
    """Every acknowledged document is on its order, and each kind at most once:
    a journey uploads each kind once, under an Idempotency-Key, so a second
    document of a kind is a retried upload that was not replayed."""
    for j in ctx.journeys:
        o = ctx.orders.get(j.order_id or "")
        if o is None:
            continue  # no order, or already counted lost
        kinds = Counter(d["kind"] for d in o["documents"])
        for kind, n in sorted(kinds.items()):
            if n > 1:
                r.add("duplicated", f"journey {j.id}: order {j.order_id} has {n} {kind} documents")
        held = {d["document_id"] for d in o["documents"]}
        for kind, document_id in sorted(j.documents.items()):
            if document_id not in held:
                r.add("lost", f"journey {j.id}: acknowledged {kind} document {document_id} is absent from order {j.order_id}")


@check
def vouchers_and_applications(ctx: CheckContext, r: Result) -> None:
    apps = _group(ctx.applications, "order_id")
    vs = _group(ctx.vouchers, "order_id")
    ours = {j.order_id: j for j in ctx.journeys if j.order_id}
    for oid, group in apps.items():
        if len(group) > 1:
            r.add("duplicated", f"order {oid} has {len(group)} applications")
        if oid not in ours:
            r.add("unexpected", f"application on order {oid} outside any journey")
    for oid, group in vs.items():
        if len(group) > 1:
            r.add("duplicated", f"order {oid} has {len(group)} vouchers")
        if oid not in ours:
            r.add("unexpected", f"voucher on order {oid} outside any journey")
    for j in ctx.journeys:
        if not j.order_id:
            continue
        if j.application_id and j.application_id not in {a["application_id"] for a in apps.get(j.order_id, [])}:
            r.add("lost", f"journey {j.id}: acknowledged application {j.application_id} is absent")
        mine = vs.get(j.order_id, [])
        if j.voucher_id is None:
            if mine and j.finished:
                r.add("unexpected", f"journey {j.id}: voucher {mine[0]['voucher_id']} nobody was told of")
            continue
        v = next((x for x in mine if x["voucher_id"] == j.voucher_id), None)
        if v is None:
            r.add("lost", f"journey {j.id}: acknowledged voucher {j.voucher_id} is absent")
            continue
        if v["amount_fen"] != j.voucher_fen:
            r.add("unexpected", f"journey {j.id}: voucher {j.voucher_id} holds {v['amount_fen']}, acknowledged {j.voucher_fen}")
        if j.finished and v["status"] != j.voucher_final:
            r.add("lost", f"journey {j.id}: voucher {j.voucher_id} is {v['status']}, should be {j.voucher_final}")


@check
def budget_and_caps(ctx: CheckContext, r: Result) -> None:
    live = [v for v in ctx.vouchers if v["status"] in ("issued", "used", "redeemed")]
    p = ctx.programme
    if p["committed_fen"] > p["budget_fen"]:
        r.add("overspend", f"programme {p['year']}: committed {p['committed_fen']} > budget {p['budget_fen']}")
    held = sum(v["amount_fen"] for v in live)
    if p["committed_fen"] != held:
        r.add("overspend", f"programme {p['year']}: committed {p['committed_fen']} ≠ {held} held by issued and used vouchers")
    by_user: dict[str, int] = defaultdict(int)
    for v in live:
        by_user[v["user_id"]] += v["amount_fen"]
    for u, a in ctx.accounts.items():
        if a["committed_fen"] > a["cap_fen"]:
            r.add("cap", f"user {u}: committed {a['committed_fen']} > cap {a['cap_fen']}")
        if a["committed_fen"] != by_user.get(u, 0):
            r.add("cap", f"user {u}: committed {a['committed_fen']} ≠ {by_user.get(u, 0)} held by its vouchers")


@check
def settlements(ctx: CheckContext, r: Result) -> None:
    """Each journey's settlement: once, with its fee split, paid as acknowledged, its voucher deducted."""
    by_order = _group(ctx.settlements, "order_id")
    ours = {j.order_id: j for j in ctx.journeys if j.order_id}
    for oid, group in by_order.items():
        if len(group) > 1:
            r.add("duplicated", f"order {oid} settled {len(group)} times")
        if oid not in ours:
            r.add("unexpected", f"settlement of order {oid} outside any journey")
    vouchers = {v["voucher_id"]: v for v in ctx.vouchers}
    for j in ctx.journeys:
        if not j.order_id or j.settlement_id is None:
            if j.finished and j.order_final == "rated":
                r.add("lost", f"journey {j.id}: rated without a settlement")
            continue
        group = by_order.get(j.order_id, [])
        if not group:
            r.add("lost", f"journey {j.id}: acknowledged settlement {j.settlement_id} is absent")
            continue
        s = group[0]
        if s["fee_fen"] != j.fee_fen or s["voucher_fen"] + s["payable_fen"] != s["fee_fen"]:
            r.add("unexpected", f"settlement {s['settlement_id']}: fee {s['fee_fen']} = {s['voucher_fen']} + {s['payable_fen']}? journey fee {j.fee_fen}")
        if j.finished and s["paid_fen"] != s["payable_fen"]:
            r.add("lost", f"settlement {s['settlement_id']}: paid {s['paid_fen']} of {s['payable_fen']}, acknowledged in full")
        if s["paid_fen"] > s["payable_fen"]:
            r.add("duplicated", f"settlement {s['settlement_id']}: paid {s['paid_fen']} > {s['payable_fen']}")
        v = vouchers.get(j.voucher_id or "")
        if j.voucher_final in ("used", "redeemed"):
            if s["voucher_id"] != j.voucher_id or s["voucher_fen"] != j.voucher_fen:
                r.add("lost", f"journey {j.id}: voucher {j.voucher_id} ({j.voucher_fen}) not deducted: settlement has {s['voucher_id']} {s['voucher_fen']} {s['voucher_refusal']}")
            if v is not None and v["status"] != j.voucher_final:
                r.add("lost", f"journey {j.id}: deducted voucher {j.voucher_id} is {v['status']}, should be {j.voucher_final}")
        elif s["voucher_fen"]:
            r.add("unexpected", f"journey {j.id}: settlement deducts {s['voucher_fen']} without a voucher to use")


@check
def ledger(ctx: CheckContext, r: Result) -> None:
    """The ledger: balanced, one entry per settlement, per payment, per payout due and per payout paid;
    postings as the settlements and payouts say (whatever journeys made them)."""
    t = ctx.trial
    if not t["balanced"] or t["debit_fen"] != t["credit_fen"]:
        r.add("unbalanced", f"trial balance: debit {t['debit_fen']} credit {t['credit_fen']}")
    paying = [s for s in ctx.settlements if s["payable_fen"] > 0 and s["paid_fen"] > 0]
    payable = [p for p in ctx.payouts if p["status"] in ("due", "ordered", "paid")]
    paid = [p for p in payable if p["status"] == "paid"]
    expected_entries = len(ctx.settlements) + len(paying) + len(payable) + len(paid)
    what = f"{len(ctx.settlements)} settlements, {len(paying)} payments, {len(payable)} payouts due of which {len(paid)} paid"
    if t["entries"] > expected_entries:
        r.add("duplicated", f"ledger: {t['entries']} entries for {what}")
    elif t["entries"] < expected_entries:
        r.add("lost", f"ledger: {t['entries']} entries for {what}")
    expect: dict[str, int] = defaultdict(int)
    for s in ctx.settlements:
        expect[f"unit_receivable:{s['unit_id']}"] -= s["fee_fen"]
        expect[f"user_payable:{s['user_id']}"] += s["payable_fen"] - s["paid_fen"]
        expect[f"cash_received:{s['unit_id']}"] += s["paid_fen"]
        if s["voucher_fen"]:
            expect[f"voucher_budget:{s['year']}"] += s["voucher_fen"]
    for p in payable:  # a redemption payout: Dr the unit's receivable, Cr payable; paid: Dr payable, Cr treasury
        expect[f"unit_receivable:{p['unit_id']}"] += p["amount_fen"]
        expect[f"payout_payable:{p['kind']}:{p['year']}"] -= p["amount_fen"]
        if p["status"] == "paid":
            expect[f"payout_payable:{p['kind']}:{p['year']}"] += p["amount_fen"]
            expect[f"treasury_paid:{p['kind']}:{p['year']}"] -= p["amount_fen"]
    for account in sorted(set(expect) | set(ctx.balances)):
        got = ctx.balances.get(account, {"balance_fen": 0})["balance_fen"]
        if got != expect.get(account, 0):
            kind = "duplicated" if abs(got) > abs(expect.get(account, 0)) else "unbalanced"
            r.add(kind, f"ledger account {account}: balance {got}, settlements say {expect.get(account, 0)}")
