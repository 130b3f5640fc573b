"""Vouchers set-up for integration tests: registry facts published straight
to JetStream (the registry service need not run), and the vouchers API as a
client calls it."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from contracts import registry as ev
from contracts.envelope import Event, encode
from services.runtime.roles import Role
from services.runtime.bus.connect import connect_nats
from services.vouchers.db.models import (
    affiliation_view,
    blacklist_view,
    order_view,
    unit_view,
    user_view,
)
from services.vouchers.domain.applications import programme_year
from tests.support.platform import Platform
from tests.support.polling import eventually
from tests.support.responses import ok

YEAR = programme_year(datetime.now(UTC))


def uid() -> str:
    return str(uuid.uuid4())


class Registry:
    """Publishes registry facts as the registry would, and waits for vouchers' read models."""

    def __init__(self, p: Platform):
        self.p = p
        self.events: list[Event] = []
        #: per read model, each key published and the version its row must reach (None: the row's
        #: presence is all, the table keeps no version): a second fact for one user or unit is
        #: waited for too, not only the first one's row
        self.expected: dict[Any, dict[str, int | None]] = {user_view: {}, unit_view: {}, order_view: {}, affiliation_view: {}, blacklist_view: {}}

    def expect(self, table: Any, key: str, version: int | None) -> None:
        had = self.expected[table].get(key)
        self.expected[table][key] = version if had is None or version is None else max(had, version)

    def unit(self, *, accepts: bool = True, parent: str | None = None, status: str = "approved", version: int = 2, credit_code: str = "12410000MB0000000X") -> str:
        unit_id = uid()
        event_type = ev.UnitVoucherAcceptanceGranted if accepts else ev.UnitApproved
        self.events.append(
            event_type(unit_id=unit_id, version=version, name=f"单位{unit_id[:4]}", credit_code=credit_code, kind="college" if parent else "university",
                       parent_unit_id=parent, status=status, accepts_vouchers=accepts)
        )
        self.expect(unit_view, unit_id, version)
        return unit_id

    def user(
        self, *, verified: bool = True, user_id: str | None = None, version: int = 2, classes: tuple[str, ...] = ("high_tech",), credit_code: str | None = None
    ) -> str:
        user_id = user_id or uid()
        event_type = ev.UserVerified if verified else ev.UserClassesChanged
        self.events.append(event_type(user_id=user_id, version=version, name=f"企业{user_id[:4]}", kind="enterprise", classes=list(classes), in_xuchang=True, verified=verified,
                                      credit_code=credit_code))
        self.expect(user_view, user_id, version)
        return user_id

    def order(
        self, user_id: str, unit_id: str, *, fee: int = 1_000_000, purpose: str = "research", subsidy: bool = False, contract: str | None = None, case_no: str | None = None
    ) -> str:
        order_id = uid()
        self.events.append(
            ev.OrderContracted(order_id=order_id, version=3, user_id=user_id, unit_id=unit_id, instrument_ids=[uid()], status="contracted", amount_fen=fee,
                               testing_fee_fen=fee, purpose=purpose, contract_sha256=contract or hashlib.sha256(order_id.encode()).hexdigest(), provincial_subsidy=subsidy,
                               case_no=case_no)
        )
        self.expect(order_view, order_id, 3)
        return order_id

    def affiliation(self, user_id: str, unit_id: str) -> None:
        aid = uid()
        self.events.append(ev.AffiliationRecorded(affiliation_id=aid, user_id=user_id, unit_id=unit_id, kind="co_built", source="center"))
        self.expect(affiliation_view, aid, None)

    def blacklist(self, party_type: str, party_id: str) -> None:
        eid = uid()
        self.events.append(ev.BlacklistAdded(entry_id=eid, party_type=party_type, party_id=party_id, party_name="某企业", reason="虚假合同"))
        self.expect(blacklist_view, eid, None)

    async def flush(self) -> None:
        nc = await connect_nats(self.p.settings.bus("operator"), "test-registry")
        try:
            js = nc.jetstream()
            for e in self.events:
                await js.publish(type(e).subject, encode(e), headers={"Nats-Msg-Id": e.event_id})
        finally:
            await nc.close()
        self.events.clear()
        db = self.p["vouchers"].db

        async def caught_up() -> bool:
            async with db.read() as s:
                for table, wanted in self.expected.items():
                    if wanted and not _reached(wanted, await _versions(s, table, list(wanted))):
                        return False
            return True

        # a burst of thousands of facts on a loaded machine takes a while
        await eventually(caught_up, timeout=120)


