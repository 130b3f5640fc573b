"""Fraud findings (R27) as the registry answers with them: the bureau's record
of a finding, and the public criticism (通报批评) everyone may read (the use
cases in ``services/registry/fraud_findings.py`` return these; the API answers
them as they are)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from services.registry.domain.parties import PartyType
from services.runtime.http.pagination import Page, page_schema


class FraudFinding(msgspec.Struct):
    finding_id: str
    party_type: PartyType
    party_id: str
    party_name: str
    years: list[int]
    voucher_ids: list[str]
    award_ids: list[str]
    sanctions: list[str]
    reason: str
    recorded_by: str
    recorded_at: datetime
    evidence_ref: str | None = None
    blacklist_entry_id: str | None = None
    credit_code: str | None = None


FraudFindingPage = Annotated[Page[FraudFinding], page_schema("FraudFindingPage")]


class PublicCriticism(msgspec.Struct):
    """通报批评 (R27) as the public sees it: no person or record-keeper ids, no evidence."""

    finding_id: str
    party_type: PartyType
    party_name: str
    reason: str
    found_on: date
    credit_code: str | None = None


PublicCriticismPage = Annotated[Page[PublicCriticism], page_schema("PublicCriticismPage")]
