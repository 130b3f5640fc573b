"""audit hash chain

The audit trail becomes a hash chain: seq, prev_hash and row_hash on
audit_log (rows already there are chained in id order from the genesis hash),
and the one-row chain head audit_chain (services/runtime/db/audit_chain.py).

Revision ID: c4d7cb1f2103
Revises: 2817f15babb5
Create Date: 2026-11-27 15:53:53.832566
"""
from collections.abc import Sequence

from services.runtime.db import audit_chain as audit

revision: str = 'c4d7cb1f2103'
down_revision: str | None = '2817f15babb5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    audit.migration_upgrade()


def downgrade() -> None:
    audit.migration_downgrade()
