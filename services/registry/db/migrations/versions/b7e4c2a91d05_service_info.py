"""service info

R18: a unit publishes its service content, contact person, phone and
address; an instrument its service content. All nullable: existing units
publish theirs later (the center's voucher-acceptance check asks for them).

Revision ID: b7e4c2a91d05
Revises: eae56c7206c4
Create Date: 2026-12-03 04:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b7e4c2a91d05'
down_revision: str | None = 'eae56c7206c4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('service_content', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('contact_person', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('contact_phone', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=200), nullable=True))
    with op.batch_alter_table('instruments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('service_content', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('instruments', schema=None) as batch_op:
        batch_op.drop_column('service_content')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_column('address')
        batch_op.drop_column('contact_phone')
        batch_op.drop_column('contact_person')
        batch_op.drop_column('service_content')
