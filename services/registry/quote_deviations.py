"""Quotes and the deviations from the published price list (M11(4), R9).

The unit quotes a requested order. When the order includes an instrument
bought with fiscal funds and the quote lies above the order's list amount (the
published prices of the day it was requested), the quote needs a reason: the
order keeps it (``quote_reason``, shown to the user beside the list amount and
the quoted amount) and ``quote_deviations`` keeps one row per such quote, which
the center and the bureau list by unit and year. The audit log records every
quote with the list amount and the reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import RowMapping

from contracts.envelope import new_event_id
from services.registry.db.instrument_models import instruments
from services.registry.db.order_models import order_items
from services.registry.db.oversight_models import quote_deviations
from services.registry.domain.listing import Funding
from services.registry.domain.orders import OrderAction, next_status
from services.registry.domain.quotes import check_quote
from services.registry.order_rows import Viewer, change_order, load_order, order_record
from services.registry.schemas.orders import Order, QuoteDeviation, QuoteDeviationPage
from services.runtime import clock
from services.runtime.db.unit_of_work import Actor
from services.runtime.http.pagination import read_page
from services.runtime.db.service_db import ServiceDatabase

_FISCAL = (str(Funding.fiscal_full), str(Funding.fiscal_part))


async def _has_fiscal_instrument(s: Any, order_id: str) -> bool:
    found = await s.execute(
        select(func.count())
        .select_from(order_items)
        .join(instruments, instruments.c.id == order_items.c.instrument_id)
        .where(order_items.c.order_id == order_id, instruments.c.funding.in_(_FISCAL))
    )
    return bool(found.scalar_one())


async def quote(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, order_id: str, viewer: Viewer, *, amount_fen: int, note: str | None, reason: str | None = None
) -> Order:
    """The unit quotes the amount (fen) of a requested order; above the list of
    a fiscally funded instrument only with a reason (M11(4))."""
    now: datetime = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await load_order(s, order_id, viewer)
        status = next_status(row["status"], OrderAction.quote)
        fiscal = await _has_fiscal_instrument(s, order_id)
        kept = check_quote(list_amount_fen=row["list_amount_fen"], amount_fen=amount_fen, fiscal=fiscal, reason=reason)
        after = await change_order(s, row, now, status=str(status), amount_fen=amount_fen, quote_note=(note or "").strip() or None, quote_reason=kept, quoted_at=now)
        if kept is not None:
            await s.execute(
                insert(quote_deviations).values(
                    id=new_event_id(),
                    order_id=order_id,
                    unit_id=row["unit_id"],
                    user_id=row["user_id"],
                    year=clock.local_year(now),
                    list_amount_fen=row["list_amount_fen"],
                    amount_fen=amount_fen,
                    reason=kept,
                    quoted_by=actor.label,
                    quoted_at=now,
                )
            )
        await uow.audit(
            "order.quote",
            "order",
            order_id,
            reason=kept,
            before={"status": row["status"], "amount_fen": row["amount_fen"]},
            after={"status": str(status), "amount_fen": amount_fen, "list_amount_fen": row["list_amount_fen"], "above_list": kept is not None},
        )
        return await order_record(s, after)


def _deviation(r: RowMapping) -> QuoteDeviation:
    return QuoteDeviation(
        deviation_id=r["id"],
        order_id=r["order_id"],
        unit_id=r["unit_id"],
        user_id=r["user_id"],
        year=r["year"],
        list_amount_fen=r["list_amount_fen"],
        amount_fen=r["amount_fen"],
        excess_fen=r["amount_fen"] - r["list_amount_fen"],
        reason=r["reason"],
        quoted_at=r["quoted_at"],
    )


async def list_deviations(db: ServiceDatabase, *, unit_id: str | None, year: int | None, page: int, page_size: int) -> QuoteDeviationPage:
    """A page of every quote above the published list (staff), newest first, by unit and year."""
    conds: list[Any] = []
    if unit_id is not None:
        conds.append(quote_deviations.c.unit_id == unit_id)
    if year is not None:
        conds.append(quote_deviations.c.year == year)
    async with db.read() as s:
        return await read_page(
            s,
            select(quote_deviations).where(*conds),
            order_by=[quote_deviations.c.quoted_at.desc(), quote_deviations.c.id.desc()],
            page=page,
            page_size=page_size,
            item=_deviation,
        )
