"""A credit code (统一社会信用代码) does not lock the real enterprise out (R4):
whoever registered it first, a second registration is accepted into the
center's review queue, flagged; the center verifies the real one and rejects
the other (``registry.user.rejected``, audited); at most one verified user
holds a code."""

from __future__ import annotations

import msgspec
from sqlalchemy import select

from contracts import registry as ev
from services.runtime.roles import Role
from services.vouchers.db.models import user_view
from tests.support.codes import credit_code
from tests.support.platform import Platform, running
from tests.support.polling import eventually

SERVICES = ["registry", "vouchers"]


async def test_a_second_registration_of_a_credit_code_goes_to_the_centers_review(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:

        async def call(method: str, path: str, role: Role, json: object = None, status: int | None = None, org: str | None = None) -> dict:  # type: ignore[type-arg]
            r = await p.call("registry", method, path, role=role, org=org, json=json)
            if status is not None:
                assert r.status_code == status, r.text
            return r.json()  # type: ignore[no-any-return]

        code = credit_code()
        squatter = await call("POST", "/v1/users/", Role.USER, {"name": "冒名企业", "kind": "enterprise", "classes": ["tech_sme"], "credit_code": code}, 201)
        assert (squatter["status"], squatter["duplicate_of"]) == ("pending", None)

        # the real company registers the same code: accepted and pending, not 409
        real = await call("POST", "/v1/users/", Role.USER, {"name": "许昌真实科技有限公司", "kind": "enterprise", "classes": ["tech_sme"], "credit_code": code}, 201)
        assert real["status"] == "pending" and real["credit_code"] == code
        assert real["duplicate_of"] is None  # the registrant is not told the other user's id
        queue = await call("GET", "/v1/users/?verified=false&page_size=100", Role.CENTER, status=200)
        flagged = {u["user_id"]: u["duplicate_of"] for u in queue["items"]}
        assert flagged[squatter["user_id"]] is None and flagged[real["user_id"]] == squatter["user_id"]
        assert (await call("GET", f"/v1/users/{real['user_id']}", Role.USER, org=real["user_id"], status=200))["duplicate_of"] is None

        # the center verified the squatter by mistake: the real one cannot be verified beside it
        await call("POST", f"/v1/users/{squatter['user_id']}/verify", Role.CENTER, {}, 200)
        r = await call("POST", f"/v1/users/{real['user_id']}/verify", Role.CENTER, {}, 409)
        assert r["code"] == "user.credit_code_verified" and r["details"]["holder"] == squatter["user_id"]

        # the center rejects the squatter (a reason is required; only the center; once)
        assert (await call("POST", f"/v1/users/{squatter['user_id']}/reject", Role.CENTER, {"reason": " "}, 422))["code"] == "decision.reason_required"
        await call("POST", f"/v1/users/{squatter['user_id']}/reject", Role.BUREAU, {"reason": "x"}, 403)
        await call("POST", f"/v1/users/{squatter['user_id']}/reject", Role.USER, {"reason": "x"}, 403, org=real["user_id"])
        rejected = await call("POST", f"/v1/users/{squatter['user_id']}/reject", Role.CENTER, {"reason": "营业执照与信用代码不符，系冒用"}, 200)
        assert (rejected["status"], rejected["verified"], rejected["rejection_reason"]) == ("rejected", False, "营业执照与信用代码不符，系冒用")
        assert (await call("POST", f"/v1/users/{squatter['user_id']}/reject", Role.CENTER, {"reason": "再次"}, 409))["code"] == "user.already_rejected"
        assert (await call("POST", f"/v1/users/{squatter['user_id']}/verify", Role.CENTER, {}, 409))["code"] == "user.rejected"

        # now the real company is verified and keeps the code
        verified = await call("POST", f"/v1/users/{real['user_id']}/verify", Role.CENTER, {}, 200)
        assert verified["verified"] is True
        assert (await call("GET", "/v1/users/?status=rejected", Role.CENTER, status=200))["items"][0]["user_id"] == squatter["user_id"]
        assert squatter["user_id"] not in {u["user_id"] for u in (await call("GET", "/v1/users/?verified=false&page_size=100", Role.CENTER, status=200))["items"]}
        third = await call("POST", "/v1/users/", Role.CENTER, {"name": "又一冒名企业", "kind": "enterprise", "classes": ["tech_sme"], "credit_code": code}, 201)
        assert third["duplicate_of"] == real["user_id"]  # the rejected one holds nothing
        assert (await call("POST", f"/v1/users/{third['user_id']}/verify", Role.CENTER, {}, 409))["code"] == "user.credit_code_verified"

        # the decision is audited and published; vouchers no longer counts the squatter verified
        audit = (await p.call("registry", "GET", "/v1/audit", role=Role.AUDITOR, params={"object_type": "user", "object_id": squatter["user_id"], "action": "user.reject"})).json()
        assert [(a["reason"], a["after"]["status"]) for a in audit["items"]] == [("营业执照与信用代码不符，系冒用", "rejected")]
        db = p["registry"].db
        outbox = db.metadata.tables["outbox"]
        async with db.read() as s:
            payloads = (await s.execute(select(outbox.c.payload).where(outbox.c.subject == ev.UserRejected.subject))).scalars().all()
        events = [msgspec.json.decode(x, type=ev.UserRejected) for x in payloads]
        assert [(e.user_id, e.verified, e.credit_code) for e in events] == [(squatter["user_id"], False, code)]

        async def unverified_in_vouchers() -> bool:
            async with p["vouchers"].db.read() as s:
                row = (await s.execute(select(user_view.c.verified, user_view.c.version).where(user_view.c.user_id == squatter["user_id"]))).first()
            return row is not None and row.verified is False and row.version == 3

        await eventually(unverified_in_vouchers)
