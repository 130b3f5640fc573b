"""audit hash chain

The audit trail becomes a hash chain: seq, prev_hash and row_hash on
audit_log (rows already there are chained in id order from the genesis hash),
and the one-row chain head audit_chain (services/runtime/db/audit_chain.py).

Revision ID: 7f7f7b826986
Revises: 896995b62277
Create Date: 2026-11-27 15:53:56.601352
"""
from collections.abc import Sequence

from services.runtime.db import audit_chain as audit

revision: str = '7f7f7b826986'
down_revision: str | None = '896995b62277'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    audit.migration_upgrade()


def downgrade() -> None:
    audit.migration_downgrade()
