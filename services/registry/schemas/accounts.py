"""Local accounts and their sign-in (issue 5) as the registry answers with them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from services.runtime.http.pagination import Page, page_schema


class SessionToken(msgspec.Struct):
    token: str
    token_type: str
    expires_at: datetime
    role: str
    org: str | None
    session_id: str


class Account(msgspec.Struct):
    """What may be shown and audited of an account: never its password hash."""

    account_id: str
    username: str
    role: str
    org: str | None
    display_name: str | None
    status: str
    failed_attempts: int
    locked_until: datetime | None
    password_changed_at: datetime
    last_login_at: datetime | None
    created_at: datetime
    created_by: str
    version: int
    #: the name of the unit or user the account acts for (listed accounts only; not audited)
    org_name: str | None = None


AccountPage = Annotated[Page[Account], page_schema("AccountPage")]
