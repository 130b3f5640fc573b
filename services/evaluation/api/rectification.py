"""M15 限期整改 over HTTP: the unit's rectification report, the bureau's re-check."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from services.evaluation import rectification
from services.evaluation.schemas import Rectification
from services.runtime.roles import Role
from services.runtime.http.auth import access, principal_of
from services.runtime.errors import Forbidden
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.preconditions import ETAG_HEADER, IfMatchHeader, IfNoneMatchHeader, create_only, expected_version, tagged
from services.runtime.db.service_db import ServiceDatabase


class RecheckOutcome(StrEnum):
    passed = "passed"
    failed = "failed"


class RectificationReport(msgspec.Struct, forbid_unknown_fields=True):
    report: Annotated[str, msgspec.Meta(min_length=1, max_length=10000)]
    #: an uploaded file of kind ``rectification`` (``POST /v1/evaluation-documents``)
    document_id: Annotated[str, msgspec.Meta(min_length=1, max_length=36)] | None = None


class Recheck(msgspec.Struct, forbid_unknown_fields=True):
    outcome: RecheckOutcome
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class RectificationController(Controller):
    path = "/v1/rectifications"
    tags = ["awards"]

    @post("/{year:int}/report", operation_id="submitRectificationReport", status_code=200, response_headers=ETAG_HEADER, **access(Role.UNIT))
    async def report(
        self, request: Request, db: NamedDependency[ServiceDatabase], year: FromPath[int], data: JSONBody[RectificationReport], if_match: IfMatchHeader = None,
        if_none_match: IfNoneMatchHeader = None,
    ) -> Response[Rectification]:
        """An unqualified unit reports its rectification (text, optionally a file) by the end of its
        deadline day (409 ``rectification.deadline_passed``; ``rectification.not_required`` when the
        unit has none). It may replace the report until a re-check passes it: with ``If-Match`` only
        the version read (412 when a colleague's report or the bureau's re-check came in between);
        a first report takes no ``If-Match``, and with ``If-None-Match: *`` is made only while there
        is none (412 ``request.record_exists``)."""
        org = principal_of(request).org
        if not org:
            raise Forbidden()
        body = await rectification.submit_report(
            db, actor_of(request), correlation_of(request), unit_id=org, year=year, report=data.report, document_id=data.document_id,
            expected_version=expected_version(if_match), if_match_sent=if_match is not None, only_create=create_only(if_none_match),
        )
        return tagged(body, body.version)

    @post("/{year:int}/{unit_id:str}/recheck", operation_id="recheckRectification", status_code=200, **access(Role.BUREAU))
    async def recheck(self, request: Request, db: NamedDependency[ServiceDatabase], year: FromPath[int], unit_id: FromPath[str], data: JSONBody[Recheck]) -> Rectification:
        """The bureau records the re-check of the report: ``passed`` or ``failed``, with a reason
        (409 ``rectification.not_reported`` before a report, ``rectification.already_checked`` twice)."""
        return await rectification.recheck(db, actor_of(request), correlation_of(request), unit_id=unit_id, year=year, outcome=str(data.outcome), reason=data.reason)

    @get("/{year:int}/{unit_id:str}", operation_id="getRectification", response_headers=ETAG_HEADER, **access(Role.UNIT, Role.DEPARTMENT, Role.CENTER, Role.BUREAU))
    async def read(self, request: Request, db: NamedDependency[ServiceDatabase], year: FromPath[int], unit_id: FromPath[str]) -> Response[Rectification]:
        """The unit's rectification for the year: deadline, report, re-check. The unit, its
        department, center and bureau (404 to others, and when none was required). Its
        ``version`` is the ``ETag`` once a report was made (none before)."""
        body = await rectification.get(db, actor_of(request), unit_id=unit_id, year=year)
        return tagged(body, body.version) if body.version else Response(body)
