"""The double-entry ledger, pure: lines, balanced entries, and the entries a
settlement and a user's payment post (R19(2), R19(4)).

Amounts are integer fen. A line has exactly one side above zero; an entry has
at least two lines and its debits equal its credits. Entries are never
edited: a correction is a new entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

SETTLEMENT = "settlement"
PAYMENT = "payment"


class LedgerError(ValueError):
    """An entry or line that would unbalance the books."""


def user_payable(user_id: str) -> str:
    """What a user owes for settled orders (debit balance)."""
    return f"user_payable:{user_id}"


def unit_receivable(unit_id: str) -> str:
    """What a unit is owed for its services (credit side at settlement)."""
    return f"unit_receivable:{unit_id}"


def voucher_budget(year: int) -> str:
    """The year's voucher budget spent on settlements."""
    return f"voucher_budget:{year}"


def cash_received(unit_id: str) -> str:
    """Money users paid towards a unit's services."""
    return f"cash_received:{unit_id}"


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@dataclass(frozen=True)
class Line:
    account: str
    debit_fen: int = 0
    credit_fen: int = 0

    def __post_init__(self) -> None:
        if not self.account or ":" not in self.account:
            raise LedgerError(f"account {self.account!r} is not <kind>:<id>")
        if not (_is_int(self.debit_fen) and _is_int(self.credit_fen)):
            raise LedgerError("amounts are integer fen")
        if self.debit_fen < 0 or self.credit_fen < 0:
            raise LedgerError("amounts are never negative")
        if (self.debit_fen > 0) == (self.credit_fen > 0):
            raise LedgerError("a line has exactly one side above zero")

    @classmethod
    def debit(cls, account: str, fen: int) -> Line:
        return cls(account, debit_fen=fen)

    @classmethod
    def credit(cls, account: str, fen: int) -> Line:
        return cls(account, credit_fen=fen)


@dataclass(frozen=True)
class Entry:
    #: the idempotency key: one entry per key, ever
    key: str
    kind: str
    lines: tuple[Line, ...]
    memo: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            raise LedgerError("an entry needs a key")
        if len(self.lines) < 2:
            raise LedgerError("an entry has at least two lines")
        if self.debit_fen != self.credit_fen:
            raise LedgerError(f"entry {self.key} does not balance: debit {self.debit_fen} ≠ credit {self.credit_fen}")

    @property
    def debit_fen(self) -> int:
        return sum(ln.debit_fen for ln in self.lines)

    @property
    def credit_fen(self) -> int:
        return sum(ln.credit_fen for ln in self.lines)


def settlement_key(order_id: str) -> str:
    return f"settlement:{order_id}"


def payment_key(idempotency_key: str) -> str:
    return f"payment:{idempotency_key}"


def settlement_entry(*, order_id: str, user_id: str, unit_id: str, year: int, order_amount_fen: int, voucher_fen: int) -> Entry:
    """Order amount A with voucher V (U = A − V): Dr user U, Dr voucher budget V, Cr unit A."""
    if not (_is_int(order_amount_fen) and _is_int(voucher_fen)):
        raise LedgerError("amounts are integer fen")
    if order_amount_fen <= 0:
        raise LedgerError("a settlement has an order amount above zero")
    if not 0 <= voucher_fen <= order_amount_fen:
        raise LedgerError("the voucher part is between zero and the order amount")
    lines: list[Line] = []
    if order_amount_fen - voucher_fen > 0:
        lines.append(Line.debit(user_payable(user_id), order_amount_fen - voucher_fen))
    if voucher_fen > 0:
        lines.append(Line.debit(voucher_budget(year), voucher_fen))
    lines.append(Line.credit(unit_receivable(unit_id), order_amount_fen))
    if len(lines) < 2:  # impossible with an amount > 0, but keep the rule in one place
        raise LedgerError("a settlement posts at least two lines")
    return Entry(settlement_key(order_id), SETTLEMENT, tuple(lines), memo=f"order {order_id}")


def payment_entry(*, idempotency_key: str, user_id: str, unit_id: str, amount_fen: int, memo: str = "") -> Entry:
    """The user paid P: Dr cash received (unit) P, Cr user payable P."""
    if not _is_int(amount_fen) or amount_fen <= 0:
        raise LedgerError("a payment is a whole number of fen above zero")
    return Entry(
        payment_key(idempotency_key),
        PAYMENT,
        (Line.debit(cash_received(unit_id), amount_fen), Line.credit(user_payable(user_id), amount_fen)),
        memo=memo,
    )


