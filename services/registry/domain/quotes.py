"""Quotes against the published price list (M11(4) of attachment 1:
收费标准应向社会公布; R9: the unit publishes its price catalogue).

An order's *list amount* is the sum of price × quantity of its items at the
published prices of the day it was requested. An instrument bought wholly or
partly with fiscal funds charges on cost compensation, and its prices are
public: a quote above the list amount of an order that includes such an
instrument needs a stated reason, which the user sees on the order and the
center and the bureau see in the list of deviations. A quote at or below the
list needs none. An order of non-fiscal instruments only is negotiable (议价)
and needs no reason either.

**(choice)** An order mixing fiscal and non-fiscal instruments is compared as a
whole with its list amount: the published part cannot be raised silently by
folding it into a negotiated total.
"""

from __future__ import annotations

from services.runtime.errors import DomainError
from services.runtime.money import yuan

__all__ = ["MAX_REASON_CHARS", "check_quote"]

#: the longest reason kept, in characters
MAX_REASON_CHARS = 2000


def check_quote(*, list_amount_fen: int, amount_fen: int, fiscal: bool, reason: str | None) -> str | None:
    """The reason to keep with a quote of ``amount_fen`` on an order listed at
    ``list_amount_fen``: the stripped reason when the quote lies above the list
    of an order with a fiscal instrument (required then: ``order.quote_reason_required``
    on the field ``reason``), else None (a reason given for a quote that needs
    none is not kept as a deviation)."""
    if not fiscal or amount_fen <= list_amount_fen:
        return None
    text = (reason or "").strip()
    if not text:
        raise DomainError(
            "order.quote_reason_required",
            f"财政性资金购置仪器的报价（{yuan(amount_fen)} 元）高于公布的收费标准（{yuan(list_amount_fen)} 元），须说明理由（管理办法第十一条第四项）",
            f"the quote ({amount_fen} fen) is above the published price list ({list_amount_fen} fen) of a fiscally funded instrument; state a reason (M11(4))",
            field="reason",
            list_amount_fen=list_amount_fen,
            amount_fen=amount_fen,
        )
    if len(text) > MAX_REASON_CHARS:
        raise DomainError(
            "order.quote_reason_too_long",
            f"报价理由不得超过 {MAX_REASON_CHARS} 字",
            f"a quote's reason has at most {MAX_REASON_CHARS} characters",
            field="reason",
        )
    return text
