"""The usage log (issue 16) as the registry answers with it: sessions of use of
an instrument with their corrections, and the instrument-side recorders."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from services.registry.domain.usage import UsageKind, UsageSource
from services.runtime.http.pagination import Page, page_schema


class Correction(msgspec.Struct):
    before_started_at: datetime
    before_ended_at: datetime
    before_minutes: int
    after_started_at: datetime
    after_ended_at: datetime
    after_minutes: int
    reason: str
    corrected_at: datetime


class UsageSession(msgspec.Struct):
    session_id: str
    version: int
    instrument_id: str
    unit_id: str
    kind: UsageKind
    source: UsageSource
    #: open (checked in) / closed
    status: str
    started_at: datetime
    created_at: datetime
    updated_at: datetime
    corrections: list[Correction]
    order_id: str | None = None
    user_id: str | None = None
    researcher: str | None = None
    booking_id: str | None = None
    recorder_id: str | None = None
    ended_at: datetime | None = None
    #: whole minutes (once closed)
    minutes: int | None = None


UsageSessionPage = Annotated[Page[UsageSession], page_schema("UsageSessionPage")]


class UsageRecorder(msgspec.Struct):
    recorder_id: str
    instrument_id: str
    unit_id: str
    name: str
    active: bool
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class NewUsageRecorder(UsageRecorder):
    #: the secret, shown this once: send it as ``Authorization: Recorder <token>``
    token: str = ""
