"""Registry use cases of instrument schedules (issue 16): the owner unit sets
an instrument's weekly hours and booking limits, adds downtime (which cancels
the bookings under it, with the downtime's reason), and records which people
are trained on a self-operated instrument. Anybody reads a listed
instrument's free and busy time, never who booked it.

Every write is one transaction with its audit row. Writes about one
instrument's time take its schedule row ``FOR UPDATE`` on PostgreSQL (SQLite
serialises writers anyway), so a downtime and a booking never cross unseen.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import bindparam, insert, literal, select, true, union_all, update
from sqlalchemy.engine import RowMapping

from contracts.envelope import new_event_id
from services.registry.booking_notices import announce
from services.registry.db.account_models import accounts
from services.registry.db.booking_models import (
    bookings,
    instrument_downtimes,
    instrument_qualifications,
    instrument_schedules,
)
from services.registry.db.instrument_models import instruments
from services.registry.domain.bookings import CANCELLABLE, HOLDING, BookingStatus, require_zone
from services.registry.domain.parties import check_reason
from services.registry.domain.schedules import (
    MAX_BOOKING_MINUTES,
    WEEKDAYS,
    Approval,
    OperatedBy,
    Schedule,
    check_schedule,
    hhmm,
    merge,
    open_intervals,
    parse_weekly,
    subtract,
)
from services.registry.instruments import IN_SERVICE
from services.registry.schemas.schedules import Availability, BusyInterval, Downtime, InstrumentSchedule, Interval, Qualification
from services.runtime import clock
from services.runtime.roles import Role
from services.runtime.errors import Conflict, DomainError, NotFound
from services.runtime.db.unit_of_work import Actor
from services.runtime.http.preconditions import write_versioned
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.workdays import WorkdayCalendar

#: the longest range the availability answers (six weeks)
MAX_AVAILABILITY_DAYS = 42
_HOLDING = [str(s) for s in HOLDING]
_CANCELLABLE = [str(s) for s in CANCELLABLE]


def instrument_not_found(instrument_id: str) -> NotFound:
    return NotFound("instrument", "仪器", instrument_id)


async def owned_instrument(s: Any, instrument_id: str, actor: Actor) -> RowMapping:
    """The instrument, when the actor's unit owns it (anybody else: 404, nothing leaks)."""
    row = (await s.execute(select(instruments).where(instruments.c.id == instrument_id))).mappings().first()
    if row is None or actor.role != str(Role.UNIT) or actor.org != row["unit_id"]:
        raise instrument_not_found(instrument_id)
    return row


def schedule_of(row: RowMapping | dict[str, Any]) -> Schedule:
    return Schedule(
        weekly=parse_weekly(row["weekly_hours"]),
        closed_on_holidays=row["closed_on_holidays"],
        open_on_makeup_days=row["open_on_makeup_days"],
        slot_minutes=row["slot_minutes"],
        min_minutes=row["min_minutes"],
        max_minutes=row["max_minutes"],
        book_ahead_days=row["book_ahead_days"],
        book_before_minutes=row["book_before_minutes"],
        cancel_before_hours=row["cancel_before_hours"],
        operated_by=OperatedBy(row["operated_by"]),
        approval=Approval(row["approval"]),
    )


def schedule_view(instrument_id: str, s: Schedule, version: int) -> InstrumentSchedule:
    """A schedule as the API shows it (and the audit keeps it)."""
    return InstrumentSchedule(
        instrument_id=instrument_id,
        weekly_hours={d: [[hhmm(a), hhmm(b)] for a, b in s.weekly[d]] for d in WEEKDAYS},
        closed_on_holidays=s.closed_on_holidays,
        open_on_makeup_days=s.open_on_makeup_days,
        slot_minutes=s.slot_minutes,
        min_minutes=s.min_minutes,
        max_minutes=s.max_minutes,
        book_ahead_days=s.book_ahead_days,
        book_before_minutes=s.book_before_minutes,
        cancel_before_hours=s.cancel_before_hours,
        operated_by=str(s.operated_by),
        approval=str(s.approval),
        version=version,
    )


