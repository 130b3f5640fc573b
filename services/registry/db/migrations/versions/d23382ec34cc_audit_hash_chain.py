"""audit hash chain

The audit trail becomes a hash chain: seq, prev_hash and row_hash on
audit_log (rows already there are chained in id order from the genesis hash),
and the one-row chain head audit_chain (services/runtime/db/audit_chain.py).

Revision ID: d23382ec34cc
Revises: 759e0472d68a
Create Date: 2026-11-27 15:53:49.992315
"""
from collections.abc import Sequence

from services.runtime.db import audit_chain as audit

revision: str = 'd23382ec34cc'
down_revision: str | None = '759e0472d68a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    audit.migration_upgrade()


def downgrade() -> None:
    audit.migration_downgrade()
