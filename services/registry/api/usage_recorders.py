"""Instrument-side recorders over HTTP (issue 16).

The unit creates a recorder for one of its instruments (its token is in the
answer once), lists and revokes them. A recorder posts with
``Authorization: Recorder <token>`` — a scheme only these routes accept (the
shared middleware leaves it to them, ``ROUTE_SCHEMES``): it checks its
instrument in and out, or posts a finished session, each safe to retry with an
``Idempotency-Key`` (keys are scoped per recorder)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from services.registry import usage, usage_recorders
from services.registry.api.usage import CheckOutRequest, Instant, SessionUse, max_session
from services.registry.domain.usage import RECORDER_NAME_MAX
from services.registry.schemas.usage import NewUsageRecorder, UsageRecorder, UsageSession
from services.runtime.http.auth import PUBLIC, Principal, access, principal_of
from services.runtime.roles import Role
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.idempotency import Idempotency, IdempotencyKeyHeader, idempotent
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings


class RecorderRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    instrument_id: Annotated[str, msgspec.Meta(min_length=1, max_length=36)]
    name: Annotated[str, msgspec.Meta(max_length=RECORDER_NAME_MAX)]


class RecorderStartRequest(SessionUse, forbid_unknown_fields=True, kw_only=True):
    #: when use began (default now)
    at: Instant | None = None


class RecorderSessionRequest(SessionUse, forbid_unknown_fields=True, kw_only=True):
    started_at: Instant
    ended_at: Instant


class UsageRecorderController(Controller):
    path = "/v1/usage/recorders"
    tags = ["usage"]

    @post("/", operation_id="createUsageRecorder", status_code=201, **access(Role.UNIT))
    async def create(self, request: Request, db: NamedDependency[ServiceDatabase], data: JSONBody[RecorderRequest]) -> NewUsageRecorder:
        """The unit creates a recorder for one of its instruments; the answer holds its secret
        ``token`` this once (only its SHA-256 is kept)."""
        p = principal_of(request)
        return await usage_recorders.create_recorder(db, actor_of(request), correlation_of(request), p.org or "", data.instrument_id, data.name)

    @get("/", operation_id="listUsageRecorders", **access(Role.UNIT))
    async def list_(
        self, request: Request, db: NamedDependency[ServiceDatabase], instrument_id: str | None = Parameter(default=None, description="only this instrument's recorders")
    ) -> list[UsageRecorder]:
        """The unit's recorders (active and revoked), newest first; never their tokens."""
        return await usage_recorders.list_recorders(db, principal_of(request).org or "", instrument_id)

    @post("/{recorder_id:str}/revoke", operation_id="revokeUsageRecorder", status_code=200, **access(Role.UNIT))
    async def revoke(self, request: Request, db: NamedDependency[ServiceDatabase], recorder_id: FromPath[str]) -> UsageRecorder:
        """The unit revokes a recorder: its token is refused from now on (409 ``usage.recorder_revoked`` if it already was)."""
        return await usage_recorders.revoke_recorder(db, actor_of(request), correlation_of(request), principal_of(request).org or "", recorder_id)


async def _recorder(request: Request, db: ServiceDatabase) -> usage_recorders.Recorder:
    """Authenticate the recorder; the request then acts as it (audit, idempotency scope)."""
    rec = await usage_recorders.authenticate(db, request.headers.get("authorization"))
    request.scope["user"] = Principal(subject=f"recorder:{rec.recorder_id}", role=Role.SERVICE, org=rec.unit_id, name="recorder")
    return rec


def _who(rec: usage_recorders.Recorder) -> usage.Recorded:
    return usage.Recorded(unit_id=rec.unit_id, recorder_id=rec.recorder_id)


class RecorderPostController(Controller):
    """What a recorder posts, about its own instrument only (``Authorization: Recorder <token>``)."""

    path = "/v1/usage/recorder"
    tags = ["usage"]

    @post("/start", operation_id="recorderStartUsage", status_code=201, **access(PUBLIC, errors=(401,)))
    async def start(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        settings: NamedDependency[Settings],
        data: JSONBody[RecorderStartRequest],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> UsageSession:
        """The recorder's instrument is in use from now (or ``at``): a session opens, as a staff check-in
        (422 ``usage.overlap`` while another is open). A missing, unknown or revoked token is 401
        ``usage.recorder_unauthenticated``."""
        rec = await _recorder(request, db)

        async def call(idem: Idempotency | None) -> UsageSession:
            return await usage.check_in(db, actor_of(request), correlation_of(request), _who(rec), rec.instrument_id, data.use(), at=data.at, idempotency=idem)

        return await idempotent(request, db, settings, idempotency_key, operation="recorderStartUsage", status=201, request_parts=(data,), render=lambda session: session, call=call)  # type: ignore[no-any-return]

    @post("/stop", operation_id="recorderStopUsage", status_code=200, **access(PUBLIC, errors=(401,)))
    async def stop(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        settings: NamedDependency[Settings],
        data: JSONBody[CheckOutRequest],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> UsageSession:
        """The recorder's instrument is no longer in use (now, or ``at``): its open session closes and is
        recorded (UsageRecorded); with nothing open, 409 ``usage.nothing_open`` (a retry with the same
        ``Idempotency-Key`` answers the first stop again)."""
        rec = await _recorder(request, db)

        async def call(idem: Idempotency | None) -> UsageSession:
            return await usage.check_out(
                db, actor_of(request), correlation_of(request), _who(rec), instrument_id=rec.instrument_id, at=data.at, max_session=max_session(settings), idempotency=idem
            )

        return await idempotent(request, db, settings, idempotency_key, operation="recorderStopUsage", status=200, request_parts=(data,), render=lambda session: session, call=call)  # type: ignore[no-any-return]

    @post("/sessions", operation_id="recorderPostUsage", status_code=201, **access(PUBLIC, errors=(401,)))
    async def post_session(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        settings: NamedDependency[Settings],
        data: JSONBody[RecorderSessionRequest],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> UsageSession:
        """The recorder posts a finished session of its instrument (start and end; UsageRecorded), with the
        same rules as the staff's entry. Safe to retry with an ``Idempotency-Key``."""
        rec = await _recorder(request, db)

        async def call(idem: Idempotency | None) -> UsageSession:
            return await usage.record_session(
                db,
                actor_of(request),
                correlation_of(request),
                _who(rec),
                rec.instrument_id,
                data.use(),
                started_at=data.started_at,
                ended_at=data.ended_at,
                max_session=max_session(settings),
                idempotency=idem,
            )

        return await idempotent(request, db, settings, idempotency_key, operation="recorderPostUsage", status=201, request_parts=(data,), render=lambda session: session, call=call)  # type: ignore[no-any-return]
