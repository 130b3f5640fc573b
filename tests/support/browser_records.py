"""One record of each kind the demo data lacks, made once per browser module through the
services' own APIs (as the portal's forms would call them), so the accessibility and
foreign-text checks open every detail page of the portal (issue 17: "every page"), not
only the lists the demo fills: an order of the demo user with the demo unit taken through
quote, contract, signatures, a voucher, a booking, service, results and settlement; a
complaint about it; the unit's redemption claim of that voucher with an expert assigned;
a second such order, its voucher's claim reviewed and on the year's redemption notice;
the demo unit graded unqualified with its rectification deadline (M15); another demo
unit's application awaiting the demo expert's scores; a ledger import refused row by
row; a password-reset link of the demo user. ``DETAILS`` says which role opens which
detail page; ``detail_paths`` fills them in. The steps are those of tests/support
(registry's ``World``, payouts, evidence) and of the other browser and evaluation tests."""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any
from unittest import mock

from openpyxl import Workbook
from sqlalchemy import insert, select

from contracts.envelope import new_event_id
from contracts.evaluation import AwardApproved
from services.command.demo import DEPARTMENTS, EXPERT, UNITS, USERS, shanghai_year
from services.evaluation import notices as evaluation_notices
from services.payments import payouts
from services.registry import ledger
from services.registry.db.account_models import accounts
from services.registry.db.recovery_models import password_resets
from services.registry.domain import recovery
from services.runtime import clock
from tests.support.evidence import documents
from tests.support.payouts import claim_item, open_window, upload
from tests.support.polling import eventually
from tests.support.registry import PDF, PROOF, RESULT, World, contract
from tests.support.vouchers import YEAR

UNIT = "许昌学院"
DEPARTMENT = "魏都区科技局"
#: the demo unit the demo expert's open score sheet is of (the demo unit's own application is graded)
OTHER_UNIT = UNITS[1]
#: each expert role's indicators of the demo cycle's set (the score sheet's fields)
SHEETS = {"management": ("org.rules", "org.staff"), "technical": ("op.condition", "share.effect"), "finance": ("org.finance", "share.fees")}
INSTRUMENT = "扫描电子显微镜"
EVIDENCE = b"%PDF-1.7\n% evidence of the page-coverage records\n"

#: the detail pages each role opens (None: a visitor), besides the navigation the walk follows;
#: ``{name}`` is a field of ``Records``. tests/browser/test_portal_page_coverage.py fails when a
#: page of the portal is neither here nor reached from the navigation.
DETAILS: dict[str | None, tuple[str, ...]] = {
    None: (
        "/password/forgot", "/password/reset?token={reset_token}",
        "/notices/{notice}", "/notices/{grades_notice}", "/complaints/new?unit_id={unit}", "/instruments/{instrument}",
    ),
    "user": (
        "/orders/{order}", "/bookings/{booking}", "/complaints/{complaint}", "/complaints/new?order_id={order}",
        "/instruments/{instrument}/book", "/account/password", "/notices/{notice}",
    ),
    "unit": (
        "/orders/{order}", "/bookings/{booking}", "/complaints/{complaint}", "/unit/instruments/{instrument}/edit",
        "/unit/instruments/{instrument}/time", "/unit/instruments/{instrument}/photos", "/unit/instruments/{instrument}/connections",
        "/unit/imports/{import_job}", "/rectification/{year}/{unit}", "/unit/instruments/new", "/unit/instruments/{instrument}/retire",
        "/unit/instruments/{instrument}/usage", "/units/{unit}/use",
    ),
    "center": (
        "/orders/{order}", "/bookings/{booking}", "/complaints/{complaint}", "/complaints/policy", "/center/instruments/{instrument}/photos",
        "/review/units/{unit}/vouchers", "/redemption/claims/{claim}", "/redemption/claims/{reviewed_claim}", "/notices/{notice}",
        "/notices/{grades_notice}", "/unit/imports/{import_job}", "/rectification/{year}/{unit}", "/center/instruments/new?unit_id={unit}",
        "/center/instruments/{instrument}/retire", "/evaluation/applications/{application}", "/review/units/{unit}", "/review/users/{user}/classes",
        "/reports/{year}", "/units/{unit}/use", "/finance/payment-orders/{payment_order}",
    ),
    "bureau": (
        "/orders/{order}", "/complaints/{complaint}", "/complaints/policy", "/programme/budget", "/review/units/{unit}/vouchers",
        "/redemption/claims/{claim}", "/notices/{notice}", "/notices/{grades_notice}", "/rectification/{year}/{unit}",
        "/evaluation/applications/{application}", "/review/units/{unit}", "/reports/{year}", "/units/{unit}/use",
    ),
    "department": ("/rectification/{year}/{unit}", "/units/{unit}/use"),  # no order: the registry lets no department read one
    "expert": ("/expert/assignments/{assignment}",),
    "finance": ("/programme/budget", "/account/password", "/finance/payouts/to-confirm", "/finance/payment-orders/{payment_order}"),
    "sysadmin": ("/account/password",),
    "secadmin": ("/account/password",),
    "auditor": ("/account/password",),
}


