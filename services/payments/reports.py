"""The year-end report of budget execution (R14(4), R15, R20), from the ledger.

Voucher budget: appropriated and committed (vouchers issued and not yet used) as
vouchers decided them, from its events (a budget or a commitment moves no money,
so neither is in payments' ledger), used at settlement (``voucher_budget:<year>``), released
(expired or revoked vouchers), unallocated, redeemed (approved on a final notice),
paid and still payable. Award budget: appropriated, approved, paid, payable,
remaining. The checks tie the ledger to the records: every figure must agree to
the fen for the report to balance.
"""

from __future__ import annotations


from sqlalchemy import func, select

from services.payments.db.models import (
    clawbacks,
    ledger_lines,
    payouts,
    programme_view,
    settlements,
    voucher_view,
)
from services.payments import payouts as payout_status
from services.payments.domain import ledger
from services.payments.schemas import BudgetExecution, Check
from services.runtime.db.service_db import ServiceDatabase


def _check(name: str, left: int, right: int) -> Check:
    return Check(name=name, left_fen=left, right_fen=right, ok=left == right)


async def budget_execution(db: ServiceDatabase, year: int) -> BudgetExecution:
    async with db.read() as s:
        rows = (await s.execute(select(ledger_lines.c.account, func.sum(ledger_lines.c.debit_fen), func.sum(ledger_lines.c.credit_fen)).group_by(ledger_lines.c.account))).all()
        acc = {a: (int(d or 0), int(c or 0)) for a, d, c in rows}
        vouchers = dict(
            (await s.execute(select(voucher_view.c.status, func.sum(voucher_view.c.amount_fen)).where(voucher_view.c.year == year).group_by(voucher_view.c.status))).all()
        )
        budget = (await s.execute(select(programme_view.c.budget_fen).where(programme_view.c.year == year))).scalar()
        settled_voucher = (await s.execute(select(func.sum(settlements.c.voucher_fen)).where(settlements.c.year == year))).scalar()
        by_payout = (
            await s.execute(
                select(payouts.c.kind, payouts.c.status, func.sum(payouts.c.amount_fen)).where(payouts.c.year == year).group_by(payouts.c.kind, payouts.c.status)
            )
        ).all()
        by_clawback = (
            await s.execute(
                select(clawbacks.c.kind, func.sum(clawbacks.c.amount_fen), func.sum(clawbacks.c.repaid_fen)).where(clawbacks.c.year == year).group_by(clawbacks.c.kind)
            )
        ).all()
    pay: dict[tuple[str, str], int] = {(k, st): int(v or 0) for k, st, v in by_payout}
    # payouts cancelled or blocked by a fraud finding are not (or no longer) owed
    owed = {k: sum(v for (kind, st), v in pay.items() if kind == k and st not in (payout_status.CANCELLED, payout_status.BLOCKED)) for k in (ledger.AWARD, ledger.REDEMPTION)}
    claws: dict[str, tuple[int, int]] = {k: (int(a or 0), int(r or 0)) for k, a, r in by_clawback}

    def debit_net(account: str) -> int:
        d, c = acc.get(account, (0, 0))
        return d - c

    def credit_net(account: str) -> int:
        return -debit_net(account)

    def credits(account: str) -> int:
        return acc.get(account, (0, 0))[1]

    v_appropriated = int(budget or 0)
    v_used = debit_net(ledger.voucher_budget(year))
    v_committed = int(vouchers.get("issued") or 0)
    v_released = int(vouchers.get("expired") or 0) + int(vouchers.get("revoked") or 0)
    # a payout cancelled after a fraud finding reversed its payable: it was never redeemed
    r_redeemed = credits(ledger.payout_payable(ledger.REDEMPTION, year)) - pay.get((ledger.REDEMPTION, payout_status.CANCELLED), 0)
    r_paid = credit_net(ledger.treasury_paid(ledger.REDEMPTION, year))
    r_payable = credit_net(ledger.payout_payable(ledger.REDEMPTION, year))
    a_appropriated = credit_net(ledger.appropriation(ledger.AWARD, year))
    a_approved = debit_net(ledger.award_approved(year))
    a_paid = credit_net(ledger.treasury_paid(ledger.AWARD, year))
    a_payable = credit_net(ledger.payout_payable(ledger.AWARD, year))
    total_d = sum(d for d, _ in acc.values())
    total_c = sum(c for _, c in acc.values())

    voucher = {
        "appropriated_fen": v_appropriated,
        "committed_fen": v_committed,
        "used_fen": v_used,
        "released_fen": v_released,
        "unallocated_fen": v_appropriated - v_committed - v_used,
        "redeemed_fen": r_redeemed,
        "paid_fen": r_paid,
        "payable_fen": r_payable,
        "used_not_redeemed_fen": v_used - r_redeemed,
    }
    award = {
        "appropriated_fen": a_appropriated,
        "approved_fen": a_approved,
        "paid_fen": a_paid,
        "payable_fen": a_payable,
        "remaining_fen": a_appropriated - a_approved,
    }
    clawback: dict[str, dict[str, int]] = {}
    for kind in (ledger.VOUCHER, ledger.AWARD, ledger.REDEMPTION):
        claimed, repaid = credit_net(ledger.clawed_back(kind, year)), debit_net(ledger.recovered(kind, year))
        clawback[kind] = {"clawed_back_fen": claimed, "repaid_fen": repaid, "outstanding_fen": claimed - repaid}
    checks = [
        _check("ledger: debits = credits", total_d, total_c),
        _check("voucher: used in the ledger = voucher part of the year's settlements", v_used, int(settled_voucher or 0)),
        _check("voucher: redeemed = paid + payable", r_redeemed, r_paid + r_payable),
        _check("voucher: redeemed = redemption payouts", r_redeemed, owed[ledger.REDEMPTION]),
        _check("voucher: paid = paid redemption payouts", r_paid, pay.get((ledger.REDEMPTION, "paid"), 0)),
        _check("award: approved = paid + payable", a_approved, a_paid + a_payable),
        _check("award: approved = award payouts", a_approved, owed[ledger.AWARD]),
        _check("award: paid = paid award payouts", a_paid, pay.get((ledger.AWARD, "paid"), 0)),
    ]
    for kind, figures in clawback.items():
        amount, repaid = claws.get(kind, (0, 0))
        checks.append(_check(f"clawback: {kind} clawed back = clawback records", figures["clawed_back_fen"], amount))
        checks.append(_check(f"clawback: {kind} repaid = repayments recorded", figures["repaid_fen"], repaid))
    return BudgetExecution(year=year, voucher=voucher, award=award, clawback=clawback, checks=checks, balanced=all(c.ok for c in checks))
