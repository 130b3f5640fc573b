"""Self-service sign-up (issue 17): an enterprise or a team creates its
account and user record in one step, signs in at once as ``user``, sees its
registration pending, then verified or rejected with the center's reason;
each refusal names its field in Chinese and English; a taken credit code
goes to the center's review; sign-ups are rate-limited per client address."""

from __future__ import annotations

from sqlalchemy import select

from services.registry.db.account_models import accounts
from services.registry.db.party_models import users
from services.runtime.roles import Role
from tests.support.accounts import PASSWORD, form, fresh_ip, login, sign_up
from tests.support.codes import credit_code, resident_id
from tests.support.platform import Platform, running


async def test_an_enterprise_signs_up_signs_in_at_once_and_sees_its_review(make_settings) -> None:
    settings = await make_settings(["registry"], login_rate_limit_per_minute=100)
    async with running(Platform(settings, ["registry"]), worker=False) as p:
        body = form()
        r = await sign_up(p, body)
        assert r.status_code == 201, r.text
        out = r.json()
        user_id = out["user"]["user_id"]
        assert out["account"]["role"] == "user" and out["account"]["org"] == user_id and out["account"]["status"] == "active"
        assert out["account"]["phone"] == "13800138000" and out["account"]["display_name"] == "王经理"
        assert out["user"]["status"] == "pending" and out["user"]["credit_code"] == body["credit_code"]
        assert PASSWORD not in r.text and "argon2" not in r.text

        # signs in at once, as the user it created, and reads its own registration: pending
        session = await login(p, body["username"])
        assert session.status_code == 201, session.text
        token = session.json()["token"]
        assert session.json()["role"] == "user" and session.json()["org"] == user_id
        mine = await p.call("registry", "GET", f"/v1/users/{user_id}", headers={"Authorization": f"Bearer {token}"})
        assert mine.status_code == 200 and mine.json()["status"] == "pending"

        # the center verifies it as today
        r = await p.call("registry", "POST", f"/v1/users/{user_id}/verify", role=Role.CENTER, json={})
        assert r.status_code == 200, r.text
        mine = await p.call("registry", "GET", f"/v1/users/{user_id}", headers={"Authorization": f"Bearer {token}"})
        assert mine.json()["status"] == "verified"

        # the same credit code again: accepted, pending, for the center to decide (credit_codes.py);
        # the registrant is not told who else gave it. The center rejects it with a reason it then sees
        again = await sign_up(p, form(credit_code=body["credit_code"], name="冒用者公司"))
        assert again.status_code == 201, again.text
        squatter = again.json()["user"]
        assert squatter["status"] == "pending" and squatter["duplicate_of"] is None
        seen_by_center = await p.call("registry", "GET", f"/v1/users/{squatter['user_id']}", role=Role.CENTER)
        assert seen_by_center.json()["duplicate_of"] == user_id
        r = await p.call("registry", "POST", f"/v1/users/{squatter['user_id']}/reject", role=Role.CENTER, json={"reason": "信用代码属于另一企业"})
        assert r.status_code == 200, r.text
        r = await p.call("registry", "GET", f"/v1/users/{squatter['user_id']}", role=Role.USER, org=squatter["user_id"])
        assert r.json()["status"] == "rejected" and r.json()["rejection_reason"] == "信用代码属于另一企业"

        # account and user were written together, with their audit rows; the contact is not audited
        async with p["registry"].db.read() as s:
            acct = (await s.execute(select(accounts).where(accounts.c.username == body["username"]))).mappings().one()
            assert acct["email"] == body["email"] and acct["org"] == user_id
            assert (await s.execute(select(users.c.id).where(users.c.id == user_id))).first() is not None
            audit = p["registry"].db.metadata.tables["audit_log"]
            rows = (await s.execute(select(audit).where(audit.c.object_id.in_([acct["id"], user_id])).order_by(audit.c.id))).mappings().all()
        assert [r["action"] for r in rows][:2] == ["user.register", "account.signup"] and rows[0]["actor"] == body["username"]
        # the user's audit image is the record as the API shows it, without the units read with one user
        assert set(rows[0]["after"]) == {
            "user_id", "version", "name", "kind", "credit_code", "classes", "special_classes", "in_xuchang", "verified", "sound_finances",
            "leader_name", "leader_id_masked", "status", "duplicate_of", "rejection_reason",
        }
        assert rows[0]["after"]["user_id"] == user_id and rows[0]["after"]["status"] == "pending"
        assert body["email"] not in str([dict(r) for r in rows]) and "13800138000" not in str([dict(r) for r in rows])


async def test_a_team_signs_up_without_a_credit_code(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False) as p:
        leader = resident_id()
        body = form(kind="team", classes=None, credit_code=None, name="智能传感创业团队", leader_name="李明", leader_id_number=leader, incubator_credit_code=credit_code(), phone=None)
        r = await sign_up(p, body)
        assert r.status_code == 201, r.text
        assert r.json()["user"]["classes"] == ["startup_team"] and r.json()["user"]["credit_code"] is None
        assert leader not in r.text
        # the same leader again: 409 at the field, and no account was left behind
        twice = form(kind="team", classes=None, credit_code=None, name="另一团队", leader_name="李明", leader_id_number=leader, incubator_credit_code=credit_code())
        r = await sign_up(p, twice)
        assert r.status_code == 409 and r.json()["code"] == "user.duplicate" and r.json()["details"]["field"] == "leader_id_number"
        assert (await login(p, twice["username"])).status_code == 401


async def test_refusals_name_their_field_in_chinese_and_english(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False) as p:
        cases = [
            (form(phone=None, email=None), "signup.contact_required", "email"),
            (form(phone="12345"), "signup.invalid_phone", "phone"),
            (form(email="not-an-address"), "signup.invalid_email", "email"),
            (form(username="A!"), "signup.invalid_username", "username"),
            (form(contact_name=" "), "signup.field_required", "contact_name"),
            (form(password="short1A"), "password.weak", "password"),
            (form(credit_code="91411002MA00000000"), "registry.credit_code_invalid", "credit_code"),
            (form(classes=[]), "signup.field_required", "classes"),
        ]
        for body, code, field in cases:
            r = await sign_up(p, body)
            assert r.status_code == 422, (code, r.text)
            problem = r.json()
            assert problem["code"] == code and problem["details"]["field"] == field, problem
            assert any("\u4e00" <= c <= "\u9fff" for c in problem["message_zh"]) and problem["message_en"]
            assert (await login(p, body["username"])).status_code == 401  # nothing was created
        # the phone alone is enough; a taken username is refused at its field
        ok = form(email=None)
        assert (await sign_up(p, ok)).status_code == 201
        r = await sign_up(p, form(username=ok["username"]))
        assert r.status_code == 409 and r.json()["code"] == "account.username_taken" and r.json()["details"]["field"] == "username"


async def test_sign_ups_are_limited_per_client_address(make_settings) -> None:
    settings = await make_settings(["registry"], recovery_rate_limit_per_hour=2)
    async with running(Platform(settings, ["registry"]), worker=False) as p:
        ip = fresh_ip()
        assert (await sign_up(p, form(), ip)).status_code == 201
        assert (await sign_up(p, form(phone="1"), ip)).status_code == 422  # a refused one counts too
        r = await sign_up(p, form(), ip)
        assert r.status_code == 429 and r.json()["code"] == "request.rate_limited"
        assert (await sign_up(p, form(), fresh_ip())).status_code == 201  # another address is not held back
