"""Redemption and payout set-up for integration tests: used vouchers (registry
facts published straight to JetStream, vouchers issues, payments settles),
evaluation's events published as the real contract events (the evaluation
service need not run), and evidence uploads."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import func, select

from contracts import registry as ev
from contracts.envelope import Event, encode
from services.payments.db.models import order_view, voucher_view
from services.runtime.roles import Role
from services.runtime.clock import local_today
from services.runtime.bus.connect import connect_nats
from tests.support.platform import Platform
from tests.support.polling import eventually
from tests.support.vouchers import YEAR, Registry, activate, approve, call, open_programme, submit, uid, verified_here

RECEIPT = b"%PDF-1.7\n% bank receipt of the user's payment\n" + b"b" * 500
RESULTS = b"%PDF-1.7\n% service results\n" + b"s" * 800


async def publish(p: Platform, *events: Event, msg_id: str | None = None) -> None:
    """Publish events as their producer's relay would (Nats-Msg-Id = the event's id, or ``msg_id``:
    a redelivery under another id)."""
    nc = await connect_nats(p.settings.bus("operator"), "test-publisher")
    try:
        js = nc.jetstream()
        for e in events:
            await js.publish(type(e).subject, encode(e), headers={"Nats-Msg-Id": msg_id or e.event_id})
    finally:
        await nc.close()


async def used_vouchers(p: Platform, n: int, *, fee: int = 1_000_000, unit: str | None = None, user: str | None = None) -> tuple[str, list[str]]:
    """A unit (new unless given) whose ``n`` orders of one user were settled with a voucher each:
    (unit, voucher ids). A given user is one the registry verified itself (its event already
    reached the other services); without one, a new user comes in the registry's name."""
    reg = Registry(p)
    unit = unit or reg.unit()
    given = user
    user = user or reg.user()
    orders = []
    for _ in range(n):
        order = reg.order(user, unit, fee=fee)
        reg.events.append(
            ev.OrderResultsDelivered(order_id=order, version=6, user_id=user, unit_id=unit, instrument_ids=[uid()], status="results_delivered",
                                     amount_fen=fee, testing_fee_fen=fee, purpose="research", service_hours=4)
        )
        orders.append(order)
    await reg.flush()
    if (await p.call("vouchers", "GET", f"/v1/programmes/{YEAR}")).status_code == 404:
        await open_programme(p)
    if given:
        await verified_here(p, given)
    await activate(p, user)
    vids = [(await approve(p, (await submit(p, user, o))["application_id"])).json()["voucher_id"] for o in orders]
    db = p["payments"].db

    async def seen() -> bool:
        async with db.read() as s:
            o = (await s.execute(select(func.count()).select_from(order_view).where(order_view.c.order_id.in_(orders)))).scalar_one()
            v = (await s.execute(select(func.count()).select_from(voucher_view).where(voucher_view.c.order_id.in_(orders)))).scalar_one()
        return o == n and v == n

    await eventually(seen)
    for o in orders:
        r = await p.call("payments", "POST", "/v1/settlements/", role=Role.USER, org=user, json={"order_id": o})
        assert r.status_code == 201 and r.json()["voucher_fen"] > 0, r.text
    return unit, vids


async def open_window(p: Platform, year: int = YEAR, *, days_before: int = 1, days_after: int = 1) -> dict[str, Any]:
    today = local_today()
    body = {"opens_on": (today - timedelta(days=days_before)).isoformat(), "closes_on": (today + timedelta(days=days_after)).isoformat()}
    return (await call(p, "PUT", f"/v1/redemption/windows/{year}", Role.CENTER, json=body, status=200)).json()


async def upload(p: Platform, unit: str, data: bytes, filename: str = "evidence.pdf") -> str:
    r = await p.call("vouchers", "POST", "/v1/redemption/documents", role=Role.UNIT, org=unit, files={"file": (filename, data, "application/pdf")})
    assert r.status_code == 201, r.text
    return r.json()["document_id"]


def claim_item(voucher_id: str, receipt: str, results: str, *, number: str, code: str | None = None) -> dict[str, Any]:
    item = {"voucher_id": voucher_id, "invoice_number": number, "receipt_document_id": receipt, "results_document_id": results}
    if code is not None:
        item["invoice_code"] = code
    return item


def read_xlsx(data: bytes) -> list[list[Any]]:
    ws = load_workbook(io.BytesIO(data)).active
    return [list(r) for r in ws.iter_rows(values_only=True)]
