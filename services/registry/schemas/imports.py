"""Ledger imports as the registry answers with them: the job a client polls
and the errors of a failed one (the use cases in ``services/registry/imports.py``
return these; the API answers them as they are)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from services.runtime.http.pagination import Page, page_schema


class RowError(msgspec.Struct):
    """One problem in one cell of an imported file. ``row`` is the row number
    as a spreadsheet shows it (the header is row 1); ``column`` the header name."""

    row: int | None
    column: str | None
    code: str
    message_zh: str
    message_en: str


class ImportJob(msgspec.Struct):
    """A ledger import: ``validating`` while it runs (poll ``processed_rows``
    of ``total_rows``), then ``imported`` (all rows) or ``failed`` (none, with
    every error)."""

    job_id: str
    unit_id: str
    filename: str
    sha256: str
    status: Literal["validating", "failed", "imported"]
    total_rows: int
    processed_rows: int
    created_count: int
    unchanged_count: int
    errors: list[RowError]
    created_by: str
    created_at: datetime
    finished_at: datetime | None = None


ImportJobPage = Annotated[Page[ImportJob], page_schema("ImportJobPage")]