def balances(lines: Iterable[Line]) -> dict[str, tuple[int, int]]:
    """Σdebit and Σcredit per account."""
    out: dict[str, tuple[int, int]] = {}
    for ln in lines:
        d, c = out.get(ln.account, (0, 0))
        out[ln.account] = (d + ln.debit_fen, c + ln.credit_fen)
    return out


# ---------------------------------------------------------------- budgets and payouts (R14(4), R15, R20)
#
# Appropriations:  Dr <kind>_funds:<year>          Cr appropriation:<kind>:<year>
# Award payable:   Dr award_approved:<year>        Cr payout_payable:award:<year>
# Redemption:      Dr unit_receivable:<unit>       Cr payout_payable:redemption:<year>
#                  (the voucher part the unit was owed since settlement becomes payable)
# Payout paid:     Dr payout_payable:<kind>:<year> Cr treasury_paid:<kind>:<year>

APPROPRIATION = "appropriation"
PAYOUT_PAYABLE = "payout_payable"
PAYOUT_PAID = "payout_paid"
AWARD = "award"
REDEMPTION = "redemption"
VOUCHER = "voucher"


def funds(kind: str, year: int) -> str:
    """The year's budget made available for ``kind`` (voucher / award): debit balance."""
    return f"{kind}_funds:{year}"


def appropriation(kind: str, year: int) -> str:
    """Where the year's budget comes from: credit balance = appropriated."""
    return f"appropriation:{kind}:{year}"


def award_approved(year: int) -> str:
    """Awards approved for the year (their notice final): debit balance."""
    return f"award_approved:{year}"


def payout_payable(kind: str, year: int) -> str:
    """Payouts owed to units, not yet paid: credit balance."""
    return f"payout_payable:{kind}:{year}"


def treasury_paid(kind: str, year: int) -> str:
    """Money paid out to units by finance: credit balance."""
    return f"treasury_paid:{kind}:{year}"


def _fen(v: int, what: str) -> None:
    if not _is_int(v) or v <= 0:
        raise LedgerError(f"{what} is a whole number of fen above zero")


def appropriation_entry(*, key: str, kind: str, year: int, delta_fen: int, memo: str = "") -> Entry:
    """The year's budget for ``kind`` appropriated (delta > 0) or reduced (delta < 0)."""
    if not _is_int(delta_fen) or delta_fen == 0:
        raise LedgerError("an appropriation changes the budget by a whole number of fen")
    f, a = funds(kind, year), appropriation(kind, year)
    lines = (Line.debit(f, delta_fen), Line.credit(a, delta_fen)) if delta_fen > 0 else (Line.debit(a, -delta_fen), Line.credit(f, -delta_fen))
    return Entry(key, APPROPRIATION, lines, memo=memo)


def payable_key(kind: str, ref: str) -> str:
    return f"payable:{kind}:{ref}"


def paid_key(kind: str, ref: str) -> str:
    return f"paid:{kind}:{ref}"


def payable_entry(*, kind: str, ref: str, unit_id: str, year: int, amount_fen: int) -> Entry:
    """A payout became due after its notice was final."""
    _fen(amount_fen, "a payout")
    if kind == AWARD:
        debit = award_approved(year)
    elif kind == REDEMPTION:
        debit = unit_receivable(unit_id)
    else:
        raise LedgerError(f"unknown payout kind {kind!r}")
    return Entry(
        payable_key(kind, ref), PAYOUT_PAYABLE, (Line.debit(debit, amount_fen), Line.credit(payout_payable(kind, year), amount_fen)), memo=f"{kind} {ref} unit {unit_id}"
    )


def paid_entry(*, kind: str, ref: str, unit_id: str, year: int, amount_fen: int) -> Entry:
    """Finance paid the payout to the unit."""
    _fen(amount_fen, "a payout")
    return Entry(
        paid_key(kind, ref),
        PAYOUT_PAID,
        (Line.debit(payout_payable(kind, year), amount_fen), Line.credit(treasury_paid(kind, year), amount_fen)),
        memo=f"{kind} {ref} unit {unit_id}",
    )


# ---------------------------------------------------------------- clawbacks (R27)
#
# Clawback:        Dr clawback_receivable:<party_type>:<party> Cr clawed_back:<kind>:<year>
#                  (the original settlement or payout entries stay as they were)
# Repayment:       Dr recovered:<kind>:<year>                 Cr clawback_receivable:<party_type>:<party>
# Payout cancelled (not yet paid, its unit found to have cheated):
#                  Dr payout_payable:<kind>:<year>            Cr award_approved:<year> / unit_receivable:<unit>

CLAWBACK = "clawback"
CLAWBACK_REPAID = "clawback_repaid"
PAYOUT_CANCELLED = "payout_cancelled"


