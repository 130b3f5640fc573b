"""R20(1) 科技创新券兑现每年进行一次，与绩效评价同时开展: the voucher
redemption window is opened with the year's evaluation cycle. The bureau may
name it when it opens the cycle; vouchers opens its claim window from the
cycle's event (unless the center has already set one)."""

from __future__ import annotations

from datetime import date

from services.runtime.errors import DomainError


def redemption_window(opens_on: date | None, closes_on: date | None) -> tuple[date, date] | None:
    """Both days or neither; the window may not close before it opens."""
    if opens_on is None and closes_on is None:
        return None
    if opens_on is None or closes_on is None:
        missing = "redemption_opens_on" if opens_on is None else "redemption_closes_on"
        raise DomainError(
            "cycle.redemption_window_incomplete",
            "兑付申报期须同时填写开始和截止日期",
            "give both the first and the last day of the redemption window",
            field=missing,
        )
    if closes_on < opens_on:
        raise DomainError(
            "cycle.redemption_window_invalid",
            "兑付申报截止日期早于开始日期",
            "the redemption window closes before it opens",
            field="redemption_closes_on",
        )
    return opens_on, closes_on