@dataclass(frozen=True)
class Records:
    unit: str
    user: str
    instrument: str
    order: str
    booking: str
    complaint: str
    claim: str
    reviewed_claim: str
    notice: str
    grades_notice: str
    assignment: str
    import_job: str
    reset_token: str
    year: int
    #: the demo unit's evaluation application (graded)
    application: str
    #: a payment order holding an award payout to the demo unit
    payment_order: str


def detail_paths(records: Records, role: str | None) -> list[str]:
    return [path.format(**asdict(records)) for path in DETAILS[role]]


async def _ok(r: Any, *status: int) -> Any:
    assert r.status_code in (status or (200, 201)), f"{r.request.method} {r.request.url}: {r.status_code} {r.text[:400]}"
    return r.json() if r.content else None


async def _demo(p: Any) -> tuple[str, str, str, str, str]:
    """The demo unit, user, expert, the unit's electron microscope and its first price item."""
    units = (await _ok(await p.call("registry", "GET", "/v1/units/", params={"page_size": 100})))["items"]
    unit = next(u["unit_id"] for u in units if u["name"] == UNIT)
    users = (await _ok(await p.call("registry", "GET", "/v1/users/", role="center", params={"page_size": 100})))["items"]
    user = next(u["user_id"] for u in users if u["name"] == USERS[0]["name"])
    experts = (await _ok(await p.call("evaluation", "GET", "/v1/experts/", role="center")))["items"]
    expert = next(e["expert_id"] for e in experts if e["name"] == EXPERT["name"])
    found = (await _ok(await p.call("registry", "GET", "/v1/catalogue/instruments", params={"q": INSTRUMENT, "unit_id": unit})))["items"]
    iid = next(i["instrument_id"] for i in found if i["name"] == INSTRUMENT)
    pid = (await _ok(await p.call("registry", "GET", f"/v1/instruments/{iid}/prices")))["items"][0]["price_item_id"]
    return unit, user, expert, iid, pid


async def _retried(send: Any, what: str, *, timeout: float = 60) -> Any:
    """``send()`` until the service accepts it: what it needs arrives from another service
    over the bus (an order's contract, a settlement, a review) in its own time."""

    async def accepted() -> Any:
        r = await send()
        assert r.status_code in (200, 201), r.text
        return r.json()

    return await eventually(accepted, timeout=timeout, what=what)


async def _served_order(p: Any, w: World, *, book: bool) -> tuple[str, str | None, str]:
    """An order contracted, with a voucher, (``book``) a booking the day after tomorrow, served,
    its results delivered and settled: (order, booking, the voucher used)."""
    oid = await w.quoted()
    c = await _ok(await w.upload(oid, "contract", PDF + oid.encode()))  # one contract, one voucher
    d = await _ok(await w.upload(oid, "rd_proof", PROOF, by="unit", filename="研发证明.png"))
    await _ok(await w.as_user("PUT", f"/v1/orders/{oid}/contract", json=contract(c["document_id"], d["document_id"])))
    await _ok(await w.as_user("POST", f"/v1/orders/{oid}/sign"))
    await _ok(await w.as_unit("POST", f"/v1/orders/{oid}/sign"))
    await _ok(await p.call("vouchers", "POST", f"/v1/accounts/{YEAR}", role="user", org=w.user), 201, 409)
    application = await _retried(lambda: p.call("vouchers", "POST", "/v1/applications/", role="user", org=w.user, json={"order_id": oid}), "the voucher application")
    await _ok(await p.call("vouchers", "POST", f"/v1/applications/{application['application_id']}/approve", role="center", json={}))
    booking = await _booking(w, oid) if book else None
    await _ok(await w.as_unit("POST", f"/v1/orders/{oid}/start"))
    result = await _ok(await w.upload(oid, "result", RESULT, by="unit", filename="检测报告.pdf"))
    await _ok(await w.as_unit("POST", f"/v1/orders/{oid}/results", json={"document_id": result["document_id"], "service_hours": 4}))
    await _retried(lambda: p.call("payments", "POST", "/v1/settlements/", role="user", org=w.user, json={"order_id": oid}), "the settlement")
    return oid, booking, await _used_voucher(p, w.user, oid)


