"""Auto-approved submissions decided many per transaction under a rush
(``application_submissions.submit`` hands them here)."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import case, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import vouchers as ve
from contracts.envelope import new_event_id
from services.runtime import clock
from services.runtime.audit_image import audit_image
from services.runtime.db.case_numbers import next_case_numbers
from services.runtime.errors import Conflict, DomainError, NotFound
from services.runtime.db.unit_of_work import Actor, UnitOfWork
from services.runtime.db.service_db import ServiceDatabase
from services.vouchers import programmes as prog
from services.vouchers import readmodel, schemas
from services.vouchers.application_steps import (
    APPLICATION_CASE_PREFIX,
    APPROVED,
    ISSUED,
    SUBMITTED,
    Lookup,
    claims_on,
    code,
    contract_used_up,
    new_claim,
    snapshot,
    stopped,
    voucher_snapshot,
)
from services.vouchers.db.models import (
    accounts,
    applications,
    case_counters,
    order_view,
    programmes,
    vouchers,
)
from services.vouchers.domain.applications import (
    ContractUse,
    contract_applied,
    decide,
    expires_at,
)
from services.vouchers.schemas import Application

# --- auto-approval in batches -------------------------------------------------
#
# Under a rush every auto-approved submission wants the programme row: one
# transaction per application queues them all on that lock. Instead the
# submissions of one process wait on a queue, and one task decides up to
# ``BATCH_MAX`` of them per transaction: the programme row is locked once, each
# application runs the same checks (``decide``) on fresh facts and on the
# budget left by the ones before it, the budget is debited once for the batch
# total by a conditional UPDATE (the CHECK constraints still stand behind it),
# and vouchers, outbox and audit rows are written in bulk (a bulk unit of work,
# each application's share ``on_behalf_of`` its request). The applications the
# batch records get their case numbers as one block (``next_case_numbers``,
# one statement on the counter row, after every decision: a refused request
# uses none), and only then are their events and audit rows written, since
# these carry the number. Across processes the
# programme lock and the conditional UPDATE still serialize batches. If a batch
# cannot commit as a whole (a concurrent process took an order, a guard
# refused), every application in it is retried on its own (``submit_one``), so
# each gets exactly the answer the unbatched path would give.

#: the most applications decided in one transaction
BATCH_MAX = 200


#: submits one application in its own transaction (``application_submissions.submit_one``)
SubmitOne = Callable[..., Awaitable[Application]]


class Job:
    __slots__ = ("actor", "correlation_id", "user_id", "order_id", "now", "carrier", "future")

    def __init__(self, actor: Actor, correlation_id: str | None, user_id: str, order_id: str, now: datetime, carrier: dict[str, str]):
        self.actor = actor
        self.correlation_id = correlation_id
        self.user_id = user_id
        self.order_id = order_id
        self.now = now
        self.carrier = carrier
        self.future: asyncio.Future[Application] = asyncio.get_running_loop().create_future()


class _BatchRefused(Exception):
    """A database guard refused the batch total: retry each application alone."""


_BATCHERS: weakref.WeakKeyDictionary[ServiceDatabase, dict[tuple[int, int], _Batcher]] = weakref.WeakKeyDictionary()


def batcher(db: ServiceDatabase, year: int, submit_one: SubmitOne) -> _Batcher:
    loop_id = id(asyncio.get_running_loop())
    per_db = _BATCHERS.setdefault(db, {})
    b = per_db.get((loop_id, year))
    if b is None:
        b = per_db[(loop_id, year)] = _Batcher(db, year, submit_one)
    return b


class _Batcher:
    """One per database, event loop and programme year. A drain task runs only
    while applications are waiting, so nothing lingers between rushes."""

    def __init__(self, db: ServiceDatabase, year: int, submit_one: SubmitOne):
        self.db = db
        self.year = year
        self.submit_one = submit_one
        self.pending: list[Job] = []
        self.draining: asyncio.Task[None] | None = None
        self.batches = 0

    async def submit(self, job: Job) -> Application:
        self.pending.append(job)
        if self.draining is None or self.draining.done():
            self.draining = asyncio.create_task(self._drain())
        return await asyncio.shield(job.future)

    async def _drain(self) -> None:
        while self.pending:
            jobs, self.pending = self.pending[:BATCH_MAX], self.pending[BATCH_MAX:]
            try:
                await self._decide_batch(jobs)
            except (IntegrityError, _BatchRefused):
                await self._one_by_one(jobs)
            except BaseException as exc:  # the transaction failed as a whole: each job gets its own answer
                if isinstance(exc, asyncio.CancelledError):
                    for j in jobs + self.pending:
                        if not j.future.done():
                            j.future.cancel()
                    raise
                await self._one_by_one(jobs)

    async def _one_by_one(self, jobs: list[Job]) -> None:
        for j in jobs:
            if j.future.done():
                continue
            try:
                j.future.set_result(await self.submit_one(self.db, j.actor, j.correlation_id, user_id=j.user_id, order_id=j.order_id, now=j.now))
            except Exception as exc:  # noqa: BLE001 - handed to the waiting request
                j.future.set_exception(exc)

    async def _decide_batch(self, jobs: list[Job]) -> None:
        outcomes: list[tuple[Job, _Decided | BaseException]] = []
        async with self.db.unit_of_work(bulk=True) as uow:
            programme = await prog.load(uow.session, self.year, lock=True)
            batch = _Batch(uow.session, self.year, programme)
            await batch.read(jobs)
            for job in jobs:
                try:
                    outcomes.append((job, batch.decide(job, uow.on_behalf_of(job.actor, job.correlation_id, carrier=job.carrier))))
                except DomainError as exc:
                    outcomes.append((job, exc))
            await batch.number_and_record()
            await batch.write()
        self.batches += 1
        for job, outcome in outcomes:
            if job.future.done():
                continue
            if isinstance(outcome, BaseException):
                job.future.set_exception(outcome)
            else:
                job.future.set_result(outcome.answer())


class _Decided:
    """One application the batch records: its rows as decided, numbered and
    recorded (events, audit) by ``_Batch.number_and_record``."""

    __slots__ = ("unit", "submitted", "row", "voucher")

    def __init__(self, unit: UnitOfWork, submitted: dict[str, Any], row: dict[str, Any], voucher: dict[str, Any] | None):
        self.unit = unit
        self.submitted = submitted
        self.row = row
        self.voucher = voucher

    def answer(self) -> Application:
        if self.voucher is None:
            return schemas.application(self.submitted)
        return schemas.application(self.row, self.voucher["id"])


class _Batch:
    """The applications of one batch, decided in order inside one transaction
    that holds the programme row: each sees the budget the ones before it
    left, their orders and contracts as held, and their users' caps as used."""

    def __init__(self, s: AsyncSession, year: int, programme: RowMapping | None):
        self.s = s
        self.year = year
        self.programme = programme
        self.running = dict(programme) if programme is not None else None
        #: None without a programme: then no user has an account, and every job is refused before its decision
        self.policy = prog.policy_of(programme, year) if programme is not None else None
        self.debit = 0
        self.approvals = 0
        self.added: dict[str, int] = {}  # user -> amount the batch committed to its cap
        self.caps: dict[str, int] = {}  # user -> the cap its decisions used
        self.app_rows: list[dict[str, Any]] = []
        self.voucher_rows: list[dict[str, Any]] = []
        self.decided: list[_Decided] = []
        #: the share of the last approval: it records the programme closing (R15)
        self.closing_unit: UnitOfWork | None = None

    async def read(self, jobs: list[Job]) -> None:
        s = self.s
        users = sorted({j.user_id for j in jobs})
        order_ids = sorted({j.order_id for j in jobs})
        lock = self.programme is not None and self.programme["auto_approve"]
        q = select(accounts).where(accounts.c.year == self.year, accounts.c.user_id.in_(users)).order_by(accounts.c.user_id)
        self.accounts = {r["user_id"]: r for r in (await s.execute(q.with_for_update() if lock else q)).mappings()}
        self.orders = {r["order_id"]: r for r in (await s.execute(select(order_view).where(order_view.c.order_id.in_(order_ids)))).mappings()}
        #: every application on these orders and contracts, whatever its status, and the batch's own (R22)
        self.claims = await claims_on(s, order_ids, (o["contract_sha256"] for o in self.orders.values()))
        self.lookup = await Lookup.read(s, set(users), {o["unit_id"] for o in self.orders.values()})

    def decide(self, job: Job, unit: UnitOfWork) -> _Decided:
        """``submit_one``'s checks and decision for one application; ``unit``
        is its request's share of the batch's unit of work, where
        ``number_and_record`` writes its events and audit rows."""
        year = self.year
        account = self.accounts.get(job.user_id)
        if account is None:
            raise Conflict("voucher.account_not_active", "请先开通本年度创新券账户", "open your voucher account for the year first", year=year)
        order = self.orders.get(job.order_id)
        if order is None or order["user_id"] != job.user_id:
            raise NotFound("order", "订单", job.order_id)
        if order["status"] != readmodel.ORDER_CONTRACTED:
            raise Conflict("voucher.order_not_contracted", "订单尚未签订合同或已取消", "the order is not (or no longer) contracted", order_status=order["status"])
        contract = order["contract_sha256"]
        claim = new_claim(order)
        use = contract_applied(claim, self.claims)
        if use is ContractUse.APPLIED:
            raise contract_used_up(job.order_id)
        if (refusal := stopped(self.running)) is not None:
            raise refusal
        added = self.added.get(job.user_id, 0)
        facts = self.lookup.facts(
            user_id=job.user_id,
            unit_id=order["unit_id"],
            order=order,
            contract_used=use is not None,
            programme=self.running,
            account={**account, "committed_fen": account["committed_fen"] + added},
        )
        policy = self.policy or prog.policy_of(self.programme, year)
        decision = decide(policy, facts)
        approved = policy.auto_approve and decision.approvable
        now = job.now
        row: dict[str, Any] = {
            "id": new_event_id(),
            "user_id": job.user_id,
            "unit_id": order["unit_id"],
            "order_id": job.order_id,
            "order_case_no": order["case_no"],
            "contract_sha256": contract,
            "year": year,
            "status": SUBMITTED,
            "amount_fen": decision.amount_fen,
            "failures": [code(c) for c in decision.failures],
            "submitted_at": now,
            "decided_at": None,
            "decided_by": None,
            "decision_reason": None,
            "appealed_at": None,
            "appeal_reason": None,
            "appeal_outcome": None,
            "appeal_decided_at": None,
            "appeal_decided_by": None,
            "appeal_decision_reason": None,
        }
        submitted = dict(row)
        if approved:
            row.update(status=APPROVED, failures=[], decided_at=now, decided_by=job.actor.label, decision_reason="auto_approve")
        self.app_rows.append(row)
        self.claims.append(msgspec.structs.replace(claim, id=row["id"], submitted_at=now, approved=approved))
        if not approved:
            self.decided.append(decided := _Decided(unit, submitted, row, None))
            return decided
        amount = decision.amount_fen
        assert self.running is not None
        self.running["committed_fen"] += amount
        self.debit += amount
        self.approvals += 1
        self.added[job.user_id] = added + amount
        self.caps[job.user_id] = max(self.caps.get(job.user_id, 0), decision.cap_fen)
        self.closing_unit = unit
        voucher = {
            "id": new_event_id(),
            "application_id": row["id"],
            "user_id": job.user_id,
            "unit_id": order["unit_id"],
            "order_id": job.order_id,
            "order_case_no": order["case_no"],
            "year": year,
            "amount_fen": amount,
            "expires_at": expires_at(year),
            "status": ISSUED,
            "issued_at": now,
        }
        self.voucher_rows.append(voucher)
        self.decided.append(decided := _Decided(unit, submitted, row, voucher))
        return decided

    async def number_and_record(self) -> None:
        """The recorded applications' case numbers, one block in one statement
        in the order they were decided; then each one's events and audit rows."""
        numbers = await next_case_numbers(self.s, case_counters, APPLICATION_CASE_PREFIX, self.year, len(self.decided))
        for d, case_no in zip(self.decided, numbers, strict=True):
            d.row["case_no"] = d.submitted["case_no"] = case_no
            unit, submitted, row, voucher = d.unit, d.submitted, d.row, d.voucher
            await unit.emit(ve.ApplicationSubmitted(**snapshot(submitted)))
            await unit.audit("application.submit", "application", row["id"], after=audit_image(schemas.application(submitted), leave_out=schemas.READ_ALONG))
            if voucher is None:
                continue
            await unit.emit(ve.ApplicationApproved(**snapshot(row)))
            await unit.emit(ve.VoucherIssued(**voucher_snapshot(voucher)))
            await unit.audit("application.approve", "application", row["id"], reason="auto_approve", before=snapshot(submitted), after=snapshot(row))
            await unit.audit("voucher.issue", "voucher", voucher["id"], after=voucher_snapshot(voucher))

    async def write(self) -> None:
        """Everything in bulk; the caps and the budget through conditional
        UPDATEs, so a guard that refuses rolls the whole batch back. The
        outbox and audit rows follow at commit (the bulk unit of work)."""
        s, year = self.s, self.year
        if self.app_rows:
            await s.execute(insert(applications), self.app_rows)
        if self.added:
            # every user's cap in one conditional UPDATE; a user who became an innovation
            # leader or gazelle gets the higher cap (R16) before the guard is checked
            users = sorted(self.added)
            amount = case(self.added, value=accounts.c.user_id)
            wanted = case(self.caps, value=accounts.c.user_id)
            cap = case((accounts.c.cap_fen < wanted, wanted), else_=accounts.c.cap_fen)
            done = await s.execute(
                update(accounts)
                .where(accounts.c.year == year, accounts.c.user_id.in_(users), cap - accounts.c.committed_fen >= amount)
                .values(cap_fen=cap, committed_fen=accounts.c.committed_fen + amount)
            )
            if done.rowcount != len(users):
                raise _BatchRefused("the cap guard refused the batch")
        if self.debit:
            done = await s.execute(
                update(programmes)
                .where(programmes.c.year == year, programmes.c.open.is_(True), programmes.c.budget_fen - programmes.c.committed_fen >= self.debit)
                .values(committed_fen=programmes.c.committed_fen + self.debit, version=programmes.c.version + self.approvals, updated_at=clock.utc_now())
            )
            if done.rowcount != 1:
                raise _BatchRefused("the budget guard refused the batch total")
            assert self.closing_unit is not None
            await prog.close_if_committed(self.closing_unit, year)
        if self.voucher_rows:
            await s.execute(insert(vouchers), self.voucher_rows)
