"""The credit blacklist (R26, R27) as the platform applies it: the bureau
puts a user or unit on it and takes it off; a unit on it loses its voucher
acceptance (R18). One transaction each, with the state change, its outbox
event and its audit row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from contracts import registry as ev
from contracts.envelope import new_event_id
from services.registry.audited import audited
from services.registry.db.party_models import units, users
from services.registry.db.supervision_models import blacklist
from services.registry.domain.parties import PartyType, check_reason
from services.registry.parties import revoke_acceptance_in
from services.registry.schemas.blacklist import BlacklistPage, BlacklistRecord, PublicBlacklistEntry
from services.runtime import clock
from services.runtime.clock import POLICY_ZONE
from services.runtime.errors import Conflict, NotFound
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.pagination import read_page


def entry_view(row: RowMapping | dict[str, Any]) -> BlacklistRecord:
    """An entry as the bureau sees it."""
    return BlacklistRecord(
        entry_id=row["id"],
        party_type=row["party_type"],
        party_id=row["party_id"],
        party_name=row["party_name"],
        credit_code=row["credit_code"],
        reason=row["reason"],
        added_by=row["added_by"],
        added_at=row["added_at"],
        removed_by=row["removed_by"],
        removed_at=row["removed_at"],
        removal_reason=row["removal_reason"],
    )


def public_entry(row: RowMapping) -> PublicBlacklistEntry:
    """An entry as the public sees it: no person or record-keeper ids, the day
    it was added in Beijing time."""
    return PublicBlacklistEntry(
        entry_id=row["id"],
        party_type=row["party_type"],
        party_name=row["party_name"],
        credit_code=row["credit_code"],
        reason=row["reason"],
        added_on=row["added_at"].astimezone(POLICY_ZONE).date(),
    )


def _image(entry: BlacklistRecord) -> dict[str, Any]:
    """The entry as its audit row keeps it (times as ISO 8601 text)."""
    return audited(msgspec.structs.asdict(entry))


def _snapshot(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    return {"entry_id": row["id"], "party_type": row["party_type"], "party_id": row["party_id"], "party_name": row["party_name"], "credit_code": row["credit_code"]}


_DUPLICATE_ENTRY = ("blacklist.duplicate", "该主体已在黑名单中", "the party is already on the blacklist")


async def add_to_blacklist(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, *, party_type: PartyType, party_id: str, reason: str | None
) -> BlacklistRecord:
    """The bureau puts a user or unit on the blacklist (R27). A unit also loses
    its voucher acceptance (R18: no bad credit record)."""
    text = check_reason(reason, required=True, what_zh="列入黑名单", what_en="a blacklisting") or ""
    now = clock.utc_now()
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            party = await party_row(uow.session, party_type, party_id)
            if await on_blacklist(uow.session, party_type, party_id):
                raise Conflict(*_DUPLICATE_ENTRY)
            entry = await blacklist_in(uow, party_type, party, text, now)
    except IntegrityError as exc:
        raise Conflict(*_DUPLICATE_ENTRY) from exc
    return entry


async def party_row(s: Any, party_type: PartyType, party_id: str) -> RowMapping:
    """The user or unit an entry or a finding concerns (404 when there is none)."""
    table = units if party_type is PartyType.UNIT else users
    party = (await s.execute(select(table).where(table.c.id == party_id))).mappings().first()
    if party is None:
        raise NotFound(str(party_type), "单位" if party_type is PartyType.UNIT else "用户", party_id)
    return party


async def on_blacklist(s: Any, party_type: PartyType, party_id: str) -> bool:
    """Whether the party has an active entry."""
    dup = select(blacklist.c.id).where(blacklist.c.party_type == str(party_type), blacklist.c.party_id == party_id, blacklist.c.removed_at.is_(None))
    return (await s.execute(dup)).first() is not None


async def blacklist_in(uow: Any, party_type: PartyType, party: RowMapping, text: str, now: datetime) -> BlacklistRecord:
    """Inside an open unit of work: the entry, ``BlacklistAdded`` and its audit row;
    a unit also loses its voucher acceptance. The caller checked no entry is active."""
    row = {
        "id": new_event_id(),
        "party_type": str(party_type),
        "party_id": party["id"],
        "party_name": party["name"],
        "credit_code": party["credit_code"],
        "reason": text,
        "added_by": uow.actor.subject,
        "added_at": now,
        "removed_by": None,
        "removed_at": None,
        "removal_reason": None,
    }
    await uow.session.execute(insert(blacklist).values(**row))
    await uow.emit(ev.BlacklistAdded(**_snapshot(row), reason=text))
    entry = entry_view(row)
    await uow.audit("blacklist.add", "blacklist", row["id"], reason=text, after=_image(entry))
    if party_type is PartyType.UNIT:
        await revoke_acceptance_in(uow, party, f"列入黑名单 / blacklisted: {text}", now)
    return entry


async def remove_from_blacklist(db: ServiceDatabase, actor: Actor, correlation_id: str | None, entry_id: str, *, reason: str | None) -> BlacklistRecord:
    """The bureau takes a party off the blacklist. Voucher acceptance is not
    restored: the unit applies again."""
    text = check_reason(reason, required=True, what_zh="移出黑名单", what_en="a removal from the blacklist") or ""
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = (await s.execute(select(blacklist).where(blacklist.c.id == entry_id))).mappings().first()
        if row is None:
            raise NotFound("blacklist_entry", "黑名单记录", entry_id)
        if row["removed_at"] is not None:
            raise Conflict("blacklist.already_removed", "该记录已移出黑名单", "the entry was already removed")
        changed = await s.execute(
            update(blacklist).where(blacklist.c.id == entry_id, blacklist.c.removed_at.is_(None)).values(removed_by=actor.subject, removed_at=now, removal_reason=text)
        )
        if changed.rowcount != 1:
            raise Conflict("blacklist.already_removed", "该记录已移出黑名单", "the entry was already removed")
        after = (await s.execute(select(blacklist).where(blacklist.c.id == entry_id))).mappings().one()
        await uow.emit(ev.BlacklistRemoved(**_snapshot(after), reason=text))
        entry = entry_view(after)
        await uow.audit("blacklist.remove", "blacklist", entry_id, reason=text, before=_image(entry_view(row)), after=_image(entry))
    return entry


async def list_blacklist(db: ServiceDatabase, *, page: int, page_size: int) -> BlacklistPage:
    """The public blacklist: active entries, newest first (``public_entry``)."""
    active = blacklist.c.removed_at.is_(None)
    async with db.read() as s:
        return await read_page(s, select(blacklist).where(active), order_by=[blacklist.c.added_at.desc(), blacklist.c.id], page=page, page_size=page_size, item=public_entry)
