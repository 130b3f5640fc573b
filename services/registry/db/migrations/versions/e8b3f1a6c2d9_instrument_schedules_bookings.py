"""instrument schedules, downtime, qualifications and bookings (issue 16)

On PostgreSQL an exclusion constraint (btree_gist) keeps requested and
confirmed bookings of one instrument from overlapping.

Revision ID: e8b3f1a6c2d9
Revises: cc8ed64e7aa0
Create Date: 2026-12-03 10:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.runtime.db.schema import UtcDateTime

revision: str = 'e8b3f1a6c2d9'
down_revision: str | None = 'cc8ed64e7aa0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'instrument_schedules',
        sa.Column('instrument_id', sa.String(length=36), nullable=False),
        sa.Column('unit_id', sa.String(length=36), nullable=False),
        sa.Column('weekly_hours', sa.JSON(), nullable=False),
        sa.Column('closed_on_holidays', sa.Boolean(), nullable=False),
        sa.Column('open_on_makeup_days', sa.Boolean(), nullable=False),
        sa.Column('slot_minutes', sa.Integer(), nullable=False),
        sa.Column('min_minutes', sa.Integer(), nullable=False),
        sa.Column('max_minutes', sa.Integer(), nullable=False),
        sa.Column('book_ahead_days', sa.Integer(), nullable=False),
        sa.Column('book_before_minutes', sa.Integer(), nullable=False),
        sa.Column('cancel_before_hours', sa.Integer(), nullable=False),
        sa.Column('operated_by', sa.String(length=10), nullable=False),
        sa.Column('approval', sa.String(length=10), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_by', sa.String(length=200), nullable=False),
        sa.Column('updated_at', UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('slot_minutes > 0 AND min_minutes <= max_minutes', name=op.f('ck_instrument_schedules_schedule_limits')),
        sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'], name=op.f('fk_instrument_schedules_instrument_id_instruments')),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_instrument_schedules_unit_id_units')),
        sa.PrimaryKeyConstraint('instrument_id', name=op.f('pk_instrument_schedules')),
    )
    op.create_table(
        'instrument_downtimes',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('instrument_id', sa.String(length=36), nullable=False),
        sa.Column('starts_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('ends_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('created_at', UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_instrument_downtimes_downtime_range')),
        sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'], name=op.f('fk_instrument_downtimes_instrument_id_instruments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_instrument_downtimes')),
    )
    op.create_index('ix_instrument_downtimes_instrument_start', 'instrument_downtimes', ['instrument_id', 'starts_at'], unique=False)
    op.create_table(
        'instrument_qualifications',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('instrument_id', sa.String(length=36), nullable=False),
        sa.Column('account_id', sa.String(length=36), nullable=False),
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=False),
        sa.Column('granted_by', sa.String(length=200), nullable=False),
        sa.Column('granted_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', UtcDateTime(timezone=True), nullable=True),
        sa.Column('revoked_by', sa.String(length=200), nullable=True),
        sa.Column('revoke_reason', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_instrument_qualifications_account_id_accounts')),
        sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'], name=op.f('fk_instrument_qualifications_instrument_id_instruments')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_instrument_qualifications_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_instrument_qualifications')),
    )
    op.create_index('uq_instrument_qualifications_person', 'instrument_qualifications', ['instrument_id', 'account_id'], unique=True)
    op.create_table(
        'bookings',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('instrument_id', sa.String(length=36), nullable=False),
        sa.Column('unit_id', sa.String(length=36), nullable=False),
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('order_id', sa.String(length=36), nullable=False),
        sa.Column('booked_by', sa.String(length=200), nullable=False),
        sa.Column('starts_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('ends_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('decided_by', sa.String(length=200), nullable=True),
        sa.Column('decided_party', sa.String(length=10), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('decided_at', UtcDateTime(timezone=True), nullable=True),
        sa.Column('downtime_id', sa.String(length=36), nullable=True),
        sa.Column('created_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_bookings_booking_range')),
        sa.ForeignKeyConstraint(['downtime_id'], ['instrument_downtimes.id'], name=op.f('fk_bookings_downtime_id_instrument_downtimes')),
        sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'], name=op.f('fk_bookings_instrument_id_instruments')),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_bookings_order_id_orders')),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_bookings_unit_id_units')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_bookings_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings')),
    )
    op.create_index('ix_bookings_instrument_start', 'bookings', ['instrument_id', 'starts_at'], unique=False)
    op.create_index('ix_bookings_user_start', 'bookings', ['user_id', 'starts_at'], unique=False)
    op.create_index('ix_bookings_unit_start', 'bookings', ['unit_id', 'starts_at'], unique=False)
    op.create_index('ix_bookings_order', 'bookings', ['order_id'], unique=False)
    if op.get_context().dialect.name == 'postgresql':
        # btree_gist is a trusted extension (PostgreSQL 13+): the database owner may create it
        op.execute('CREATE EXTENSION IF NOT EXISTS btree_gist')
        op.execute(
            "ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist "
            "(instrument_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
            "WHERE (status IN ('requested', 'confirmed'))"
        )


def downgrade() -> None:
    op.drop_index('ix_bookings_order', table_name='bookings')
    op.drop_index('ix_bookings_unit_start', table_name='bookings')
    op.drop_index('ix_bookings_user_start', table_name='bookings')
    op.drop_index('ix_bookings_instrument_start', table_name='bookings')
    op.drop_table('bookings')
    op.drop_index('uq_instrument_qualifications_person', table_name='instrument_qualifications')
    op.drop_table('instrument_qualifications')
    op.drop_index('ix_instrument_downtimes_instrument_start', table_name='instrument_downtimes')
    op.drop_table('instrument_downtimes')
    op.drop_table('instrument_schedules')
