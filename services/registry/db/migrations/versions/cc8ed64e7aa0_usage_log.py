"""usage log (issue 16)

Sessions of use of an instrument (usage_sessions, at most one open per
instrument), their corrections (usage_corrections, the times before and after)
and instrument-side recorders (usage_recorders, token stored as a SHA-256);
orders.service_minutes, the service time an order's usage sessions add up to.

Revision ID: cc8ed64e7aa0
Revises: 01f5cd623db6
Create Date: 2026-12-03 09:48:46.904352
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.runtime.db.schema

revision: str = 'cc8ed64e7aa0'
down_revision: str | None = '01f5cd623db6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('usage_recorders',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('instrument_id', sa.String(length=36), nullable=False),
    sa.Column('unit_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', services.runtime.db.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('revoked_by', sa.String(length=200), nullable=True),
    sa.Column('revoked_at', services.runtime.db.schema.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', services.runtime.db.schema.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'], name=op.f('fk_usage_recorders_instrument_id_instruments')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_usage_recorders_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_recorders')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_usage_recorders_token_sha256'))
    )
    with op.batch_alter_table('usage_recorders', schema=None) as batch_op:
        batch_op.create_index('ix_usage_recorders_instrument', ['instrument_id', 'created_at'], unique=False)

    op.create_table('usage_sessions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('instrument_id', sa.String(length=36), nullable=False),
    sa.Column('unit_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=True),
    sa.Column('user_id', sa.String(length=36), nullable=True),
    sa.Column('researcher', sa.String(length=200), nullable=True),
    sa.Column('booking_id', sa.String(length=36), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('recorder_id', sa.String(length=36), nullable=True),
    sa.Column('started_at', services.runtime.db.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', services.runtime.db.schema.UtcDateTime(timezone=True), nullable=True),
    sa.Column('minutes', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', services.runtime.db.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', services.runtime.db.schema.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind <> 'outside' OR order_id IS NOT NULL", name=op.f('ck_usage_sessions_usage_outside_has_order')),
    sa.CheckConstraint("kind IN ('outside', 'internal')", name=op.f('ck_usage_sessions_usage_kind_known')),
    sa.CheckConstraint('(ended_at IS NULL) = (minutes IS NULL)', name=op.f('ck_usage_sessions_usage_minutes_when_closed')),
    sa.CheckConstraint('ended_at IS NULL OR ended_at > started_at', name=op.f('ck_usage_sessions_usage_ends_after_start')),
    sa.CheckConstraint('minutes IS NULL OR minutes >= 0', name=op.f('ck_usage_sessions_usage_minutes_not_negative')),
    sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'], name=op.f('fk_usage_sessions_instrument_id_instruments')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_usage_sessions_order_id_orders')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_usage_sessions_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_sessions'))
    )
    with op.batch_alter_table('usage_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_usage_sessions_instrument', ['instrument_id', 'started_at'], unique=False)
        batch_op.create_index('ix_usage_sessions_order', ['order_id'], unique=False)
        batch_op.create_index('ix_usage_sessions_unit', ['unit_id', 'started_at'], unique=False)
        batch_op.create_index('uq_usage_sessions_open', ['instrument_id'], unique=True, sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))

    op.create_table('usage_corrections',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('session_id', sa.String(length=36), nullable=False),
    sa.Column('before_started_at', services.runtime.db.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('before_ended_at', services.runtime.db.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('before_minutes', sa.Integer(), nullable=False),
    sa.Column('after_started_at', services.runtime.db.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('after_ended_at', services.runtime.db.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('after_minutes', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('corrected_by', sa.String(length=200), nullable=False),
    sa.Column('corrected_at', services.runtime.db.schema.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['usage_sessions.id'], name=op.f('fk_usage_corrections_session_id_usage_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_corrections'))
    )
    with op.batch_alter_table('usage_corrections', schema=None) as batch_op:
        batch_op.create_index('ix_usage_corrections_session', ['session_id', 'corrected_at'], unique=False)

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('service_minutes', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('service_minutes')

    with op.batch_alter_table('usage_corrections', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_corrections_session')

    op.drop_table('usage_corrections')
    with op.batch_alter_table('usage_sessions', schema=None) as batch_op:
        batch_op.drop_index('uq_usage_sessions_open', sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
        batch_op.drop_index('ix_usage_sessions_unit')
        batch_op.drop_index('ix_usage_sessions_order')
        batch_op.drop_index('ix_usage_sessions_instrument')

    op.drop_table('usage_sessions')
    with op.batch_alter_table('usage_recorders', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_recorders_instrument')

    op.drop_table('usage_recorders')
