"""The catalogue's synonym dictionary as the registry answers it (issue 17's search; issue 18:
``services/registry/synonyms.py`` returns these, the API answers them as they are)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from services.runtime.http.pagination import Page, page_schema


class SynonymEntry(msgspec.Struct):
    entry_id: str
    canonical: str
    synonyms: list[str]
    created_by: str
    created_at: datetime


SynonymPage = Annotated[Page[SynonymEntry], page_schema("SynonymPage")]
