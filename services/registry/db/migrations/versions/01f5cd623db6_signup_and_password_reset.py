"""self-service sign-up and password reset

Accounts get the holder's e-mail and phone (self-service sign-up, issue 17);
password-reset tokens are kept as digests (password_resets); mails are written
in the deciding transaction and sent afterwards (mail_outbox).

Revision ID: 01f5cd623db6
Revises: a5e1c7d93b42
Create Date: 2026-12-03 07:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.runtime.db.schema import UtcDateTime

revision: str = '01f5cd623db6'
down_revision: str | None = 'a5e1c7d93b42'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_accounts_email', ['email'], unique=False)
    op.create_table(
        'password_resets',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('account_id', sa.String(length=36), nullable=False),
        sa.Column('token_digest', sa.String(length=64), nullable=False),
        sa.Column('created_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('used_at', UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_digest'),
    )
    op.create_index('ix_password_resets_account', 'password_resets', ['account_id', 'used_at'], unique=False)
    op.create_table(
        'mail_outbox',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('recipient', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=True),
        sa.Column('created_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', UtcDateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('sent_at', UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_mail_outbox_pending', 'mail_outbox', ['sent_at', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_mail_outbox_pending', table_name='mail_outbox')
    op.drop_table('mail_outbox')
    op.drop_index('ix_password_resets_account', table_name='password_resets')
    op.drop_table('password_resets')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index('ix_accounts_email')
        batch_op.drop_column('phone')
        batch_op.drop_column('email')
