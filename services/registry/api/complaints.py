"""Complaints over HTTP (M11(6) 接受社会监督).

Filing is public (no sign-in needed; through the gateway it is rate-limited
per client like every other request, objections to notices included); a
signed-in user's complaint is its own to follow. The center decides; center
and bureau read every complaint, the unit concerned its own without the
complainant's contact, the complainant its own; nobody else (404)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from services.registry import complaints
from services.registry.schemas.complaints import Complaint, ComplaintPage, ComplaintPolicy
from services.registry.domain.complaints import (
    ComplaintCategory,
    ComplaintPolicies,
    ComplaintStatus,
    Outcome,
)
from services.runtime.http.auth import PUBLIC, Principal, access, principal_of
from services.runtime.roles import Role
from services.runtime.errors import NotFound
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.pagination import PageNumber, PageSize
from services.runtime.http.preconditions import ETAG_HEADER, IfMatchHeader, IfNoneMatchHeader, create_only, expected_version, tagged
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.workdays import WorkdayCalendar

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=36)]
Year = Annotated[int, msgspec.Meta(ge=2000, le=2100)]


class ComplaintRequest(msgspec.Struct, forbid_unknown_fields=True):
    """A complaint about a unit (``unit_id``) or, by its signed-in user, one of its orders (``order_id``).
    The texts' lengths are the domain's (``check_text``): a longer one is 422 ``complaint.field_too_long``
    with ``details.field`` and ``details.limit``, not a bare 400."""

    category: ComplaintCategory
    text: str
    unit_id: Id | None = None
    order_id: Id | None = None
    #: how the center can reach the complainant (name, phone, e-mail); never shown to the unit
    contact: str | None = None


class DecisionRequest(msgspec.Struct, forbid_unknown_fields=True):
    outcome: Outcome
    #: its length is the domain's (``MAX_REASON_CHARS``, 422 ``complaint.field_too_long``)
    reason: str | None = None


class PolicyRequest(msgspec.Struct, forbid_unknown_fields=True):
    handling_workdays: int
    reason: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


def _tagged(out: ComplaintPolicy) -> Response[ComplaintPolicy]:
    """The policy, with its ``ETag`` once the bureau has set it."""
    return Response(out) if out.version is None else tagged(out, out.version)


def _reader(p: Principal) -> complaints.Reader:
    if p.role in (Role.CENTER, Role.BUREAU):
        return complaints.STAFF
    if p.role is Role.UNIT:
        return complaints.Reader("unit", p.org)
    if p.role is Role.USER:
        return complaints.Reader("user", p.org)
    return complaints.Reader("nobody")


class ComplaintController(Controller):
    path = "/v1/complaints"
    tags = ["complaints"]

    @post("/", operation_id="fileComplaint", status_code=201, **access(PUBLIC))
    async def file(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        calendar: NamedDependency[WorkdayCalendar],
        complaint_policy: NamedDependency[ComplaintPolicies],
        data: JSONBody[ComplaintRequest],
    ) -> Complaint:
        """Anybody complains about a unit, in a category, with a text and an optional contact (M11(6));
        a signed-in user may name one of its own orders instead (another's order: 404). The answer
        carries the deadline (``due_on``). 422 ``complaint.field_required`` / ``complaint.field_too_long``
        (``details.field``; too long: ``details.limit``, the most characters taken), ``complaint.subject_required``, ``complaint.unknown_unit``, ``complaint.unit_mismatch``."""
        p = principal_of(request)
        user_id = p.org if p.role is Role.USER else None
        body = await complaints.file_complaint(
            db,
            calendar,
            actor_of(request),
            correlation_of(request),
            user_id=user_id,
            unit_id=data.unit_id,
            order_id=data.order_id,
            category=data.category,
            text=data.text,
            contact=data.contact,
            defaults=complaint_policy,
        )
        return body

    @get("/", operation_id="listComplaints", **access(Role.CENTER, Role.BUREAU, Role.UNIT, Role.USER))
    async def list_(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        status: ComplaintStatus | None = Parameter(default=None, description="only complaints in this status"),
        overdue: bool | None = Parameter(default=None, description="true: only open complaints past their deadline"),
        unit_id: str | None = Parameter(default=None, max_length=36),
        year: int | None = Parameter(default=None, ge=2000, le=2100),
        case_no: str | None = Parameter(default=None, max_length=40, description="the complaint with this case number (TS-2026-000123; case and spaces aside)"),
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> ComplaintPage:
        """Complaints by deadline, the overdue first: center and bureau every one, a unit those about
        it (without the complainant's contact), a user its own."""
        found = await complaints.list_complaints(
            db, _reader(principal_of(request)), status=status, overdue=overdue, unit_id=unit_id, year=year, case_no=case_no, page=page, page_size=page_size
        )
        return found

    @get("/{complaint_id:str}", operation_id="getComplaint", **access(Role.CENTER, Role.BUREAU, Role.UNIT, Role.USER))
    async def get_(self, request: Request, db: NamedDependency[ServiceDatabase], complaint_id: FromPath[str]) -> Complaint:
        """One complaint, for center, bureau, the unit concerned (no contact) and its signed-in complainant; else 404."""
        return await complaints.get_complaint(db, complaint_id, _reader(principal_of(request)))

    @post("/{complaint_id:str}/decision", operation_id="decideComplaint", status_code=200, **access(Role.CENTER))
    async def decide(self, request: Request, db: NamedDependency[ServiceDatabase], complaint_id: FromPath[str], data: JSONBody[DecisionRequest]) -> Complaint:
        """The center upholds or dismisses an open complaint with a reason (audited; upheld emits
        ``registry.complaint.upheld.v1``, counted in the unit's evaluation). 422
        ``complaint.field_required`` / ``complaint.field_too_long`` (``details.field`` = ``reason``,
        ``details.limit``); 409 ``complaint.already_decided``."""
        body = await complaints.decide(db, actor_of(request), correlation_of(request), complaint_id, outcome=data.outcome, reason=data.reason)
        return body

    @get("/policies/{year:int}", operation_id="getComplaintPolicy", response_headers=ETAG_HEADER, **access(PUBLIC))
    async def policy(self, db: NamedDependency[ServiceDatabase], complaint_policy: NamedDependency[ComplaintPolicies], year: FromPath[int]) -> Response[ComplaintPolicy]:
        """The year's handling deadline in working days (public); ``default``: the registry's
        policy file's number for the year, the bureau has not set one (then no ``ETag``:
        there is no stored value to match yet)."""
        if not 2000 <= year <= 2100:
            raise NotFound("complaint_policy", "投诉处理时限", str(year))
        return _tagged(await complaints.policy(db, year, complaint_policy))

    @put("/policies/{year:int}", operation_id="setComplaintPolicy", response_headers=ETAG_HEADER, **access(Role.BUREAU))
    async def set_policy(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        complaint_policy: NamedDependency[ComplaintPolicies],
        year: FromPath[int],
        data: JSONBody[PolicyRequest],
        if_match: IfMatchHeader = None,
        if_none_match: IfNoneMatchHeader = None,
    ) -> Response[ComplaintPolicy]:
        """The bureau sets the year's handling deadline (1–250 working days, 422 ``complaint.invalid_deadline``);
        complaints filed from then on take it, earlier ones keep theirs. Audited. With ``If-Match``
        only the version read is replaced (412 otherwise); a year still on the default takes no
        ``If-Match`` (a tag or ``*`` is 412: nothing is stored yet); with ``If-None-Match: *`` only a
        year still on the default is set (412 ``request.record_exists`` when the bureau set it already)."""
        if not 2000 <= year <= 2100:
            raise NotFound("complaint_policy", "投诉处理时限", str(year))
        return _tagged(await complaints.set_policy(
            db, actor_of(request), correlation_of(request), year, handling_workdays=data.handling_workdays, reason=data.reason, defaults=complaint_policy,
            expected_version=expected_version(if_match), if_match_sent=if_match is not None, only_create=create_only(if_none_match),
        ))
