"""Instrument-side recorders of the usage log (issue 16): a relay, a timer or
the instrument's PC that posts sessions with a credential of its own.

The unit creates a recorder for one of its instruments and gets its secret
token once (``xr_`` and 43 URL-safe characters, 256 bits); the registry keeps
only its SHA-256, so a leaked database reveals no token. A recorder
authenticates with ``Authorization: Recorder <token>`` on the usage API's
recorder routes only, and may post sessions of its own instrument only. The
unit lists its recorders and revokes one (at once: the next post is 401).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import msgspec
from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping

from contracts.envelope import new_event_id
from services.registry.db.instrument_models import instruments
from services.registry.db.usage_models import usage_recorders
from services.registry.domain.usage import check_recorder_name
from services.registry.schemas.usage import NewUsageRecorder, UsageRecorder
from services.runtime import clock
from services.runtime.errors import Conflict, DomainError, NotFound
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase

TOKEN_PREFIX = "xr_"
MAX_TOKEN = 200


@dataclass(frozen=True)
class Recorder:
    """An authenticated recorder."""

    recorder_id: str
    instrument_id: str
    unit_id: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def unauthenticated() -> DomainError:
    return DomainError(
        "usage.recorder_unauthenticated",
        "记录器凭据缺失、无效或已撤销（Authorization: Recorder <令牌>）",
        "a recorder authenticates with 'Authorization: Recorder <token>'; the token is missing, unknown or revoked",
        status=401,
    )


def _view(row: RowMapping) -> UsageRecorder:
    return UsageRecorder(
        recorder_id=row["id"],
        instrument_id=row["instrument_id"],
        unit_id=row["unit_id"],
        name=row["name"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
        last_used_at=row["last_used_at"],
        active=row["revoked_at"] is None,
    )


async def create_recorder(db: ServiceDatabase, actor: Actor, correlation_id: str | None, unit_id: str, instrument_id: str, name: str | None) -> NewUsageRecorder:
    """A new recorder of the unit's instrument, with its token (shown this once)."""
    text = check_recorder_name(name)
    now = clock.utc_now()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        owner = (await s.execute(select(instruments.c.unit_id).where(instruments.c.id == instrument_id))).scalar_one_or_none()
        if owner is None or owner != unit_id:
            raise NotFound("instrument", "仪器", instrument_id)
        rid = new_event_id()
        await s.execute(
            insert(usage_recorders).values(
                id=rid,
                instrument_id=instrument_id,
                unit_id=unit_id,
                name=text,
                token_sha256=token_hash(token),
                created_by=actor.label,
                created_at=now,
            )
        )
        row = (await s.execute(select(usage_recorders).where(usage_recorders.c.id == rid))).mappings().one()
        await uow.audit("usage.recorder_create", "usage_recorder", rid, after={"instrument_id": instrument_id, "name": text})
        return NewUsageRecorder(**msgspec.structs.asdict(_view(row)), token=token)


async def list_recorders(db: ServiceDatabase, unit_id: str, instrument_id: str | None) -> list[UsageRecorder]:
    """The unit's recorders (of one instrument), newest first; never their tokens."""
    t = usage_recorders.c
    conds = [t.unit_id == unit_id] + ([t.instrument_id == instrument_id] if instrument_id else [])
    async with db.read() as s:
        rows = (await s.execute(select(usage_recorders).where(*conds).order_by(t.created_at.desc(), t.id.desc()))).mappings().all()
    return [_view(r) for r in rows]


async def revoke_recorder(db: ServiceDatabase, actor: Actor, correlation_id: str | None, unit_id: str, recorder_id: str) -> UsageRecorder:
    """The unit revokes a recorder: its token is refused from now on."""
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        t = usage_recorders.c
        row = (await s.execute(select(usage_recorders).where(t.id == recorder_id))).mappings().first()
        if row is None or row["unit_id"] != unit_id:
            raise NotFound("usage_recorder", "记录器", recorder_id)
        changed = await s.execute(
            update(usage_recorders).where(t.id == recorder_id, t.revoked_at.is_(None)).values(revoked_at=now, revoked_by=actor.label)
        )
        if changed.rowcount != 1:
            raise Conflict("usage.recorder_revoked", "该记录器已撤销", "the recorder is already revoked", recorder_id=recorder_id)
        await uow.audit("usage.recorder_revoke", "usage_recorder", recorder_id, before={"active": True}, after={"active": False})
        after = (await s.execute(select(usage_recorders).where(t.id == recorder_id))).mappings().one()
        return _view(after)


async def authenticate(db: ServiceDatabase, authorization: str | None) -> Recorder:
    """The recorder an ``Authorization: Recorder <token>`` header names (active only); else 401."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "recorder" or not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN:
        raise unauthenticated()
    t = usage_recorders.c
    async with db.read() as s:
        row = (await s.execute(select(t.id, t.instrument_id, t.unit_id).where(t.token_sha256 == token_hash(token), t.revoked_at.is_(None)))).first()
    if row is None:
        raise unauthenticated()
    return Recorder(recorder_id=row.id, instrument_id=row.instrument_id, unit_id=row.unit_id)
