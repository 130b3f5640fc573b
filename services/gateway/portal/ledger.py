"""The ledger on a page (issue 17): ``/finance/ledger`` (finance, center, bureau; ``ledgerBalances``)
lists the accounts with their debits, credits and balance in yuan, each account named in words
(``account_words``: from the parts payments answers each account with, ``kind``, ``money``,
``year``, ``party_type``, ``party_id``; a unit or user by its name, never its id), 20 a page as
payments pages them, with payments' totals of every account; finance also reads whether
the books balance (``trialBalance``, finance only). The year's budget execution report as Excel
(``exportBudgetExecution``) is passed through at ``/finance/budget-execution/{year}/export``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from services.gateway.portal.client import ApiError
from services.gateway.portal.core import REVIEW_PAGE_SIZE, Ctx, Kit, this_year
from services.gateway.portal.paging import kept_query, page_links, page_number
from services.gateway.portal.party_names import unit_names, user_names

READERS = ("finance", "center", "bureau")


def parties(balances: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """The units and the users the accounts are kept for (their ``party_type``, ``party_id``): (unit ids, user ids)."""
    units = [b["party_id"] for b in balances if b.get("party_type") == "unit"]
    users = [b["party_id"] for b in balances if b.get("party_type") == "user"]
    return units, users


#: an account's words by its kind, and the parts they name (``money``, ``year``, ``party_id``)
WORDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "user_payable": ("ledger_user_payable", ("party_id",)),
    "unit_receivable": ("ledger_unit_receivable", ("party_id",)),
    "cash_received": ("ledger_cash_received", ("party_id",)),
    "clawback_receivable": ("ledger_clawback_receivable", ("party_id",)),
    "voucher_budget": ("ledger_voucher_budget", ("year",)),
    "award_approved": ("ledger_award_approved", ("year",)),
    "funds": ("ledger_funds", ("money", "year")),
    "appropriation": ("ledger_appropriation", ("money", "year")),
    "payout_payable": ("ledger_payout_payable", ("money", "year")),
    "treasury_paid": ("ledger_treasury_paid", ("money", "year")),
    "clawed_back": ("ledger_clawed_back", ("money", "year")),
    "recovered": ("ledger_recovered", ("money", "year")),
}
MONEY_WORDS = {"award": "ledger_kind_award", "redemption": "ledger_kind_redemption", "voucher": "ledger_kind_voucher"}


def account_words(b: dict[str, Any], t: Callable[..., str], units: dict[str, str], users: dict[str, str]) -> str:
    """An account in words from the parts payments answers with: what it holds, its year and
    kind of money, and the unit or user it is kept for, by name (never its id); an account of
    a kind the portal has no words for, or without the parts its words name: 其他科目."""
    key, needs = WORDS.get(str(b.get("kind")), ("", ()))
    if not key or not all(b.get(part) for part in needs) or ("money" in needs and b["money"] not in MONEY_WORDS):
        return t("ledger_other_account")
    names = units if b.get("party_type") == "unit" else users
    party = names.get(b.get("party_id") or "") or t("name_unknown")
    money = t(MONEY_WORDS[b["money"]]) if b.get("money") in MONEY_WORDS else ""
    return t(key, party=party, year=b.get("year") or "", money=money)


async def ledger_page(ctx: Ctx) -> Response[str]:
    pg = page_number(ctx)
    balances, trial = await asyncio.gather(
        ctx.api.answer("payments", "/v1/ledger/balances", page=pg, page_size=REVIEW_PAGE_SIZE),
        ctx.api.answer("payments", "/v1/ledger/trial-balance") if ctx.role == "finance" else asyncio.sleep(0),
    )
    if isinstance(balances, ApiError):
        return ctx.error_page(balances)
    shown = list(balances.get("items") or [])
    unit_ids, user_ids = parties(shown)
    units, users = await asyncio.gather(unit_names(ctx, unit_ids), user_names(ctx, user_ids))
    rows = [{**b, "words": account_words(b, ctx.t, units, users)} for b in shown]
    return ctx.render(
        "ledger.html",
        rows=rows,
        totals=balances["totals"],
        trial=trial if isinstance(trial, dict) else None,
        trial_unavailable=isinstance(trial, ApiError),
        paging=page_links(int(balances["total"]), pg, REVIEW_PAGE_SIZE),
        base=kept_query(ctx, "page"),
        export_years=(this_year(), this_year() - 1),
    )


def handlers(kit: Kit) -> list[Any]:
    @kit.page("/finance/ledger")
    async def ledger(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, READERS, ledger_page)

    @get("/finance/budget-execution/{year:int}/export", include_in_schema=False, **kit.pub)
    async def budget_execution_export(request: Request[Any, Any, Any], year: FromPath[int]) -> Response[Any]:
        """The year's budget execution report as the payments service's Excel file."""
        return await kit.download(request, READERS, "payments", f"/v1/reports/budget-execution/{year}/export")

    return [ledger, budget_execution_export]
