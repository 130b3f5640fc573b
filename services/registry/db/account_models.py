"""Registry tables of local accounts and their login sessions (issue 5).
Times UTC."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    text,
)

from services.registry.db.metadata import metadata
from services.runtime.db.schema import UtcDateTime

#: local accounts of every role (issue 5): the platform's own login, beside OIDC.
#: ``password_hash`` is an argon2id PHC string; the password itself is never stored.
accounts = Table(
    "accounts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(20), nullable=False),
    #: the organisation the account acts for: a unit or user id, a department code; None for city-wide roles
    Column("org", String(100), nullable=True),
    Column("display_name", String(100), nullable=True),
    #: how to reach the account's holder (self-service sign-up); a password reset goes to ``email``
    Column("email", String(254), nullable=True),
    Column("phone", String(32), nullable=True),
    Column("status", String(20), nullable=False),  # active / locked / disabled
    Column("failed_attempts", Integer, nullable=False, server_default=text("0")),
    Column("locked_until", UtcDateTime, nullable=True),
    Column("password_changed_at", UtcDateTime, nullable=False),
    Column("last_login_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_accounts_role_status", "role", "status"),
    Index("ix_accounts_email", "email"),
)

#: login sessions: the ``sid`` claim of the tokens ``POST /v1/sessions`` issues
sessions = Table(
    "sessions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", String(36), ForeignKey("accounts.id"), nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("revoked_by", String(200), nullable=True),
    Index("ix_sessions_account", "account_id", "expires_at"),
)
