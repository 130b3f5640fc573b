"""Journeys through the platform's HTTP APIs, as their users drive them.

A journey is a *plan*: a list of step names from ``STEPS``. Each step is an
async function of the journey and the world that calls the APIs with
retries, reads state back when an answer was lost, and records on the
journey what the client now believes (the model the checker compares with
what the services hold at the end).

Extension point: a later issue adds its steps with ``@step("name")`` and its
plans with ``plan("name", weight, [...])`` and, if it needs new end-of-run
checks, a function registered with ``tests.faults.checker.check``. Redemption
claims and their payouts are journeys of their own (``tests.faults.redemption``):
a claim gathers the vouchers of several finished order journeys.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from services.runtime.roles import Role
from tests.faults.client import Api, ApiError
from tests.faults.cluster import Cluster

PDF = b"%PDF-1.7\n% contract\n" + b"x" * 600
PROOF = b"\x89PNG\r\n\x1a\n" + b"proof" * 60
RESULT = b"%PDF-1.7\n% results of the measurement\n" + b"r" * 800

#: a step waits this long for another service to learn a fact from the bus
EVENTUALLY_S = 300.0


@dataclass
class World:
    api: Api
    cluster: Cluster
    year: int
    auto_approve: bool
    #: units approved to accept vouchers, with one price item each
    acceptors: list[tuple[str, str]]
    #: an approved unit that may not accept vouchers (its applications fail a check)
    non_acceptor: tuple[str, str]
    users: list[str]
    rng: random.Random
    #: the claim journeys (tests.faults.redemption.Redemptions), once the run makes them
    redemptions: Any = None


@dataclass
class Journey:
    id: int
    plan: str
    user: str
    unit: str
    price_item: str
    fee_fen: int
    steps: list[str]
    done_steps: list[str] = field(default_factory=list)
    order_id: str | None = None
    #: acknowledged documents of the order, by kind (each kind is uploaded once)
    documents: dict[str, str] = field(default_factory=dict)
    application_id: str | None = None
    application_status: str | None = None
    voucher_id: str | None = None
    voucher_fen: int = 0
    #: what the voucher must end as: used / expired / revoked (None: no voucher)
    voucher_final: str | None = None
    settlement_id: str | None = None
    settled_voucher_fen: int | None = None
    payable_fen: int | None = None
    paid_fen: int = 0
    #: what the order must end as: rated / cancelled
    order_final: str | None = None
    finished: bool = False
    error: str | None = None


Step = Callable[[Journey, World], Awaitable[None]]
STEPS: dict[str, Step] = {}
PLANS: dict[str, tuple[int, list[str]]] = {}


def step(name: str) -> Callable[[Step], Step]:
    def register(fn: Step) -> Step:
        STEPS[name] = fn
        return fn

    return register


def plan(name: str, weight: int, steps: list[str]) -> None:
    PLANS[name] = (weight, steps)


# -- helpers -----------------------------------------------------------------


def idempotency_key(j: Journey, step: str) -> str:
    """The Idempotency-Key of a journey's creating step: the same on every attempt."""
    return f"journey-{j.id}-{step}"


async def _order(w: World, j: Journey) -> dict[str, Any]:
    assert j.order_id
    return await w.api.get("registry", f"/v1/orders/{j.order_id}", role=Role.USER, org=j.user)


async def _transition(w: World, j: Journey, path: str, role: Role, org: str, done: tuple[str, ...], json: Any = None, name: str = "") -> dict[str, Any]:
    """An order transition; a refusal after a lost answer is checked against the order's state."""
    op, r = await w.api.call("registry", "POST", path, role=role, org=org, json=json if json is not None else {}, journey=j.id, name=name or path.rsplit("/", 1)[1])
    if r.is_success:
        return r.json()
    order = await _order(w, j)
    if order["status"] in done:
        return order
    raise ApiError(op, r, f"{r.status_code} {r.text[:300]} (order is {order['status']})")


async def _eventually(what: str, fn: Callable[[], Awaitable[Any]], timeout_s: float = EVENTUALLY_S) -> Any:
    deadline = time.monotonic() + timeout_s
    delay = 0.2
    while True:
        got = await fn()
        if got:
            return got
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout_s:.0f}s")
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 2.0)


