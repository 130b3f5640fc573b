"""calendar feeds, notifications, booking reminders and used bookings (issue 16)

Adds ``calendar_feeds`` and ``notifications``, ``bookings.reminded_at``, and
on PostgreSQL widens the exclusion constraint ``bookings_no_overlap`` to the
``used`` state (a booking a usage session was recorded for keeps its time).

Revision ID: a4c7e2d9b816
Revises: e8b3f1a6c2d9
Create Date: 2026-12-03 10:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.runtime.db.schema import UtcDateTime

revision: str = 'a4c7e2d9b816'
down_revision: str | None = 'e8b3f1a6c2d9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EXCLUDE = (
    "ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist "
    "(instrument_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
    "WHERE (status IN ({}))"
)


def upgrade() -> None:
    op.create_table(
        'calendar_feeds',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('instrument_id', sa.String(length=36), nullable=False),
        sa.Column('unit_id', sa.String(length=36), nullable=False),
        sa.Column('label', sa.String(length=100), nullable=True),
        sa.Column('secret_digest', sa.String(length=64), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('created_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('rotated_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', UtcDateTime(timezone=True), nullable=True),
        sa.Column('revoked_by', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'], name=op.f('fk_calendar_feeds_instrument_id_instruments')),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_calendar_feeds_unit_id_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_feeds')),
    )
    op.create_index('uq_calendar_feeds_secret_digest', 'calendar_feeds', ['secret_digest'], unique=True)
    op.create_index('ix_calendar_feeds_instrument', 'calendar_feeds', ['instrument_id'], unique=False)
    op.create_table(
        'notifications',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('recipient_role', sa.String(length=20), nullable=False),
        sa.Column('recipient_org', sa.String(length=100), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('booking_id', sa.String(length=36), nullable=True),
        sa.Column('text_zh', sa.Text(), nullable=False),
        sa.Column('link', sa.String(length=300), nullable=True),
        sa.Column('created_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('read_at', UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_notifications_booking_id_bookings')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    )
    op.create_index('ix_notifications_recipient', 'notifications', ['recipient_role', 'recipient_org', 'created_at'], unique=False)
    with op.batch_alter_table('bookings') as batch:
        batch.add_column(sa.Column('reminded_at', UtcDateTime(timezone=True), nullable=True))
    if op.get_context().dialect.name == 'postgresql':
        op.execute('ALTER TABLE bookings DROP CONSTRAINT bookings_no_overlap')
        op.execute(_EXCLUDE.format("'requested', 'confirmed', 'used'"))


def downgrade() -> None:
    if op.get_context().dialect.name == 'postgresql':
        op.execute('ALTER TABLE bookings DROP CONSTRAINT bookings_no_overlap')
        op.execute(_EXCLUDE.format("'requested', 'confirmed'"))
    with op.batch_alter_table('bookings') as batch:
        batch.drop_column('reminded_at')
    op.drop_index('ix_notifications_recipient', table_name='notifications')
    op.drop_table('notifications')
    op.drop_index('ix_calendar_feeds_instrument', table_name='calendar_feeds')
    op.drop_index('uq_calendar_feeds_secret_digest', table_name='calendar_feeds')
    op.drop_table('calendar_feeds')
