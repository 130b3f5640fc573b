"""The credit blacklist (R26, R27) as the registry answers with it: the
bureau's record of an entry, and what the public sees of it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from services.registry.domain.parties import PartyType
from services.runtime.http.pagination import Page, page_schema


class BlacklistRecord(msgspec.Struct):
    """The bureau's view of an entry."""

    entry_id: str
    party_type: PartyType
    party_id: str
    party_name: str
    reason: str
    added_by: str
    added_at: datetime
    credit_code: str | None = None
    removed_by: str | None = None
    removed_at: datetime | None = None
    removal_reason: str | None = None


class PublicBlacklistEntry(msgspec.Struct):
    """What the public sees: no person or record-keeper ids."""

    entry_id: str
    party_type: PartyType
    party_name: str
    reason: str
    added_on: date
    credit_code: str | None = None


BlacklistPage = Annotated[Page[PublicBlacklistEntry], page_schema("BlacklistPage")]
