"""An instrument's public ratings as the registry answers with them (R19(4), issue 17).

R23 protects the users: nothing here names who rated, their order or their company."""

from __future__ import annotations

from datetime import date

import msgspec


class RatingComment(msgspec.Struct):
    """One rating with a comment: the stars, the day it was given (Beijing date) and the comment."""

    rating: int
    rated_on: date
    comment: str


class InstrumentRatings(msgspec.Struct, kw_only=True):
    """The ratings of an instrument's rated orders: how many, their average (one decimal,
    null without ratings) and how many gave each star ("1" … "5"); then one page of the
    comments, newest first (``items``, ``total`` comments, ``page``, ``page_size``)."""

    instrument_id: str
    count: int
    average: float | None
    distribution: dict[str, int]
    items: list[RatingComment]
    total: int
    page: int
    page_size: int
