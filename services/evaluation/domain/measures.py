"""What the platform's own records say about a unit in a year (R11, M14(1)).

These are the *computed* facts of the evaluation: counted from the events of
registry, vouchers and payments, never typed in. The indicator set turns them
into points (:mod:`services.evaluation.domain.scoring`); experts score the
rest. Integers only: hours in hundredths, money in fen, ratings as a sum and a
count so that an average is exact.
"""

from __future__ import annotations

import msgspec


class Measures(msgspec.Struct, frozen=True, kw_only=True):
    unit_id: str
    year: int
    #: instruments of the unit that must be listed (M5, M6) and are in service
    instruments_must_list: int = 0
    #: of those, listed on the platform (M11(3))
    instruments_listed: int = 0
    #: of those, listed within 30 working days of acceptance (M11(3))
    instruments_listed_on_time: int = 0
    #: instruments listed by choice although not required (M5: encouraged)
    instruments_listed_voluntarily: int = 0
    #: original value of the listed instruments, fen
    listed_value_fen: int = 0
    #: must-list instruments not listed by the year's end although their deadline had passed (M11(3))
    instruments_overdue: int = 0
    #: contracts signed in the year (R19(1)), not cancelled since
    orders_contracted: int = 0
    #: orders whose results were delivered in the year (R19(3))
    orders_served: int = 0
    #: service hours of those orders as stated at delivery, in hundredths of an hour
    service_hours_centi: int = 0
    #: 有效工作机时: minutes of every session of use of the unit's instruments in the year (usage log, issue 16)
    effective_minutes: int = 0
    #: 对外服务机时: of those, the minutes of outside sessions (serving an outside user's order)
    outside_minutes: int = 0
    #: listed instruments of the unit (in the stock at the year's end) with no session of use in the year
    instruments_idle: int = 0
    #: distinct users served that are not affiliated with the unit (R26)
    outside_users_served: int = 0
    #: orders settled with a voucher (R19)
    voucher_orders: int = 0
    #: fees of settled orders, fen (voucher part + user part)
    revenue_fen: int = 0
    #: of revenue_fen, the part paid by vouchers, fen
    revenue_voucher_fen: int = 0
    #: ratings received (R19(4)): their number and the sum of the 1–5 stars
    ratings_count: int = 0
    ratings_sum: int = 0
    #: valid vouchers the unit refused (R19(2)), and refusals without reason can't happen
    vouchers_refused: int = 0
    #: complaints upheld against the unit in the year
    complaints: int = 0
