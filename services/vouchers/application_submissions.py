"""Submitting a voucher application (R19(1)): one per transaction, or, with
the year's ``auto_approve``, many per transaction under a rush
(``application_batches``); both run the same checks (``decide``, and R22's
``contract_applied``)."""

from __future__ import annotations

import weakref
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from contracts import vouchers as ve
from contracts.envelope import new_event_id
from services.runtime import clock, telemetry
from services.runtime.audit_image import audit_image
from services.runtime.db.case_numbers import next_case_number
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase
from services.vouchers import programmes as prog
from services.vouchers import schemas
from services.vouchers.application_batches import Job, batcher
from services.vouchers.application_steps import (
    APPLICATION_CASE_PREFIX,
    SUBMITTED,
    checked_order,
    code,
    commit_and_issue,
    contract_used_up,
    facts_for,
    load_application,
    new_claim,
    snapshot,
    stopped,
)
from services.vouchers.db.models import (
    applications,
    case_counters,
)
from services.vouchers.domain.applications import (
    decide,
    programme_year,
)
from services.vouchers.schemas import Application


async def submit(db: ServiceDatabase, actor: Actor, correlation_id: str | None, *, user_id: str, order_id: str, now: datetime | None = None) -> Application:
    """R19(1): apply on one contracted order of the user's own. With the
    year's ``auto_approve``, an application passing every check is approved
    in the same transaction; concurrent auto-approved submissions are decided
    together, many per transaction (``application_batches``)."""
    now = now or clock.utc_now()
    year = programme_year(now)
    if await _auto_approving(db, year):
        return await batcher(db, year, submit_one).submit(Job(actor, correlation_id, user_id, order_id, now, telemetry.current_carrier()))
    return await submit_one(db, actor, correlation_id, user_id=user_id, order_id=order_id, now=now)


#: years known to auto-approve, per database (a programme's ``auto_approve`` never changes once open)
_AUTO_APPROVING: weakref.WeakKeyDictionary[ServiceDatabase, set[int]] = weakref.WeakKeyDictionary()


async def _auto_approving(db: ServiceDatabase, year: int) -> bool:
    """Whether to take the batched path; the batch re-reads the programme under its lock."""
    known = _AUTO_APPROVING.setdefault(db, set())
    if year in known:
        return True
    async with db.read() as s:
        row = await prog.load(s, year)
    if row is not None and row["auto_approve"]:
        known.add(year)
        return True
    return False


async def submit_one(db: ServiceDatabase, actor: Actor, correlation_id: str | None, *, user_id: str, order_id: str, now: datetime) -> Application:
    """One submission in its own transaction (the path without batching, and
    the fallback of a batch that could not commit as a whole)."""
    year = programme_year(now)
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            s = uow.session
            programme = await prog.load(s, year)
            if programme is not None and programme["auto_approve"]:
                programme = await prog.load(s, year, lock=True)
            # the user's account row, locked: a user's submissions queue one behind the other, so two
            # orders carrying one contract cannot both pass R22's check (PostgreSQL; SQLite writes serially)
            account = await prog.load_account(s, user_id, year, lock=True)
            order = await checked_order(s, user_id=user_id, order_id=order_id, year=year, account=account)
            if (refusal := stopped(programme)) is not None:
                raise refusal
            facts = await facts_for(s, new_claim(order), order=order, programme=programme, account=account)
            policy = prog.policy_of(programme, year)
            decision = decide(policy, facts)
            row = {
                "id": new_event_id(),
                # issued once every check that refuses has passed: a refused request uses no number
                "case_no": await next_case_number(s, case_counters, APPLICATION_CASE_PREFIX, year),
                "user_id": user_id,
                "unit_id": order["unit_id"],
                "order_id": order_id,
                "order_case_no": order["case_no"],
                "contract_sha256": order["contract_sha256"],
                "year": year,
                "status": SUBMITTED,
                "amount_fen": decision.amount_fen,
                "failures": [code(c) for c in decision.failures],
                "submitted_at": now,
            }
            await s.execute(insert(applications).values(**row))
            app = await load_application(s, row["id"])
            submitted = schemas.application(app)
            await uow.emit(ve.ApplicationSubmitted(**snapshot(app)))
            await uow.audit("application.submit", "application", row["id"], after=audit_image(submitted, leave_out=schemas.READ_ALONG))
            if policy.auto_approve and decision.approvable:
                return await commit_and_issue(uow, app, decision.amount_fen, decision.cap_fen, from_status=SUBMITTED, now=now, reason="auto_approve")
            return submitted
    except IntegrityError as exc:  # a concurrent application on the same order
        raise contract_used_up(order_id) from exc