async def _upload(w: World, j: Journey, kind: str, data: bytes, *, by: str) -> str:
    role, org = (Role.USER, j.user) if by == "user" else (Role.UNIT, j.unit)
    body = await w.api.expect(
        "registry", "POST", f"/v1/orders/{j.order_id}/documents", role=role, org=org, journey=j.id, name=f"upload {kind}",
        params={"kind": kind, "filename": f"{kind}.pdf"}, content=data, headers={"Content-Type": "application/octet-stream"},
        key=idempotency_key(j, f"upload-{kind}"),
    )
    j.documents[kind] = str(body["document_id"])
    return j.documents[kind]


async def _application(w: World, j: Journey) -> dict[str, Any] | None:
    if j.application_id:
        return await w.api.get("vouchers", f"/v1/applications/{j.application_id}", role=Role.CENTER)
    items = await w.api.pages("vouchers", "/v1/applications/", role=Role.USER, org=j.user)
    mine = [a for a in items if a["order_id"] == j.order_id]
    return mine[0] if mine else None


def _took(j: Journey, app: dict[str, Any]) -> None:
    j.application_id = app["application_id"]
    j.application_status = app["status"]
    if app["status"] == "approved" and app.get("voucher_id"):
        j.voucher_id, j.voucher_fen, j.voucher_final = app["voucher_id"], app["amount_fen"], "used"


# -- the steps -------------------------------------------------------------------


@step("order")
async def order(j: Journey, w: World) -> None:
    """Request service, then the unit quotes. The order is created under an
    Idempotency-Key: a retry after a lost answer gets the first order back, so a
    second order of the journey is a duplicate."""
    op, r = await w.api.call(
        "registry", "POST", "/v1/orders/", role=Role.USER, org=j.user, journey=j.id, name="create order",
        json={"purpose": "research", "items": [{"price_item_id": j.price_item, "quantity": 1}], "description": f"journey {j.id}"},
        key=idempotency_key(j, "order"),
    )
    if not r.is_success:
        raise ApiError(op, r, f"{r.status_code} {r.text[:300]}")
    j.order_id = r.json()["order_id"]
    await _transition(w, j, f"/v1/orders/{j.order_id}/quote", Role.UNIT, j.unit, ("quoted",), json={"amount_fen": j.fee_fen, "reason": "含样品前处理费用"}, name="quote")


@step("contract")
async def contract(j: Journey, w: World) -> None:
    # every contract is its own document: vouchers holds one voucher per contract *content* (R22)
    c = await _upload(w, j, "contract", PDF + f"\n% order {j.order_id}\n".encode(), by="user")
    d = await _upload(w, j, "rd_proof", PROOF, by="unit")
    terms = {
        "testing_fee_fen": j.fee_fen, "ip_ownership": "检测数据及成果归用户所有", "confidentiality": "管理单位对样品、数据和结果保密",
        "damage_compensation": "因用户操作不当造成仪器损坏的，按维修费用赔偿", "contract_document_id": c, "rd_proof_document_id": d,
    }
    await w.api.expect("registry", "PUT", f"/v1/orders/{j.order_id}/contract", role=Role.USER, org=j.user, json=terms, journey=j.id, name="set contract")
    op, r = await w.api.call("registry", "POST", f"/v1/orders/{j.order_id}/sign", role=Role.USER, org=j.user, json={}, journey=j.id, name="sign (user)")
    if not r.is_success and op.code != "order.already_signed":
        raise ApiError(op, r, r.text[:300])
    await _transition(w, j, f"/v1/orders/{j.order_id}/sign", Role.UNIT, j.unit, ("contracted",), name="sign (unit)")


@step("apply")
async def apply(j: Journey, w: World) -> None:
    """Apply once vouchers has learned the contract (from the bus)."""

    async def submit() -> bool:
        op, r = await w.api.call("vouchers", "POST", "/v1/applications/", role=Role.USER, org=j.user, json={"order_id": j.order_id}, journey=j.id, name="apply")
        if r.is_success:
            _took(j, r.json())
            return True
        if op.code in ("order.not_found", "voucher.order_not_contracted"):
            w.api.history.ops.remove(op)  # not yet known there: the same request again later
            return False
        if op.code == "voucher.contract_already_used":  # an earlier attempt took effect
            app = await _application(w, j)
            if app is not None:
                _took(j, app)
                return True
        if op.code == "voucher.budget_exhausted":  # R15 停止申用: no application; the order goes on without a voucher
            return True
        raise ApiError(op, r, f"{r.status_code} {r.text[:300]}")

    await _eventually(f"journey {j.id}: vouchers learns order {j.order_id}", submit)