async def _versions(s: Any, table: Any, keys: list[str]) -> dict[str, int | None]:
    key = table.c[table.primary_key.columns.keys()[0]]
    if "version" not in table.c:
        return dict.fromkeys((await s.execute(select(key).where(key.in_(keys)))).scalars())
    return {k: v for k, v in (await s.execute(select(key, table.c.version).where(key.in_(keys)))).all()}


def _reached(wanted: dict[str, int | None], held: dict[str, int | None]) -> bool:
    """Every key's row is there, at the version its last fact carries or later."""
    return all(k in held and (v is None or (held[k] or 0) >= v) for k, v in wanted.items())


async def call(p: Platform, method: str, path: str, role: Role | None = None, org: str | None = None, json: Any = None, status: int | None = None) -> Any:
    r = await p.call("vouchers", method, path, role=role, org=org, json=json)
    if status is not None:
        assert r.status_code == status, r.text
    return r


async def open_programme(p: Platform, budget_fen: int = 100_000_000, **kw: Any) -> dict[str, Any]:
    return (await call(p, "POST", "/v1/programmes/", Role.BUREAU, json={"year": YEAR, "budget_fen": budget_fen, **kw}, status=201)).json()


async def verified_here(p: Platform, user_id: str) -> None:
    """Until vouchers holds ``user_id`` as verified: the registry's UserVerified, on a subject with
    a consumer of its own, can come after the user's row (from UserRegistered) is there."""
    db = p["vouchers"].db

    async def verified() -> bool:
        async with db.read() as s:
            return bool((await s.execute(select(user_view.c.verified).where(user_view.c.user_id == user_id))).scalar_one_or_none())

    await eventually(verified, timeout=60)


async def activate(p: Platform, user_id: str) -> dict[str, Any]:
    return (await call(p, "POST", f"/v1/accounts/{YEAR}", Role.USER, org=user_id, status=201)).json()


async def submit(p: Platform, user_id: str, order_id: str) -> dict[str, Any]:
    return (await call(p, "POST", "/v1/applications/", Role.USER, org=user_id, json={"order_id": order_id}, status=201)).json()


async def approve(p: Platform, application_id: str) -> Any:
    return await call(p, "POST", f"/v1/applications/{application_id}/approve", Role.CENTER, json={})


async def programme(p: Platform) -> dict[str, Any]:
    return (await call(p, "GET", f"/v1/programmes/{YEAR}", status=200)).json()


async def applied_and_approved(p: Platform, user: str, order_id: str) -> dict[str, Any]:
    """The user's voucher application for a contracted order, and the center's approval:
    each asked again until vouchers has learned what it needs from the bus (the order,
    then the unit's acceptance: 422 ``voucher.unit_not_acceptor`` while the application
    is in before that fact); any other refusal of the approval fails here. The decision."""

    async def applied() -> Any:
        r = await call(p, "POST", "/v1/applications/", Role.USER, org=user, json={"order_id": order_id})
        return r.json() if r.status_code == 201 else None

    application_id = (await eventually(applied))["application_id"]

    async def approved() -> Any:
        r = await approve(p, application_id)
        if r.status_code == 422 and r.json().get("code") == "voucher.unit_not_acceptor":
            return None
        return await ok(r)

    return dict(await eventually(approved))
