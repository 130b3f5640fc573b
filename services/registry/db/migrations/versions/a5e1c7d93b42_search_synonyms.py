"""catalogue search: the synonym dictionary and the accepts-vouchers filter

The center's synonym and abbreviation dictionary (search_synonyms), seeded
with the default entries of domain/synonyms.py, and search_docs.accepts_vouchers
(the instrument's unit is approved and accepts vouchers), filled from units.

Revision ID: a5e1c7d93b42
Revises: c4a9e2f17b30
Create Date: 2026-12-03 07:10:00.000000
"""
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from services.registry.domain.synonyms import DEFAULT_SYNONYMS, form_key
from services.runtime.db.schema import UtcDateTime

revision: str = 'a5e1c7d93b42'
down_revision: str | None = 'c4a9e2f17b30'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: fixed ids for the seed, so every installation names its default entries alike
_SEED_NAMESPACE = uuid.UUID('6f1d2c0e-58a3-4b8e-9a51-3c2f4d7e8b90')


def upgrade() -> None:
    table = op.create_table(
        'search_synonyms',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('canonical', sa.String(length=50), nullable=False),
        sa.Column('canonical_key', sa.String(length=50), nullable=False),
        sa.Column('synonyms', sa.JSON(), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('created_at', UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_search_synonyms')),
        sa.UniqueConstraint('canonical_key', name=op.f('uq_search_synonyms_canonical_key')),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        table,
        [
            {
                'id': str(uuid.uuid5(_SEED_NAMESPACE, canonical)),
                'canonical': canonical,
                'canonical_key': form_key(canonical),
                'synonyms': list(synonyms),
                'created_by': 'migration:a5e1c7d93b42',
                'created_at': now,
            }
            for canonical, synonyms in DEFAULT_SYNONYMS
        ],
    )
    with op.batch_alter_table('search_docs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accepts_vouchers', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.execute(
        "UPDATE search_docs SET accepts_vouchers = EXISTS (SELECT 1 FROM units WHERE units.id = search_docs.unit_id"
        " AND units.accepts_vouchers AND units.status = 'approved')"
    )


def downgrade() -> None:
    with op.batch_alter_table('search_docs', schema=None) as batch_op:
        batch_op.drop_column('accepts_vouchers')
    op.drop_table('search_synonyms')