async def _decide(w: World, j: Journey, action: str, role: Role, body: dict[str, Any], done: Callable[[dict[str, Any]], bool], name: str) -> dict[str, Any] | None:
    """An application decision; None when it was refused by a check (422)."""
    path = f"/v1/applications/{j.application_id}/{action}"
    op, r = await w.api.call("vouchers", "POST", path, role=role, org=j.user if role is Role.USER else None, json=body, journey=j.id, name=name)
    if r.is_success:
        return r.json()
    if r.status_code == 422:
        return None
    app = await _application(w, j)
    if app is not None and done(app):
        return app
    raise ApiError(op, r, f"{r.status_code} {r.text[:300]} (application {app and app['status']})")


@step("approve")
async def approve(j: Journey, w: World) -> None:
    """Auto-approved at submission, or the center approves; a refusing check
    (budget or cap used up) makes the center reject instead."""
    if j.application_id is None:  # refused at submission (R15): nothing to decide
        return
    if j.application_status == "approved":
        return
    app = await _decide(w, j, "approve", Role.CENTER, {}, lambda a: a["status"] == "approved", "approve")
    if app is not None:
        _took(j, app)
        return
    app = await _decide(w, j, "reject", Role.CENTER, {"reason": "预算或额度不足"}, lambda a: a["status"] == "rejected", "reject (no budget)")
    assert app is not None
    _took(j, app)


@step("reject")
async def reject(j: Journey, w: World) -> None:
    if j.application_id is None:  # refused at submission (R15): nothing to decide
        return
    app = await _decide(w, j, "reject", Role.CENTER, {"reason": "单位未获准接收创新券"}, lambda a: a["status"] in ("rejected", "appealed"), "reject")
    assert app is not None
    _took(j, app)


@step("appeal")
async def appeal(j: Journey, w: World) -> None:
    if j.application_id is None:  # refused at submission (R15): nothing to decide
        return
    app = await _decide(w, j, "appeal", Role.USER, {"reason": "单位已于合同签订前获准"}, lambda a: a["status"] == "appealed" or a["appeal_outcome"] is not None, "appeal")
    assert app is not None
    _took(j, app)


@step("overturn")
async def overturn(j: Journey, w: World) -> None:
    if j.application_id is None:  # refused at submission (R15): nothing to decide
        return
    app = await _decide(
        w, j, "appeal/decide", Role.BUREAU, {"outcome": "overturn", "reason": "经核实予以支持"}, lambda a: a["appeal_outcome"] == "overturn", "overturn"
    )
    if app is None:  # the budget or the cap is used up: the rejection stands
        await uphold(j, w)
        return
    _took(j, app)


@step("uphold")
async def uphold(j: Journey, w: World) -> None:
    if j.application_id is None:  # refused at submission (R15): nothing to decide
        return
    app = await _decide(w, j, "appeal/decide", Role.BUREAU, {"outcome": "uphold", "reason": "维持原决定"}, lambda a: a["appeal_outcome"] == "uphold", "uphold")
    assert app is not None
    _took(j, app)


@step("expire")
async def expire(j: Journey, w: World) -> None:
    """The voucher's year ends before it is used: the harness moves its expiry
    into the past (the one thing done behind the API: time) and the vouchers
    worker's periodic expiry voids it and releases the reservation."""
    if j.voucher_id is None:
        return
    await w.cluster.sql("vouchers", "UPDATE vouchers SET expires_at = issued_at WHERE id = ? AND status = 'issued'", j.voucher_id)

    async def expired() -> bool:
        v = await w.api.get("vouchers", f"/v1/vouchers/{j.voucher_id}", role=Role.CENTER)
        return bool(v["status"] == "expired")

    await _eventually(f"journey {j.id}: voucher {j.voucher_id} expires", expired)
    j.voucher_final = "expired"


@step("cancel")
async def cancel(j: Journey, w: World) -> None:
    await _transition(w, j, f"/v1/orders/{j.order_id}/cancel", Role.USER, j.user, ("cancelled",), json={"reason": "需求变更，取消委托"}, name="cancel")
    j.order_final = "cancelled"
    if j.voucher_id is not None:
        j.voucher_final = "revoked"