async def locked_schedule(s: Any, instrument_id: str) -> RowMapping | None:
    """The schedule row, locked for the rest of the transaction (PostgreSQL)."""
    q = select(instrument_schedules).where(instrument_schedules.c.instrument_id == instrument_id).with_for_update()
    return (await s.execute(q)).mappings().first()


def no_schedule(instrument_id: str) -> DomainError:
    return DomainError("booking.no_schedule", "该仪器尚未公布开放时间，暂不接受预约", "the instrument has no published schedule and takes no bookings", instrument_id=instrument_id)


async def visible_instrument(s: Any, instrument_id: str, actor: Actor) -> RowMapping:
    """A listed, in-service instrument for anybody; otherwise only for its unit and staff (else 404)."""
    row = (await s.execute(select(instruments.c.unit_id, instruments.c.listed_on, instruments.c.status).where(instruments.c.id == instrument_id))).mappings().first()
    if row is None:
        raise instrument_not_found(instrument_id)
    public = row["listed_on"] is not None and row["status"] == IN_SERVICE
    own = actor.role == str(Role.UNIT) and actor.org == row["unit_id"]
    if not (public or own or actor.role in (str(Role.CENTER), str(Role.BUREAU))):
        raise instrument_not_found(instrument_id)
    return row


async def get_schedule(db: ServiceDatabase, actor: Actor, instrument_id: str) -> InstrumentSchedule:
    async with db.read() as s:
        await visible_instrument(s, instrument_id, actor)
        row = (await s.execute(select(instrument_schedules).where(instrument_schedules.c.instrument_id == instrument_id))).mappings().first()
        if row is None:
            raise no_schedule(instrument_id)
        return schedule_view(instrument_id, schedule_of(row), row["version"])


async def set_schedule(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, instrument_id: str, values: dict[str, Any], *, expected_version: int | None = None, if_match_sent: bool = False,
    only_create: bool = False,
) -> InstrumentSchedule:
    """The owner unit sets the whole schedule; omitted settings take the defaults.
    ``expected_version`` (an If-Match): only that version is replaced (412); the
    first schedule takes no If-Match at all (``if_match_sent``: ``*`` too is 412);
    ``only_create`` (If-None-Match: *): a schedule set already is 412 ``request.record_exists``.
    The write is conditional on the version read (``WHERE version = …``, or an
    insert that fails on a row created meanwhile): 409 ``schedule.concurrent_change``."""
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        inst = await owned_instrument(s, instrument_id, actor)  # before the body: an outsider learns nothing
        kw = dict(values)
        weekly_hours = kw.pop("weekly_hours", None)
        if weekly_hours is not None:
            kw["weekly"] = parse_weekly(weekly_hours)
        sched = check_schedule(Schedule(**kw))
        before = await locked_schedule(s, instrument_id)
        row = {
            **{k: v for k, v in msgspec.structs.asdict(schedule_view(instrument_id, sched, 0)).items() if k not in ("instrument_id", "version")},
            "unit_id": inst["unit_id"],
            "updated_by": actor.label,
            "updated_at": now,
        }
        version = await write_versioned(
            s, instrument_schedules, {"instrument_id": instrument_id}, row, before, expected=expected_version, if_match_sent=if_match_sent, only_create=only_create
        )
        if version is None:
            raise Conflict("schedule.concurrent_change", "该仪器的开放时间正被他人修改，请刷新后重试", "the schedule changed meanwhile; reload it and apply your change again")
        after = schedule_view(instrument_id, sched, version)
        old = schedule_view(instrument_id, schedule_of(before), before["version"]) if before is not None else None
        await uow.audit("instrument.schedule", "instrument", instrument_id, before=old, after=after)
        return after


def _downtime(r: RowMapping, cancelled_booking_ids: list[str] | None = None) -> Downtime:
    return Downtime(
        downtime_id=r["id"],
        instrument_id=r["instrument_id"],
        starts_at=r["starts_at"],
        ends_at=r["ends_at"],
        reason=r["reason"],
        created_at=r["created_at"],
        cancelled_booking_ids=cancelled_booking_ids or [],
    )


