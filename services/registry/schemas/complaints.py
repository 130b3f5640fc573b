"""Complaints as the registry answers them (M11(6)): a complaint as its reader may see it,
and a year's handling deadline (issue 18: the use cases in ``services/registry/complaints.py``
return these; the API answers them as they are)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from services.registry.domain.complaints import ComplaintCategory, ComplaintStatus
from services.runtime.http.pagination import Page, page_schema


class Complaint(msgspec.Struct):
    complaint_id: str
    #: the case number people read and say (TS-2026-000123): unique, numbered per year of filing
    case_no: str
    unit_id: str
    category: ComplaintCategory
    text: str
    filed_at: datetime
    #: the policy year (Asia/Shanghai) of the filing: the year an upheld complaint counts in
    year: int
    handling_workdays: int
    #: the last day to handle it: the ``handling_workdays``-th working day after the filing day
    due_on: date
    status: ComplaintStatus
    #: open after ``due_on``
    overdue: bool
    version: int
    order_id: str | None = None
    #: center, bureau and the complainant only
    contact: str | None = None
    #: center, bureau and the complainant only
    complainant_user_id: str | None = None
    outcome_reason: str | None = None
    decided_at: datetime | None = None


ComplaintPage = Annotated[Page[Complaint], page_schema("ComplaintPage")]


class ComplaintPolicy(msgspec.Struct):
    year: int
    handling_workdays: int
    #: the bureau set no value for the year: the registry's policy file's number applies
    default: bool
    set_at: datetime | None = None
    #: the bureau's value's version, also the ``ETag`` (none while the default applies)
    version: int | None = None
