"""``GET /v1/audit``: each service's audit trail for the audit administrator,
and ``GET /v1/audit/verification``: the check of its hash chain that ``xciss
audit verify`` runs (the chain itself is :mod:`services.runtime.db.audit_chain`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, get
from litestar.params import Parameter
from sqlalchemy import select

from services.runtime.db.audit_chain import AuditError, verify
from services.runtime.roles import Role
from services.runtime.http.auth import access
from services.runtime.http.pagination import Page, PageNumber, PageSize, page_schema, read_page


class AuditEntry(msgspec.Struct):
    seq: int
    at: datetime
    actor: str
    actor_role: str
    action: str
    object_type: str
    object_id: str
    reason: str | None
    before: Any
    after: Any
    correlation_id: str | None
    prev_hash: str
    row_hash: str


AuditPage = Annotated[Page[AuditEntry], page_schema("AuditPage")]


class AuditVerification(msgspec.Struct):
    """The chain's check: ``ok``, the rows checked (``first_seq``..``last_seq``,
    after the prune anchor ``anchor_seq``), and, when it does not hold, the first
    broken seq, what broke there (``edited``, ``deleted``, ``inserted``,
    ``reordered`` or ``head``) and the verifier's detail (English)."""

    ok: bool
    entries_checked: int
    first_seq: int | None
    last_seq: int
    anchor_seq: int
    head_hash: str
    broken_seq: int | None = None
    broken_kind: str | None = None
    broken_detail: str | None = None


def audit_controller(db: Any) -> type[Controller]:
    """``GET /v1/audit`` for a service's database; every app gets one."""

    class AuditController(Controller):
        path = "/v1/audit"
        tags = ["audit"]

        @get("/", operation_id="listAuditEntries", summary="The audit trail (auditor only)", **access(Role.AUDITOR))
        async def index(
            self,
            actor: str | None = Parameter(default=None, max_length=200, description="who acted (token subject)"),
            action: str | None = Parameter(default=None, max_length=120, description="e.g. application.approve"),
            object_type: str | None = Parameter(default=None, max_length=60, description="the entity's type, e.g. application"),
            object_id: str | None = Parameter(default=None, max_length=64, description="the entity's id"),
            since: datetime | None = Parameter(default=None, description="from this time (inclusive, ISO 8601 with zone)"),
            until: datetime | None = Parameter(default=None, description="before this time (exclusive)"),
            page: PageNumber = 1,
            page_size: PageSize = 20,
        ) -> AuditPage:
            """The service's audit trail, newest first, for the audit administrator
            only (等保 2.0 separation of duties: not sysadmin, secadmin or bureau).
            Each entry shows its place in the hash chain; `xciss audit verify`
            checks the chain."""
            for t in (since, until):
                if t is not None and t.tzinfo is None:
                    raise AuditError("request.naive_time", "时间必须带时区（如 Z 或 +08:00）", "times need a zone (Z or +08:00)", status=400)
            log = db.metadata.tables["audit_log"]
            conds = []
            if actor is not None:
                conds.append(log.c.actor == actor)
            if action is not None:
                conds.append(log.c.action == action)
            if object_type is not None:
                conds.append(log.c.object_type == object_type)
            if object_id is not None:
                conds.append(log.c.object_id == object_id)
            if since is not None:
                conds.append(log.c.at >= since)
            if until is not None:
                conds.append(log.c.at < until)
            async with db.read() as s:
                return await read_page(
                    s, select(log).where(*conds), order_by=[log.c.seq.desc()], page=page, page_size=page_size,
                    item=lambda r: AuditEntry(**{f: r[f] for f in AuditEntry.__struct_fields__}),
                )

        @get("/verification", operation_id="verifyAuditChain", summary="The audit chain's verification (auditor only)", **access(Role.AUDITOR))
        async def verification(self) -> AuditVerification:
            """Recompute this service's audit hash chain now, the check `xciss
            audit verify` runs, for the audit administrator only: `ok`, the
            number of entries checked (`entries_checked`, seq `first_seq` to
            `last_seq`; rows through `anchor_seq` were pruned) and, for a broken
            chain, the first broken seq (`broken_seq`), what broke there
            (`broken_kind`: edited, deleted, inserted, reordered or head) and
            why (`broken_detail`, the verifier's words). A broken chain is an
            answer (200 with `ok` false), not an error."""
            async with db.read() as s:
                result = await verify(s, db.metadata)
            b = result.broken
            return AuditVerification(
                ok=result.ok,
                entries_checked=result.rows,
                first_seq=result.first_seq,
                last_seq=result.last_seq,
                anchor_seq=result.anchor_seq,
                head_hash=result.head_hash,
                broken_seq=b.seq if b else None,
                broken_kind=b.kind if b else None,
                broken_detail=b.detail if b else None,
            )

    return AuditController
