"""Complaints (M11(6) 接受社会监督): filing, handling within a per-year number
of working days, reading, and the per-year deadline.

* **Filing.** Anybody complains about a unit (the public anonymously, with an
  optional contact); a signed-in user may also complain about one of its own
  orders (the order names the unit; anybody else's order does not exist for
  them, R23). The deadline is fixed at filing: the N-th working day after the
  local filing day, N the year's ``complaint_policies`` value or, for a year
  the bureau has not set, the registry's policy file's.
* **Handling.** The center upholds or dismisses an open complaint once, with
  a reason; both are audited. An upheld complaint emits ``ComplaintUpheld``
  (unit, year of filing), which evaluation counts in the unit's complaints
  indicator.
* **Reading.** Center and bureau see every complaint with the complainant's
  contact; the unit concerned sees its complaints without the contact or the
  complainant's identity; a signed-in complainant sees its own. To anybody
  else a complaint does not exist (404).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import msgspec
from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.engine import RowMapping

from contracts import registry as ev
from contracts.envelope import new_event_id
from services.registry.db.order_models import case_counters, orders
from services.registry.db.oversight_models import complaint_policies, complaints
from services.registry.db.party_models import units
from services.registry.schemas.complaints import Complaint, ComplaintPolicy
from services.registry.domain.complaints import (
    MAX_CONTACT_CHARS,
    MAX_TEXT_CHARS,
    ComplaintCategory,
    ComplaintPolicies,
    ComplaintStatus,
    Outcome,
    check_decision,
    check_handling_workdays,
    check_text,
    due_on,
    is_overdue,
)
from services.runtime import clock
from services.runtime.errors import Conflict, DomainError, NotFound
from services.runtime.db.case_numbers import next_case_number, normalise_case_number
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.preconditions import write_versioned
from services.runtime.workdays import WorkdayCalendar
from services.runtime.http.pagination import Page, read_page


@dataclass(frozen=True)
class Reader:
    """Who reads: ``staff`` (center, bureau), the ``unit`` concerned, or a signed-in ``user``."""

    kind: str
    org: str | None = None

    def sees(self, row: RowMapping) -> bool:
        if self.kind == "staff":
            return True
        if self.kind == "unit":
            return self.org is not None and row["unit_id"] == self.org
        if self.kind == "user":
            return self.org is not None and row["complainant_user_id"] == self.org
        return False

    def condition(self) -> Any:
        if self.kind == "staff":
            return None
        if self.kind == "unit":
            return complaints.c.unit_id == (self.org or "")
        if self.kind == "user":
            return complaints.c.complainant_user_id == (self.org or "")
        return complaints.c.id.is_(None)


STAFF = Reader("staff")

#: a complaint's case number: TS-<year>-<n> (投诉)
COMPLAINT_CASE_PREFIX = "TS"


def _not_found(complaint_id: str) -> NotFound:
    return NotFound("complaint", "投诉", complaint_id)


def _record(row: RowMapping, reader: Reader, today: date) -> Complaint:
    """A complaint as ``reader`` may see it: the unit never sees who complained or how to reach them."""
    private = reader.kind != "unit"
    return Complaint(
        complaint_id=row["id"],
        case_no=row["case_no"],
        unit_id=row["unit_id"],
        order_id=row["order_id"],
        category=row["category"],
        text=row["text"],
        contact=row["contact"] if private else None,
        complainant_user_id=row["complainant_user_id"] if private else None,
        filed_at=row["filed_at"],
        year=row["year"],
        handling_workdays=row["handling_workdays"],
        due_on=row["due_on"],
        status=row["status"],
        overdue=is_overdue(row["status"], row["due_on"], today),
        outcome_reason=row["outcome_reason"],
        decided_at=row["decided_at"],
        version=row["version"],
    )


async def _workdays(s: Any, year: int, defaults: ComplaintPolicies) -> int:
    """The year's handling deadline: the bureau's, else the policy file's for that year."""
    found = (await s.execute(select(complaint_policies.c.handling_workdays).where(complaint_policies.c.year == year))).scalar_one_or_none()
    return int(found) if found is not None else defaults.for_year(year).handling_workdays


