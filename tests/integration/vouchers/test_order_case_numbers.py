"""Applications and vouchers name their order by its case number (issue 17: "parties and
records are named as people say them", never by a slice of a uuid). The registry's order
events carry the order's DD number; the vouchers service keeps it in its order view and
each application and voucher copies it when it is made, on both paths (auto-approved in a
batch, reviewed by the center), so every answer that names an order has it. An order known
from before orders had numbers has none (the portal then links it as 查看订单, never by its
id). The center's queue names the applicant too: each application read or listed carries its
user's name from vouchers' user view (one query with the page), not kept in its audit image."""

from __future__ import annotations

from sqlalchemy import select

from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.vouchers import YEAR, Registry, activate, approve, call, open_programme, submit


async def _named(p: Platform, user: str, application_id: str) -> tuple[str | None, str | None, str | None]:
    """The order's case number as the application's page, the user's list and the user's voucher show it."""
    one = (await call(p, "GET", f"/v1/applications/{application_id}", Role.USER, org=user, status=200)).json()
    listed = (await call(p, "GET", "/v1/applications/", Role.USER, org=user, status=200)).json()["items"]
    vouchers = (await call(p, "GET", "/v1/vouchers/", Role.USER, org=user, status=200)).json()["items"]
    assert [a["application_id"] for a in listed] == [application_id]
    return one["order_case_no"], listed[0]["order_case_no"], (vouchers[0]["order_case_no"] if vouchers else "no voucher")


async def test_auto_approved_applications_and_their_vouchers_name_the_order_by_its_case_number(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit = reg.unit()
        numbered, old = reg.user(), reg.user()
        order = reg.order(numbered, unit, case_no=f"DD-{YEAR}-000042")
        old_order = reg.order(old, unit)  # an order event from before orders had numbers
        await reg.flush()
        await open_programme(p, auto_approve=True)
        for u in (numbered, old):
            await activate(p, u)

        made = await submit(p, numbered, order)
        assert made["status"] == "approved" and made["order_case_no"] == f"DD-{YEAR}-000042", made
        assert await _named(p, numbered, made["application_id"]) == (f"DD-{YEAR}-000042",) * 3
        before = await submit(p, old, old_order)
        assert before["status"] == "approved" and before["order_case_no"] is None
        assert await _named(p, old, before["application_id"]) == (None, None, None)


async def test_a_reviewed_application_and_its_voucher_name_the_order_by_its_case_number(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit, user = reg.unit(), reg.user()
        order = reg.order(user, unit, case_no=f"DD-{YEAR}-000007")
        await reg.flush()
        await open_programme(p, auto_approve=False)
        await activate(p, user)

        made = await submit(p, user, order)
        assert made["status"] == "submitted" and made["order_case_no"] == f"DD-{YEAR}-000007", made
        assert await _named(p, user, made["application_id"]) == (f"DD-{YEAR}-000007", f"DD-{YEAR}-000007", "no voucher")
        decided = await approve(p, made["application_id"])
        assert decided.status_code == 200 and decided.json()["order_case_no"] == f"DD-{YEAR}-000007", decided.text
        assert await _named(p, user, made["application_id"]) == (f"DD-{YEAR}-000007",) * 3
        queue = (await call(p, "GET", "/v1/applications/", Role.CENTER, status=200)).json()["items"]
        assert [a["order_case_no"] for a in queue] == [f"DD-{YEAR}-000007"]


async def test_the_centers_queue_names_each_applicant_by_name(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit, first, second = reg.unit(), reg.user(), reg.user()
        orders = {u: reg.order(u, unit, case_no=f"DD-{YEAR}-00010{n}") for n, u in enumerate((first, second))}
        await reg.flush()
        await open_programme(p, auto_approve=False)
        made = {}
        for u in (first, second):
            await activate(p, u)
            made[u] = (await submit(p, u, orders[u]))["application_id"]

        queue = (await call(p, "GET", "/v1/applications/?status=submitted", Role.CENTER, status=200)).json()["items"]
        assert {a["user_id"]: a["user_name"] for a in queue} == {first: f"企业{first[:4]}", second: f"企业{second[:4]}"}
        one = (await call(p, "GET", f"/v1/applications/{made[first]}", Role.CENTER, status=200)).json()
        assert one["user_name"] == f"企业{first[:4]}"
        decided = (await approve(p, made[second])).json()
        assert decided["status"] == "approved"
        # the name is read with the application, not part of its record: its audit images leave it out
        db = p["vouchers"].db
        audit = db.metadata.tables["audit_log"]
        async with db.read() as s:
            images = (await s.execute(select(audit.c.after).where(audit.c.object_id.in_(list(made.values()))))).scalars().all()
        assert images and all("user_name" not in (image or {}) for image in images), images
