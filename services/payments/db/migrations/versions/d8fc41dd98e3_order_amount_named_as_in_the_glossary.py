"""order amount named as in the glossary

"Fee" is the testing fee in vouchers; the order's whole amount was called
``fee_fen`` here. Renamed, keeping the data: ``order_view.amount_fen`` (the
registry's name in ``order.results_delivered``) and
``settlements.order_amount_fen``, with the settlement's checks that name it
(autogenerate saw a dropped and an added column; adjusted to renames).

Revision ID: d8fc41dd98e3
Revises: 7e1befea233d
Create Date: 2026-12-03 21:06:48.809111
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'd8fc41dd98e3'
down_revision: str | None = '7e1befea233d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: the settlement checks on the amount, (name, expression) before and after
_CHECKS_BEFORE = (
    ('ck_settlements_fee_positive', 'fee_fen > 0'),
    ('ck_settlements_voucher_within_fee', 'voucher_fen >= 0 AND voucher_fen <= fee_fen'),
    ('ck_settlements_payable_is_rest', 'payable_fen = fee_fen - voucher_fen'),
)
_CHECKS_AFTER = (
    ('ck_settlements_order_amount_positive', 'order_amount_fen > 0'),
    ('ck_settlements_voucher_within_order_amount', 'voucher_fen >= 0 AND voucher_fen <= order_amount_fen'),
    ('ck_settlements_payable_is_rest', 'payable_fen = order_amount_fen - voucher_fen'),
)


def _settlement_amount(old: str, new: str, drop: tuple[tuple[str, str], ...], create: tuple[tuple[str, str], ...]) -> None:
    # SQLite copies the table: the checks naming the old column go first
    with op.batch_alter_table('settlements', schema=None) as batch_op:
        for name, _ in drop:
            batch_op.drop_constraint(batch_op.f(name), type_='check')
        batch_op.alter_column(old, new_column_name=new)
        for name, expression in create:
            batch_op.create_check_constraint(batch_op.f(name), expression)


def upgrade() -> None:
    with op.batch_alter_table('order_view', schema=None) as batch_op:
        batch_op.alter_column('fee_fen', new_column_name='amount_fen')
    _settlement_amount('fee_fen', 'order_amount_fen', _CHECKS_BEFORE, _CHECKS_AFTER)


def downgrade() -> None:
    _settlement_amount('order_amount_fen', 'fee_fen', _CHECKS_AFTER, _CHECKS_BEFORE)
    with op.batch_alter_table('order_view', schema=None) as batch_op:
        batch_op.alter_column('amount_fen', new_column_name='fee_fen')