async def _subject(s: Any, *, unit_id: str | None, order_id: str | None, user_id: str | None) -> tuple[str, str | None]:
    """(unit id, order id) the complaint is about; an order only its own user may name."""
    if order_id is not None:
        row = (await s.execute(select(orders.c.unit_id, orders.c.user_id).where(orders.c.id == order_id))).first()
        if row is None or user_id is None or row.user_id != user_id:
            raise NotFound("order", "订单", order_id)
        if unit_id is not None and unit_id != row.unit_id:
            raise DomainError("complaint.unit_mismatch", "订单不属于所填管理单位", "the order is not the given unit's", field="unit_id")
        return row.unit_id, order_id
    if unit_id is None:
        raise DomainError("complaint.subject_required", "请指明投诉的管理单位或订单", "name the unit or the order complained about", field="unit_id")
    if (await s.execute(select(units.c.id).where(units.c.id == unit_id))).first() is None:
        raise DomainError("complaint.unknown_unit", "所投诉的管理单位不存在", f"unit {unit_id} does not exist", field="unit_id")
    return unit_id, None


async def file_complaint(
    db: ServiceDatabase,
    calendar: WorkdayCalendar,
    actor: Actor,
    correlation_id: str | None,
    *,
    user_id: str | None,
    unit_id: str | None,
    order_id: str | None,
    category: ComplaintCategory,
    text: str,
    contact: str | None,
    defaults: ComplaintPolicies,
) -> Complaint:
    """File a complaint (``user_id``: the signed-in user filing it, None for the public);
    ``defaults``: the policy file's deadlines, for a year the bureau has not set."""
    body = check_text(text, field="text", limit=MAX_TEXT_CHARS, required=True, what_zh="投诉内容", what_en="the complaint's text")
    reach = check_text(contact, field="contact", limit=MAX_CONTACT_CHARS, required=False, what_zh="联系方式", what_en="the contact")
    now = clock.utc_now()
    filed_on = now.astimezone(clock.POLICY_ZONE).date()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        unit, order = await _subject(s, unit_id=unit_id, order_id=order_id, user_id=user_id)
        n = await _workdays(s, filed_on.year, defaults)
        values = {
            "id": new_event_id(),
            "case_no": await next_case_number(s, case_counters, COMPLAINT_CASE_PREFIX, filed_on.year),
            "unit_id": unit,
            "order_id": order,
            "category": str(ComplaintCategory(category)),
            "text": body,
            "contact": reach,
            "complainant_user_id": user_id,
            "filed_by": actor.label,
            "filed_at": now,
            "year": filed_on.year,
            "handling_workdays": n,
            "due_on": due_on(filed_on, n, calendar),
            "status": str(ComplaintStatus.open),
            "version": 1,
        }
        await s.execute(insert(complaints).values(**values))
        await uow.audit(
            "complaint.file",
            "complaint",
            values["id"],
            after={k: str(values[k]) if isinstance(values[k], date) else values[k] for k in ("case_no", "unit_id", "order_id", "category", "year", "handling_workdays", "due_on")},
        )
        row = (await s.execute(select(complaints).where(complaints.c.id == values["id"]))).mappings().one()
        if user_id is None:  # the public gets its receipt without reading rights: not even the contact it gave
            return msgspec.structs.replace(_record(row, STAFF, filed_on), contact=None)
        return _record(row, Reader("user", user_id), filed_on)


async def decide(db: ServiceDatabase, actor: Actor, correlation_id: str | None, complaint_id: str, *, outcome: Outcome, reason: str | None) -> Complaint:
    """The center upholds or dismisses an open complaint, with a reason; upheld emits ComplaintUpheld."""
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = (await s.execute(select(complaints).where(complaints.c.id == complaint_id))).mappings().first()
        if row is None:
            raise _not_found(complaint_id)
        status, text = check_decision(row["status"], outcome, reason)
        changed = await s.execute(
            update(complaints)
            .where(complaints.c.id == complaint_id, complaints.c.version == row["version"])
            .values(status=str(status), outcome_reason=text, decided_by=actor.label, decided_at=now, version=row["version"] + 1)
        )
        if changed.rowcount != 1:
            raise Conflict("complaint.concurrent_change", "该投诉正被他人处理，请刷新后重试", "the complaint changed meanwhile; reload and retry")
        overdue = is_overdue(row["status"], row["due_on"], now.astimezone(clock.POLICY_ZONE).date())
        await uow.audit("complaint.decide", "complaint", complaint_id, reason=text, before={"status": row["status"]}, after={"status": str(status), "late": overdue})
        if status is ComplaintStatus.upheld:
            await uow.emit(ev.ComplaintUpheld(complaint_id=complaint_id, case_no=row["case_no"], unit_id=row["unit_id"], order_id=row["order_id"], category=row["category"], year=row["year"]))
        after = (await s.execute(select(complaints).where(complaints.c.id == complaint_id))).mappings().one()
        return _record(after, STAFF, now.astimezone(clock.POLICY_ZONE).date())