async def _booking(w: World, oid: str) -> str:
    """The instrument open every day 08:00–20:00; an hour booked the day after tomorrow."""
    week = {d: [["08:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    await _ok(await w.as_unit("PUT", f"/v1/instruments/{w.iid}/schedule", json={"weekly_hours": week, "closed_on_holidays": False, "min_minutes": 60}))
    day = (clock.utc_now() + timedelta(days=2)).astimezone(clock.POLICY_ZONE).date().isoformat()
    slot = {"instrument_id": w.iid, "order_id": oid, "starts_at": f"{day}T10:00:00+08:00", "ends_at": f"{day}T11:00:00+08:00", "note": "样品形貌观察"}
    return str((await _ok(await w.as_user("POST", "/v1/bookings/", json=slot)))["booking_id"])


async def _claim(p: Any, unit: str, voucher: str, n: int) -> str:
    receipt = await upload(p, unit, EVIDENCE + f"receipt {n}".encode())
    results = await upload(p, unit, EVIDENCE + f"results {n}".encode())
    body = {"year": YEAR, "items": [claim_item(voucher, receipt, results, number=f"2641200000009876543{n}")]}
    return str((await _retried(lambda: p.call("vouchers", "POST", "/v1/redemption/claims", role="unit", org=unit, json=body), "the redemption claim"))["claim_id"])


async def _used_voucher(p: Any, user: str, order: str) -> str:
    async def used() -> str | None:
        items = (await _ok(await p.call("vouchers", "GET", "/v1/vouchers/", role="user", org=user, params={"page_size": 100})))["items"]
        return next((v["voucher_id"] for v in items if v.get("order_id") == order and v.get("status") == "used"), None)

    return str(await eventually(used, timeout=60, what="the voucher used at settlement"))


async def _assigned(p: Any, unit: str, department: str, expert: str, year: int) -> dict[str, Any]:
    """``unit``'s evaluation application, forwarded by its department, assigned to ``expert``."""
    application = await _ok(await p.call("evaluation", "POST", "/v1/applications/", role="unit", org=unit, json={"year": year, "documents": await documents(p, unit)}))
    await _ok(await p.call("evaluation", "POST", f"/v1/applications/{application['application_id']}/forward", role="department", org=department, json={}))
    return await _ok(await p.call("evaluation", "POST", f"/v1/applications/{application['application_id']}/assignments", role="center", json={"expert_id": expert}))


async def _rectification(p: Any, unit: str, expert: str, year: int) -> tuple[str, str]:
    """M15: the demo unit evaluated by an expert of each role, every score 0, graded unqualified;
    the grades notice final once its window has closed (evaluation's day moved past it, as
    tests/integration/evaluation/test_evaluation_rectification.py does), the award plan (nobody
    funded) proposed, approved and put on notice: the unit has its rectification deadline. The
    grades notice (final, its unqualified line linking the staff to the rectification), and the
    application."""
    experts = {"technical": expert}
    for role, name in (("management", "周建国"), ("finance", "陈立信")):
        experts[role] = (await _ok(await p.call("evaluation", "POST", "/v1/experts/", role="center", json={"name": name, "role": role})))["expert_id"]
    application = (await _assigned(p, unit, DEPARTMENT, expert, year))["application_id"]
    for role, keys in SHEETS.items():
        if role != "technical":
            await _ok(await p.call("evaluation", "POST", f"/v1/applications/{application}/assignments", role="center", json={"expert_id": experts[role]}))
    assignments = (await _ok(await p.call("evaluation", "GET", "/v1/assignments/", role="center", params={"application_id": application})))["items"]
    for a in assignments:
        role = next(r for r, e in experts.items() if e == a["expert_id"])
        sheet = {"scores": {k: 0 for k in SHEETS[role]}, "onsite_date": f"{year}-11-20", "findings": "现场核查：开放共享制度未建立，仪器使用记录不全"}
        await _ok(await p.call("evaluation", "POST", f"/v1/assignments/{a['assignment_id']}/scores", role="expert", org=experts[role], json=sheet))
    await _ok(await p.call("evaluation", "POST", f"/v1/applications/{application}/grade", role="center", json={}))
    grades = await _ok(await p.call("evaluation", "POST", "/v1/notices/", role="center", json={"kind": "grades", "year": year}))
    with mock.patch.object(evaluation_notices, "today", lambda: date.fromisoformat(grades["closes_on"]) + timedelta(days=1)):
        await _ok(await p.call("evaluation", "POST", f"/v1/notices/{grades['notice_id']}/finalize", role="center", json={}))
        for step in ("", "/approve", "/notice"):
            await _ok(await p.call("evaluation", "POST", f"/v1/award-plans/{year}{step}", role="bureau", json={}))
    return str(grades["notice_id"]), str(application)


async def _payment_order(p: Any, unit: str, year: int) -> str:
    """An award payout to the demo unit made due as payments' consumer of
    ``evaluation.award.approved`` makes it (tests/browser/test_portal_payouts.py), its payee
    details saved, and finance's payment order holding it."""
    await _ok(await p.call("payments", "PUT", f"/v1/payees/{unit}", role="unit", org=unit,
                           json={"bank_name": "中国银行许昌分行", "account_name": UNIT, "account_number": "104123456789012"}))
    award = AwardApproved(award_id=new_event_id(), unit_id=unit, year=year, grade="good", amount_fen=3_000_000, notice_id="n-records")
    async with p["payments"].db.unit_of_work() as uow:
        await payouts.on_award_approved(uow, award)
    return str((await _ok(await p.call("payments", "POST", "/v1/payment-orders/", role="finance", json={})))["payment_order_id"])


async def _import_job(p: Any, unit: str) -> str:
    """A ledger refused row by row: the job's page lists each row's errors."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(list(ledger.COLUMNS))
    row = {ledger.ASSET: "XC-2024-901", ledger.NAME: "傅里叶变换红外光谱仪", ledger.CATEGORY: "不存在的类别", ledger.VALUE: "26万", ledger.FUNDING: "全部财政", ledger.ACCEPTED: "2024-13-40"}
    ws.append([row.get(c, "") for c in ledger.COLUMNS])
    out = io.BytesIO()
    wb.save(out)
    r = await p.call("registry", "POST", f"/v1/units/{unit}/imports", role="unit", org=unit, params={"filename": "台账-有误.xlsx"}, content=out.getvalue(),
                     headers={"Content-Type": ledger.XLSX_MEDIA_TYPE})
    body = r.json()
    return str(body.get("job_id") or body["details"]["job_id"])


async def _reset_token(p: Any, username: str = "demo-user") -> str:
    """A reset link's token as the mail would carry it (the platform sends no mail)."""
    token = recovery.new_token()
    now = clock.utc_now()
    async with p["registry"].db.sessions() as s, s.begin():
        account_id = (await s.execute(select(accounts.c.id).where(accounts.c.username == username))).scalar_one()
        await s.execute(insert(password_resets).values(id=new_event_id(), account_id=account_id, token_digest=recovery.token_digest(token), created_at=now,
                                                       expires_at=now + timedelta(minutes=30), used_at=None))
    return token


async def make_records(portal: Any) -> Records:
    p = portal.platform
    unit, user, expert, iid, pid = await _demo(p)
    w = World(p, unit, user, iid, pid)
    order, booking, voucher = await _served_order(p, w, book=True)
    complaint = await _ok(await p.call("registry", "POST", "/v1/complaints/", role="user", org=user,
                                       json={"category": "fees", "text": "检测收费高于平台公布的收费标准", "order_id": order, "contact": "李经理 13900000000"}))
    await open_window(p, YEAR, days_before=3, days_after=3)
    claim = await _claim(p, unit, voucher, 0)
    await _retried(lambda: p.call("vouchers", "POST", f"/v1/redemption/claims/{claim}/assignments", role="center", json={"expert_id": expert}), "the claim's expert")
    # a second order's voucher, claimed and reviewed, goes on the year's redemption notice
    _, _, other = await _served_order(p, w, book=False)
    reviewed = await _claim(p, unit, other, 1)
    await _ok(await p.call("vouchers", "POST", f"/v1/redemption/claims/{reviewed}/review", role="center", json={"decisions": [{"voucher_id": other, "approved": True}]}))
    notice = await _retried(lambda: p.call("evaluation", "POST", "/v1/notices/", role="center", json={"kind": "redemption", "year": YEAR}), "the redemption notice")
    year = shanghai_year()
    grades, application = await _rectification(p, unit, expert, year)
    other = next(u["unit_id"] for u in (await _ok(await p.call("registry", "GET", "/v1/units/", params={"page_size": 100})))["items"] if u["name"] == OTHER_UNIT["name"])
    assignment = await _assigned(p, other, DEPARTMENTS[OTHER_UNIT["county_code"]], expert, year)
    return Records(
        unit=unit, user=user, instrument=iid, order=order, booking=str(booking), complaint=complaint["complaint_id"], claim=claim, reviewed_claim=reviewed,
        notice=notice["notice_id"], grades_notice=grades, assignment=assignment["assignment_id"], import_job=await _import_job(p, unit), reset_token=await _reset_token(p), year=year,
        application=application, payment_order=await _payment_order(p, unit, year),
    )
