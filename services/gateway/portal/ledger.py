"""The ledger on a page (issue 17): ``/finance/ledger`` (finance, center, bureau; ``ledgerBalances``)
lists the accounts with their debits, credits and balance in yuan, each account named in words
(``account_words``: the payments ledger's ``<kind>:<id>`` accounts, docs/payouts.md "Ledger
accounts"; a unit or user by its name, never its id), 20 a page; finance also reads whether
the books balance (``trialBalance``, finance only). The year's budget execution report as Excel
(``exportBudgetExecution``) is passed through at ``/finance/budget-execution/{year}/export``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from services.gateway.portal.client import ApiError
from services.gateway.portal.core import REVIEW_PAGE_SIZE, Ctx, Kit, kept_query, page_links, page_number, this_year
from services.gateway.portal.party_names import unit_names, user_names

READERS = ("finance", "center", "bureau")


def parties(accounts: list[str]) -> tuple[list[str], list[str]]:
    """The units and the users the accounts are kept for: (unit ids, user ids)."""
    units, users = [], []
    for account in accounts:
        kind, _, rest = account.partition(":")
        if kind in ("unit_receivable", "cash_received"):
            units.append(rest)
        elif kind == "user_payable":
            users.append(rest)
        elif kind == "clawback_receivable":
            party_type, _, party = rest.partition(":")
            (units if party_type == "unit" else users).append(party)
    return units, users


def account_words(account: str, t: Callable[..., str], units: dict[str, str], users: dict[str, str]) -> str:
    """An account in words: what it holds, its year, and the unit or user it is kept for, by name."""
    kind, _, rest = account.partition(":")
    parts = rest.split(":")
    money_of = {"award": t("ledger_kind_award"), "redemption": t("ledger_kind_redemption"), "voucher": t("ledger_kind_voucher")}
    unit = units.get(rest) or t("name_unknown")
    if kind == "user_payable":
        return t("ledger_user_payable", party=users.get(rest) or t("name_unknown"))
    if kind == "unit_receivable":
        return t("ledger_unit_receivable", party=unit)
    if kind == "cash_received":
        return t("ledger_cash_received", party=unit)
    if kind == "voucher_budget":
        return t("ledger_voucher_budget", year=rest)
    if kind == "award_approved":
        return t("ledger_award_approved", year=rest)
    if kind.endswith("_funds") and kind.removesuffix("_funds") in money_of:
        return t("ledger_funds", year=rest, money=money_of[kind.removesuffix("_funds")])
    if kind == "clawback_receivable" and len(parts) == 2:
        party = (units if parts[0] == "unit" else users).get(parts[1]) or t("name_unknown")
        return t("ledger_clawback_receivable", party=party)
    if len(parts) == 2 and parts[0] in money_of:  # <kind>:<money>:<year>
        money, year = money_of[parts[0]], parts[1]
        words = {
            "appropriation": lambda: t("ledger_appropriation", year=year, money=money),
            "payout_payable": lambda: t("ledger_payout_payable", year=year, money=money),
            "treasury_paid": lambda: t("ledger_treasury_paid", year=year, money=money),
            "clawed_back": lambda: t("ledger_clawed_back", year=year, money=money),
            "recovered": lambda: t("ledger_recovered", year=year, money=money),
        }
        if kind in words:
            return words[kind]()
    return t("ledger_other_account")


async def ledger_page(ctx: Ctx) -> Response[str]:
    pg = page_number(ctx)
    balances, trial = await asyncio.gather(
        ctx.api.answer("payments", "/v1/ledger/balances"),  # every account, unpaged: paged here
        ctx.api.answer("payments", "/v1/ledger/trial-balance") if ctx.role == "finance" else asyncio.sleep(0),
    )
    if isinstance(balances, ApiError):
        return ctx.error_page(balances)
    every = list(balances.get("items") or [])
    shown = every[(pg - 1) * REVIEW_PAGE_SIZE : pg * REVIEW_PAGE_SIZE]
    unit_ids, user_ids = parties([b["account"] for b in shown])
    units, users = await asyncio.gather(unit_names(ctx, unit_ids), user_names(ctx, user_ids))
    rows = [{**b, "words": account_words(b["account"], ctx.t, units, users)} for b in shown]
    totals = {"debit_fen": sum(b["debit_fen"] for b in every), "credit_fen": sum(b["credit_fen"] for b in every)}
    return ctx.render(
        "ledger.html",
        rows=rows,
        totals=totals,
        trial=trial if isinstance(trial, dict) else None,
        trial_unavailable=isinstance(trial, ApiError),
        paging=page_links(len(every), pg, REVIEW_PAGE_SIZE),
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
        ctx = kit.ctx(request)
        if refused := kit.need(ctx, *READERS):
            return refused
        return kit.passthrough(await ctx.api.raw("GET", "payments", f"/v1/reports/budget-execution/{year}/export"))

    return [ledger, budget_execution_export]
