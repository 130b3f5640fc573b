"""The price catalogue rules (M11(4) of attachment 1, R9 of attachment 2).

* M11(4): instruments bought with fiscal funds (财政性资金) charge on the
  principle of *cost compensation and non-profit* (成本补偿和非盈利性原则) and
  their fees must be public (收费标准应向社会公布); instruments bought with
  non-fiscal funds may charge a *negotiated* fee (议价).
* R9: the unit publishes the price catalogue of its open-sharing services
  (公开开放共享服务的价格目录).
* Every change to a published price is kept (who, when, old, new).

Money is always an ``int`` number of fen (分), never negative; floats are refused.
"""

from __future__ import annotations

from enum import StrEnum

from services.registry.domain.listing import Funding
from services.runtime.errors import DomainError

__all__ = [
    "MAX_PRICE_FEN",
    "BillingUnit",
    "PriceBasis",
    "check_basis",
    "check_price",
    "is_fiscal",
    "reason_required",
]

#: a sanity bound (10 trillion yuan), the same as every amount of the API
MAX_PRICE_FEN = 10**15


class BillingUnit(StrEnum):
    """What one price is charged per."""

    per_sample = "per_sample"  # 按样品
    per_hour = "per_hour"  # 按小时（人工/服务时）
    per_machine_hour = "per_machine_hour"  # 按机时
    per_item = "per_item"  # 按项次


class PriceBasis(StrEnum):
    """How a price is set (M11(4))."""

    cost_compensation = "cost_compensation"  # 成本补偿、非盈利
    negotiable = "negotiable"  # 议价 (non-fiscal instruments only)


_FISCAL = frozenset({Funding.fiscal_full, Funding.fiscal_part})


def is_fiscal(funding: Funding | str) -> bool:
    """Wholly or partly bought with fiscal funds."""
    return Funding(funding) in _FISCAL


def check_basis(funding: Funding | str, basis: PriceBasis | str) -> PriceBasis:
    """The basis a price item of an instrument with ``funding`` may use.

    Fiscal instruments (fiscal_full, fiscal_part) must charge on cost
    compensation; non-fiscal ones may use either basis (M11(4)). An unknown
    funding or basis value is a ``ValueError`` (the API validates both first).
    """
    b = PriceBasis(basis)
    if is_fiscal(funding) and b is not PriceBasis.cost_compensation:
        raise DomainError(
            "price.fiscal_must_be_cost_compensation",
            "财政性资金购买的仪器应按照成本补偿和非盈利性原则收费，不得议价（管理办法第十一条第四项）",
            "an instrument bought with fiscal funds charges on cost compensation, non-profit terms; it may not negotiate (M11(4))",
            funding=str(Funding(funding)),
            basis=str(b),
        )
    return b


def check_price(price_fen: object) -> int:
    """A price is an integer number of fen, 0 ≤ price ≤ MAX_PRICE_FEN.

    ``bool`` (an ``int`` subclass) and ``float`` are refused: money is never
    a float. 0 fen (a free service) is allowed.
    """
    if isinstance(price_fen, bool) or not isinstance(price_fen, int):
        raise DomainError(
            "price.invalid_amount",
            "价格必须是以分为单位的整数",
            f"a price is an integer number of fen, got {type(price_fen).__name__}",
        )
    if price_fen < 0 or price_fen > MAX_PRICE_FEN:
        raise DomainError(
            "price.invalid_amount",
            "价格不得为负数且不得超过上限",
            f"a price lies between 0 and {MAX_PRICE_FEN} fen, got {price_fen}",
            price_fen=price_fen,
        )
    return price_fen


def reason_required(old_price_fen: int, new_price_fen: int, reason: str | None) -> None:
    """Changing a published price needs a stated reason (kept in its history)."""
    if new_price_fen != old_price_fen and not (reason and reason.strip()):
        raise DomainError("price.reason_required", "调整价格须说明理由", "a price change needs a reason")