@step("deliver")
async def deliver(j: Journey, w: World) -> None:
    await _transition(w, j, f"/v1/orders/{j.order_id}/start", Role.UNIT, j.unit, ("in_service", "results_delivered"), name="start")
    doc = await _upload(w, j, "result", RESULT, by="unit")
    await _transition(
        w, j, f"/v1/orders/{j.order_id}/results", Role.UNIT, j.unit, ("results_delivered",), json={"document_id": doc, "service_hours": 3}, name="deliver"
    )


@step("settle")
async def settle(j: Journey, w: World) -> None:
    """Settle once payments has learned the delivery (and any voucher decision)."""

    async def settled() -> bool:
        op, r = await w.api.call("payments", "POST", "/v1/settlements", role=Role.USER, org=j.user, json={"order_id": j.order_id}, journey=j.id, name="settle")
        if r.is_success:
            s = r.json()
            j.settlement_id, j.settled_voucher_fen, j.payable_fen, j.paid_fen = s["settlement_id"], s["voucher_fen"], s["payable_fen"], s["paid_fen"]
            return True
        if op.code in ("settlement.results_not_delivered", "settlement.voucher_pending"):
            w.api.history.ops.remove(op)
            return False
        raise ApiError(op, r, f"{r.status_code} {r.text[:300]}")

    await _eventually(f"journey {j.id}: payments settles order {j.order_id}", settled)


@step("pay")
async def pay(j: Journey, w: World) -> None:
    assert j.payable_fen is not None
    left = j.payable_fen - j.paid_fen
    if left > 0:
        body = {"amount_fen": left, "bank_reference": f"ICBC-{j.order_id}"[:60], "idempotency_key": f"pay-{j.order_id}"}
        await w.api.expect("payments", "POST", f"/v1/settlements/{j.settlement_id}/payments", role=Role.USER, org=j.user, json=body, journey=j.id, name="pay")
    j.paid_fen = j.payable_fen


@step("rate")
async def rate(j: Journey, w: World) -> None:
    """Rate once the registry has learned the payment (from the bus)."""

    async def settled() -> bool:
        return (await _order(w, j))["status"] in ("settled", "rated")

    await _eventually(f"journey {j.id}: registry settles order {j.order_id}", settled)
    await _transition(w, j, f"/v1/orders/{j.order_id}/rate", Role.USER, j.user, ("rated",), json={"rating": 1 + j.id % 5, "comment": "服务及时"}, name="rate")
    j.order_final = "rated"


plan("voucher", 40, ["order", "contract", "apply", "approve", "deliver", "settle", "pay", "rate"])
plan("appeal_overturned", 10, ["order", "contract", "apply", "reject", "appeal", "overturn", "deliver", "settle", "pay", "rate"])
plan("appeal_upheld", 6, ["order", "contract", "apply", "reject", "appeal", "uphold", "deliver", "settle", "pay", "rate"])
plan("no_voucher", 10, ["order", "contract", "deliver", "settle", "pay", "rate"])
plan("cancelled", 6, ["order", "contract", "cancel"])
plan("cancelled_with_voucher", 10, ["order", "contract", "apply", "approve", "cancel"])
plan("expired", 10, ["order", "contract", "apply", "approve", "expire", "deliver", "settle", "pay", "rate"])

#: plans whose application must fail a check (so auto-approval leaves it to the center)
NEEDS_NON_ACCEPTOR = {"appeal_upheld"}
#: an overturn sets aside a reviewer's judgement, never a failing rule (R19(2)): its
#: application passes every check, so auto-approval leaves no such rejection to appeal
NEEDS_REVIEW = {"appeal_overturned"}


def new_journey(w: World, jid: int) -> Journey:
    names = sorted(n for n in PLANS if not (w.auto_approve and n in NEEDS_REVIEW))
    name = w.rng.choices(names, weights=[PLANS[n][0] for n in names])[0]
    unit, price = w.non_acceptor if name in NEEDS_NON_ACCEPTOR else w.rng.choice(w.acceptors)
    fee = w.rng.randrange(10_000, 2_000_000, 100)  # 100 to 20,000 CNY
    return Journey(jid, name, w.users[jid % len(w.users)], unit, price, fee, list(PLANS[name][1]))


async def run_journey(j: Journey, w: World) -> None:
    try:
        for name in j.steps:
            await STEPS[name](j, w)
            j.done_steps.append(name)
        j.finished = True
    except Exception as exc:  # noqa: BLE001 - the journey is unfinished; the checker reports it
        j.error = f"{type(exc).__name__}: {exc}"
