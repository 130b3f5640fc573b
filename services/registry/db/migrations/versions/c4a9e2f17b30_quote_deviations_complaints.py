"""quote deviations and complaints

M11(4): a quote above the published price list needs a reason (orders.quote_reason)
and every such quote is kept (quote_deviations). M11(6): complaints about a unit
or an order, handled within a per-year number of working days (complaint_policies).

Revision ID: c4a9e2f17b30
Revises: b7e4c2a91d05
Create Date: 2026-12-03 06:45:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.runtime.db.schema import UtcDateTime

revision: str = 'c4a9e2f17b30'
down_revision: str | None = 'b7e4c2a91d05'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quote_reason', sa.Text(), nullable=True))
    op.create_table(
        'quote_deviations',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('order_id', sa.String(length=36), nullable=False),
        sa.Column('unit_id', sa.String(length=36), nullable=False),
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('list_amount_fen', sa.BigInteger(), nullable=False),
        sa.Column('amount_fen', sa.BigInteger(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('quoted_by', sa.String(length=200), nullable=False),
        sa.Column('quoted_at', UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('amount_fen > list_amount_fen', name=op.f('ck_quote_deviations_quote_deviation_above_list')),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_quote_deviations_order_id_orders')),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_quote_deviations_unit_id_units')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_quote_deviations_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quote_deviations')),
    )
    op.create_index('ix_quote_deviations_year_unit', 'quote_deviations', ['year', 'unit_id', 'quoted_at'], unique=False)
    op.create_index('ix_quote_deviations_unit', 'quote_deviations', ['unit_id', 'quoted_at'], unique=False)
    op.create_table(
        'complaints',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('unit_id', sa.String(length=36), nullable=False),
        sa.Column('order_id', sa.String(length=36), nullable=True),
        sa.Column('category', sa.String(length=30), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('contact', sa.String(length=200), nullable=True),
        sa.Column('complainant_user_id', sa.String(length=36), nullable=True),
        sa.Column('filed_by', sa.String(length=200), nullable=False),
        sa.Column('filed_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('handling_workdays', sa.Integer(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('outcome_reason', sa.Text(), nullable=True),
        sa.Column('decided_by', sa.String(length=200), nullable=True),
        sa.Column('decided_at', UtcDateTime(timezone=True), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.CheckConstraint('handling_workdays > 0', name=op.f('ck_complaints_complaint_workdays_positive')),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_complaints_order_id_orders')),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_complaints_unit_id_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints')),
    )
    op.create_index('ix_complaints_status_due', 'complaints', ['status', 'due_on'], unique=False)
    op.create_index('ix_complaints_unit', 'complaints', ['unit_id', 'filed_at'], unique=False)
    op.create_index('ix_complaints_user', 'complaints', ['complainant_user_id', 'filed_at'], unique=False)
    op.create_table(
        'complaint_policies',
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('handling_workdays', sa.Integer(), nullable=False),
        sa.Column('set_by', sa.String(length=200), nullable=False),
        sa.Column('set_at', UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('handling_workdays > 0', name=op.f('ck_complaint_policies_complaint_policy_workdays_positive')),
        sa.PrimaryKeyConstraint('year', name=op.f('pk_complaint_policies')),
    )


def downgrade() -> None:
    op.drop_table('complaint_policies')
    op.drop_index('ix_complaints_user', table_name='complaints')
    op.drop_index('ix_complaints_unit', table_name='complaints')
    op.drop_index('ix_complaints_status_due', table_name='complaints')
    op.drop_table('complaints')
    op.drop_index('ix_quote_deviations_unit', table_name='quote_deviations')
    op.drop_index('ix_quote_deviations_year_unit', table_name='quote_deviations')
    op.drop_table('quote_deviations')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('quote_reason')