def clawback_receivable(party_type: str, party_id: str) -> str:
    """What a party found to have cheated owes back: debit balance."""
    return f"clawback_receivable:{party_type}:{party_id}"


def clawed_back(kind: str, year: int) -> str:
    """Funds of ``kind`` (voucher / award / redemption) of the year claimed back: credit balance."""
    return f"clawed_back:{kind}:{year}"


def recovered(kind: str, year: int) -> str:
    """Money repaid on clawbacks of ``kind`` for the year: debit balance."""
    return f"recovered:{kind}:{year}"


def clawback_key(kind: str, ref: str) -> str:
    """One clawback per voucher deduction or payout, ever, whichever finding names it."""
    return f"clawback:{kind}:{ref}"


def clawback_entry(*, kind: str, ref: str, party_type: str, party_id: str, year: int, amount_fen: int, finding_id: str) -> Entry:
    _fen(amount_fen, "a clawback")
    if kind not in (VOUCHER, AWARD, REDEMPTION):
        raise LedgerError(f"unknown clawback kind {kind!r}")
    return Entry(
        clawback_key(kind, ref),
        CLAWBACK,
        (Line.debit(clawback_receivable(party_type, party_id), amount_fen), Line.credit(clawed_back(kind, year), amount_fen)),
        memo=f"finding {finding_id}: {kind} {ref}",
    )


def repayment_entry(*, idempotency_key: str, kind: str, party_type: str, party_id: str, year: int, amount_fen: int, clawback_id: str) -> Entry:
    _fen(amount_fen, "a repayment")
    return Entry(
        f"clawback_repaid:{idempotency_key}",
        CLAWBACK_REPAID,
        (Line.debit(recovered(kind, year), amount_fen), Line.credit(clawback_receivable(party_type, party_id), amount_fen)),
        memo=f"clawback {clawback_id}",
    )


def cancel_payable_entry(*, kind: str, ref: str, unit_id: str, year: int, amount_fen: int) -> Entry:
    """The reverse of :func:`payable_entry`, as a new entry."""
    payable = payable_entry(kind=kind, ref=ref, unit_id=unit_id, year=year, amount_fen=amount_fen)
    lines = tuple(Line(ln.account, debit_fen=ln.credit_fen, credit_fen=ln.debit_fen) for ln in payable.lines)
    return Entry(f"cancel:{kind}:{ref}", PAYOUT_CANCELLED, lines, memo=f"cancelled {kind} {ref} unit {unit_id}")


# ---------------------------------------------------------------- an account's parts

#: the money the budget accounts are kept for
MONIES = (AWARD, REDEMPTION, VOUCHER)
#: ``<kind>:<party>``: the party's type
_PARTY_OF = {"user_payable": "user", "unit_receivable": "unit", "cash_received": "unit"}
#: ``<kind>:<year>``
_BY_YEAR = ("voucher_budget", "award_approved")
#: ``<kind>:<money>:<year>``
_BY_MONEY_AND_YEAR = (APPROPRIATION, PAYOUT_PAYABLE, "treasury_paid", "clawed_back", "recovered")
#: ``<money>_funds:<year>`` has the kind ``funds``
FUNDS = "funds"


@dataclass(frozen=True)
class AccountParts:
    """What an account's string says: its ``kind`` (what it holds) and, as the kind has them,
    the ``money`` (award, redemption, voucher), the ``year`` and the party it is kept for."""

    kind: str
    money: str | None = None
    year: int | None = None
    party_type: str | None = None
    party_id: str | None = None


def _year(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) == 4 else None


def account_parts(account: str) -> AccountParts:
    """The parts of ``account`` as the functions above compose it (docs/payouts.md "Ledger
    accounts"); an account of another shape: its kind (the text before the first ``:``) alone."""
    kind, _, rest = account.partition(":")
    parts = rest.split(":")
    if kind in _PARTY_OF and rest:
        return AccountParts(kind, party_type=_PARTY_OF[kind], party_id=rest)
    if kind == "clawback_receivable" and len(parts) == 2 and parts[0] in ("unit", "user") and parts[1]:
        return AccountParts(kind, party_type=parts[0], party_id=parts[1])
    if kind in _BY_YEAR and (year := _year(rest)) is not None:
        return AccountParts(kind, year=year)
    if kind.endswith("_funds") and kind.removesuffix("_funds") in MONIES and (year := _year(rest)) is not None:
        return AccountParts(FUNDS, money=kind.removesuffix("_funds"), year=year)
    if kind in _BY_MONEY_AND_YEAR and len(parts) == 2 and parts[0] in MONIES and (year := _year(parts[1])) is not None:
        return AccountParts(kind, money=parts[0], year=year)
    return AccountParts(kind)
