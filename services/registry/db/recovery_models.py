"""Registry tables of account recovery (issue 17): password-reset tokens
(kept as SHA-256 digests only) and the mails waiting to be sent. They share
``metadata`` with the rest of the registry (``db/models.py`` imports
this module). Times UTC."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from services.registry.db.metadata import metadata
from services.runtime.db.schema import UtcDateTime

#: one row per "forgot password" request for an existing account: the token's
#: digest, never the token; single use (``used_at``), valid until ``expires_at``
password_resets = Table(
    "password_resets",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", String(36), ForeignKey("accounts.id"), nullable=False),
    Column("token_digest", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
    Index("ix_password_resets_account", "account_id", "used_at"),
)

#: mails written in the transaction that decided them, sent afterwards (by the
#: request, or a worker's retry): none is lost when a process dies in between.
#: ``body`` is erased once the mail is sent (a reset link in it works once anyway)
mail_outbox = Table(
    "mail_outbox",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("recipient", String(254), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("body", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    #: not tried before this moment: a sender's lease, or the back-off after a failure
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", String(500), nullable=True),
    Column("sent_at", UtcDateTime, nullable=True),
    Index("ix_mail_outbox_pending", "sent_at", "next_attempt_at"),
)
