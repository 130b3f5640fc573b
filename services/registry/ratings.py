"""An instrument's public ratings (R19(4), issue 17): the users' ratings of the
rated orders that used the instrument (an order counts once for each of its
instruments), summed up, and its comments newest first.

R23 protects the users: only the stars, the day (Beijing date) and the comment
leave this module; never who rated, the order or the company. Who may see the
instrument at all is the caller's check (the same rule as the instrument's own
page: the public once it is listed and in service)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import RowMapping

from services.registry.db.order_models import order_items, orders
from services.registry.domain import ratings as domain
from services.registry.schemas.ratings import InstrumentRatings, RatingComment
from services.runtime.clock import POLICY_ZONE
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.pagination import read_page


def rated_orders_of(instrument_id: str) -> Any:
    """The condition: an order with a rating and an item on the instrument."""
    used = select(order_items.c.order_id).where(order_items.c.instrument_id == instrument_id)
    return orders.c.rating.is_not(None) & orders.c.id.in_(used)


def _comment(row: RowMapping) -> RatingComment:
    return RatingComment(rating=row["rating"], rated_on=row["rated_at"].astimezone(POLICY_ZONE).date(), comment=row["rating_comment"])


async def instrument_ratings(db: ServiceDatabase, instrument_id: str, *, page: int, page_size: int) -> InstrumentRatings:
    """Count, average and distribution of the instrument's ratings (one grouped query),
    and page ``page`` of its comments, newest first."""
    rated = rated_orders_of(instrument_id)
    comments = select(orders.c.rating, orders.c.rating_comment, orders.c.rated_at).where(rated, orders.c.rating_comment.is_not(None))
    async with db.read() as s:
        counts = {int(star): int(n) for star, n in (await s.execute(select(orders.c.rating, func.count()).where(rated).group_by(orders.c.rating))).all()}
        listed = await read_page(s, comments, order_by=[orders.c.rated_at.desc(), orders.c.id.desc()], page=page, page_size=page_size, item=_comment)
    return InstrumentRatings(
        instrument_id=instrument_id,
        count=sum(counts.values()),
        average=domain.average(counts),
        distribution=domain.distribution(counts),
        items=listed.items,
        total=listed.total,
        page=listed.page,
        page_size=listed.page_size,
    )