async def get_complaint(db: ServiceDatabase, complaint_id: str, reader: Reader) -> Complaint:
    async with db.read() as s:
        row = (await s.execute(select(complaints).where(complaints.c.id == complaint_id))).mappings().first()
        if row is None or not reader.sees(row):
            raise _not_found(complaint_id)
        return _record(row, reader, clock.local_today())


async def list_complaints(
    db: ServiceDatabase,
    reader: Reader,
    *,
    status: ComplaintStatus | None,
    overdue: bool | None,
    unit_id: str | None,
    year: int | None,
    page: int,
    page_size: int,
    case_no: str | None = None,
) -> Page[Complaint]:
    """Complaints ``reader`` may see, oldest deadline first (the overdue on top);
    ``case_no`` finds one by its case number, as typed (case and spaces aside)."""
    today = clock.local_today()
    c = complaints.c
    conds: list[Any] = [cond for cond in (reader.condition(),) if cond is not None]
    if status is not None:
        conds.append(c.status == str(status))
    late = and_(c.status == str(ComplaintStatus.open), c.due_on < today)
    if overdue is True:
        conds.append(late)
    elif overdue is False:
        conds.append(or_(c.status != str(ComplaintStatus.open), c.due_on >= today))
    if unit_id is not None:
        conds.append(c.unit_id == unit_id)
    if year is not None:
        conds.append(c.year == year)
    if case_no is not None:
        conds.append(c.case_no == normalise_case_number(case_no))
    async with db.read() as s:
        return await read_page(s, select(complaints).where(*conds), order_by=[c.due_on, c.filed_at, c.id], page=page, page_size=page_size, item=lambda r: _record(r, reader, today))


async def policy(db: ServiceDatabase, year: int, defaults: ComplaintPolicies) -> ComplaintPolicy:
    """The year's handling deadline, and whether it is the policy file's (``default``, no
    ``version``: nothing stored yet) rather than the bureau's (``version``, its ETag)."""
    async with db.read() as s:
        row = (await s.execute(select(complaint_policies).where(complaint_policies.c.year == year))).mappings().first()
    if row is None:
        return ComplaintPolicy(year=year, handling_workdays=defaults.for_year(year).handling_workdays, default=True)
    return ComplaintPolicy(year=year, handling_workdays=row["handling_workdays"], default=False, set_at=row["set_at"], version=row["version"])


async def set_policy(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, year: int, *, handling_workdays: int, reason: str | None, defaults: ComplaintPolicies,
    expected_version: int | None = None, if_match_sent: bool = False, only_create: bool = False,
) -> ComplaintPolicy:
    """The bureau sets a year's handling deadline; complaints filed from now on take it.
    ``expected_version`` (an If-Match): only that version is replaced (412); a year still
    on the default has no stored version, so any If-Match (``if_match_sent``, ``*`` too)
    is 412; ``only_create`` (If-None-Match: *): a year set already is 412 ``request.record_exists``. Written only at the version read (a first value: unless one appeared
    meanwhile): 409 ``complaint.policy_concurrent_change``."""
    n = check_handling_workdays(handling_workdays)
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = (await s.execute(select(complaint_policies).where(complaint_policies.c.year == year).with_for_update())).mappings().first()
        values = {"handling_workdays": n, "set_by": actor.label, "set_at": now}
        before = defaults.for_year(year).handling_workdays if row is None else row["handling_workdays"]
        version = await write_versioned(s, complaint_policies, {"year": year}, values, row, expected=expected_version, if_match_sent=if_match_sent, only_create=only_create)
        if version is None:
            raise Conflict("complaint.policy_concurrent_change", "投诉处理时限正被他人修改，请刷新后重试", "the handling deadline changed meanwhile; reload it and apply your change again")
        await uow.audit("complaint.policy", "complaint_policy", str(year), reason=(reason or "").strip() or None, before={"handling_workdays": before}, after={"handling_workdays": n})
    return ComplaintPolicy(year=year, handling_workdays=n, default=False, set_at=now, version=version)
