"""evidence documents, award plan approvals, rectifications (issue 15)

Revision ID: c4e15a0d9e21
Revises: b1d34a827b70
Create Date: 2026-12-03 06:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.runtime.db.schema

revision: str = 'c4e15a0d9e21'
down_revision: str | None = 'b1d34a827b70'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('evaluation_documents',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('unit_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('application_id', sa.String(length=36), nullable=True),
    sa.Column('uploaded_at', services.runtime.db.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_documents'))
    )
    with op.batch_alter_table('evaluation_documents', schema=None) as batch_op:
        batch_op.create_index('ix_evaluation_documents_unit', ['unit_id'], unique=False)
        batch_op.create_index('ix_evaluation_documents_application', ['application_id'], unique=False)

    op.create_table('award_plan_approvals',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('approved_at', services.runtime.db.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('approved_by', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('published_at', services.runtime.db.schema.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_award_plan_approvals'))
    )
    op.create_table('rectifications',
    sa.Column('unit_id', sa.String(length=36), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('report', sa.Text(), nullable=False),
    sa.Column('document_id', sa.String(length=36), nullable=True),
    sa.Column('reported_at', services.runtime.db.schema.UtcDateTime(timezone=True), nullable=False),
    sa.Column('reported_by', sa.String(length=200), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=True),
    sa.Column('outcome_reason', sa.Text(), nullable=True),
    sa.Column('checked_at', services.runtime.db.schema.UtcDateTime(timezone=True), nullable=True),
    sa.Column('checked_by', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('unit_id', 'year', name=op.f('pk_rectifications'))
    )


def downgrade() -> None:
    op.drop_table('rectifications')
    op.drop_table('award_plan_approvals')
    with op.batch_alter_table('evaluation_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_evaluation_documents_application')
        batch_op.drop_index('ix_evaluation_documents_unit')

    op.drop_table('evaluation_documents')
