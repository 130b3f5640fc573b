"""Organisation A's objects, made through the APIs as A's people would make them, for
the security tests that check who else may reach them (the access matrix, the fuzzer):
the ids of each kind of object A has."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.runtime import clock
from services.runtime.clock import local_today
from services.runtime.roles import Role
from tests.support.platform import Platform
from tests.support.polling import eventually
from tests.support.registry import (
    PDF,
    PROOF,
    RESULT,
    World,
    approved_unit,
    contract,
    priced_instrument,
    verified_user,
)
from tests.support.responses import ok
from tests.support.vouchers import YEAR, applied_and_approved


async def world_a(p: Platform) -> dict[str, str]:
    """Organisation A's objects, through the APIs as A's people would."""
    unit = await approved_unit(p, name="许昌学院A")
    acceptance = {"full_time_staff": 3, "service_content": "成分分析", "service_norms": "国标", "fees_published": True, "no_bad_credit": True}
    await ok(await p.call("registry", "POST", f"/v1/units/{unit}/voucher-acceptance", role=Role.CENTER, json=acceptance))
    iid, pid = await priced_instrument(p, unit, price_fen=500_000)
    draft, _ = await priced_instrument(p, unit, listed=False)
    user = await verified_user(p, name="许昌甲企业")
    w = World(p, unit, user, iid, pid)
    await ok(await p.call("vouchers", "POST", "/v1/programmes/", role=Role.BUREAU, json={"year": YEAR, "budget_fen": 100_000_000}), 201)
    oid = (await ok(await w.as_user("POST", "/v1/orders/", json={"purpose": "research", "items": [{"price_item_id": pid, "quantity": 2}]}), 201))["order_id"]
    await ok(await w.as_unit("POST", f"/v1/orders/{oid}/quote", json={"amount_fen": 1_000_000}))
    c = await ok(await w.upload(oid, "contract", PDF), 201)
    d = await ok(await w.upload(oid, "rd_proof", PROOF, by="unit", filename="proof.png"), 201)
    await ok(await w.as_user("PUT", f"/v1/orders/{oid}/contract", json=contract(c["document_id"], d["document_id"], testing_fee_fen=1_000_000)))
    await ok(await w.as_user("POST", f"/v1/orders/{oid}/sign"))
    await ok(await w.as_unit("POST", f"/v1/orders/{oid}/sign"))

    async def account() -> bool:
        return (await p.call("vouchers", "POST", f"/v1/accounts/{YEAR}", role=Role.USER, org=user)).status_code == 201

    await eventually(account)

    application = (await applied_and_approved(p, user, oid))["application_id"]
    await ok(await w.as_unit("POST", f"/v1/orders/{oid}/start"))
    # A's usage log (issue 16): a session of A's order and a recorder of A's instrument
    now = datetime.now(UTC).replace(microsecond=0)
    span = {"started_at": (now - timedelta(hours=3)).isoformat(), "ended_at": (now - timedelta(hours=2)).isoformat()}
    usage = await ok(await w.as_unit("POST", "/v1/usage/sessions/", json={"instrument_id": iid, "kind": "outside", "order_id": oid, **span}), 201)
    recorder = await ok(await w.as_unit("POST", "/v1/usage/recorders/", json={"instrument_id": iid, "name": "A的记录器"}), 201)
    res = await ok(await w.upload(oid, "result", RESULT, by="unit", filename="report.pdf"), 201)
    await ok(await w.as_unit("POST", f"/v1/orders/{oid}/results", json={"document_id": res["document_id"], "service_hours": 1}))

    async def settled() -> Any:
        r = await p.call("payments", "POST", "/v1/settlements", role=Role.USER, org=user, json={"order_id": oid})
        return r.json() if r.status_code in (200, 201) else None

    settlement = (await eventually(settled))["settlement_id"]
    voucher = (await ok(await p.call("vouchers", "GET", "/v1/vouchers/", role=Role.USER, org=user)))["items"][0]["voucher_id"]
    # A's unit claims the redemption of that voucher (an expert sees it only when assigned to it)
    today = local_today()
    window = {"opens_on": (today - timedelta(days=1)).isoformat(), "closes_on": (today + timedelta(days=1)).isoformat()}
    await ok(await p.call("vouchers", "PUT", f"/v1/redemption/windows/{YEAR}", role=Role.CENTER, json=window))
    evidence = [
        (await ok(await p.call("vouchers", "POST", "/v1/redemption/documents", role=Role.UNIT, org=unit, files={"file": (f"{n}.pdf", PDF, "application/pdf")}), 201))["document_id"]
        for n in ("receipt", "results")
    ]
    item = {"voucher_id": voucher, "invoice_number": "26412000000000012345", "receipt_document_id": evidence[0], "results_document_id": evidence[1]}
    claim = await ok(await p.call("vouchers", "POST", "/v1/redemption/claims", role=Role.UNIT, org=unit, json={"year": YEAR, "items": [item]}), 201)
    other_unit = await approved_unit(p, name="许昌职业技术学院C")
    affiliation = await ok(
        await p.call("registry", "POST", "/v1/affiliations/", role=Role.CENTER, json={"user_id": user, "unit_id": other_unit, "kind": "co_construction"}), 201
    )
    template = (await p.call("registry", "GET", "/v1/imports/template.csv")).content
    job = await p.call("registry", "POST", f"/v1/units/{unit}/imports?filename=ledger.csv", role=Role.UNIT, org=unit, content=template, headers={"Content-Type": "text/csv"})
    assert job.status_code in (200, 201), job.text
    listed_party = await verified_user(p, name="许昌丙企业")
    entry = await ok(await p.call("registry", "POST", "/v1/blacklist/", role=Role.BUREAU, json={"party_type": "user", "party_id": listed_party, "reason": "虚构检测合同"}), 201)
    # a fraud finding against A's user (criticism only: A stays off the blacklist) claws its voucher back
    finding = {"party_type": "user", "party_id": user, "reason": "申报材料不实", "sanctions": ["criticism"], "voucher_ids": [voucher]}
    await ok(await p.call("registry", "POST", "/v1/fraud-findings/", role=Role.BUREAU, json=finding), 201)

    async def clawed() -> Any:
        page = await ok(await p.call("payments", "GET", f"/v1/clawbacks/?party_id={user}", role=Role.FINANCE))
        return page["items"][0]["clawback_id"] if page["items"] else None

    clawback = await eventually(clawed)
    operator = {"username": "unit-a-operator", "password": "Matrix-Pass-2026", "role": "unit", "org": unit}
    account = await ok(await p.call("registry", "POST", "/v1/accounts/", role=Role.SYSADMIN, json=operator), 201)
    # A's user complains about A's order (M11(6)): the complaint is the user's, A's unit's and the staff's
    complaint = await ok(await w.as_user("POST", "/v1/complaints/", json={"category": "service_quality", "text": "交付拖延", "order_id": oid, "contact": "联系人A"}), 201)
    # instrument time (issue 16): a schedule open around the clock (no calendar), A's booking, a trained person
    every_day = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    schedule = {"weekly_hours": every_day, "closed_on_holidays": False, "open_on_makeup_days": False, "book_before_minutes": 0}
    await ok(await w.as_unit("PUT", f"/v1/instruments/{iid}/schedule", json=schedule))
    booked_for = (await ok(await w.as_user("POST", "/v1/orders/", json={"purpose": "research", "items": [{"price_item_id": pid, "quantity": 1}]}), 201))["order_id"]
    start = (clock.utc_now() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    slot = {"instrument_id": iid, "order_id": booked_for, "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()}
    booking = await ok(await w.as_user("POST", "/v1/bookings/", json=slot), 201)
    person = {"username": "user-a-person", "password": "Matrix-Pass-2026", "role": "user", "org": user}
    await ok(await p.call("registry", "POST", "/v1/accounts/", role=Role.SYSADMIN, json=person), 201)
    qualification = await ok(await w.as_unit("PUT", f"/v1/instruments/{iid}/qualifications", json={"username": "user-a-person", "valid_until": (local_today() + timedelta(days=90)).isoformat()}))
    feed = await ok(await w.as_unit("POST", f"/v1/instruments/{draft}/calendar-feeds", json={"label": "A"}), 201)
    [notification] = (await ok(await w.as_unit("GET", "/v1/notifications/")))["items"]  # the booking asks A's unit to confirm
    return {
        "booking_id": booking["booking_id"],
        "qualification_id": qualification["qualification_id"],
        "feed_id": feed["feed_id"],
        "notification_id": notification["notification_id"],
        # the secret is the feed's credential: nobody outside A has it, so an unknown one stands in
        "feed_file": "not-a-feed-secret.ics",
        "account_id": account["account_id"],
        "job_id": job.json()["job_id"],
        "entry_id": entry["entry_id"],
        "unit_id": unit,
        "user_id": user,
        "instrument_id": draft,  # not listed: not public
        "price_item_id": pid,
        "order_id": oid,
        "session_id": usage["session_id"],
        "recorder_id": recorder["recorder_id"],
        "document_id": c["document_id"],
        "application_id": application,
        "voucher_id": voucher,
        "settlement_id": settlement,
        "affiliation_id": affiliation["affiliation_id"],
        "clawback_id": clawback,
        "claim_id": claim["claim_id"],
        "complaint_id": complaint["complaint_id"],
        "year": str(YEAR),
    }
