"""Affiliations (R26) as the registry answers with them: the ties between
users and units, declared by either side or recorded by a reviewer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from services.registry.domain.parties import AffiliationKind, AffiliationSource
from services.runtime.http.pagination import Page, page_schema


class Affiliation(msgspec.Struct):
    affiliation_id: str
    user_id: str
    unit_id: str
    kind: AffiliationKind
    source: AffiliationSource
    recorded_by: str
    recorded_at: datetime
    note: str | None = None
    removed_by: str | None = None
    removed_at: datetime | None = None
    removal_reason: str | None = None


AffiliationPage = Annotated[Page[Affiliation], page_schema("AffiliationPage")]