async def add_downtime(db: ServiceDatabase, actor: Actor, correlation_id: str | None, instrument_id: str, *, starts_at: datetime, ends_at: datetime, reason: str | None) -> Downtime:
    """Downtime over existing bookings cancels them, with the downtime's reason
    (``registry.booking.cancelled.v1`` for each, so their users can be notified)."""
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        await owned_instrument(s, instrument_id, actor)
        require_zone(starts_at, "starts_at")
        require_zone(ends_at, "ends_at")
        if ends_at <= starts_at:
            raise DomainError("downtime.empty_range", "停机结束时间须晚于开始时间", "the downtime must end after it starts", field="ends_at")
        text = check_reason(reason, required=True, what_zh="停机", what_en="a downtime")
        await locked_schedule(s, instrument_id)
        did = new_event_id()
        await s.execute(insert(instrument_downtimes).values(id=did, instrument_id=instrument_id, starts_at=starts_at, ends_at=ends_at, reason=text, created_by=actor.label, created_at=now))
        hit = bookings.c.instrument_id == instrument_id, bookings.c.status.in_(_CANCELLABLE), bookings.c.starts_at < ends_at, bookings.c.ends_at > starts_at
        cancelled = [r[0] for r in (await s.execute(select(bookings.c.id).where(*hit).order_by(bookings.c.starts_at))).all()]
        if cancelled:
            await s.execute(
                update(bookings)
                .where(bookings.c.id.in_(cancelled))
                .values(status=str(BookingStatus.cancelled), reason=text, decided_by=actor.label, decided_party="unit", decided_at=now, downtime_id=did, updated_at=now, version=bookings.c.version + 1)
            )
            for r in (await s.execute(select(bookings).where(bookings.c.id.in_(cancelled)).order_by(bookings.c.starts_at))).mappings().all():
                await announce(uow, r)
        row = (await s.execute(select(instrument_downtimes).where(instrument_downtimes.c.id == did))).mappings().one()
        after = _downtime(row, cancelled)
        image = {**msgspec.structs.asdict(after), "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat(), "created_at": now.isoformat()}
        await uow.audit("instrument.downtime", "instrument", instrument_id, reason=text, after=image)
        return after


async def list_downtimes(db: ServiceDatabase, actor: Actor, instrument_id: str, *, since: datetime) -> list[Downtime]:
    require_zone(since, "since")
    async with db.read() as s:
        await visible_instrument(s, instrument_id, actor)
        q = select(instrument_downtimes).where(instrument_downtimes.c.instrument_id == instrument_id, instrument_downtimes.c.ends_at > since).order_by(instrument_downtimes.c.starts_at)
        return [_downtime(r) for r in (await s.execute(q)).mappings().all()]


def _qualification(r: RowMapping, now: datetime) -> Qualification:
    return Qualification(
        qualification_id=r["id"],
        instrument_id=r["instrument_id"],
        account_id=r["account_id"],
        username=r["username"],
        user_id=r["user_id"],
        valid_until=r["valid_until"],
        granted_at=r["granted_at"],
        revoked_at=r["revoked_at"],
        revoke_reason=r["revoke_reason"],
        in_force=r["revoked_at"] is None and now.astimezone(clock.POLICY_ZONE).date() <= r["valid_until"],
    )


def _qualifications_query() -> Any:
    return select(instrument_qualifications, accounts.c.username).join(accounts, accounts.c.id == instrument_qualifications.c.account_id)


async def grant_qualification(db: ServiceDatabase, actor: Actor, correlation_id: str | None, instrument_id: str, *, username: str, valid_until: date) -> Qualification:
    """The owner unit records that a person (an account of a user organisation) is trained
    on the instrument until ``valid_until``; granting again renews it (and lifts a revocation)."""
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        await owned_instrument(s, instrument_id, actor)
        if valid_until < now.astimezone(clock.POLICY_ZONE).date():
            raise DomainError("qualification.expired", "资格有效期不能早于今天", "the qualification cannot expire before today", field="valid_until")
        person = (await s.execute(select(accounts).where(accounts.c.username == username))).mappings().first()
        if person is None or person["role"] != str(Role.USER) or person["org"] is None:
            raise DomainError("qualification.not_a_user_person", "该账号不是用户单位的人员账号", "the account is not a person of a user organisation", field="username", username=username)
        found = (await s.execute(select(instrument_qualifications).where(instrument_qualifications.c.instrument_id == instrument_id, instrument_qualifications.c.account_id == person["id"]))).mappings().first()
        values = {"valid_until": valid_until, "user_id": person["org"], "granted_by": actor.label, "granted_at": now, "revoked_at": None, "revoked_by": None, "revoke_reason": None}
        if found is None:
            qid = new_event_id()
            await s.execute(insert(instrument_qualifications).values(id=qid, instrument_id=instrument_id, account_id=person["id"], **values))
        else:
            qid = found["id"]
            await s.execute(update(instrument_qualifications).where(instrument_qualifications.c.id == qid).values(**values))
        row = (await s.execute(_qualifications_query().where(instrument_qualifications.c.id == qid))).mappings().one()
        after = _qualification(row, now)
        await uow.audit("instrument.qualification_grant", "instrument", instrument_id, after={"username": username, "account_id": person["id"], "valid_until": valid_until.isoformat()})
        return after


async def revoke_qualification(db: ServiceDatabase, actor: Actor, correlation_id: str | None, instrument_id: str, qualification_id: str, *, reason: str | None) -> Qualification:
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        await owned_instrument(s, instrument_id, actor)
        text = check_reason(reason, required=True, what_zh="撤销资格", what_en="a revocation")
        q = instrument_qualifications.c.id == qualification_id, instrument_qualifications.c.instrument_id == instrument_id
        done = await s.execute(update(instrument_qualifications).where(*q, instrument_qualifications.c.revoked_at.is_(None)).values(revoked_at=now, revoked_by=actor.label, revoke_reason=text))
        row = (await s.execute(_qualifications_query().where(*q))).mappings().first()
        if row is None:
            raise NotFound("qualification", "培训资格", qualification_id)
        if not done.rowcount:
            raise DomainError("qualification.already_revoked", "该资格已被撤销", "the qualification is already revoked", status=409)
        await uow.audit("instrument.qualification_revoke", "instrument", instrument_id, reason=text, after={"qualification_id": qualification_id, "account_id": row["account_id"]})
        return _qualification(row, now)


async def list_qualifications(db: ServiceDatabase, actor: Actor, instrument_id: str) -> list[Qualification]:
    now = clock.utc_now()
    async with db.read() as s:
        await owned_instrument(s, instrument_id, actor)
        q = _qualifications_query().where(instrument_qualifications.c.instrument_id == instrument_id).order_by(accounts.c.username)
        return [_qualification(r, now) for r in (await s.execute(q)).mappings().all()]


def _check_range(start: datetime, end: datetime) -> None:
    require_zone(start, "from")
    require_zone(end, "to")
    if end <= start:
        raise DomainError("availability.empty_range", "结束时间须晚于开始时间", "``to`` must lie after ``from``", field="to")
    if end - start > timedelta(days=MAX_AVAILABILITY_DAYS):
        raise DomainError("availability.range_too_long", f"一次最多查询 {MAX_AVAILABILITY_DAYS} 天", f"ask for at most {MAX_AVAILABILITY_DAYS} days at a time", field="to", limit_days=MAX_AVAILABILITY_DAYS)


#: the schedule's settings ``schedule_of`` reads
_SCHEDULE_COLUMNS = (
    "weekly_hours", "closed_on_holidays", "open_on_makeup_days", "slot_minutes", "min_minutes", "max_minutes",
    "book_ahead_days", "book_before_minutes", "cancel_before_hours", "operated_by", "approval",
)


def _availability_query() -> Any:
    """The instrument, its schedule and its busy spans in [:start, :end), one row per span
    (one row with null spans when there are none): one round trip, built once."""
    iid, start, end = bindparam("iid"), bindparam("start"), bindparam("end")
    booked = select(bookings.c.starts_at, bookings.c.ends_at, literal("booked").label("kind")).where(
        bookings.c.instrument_id == iid,
        bookings.c.status.in_(_HOLDING),
        bookings.c.starts_at < end,
        # no booking is longer than MAX_BOOKING_MINUTES: a lower bound keeps the (instrument_id, starts_at) scan short
        bookings.c.starts_at > bindparam("low"),
        bookings.c.ends_at > start,
    )
    down = select(instrument_downtimes.c.starts_at, instrument_downtimes.c.ends_at, literal("downtime").label("kind")).where(
        instrument_downtimes.c.instrument_id == iid, instrument_downtimes.c.starts_at < end, instrument_downtimes.c.ends_at > start
    )
    spans = union_all(booked, down).subquery("spans")
    sched = instrument_schedules.c
    return (
        select(
            instruments.c.listed_on,
            instruments.c.status,
            sched.instrument_id.label("scheduled"),
            *(sched[name] for name in _SCHEDULE_COLUMNS),
            spans.c.starts_at,
            spans.c.ends_at,
            spans.c.kind,
        )
        .select_from(instruments.outerjoin(instrument_schedules, sched.instrument_id == instruments.c.id).outerjoin(spans, true()))
        .where(instruments.c.id == iid)
    )


_AVAILABILITY = _availability_query()
#: bounds bound when the asked range is refused anyway (after the instrument's 404): nothing to scan
_NOWHERE = datetime(2000, 1, 1, tzinfo=UTC)


async def availability(db: ServiceDatabase, calendar: WorkdayCalendar, instrument_id: str, *, start: datetime, end: datetime) -> Availability:
    """Free and busy time of a listed instrument within [start, end): free is the opening
    hours from now on, less bookings and downtime; busy says only ``booked`` or ``downtime``."""
    now = clock.utc_now()
    try:
        _check_range(start, end)
        refused: DomainError | None = None
        lo, hi = start, end
    except DomainError as exc:  # raised after the instrument is found, as an unknown instrument answers 404 first
        refused, lo, hi = exc, _NOWHERE, _NOWHERE
    # one round trip on a plain connection: the instrument with its schedule and its bookings and downtime
    async with db.read_connection() as conn:
        params = {"iid": instrument_id, "start": lo, "end": hi, "low": lo - timedelta(minutes=MAX_BOOKING_MINUTES)}
        rows = (await conn.execute(_AVAILABILITY, params)).mappings().all()
    row = rows[0] if rows else None
    if row is None or row["listed_on"] is None or row["status"] != IN_SERVICE:
        raise instrument_not_found(instrument_id)
    if refused is not None:
        raise refused
    if row["scheduled"] is None:
        raise no_schedule(instrument_id)
    booked = [(r["starts_at"], r["ends_at"]) for r in rows if r["kind"] == "booked"]
    down = [(r["starts_at"], r["ends_at"]) for r in rows if r["kind"] == "downtime"]
    sched = schedule_of(row)

    # a year the official calendar does not know yet shows no free time (the calendar never
    # guesses; a booking there answers calendar.unknown_year until operators add the year)
    is_workday = calendar.workday_or_none
    free = subtract(open_intervals(sched, max(start, now), end, is_workday), booked + down) if max(start, now) < end else []

    def clip(spans: list[tuple[datetime, datetime]], kind: str) -> list[BusyInterval]:
        return [BusyInterval(starts_at=max(a, start).astimezone(UTC), ends_at=min(b, end).astimezone(UTC), kind=kind) for a, b in merge(spans)]

    return Availability(
        instrument_id=instrument_id,
        from_=start.astimezone(UTC),
        to=end.astimezone(UTC),
        slot_minutes=sched.slot_minutes,
        operated_by=str(sched.operated_by),
        free=[Interval(starts_at=a, ends_at=b) for a, b in free],
        busy=sorted(clip(booked, "booked") + clip(down, "downtime"), key=lambda b: b.starts_at),
    )
