"""A payment order's own page and finance's confirmation that the bank paid (issue 17).

``/finance/payment-orders/{id}`` (finance, center, bureau; ``getPaymentOrder``): the order's case
number (FK-…), when it was created, its total and its payouts (BF-…, the unit by name, amount,
status, the bank's reference and when it was paid, in Beijing time), paged in the portal (the
service answers them all); finance also gets the order's Excel export and, on each payout ordered
and not yet paid, a form with the bank's reference (``confirmPayoutPaid``). ``/finance/payouts/to-confirm``
(finance; ``listPayouts?status=ordered``): every payout ordered and not yet paid, whatever its
order, with the same form: the workspace's "payouts to confirm" leads there. A missing reference
is refused at its field before payments is asked; payments' refusals (``payout.not_ordered``) at
the payout's row."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.params import FromPath

from services.gateway.portal.client import ApiError, refused_at
from services.gateway.portal.core import REVIEW_PAGE_SIZE, Ctx, Kit
from services.gateway.portal.paging import kept_query, page_in, page_number, paged
from services.gateway.portal.party_names import unit_names

READERS = ("finance", "center", "bureau")
FINANCE = ("finance",)
TO_CONFIRM = "/finance/payouts/to-confirm"


async def order_page(ctx: Ctx, payment_order_id: str, *, error: ApiError | None = None, form: dict[str, Any] | None = None, failed: str | None = None) -> Response[str]:
    """The payment order with one page (``?page=``) of its payouts; a refused confirmation shows
    the page holding that payout, its form with the refusal and what was typed."""
    order = await ctx.api.answer("payments", f"/v1/payment-orders/{payment_order_id}")
    if isinstance(order, ApiError):
        return ctx.error_page(order)
    every = list(order.get("payouts") or [])
    at = next((n for n, p in enumerate(every) if p["payout_id"] == failed), None)
    pg = at // REVIEW_PAGE_SIZE + 1 if at is not None else page_number(ctx)
    shown, paging = page_in(every, pg, REVIEW_PAGE_SIZE)
    return ctx.render(
        "payment_order.html",
        order=order,
        payouts=shown,
        names=await unit_names(ctx, [p["unit_id"] for p in shown]),
        to_confirm=sum(1 for p in every if p["status"] == "ordered"),
        paid=sum(1 for p in every if p["status"] == "paid"),
        paging=paging,
        base=kept_query(ctx, "page"),
        page=pg,
        failed=failed,
        **ctx.outcome(error, form),
    )


async def to_confirm_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None, failed: str | None = None) -> Response[str]:
    """Every payout ordered and not yet paid, oldest first, 20 a page."""
    pg = page_number(ctx)
    found = await ctx.api.maybe("payments", "/v1/payouts/", status="ordered", page=pg, page_size=REVIEW_PAGE_SIZE) or {"items": []}
    return ctx.render(
        "payouts_to_confirm.html",
        payouts=found["items"],
        names=await unit_names(ctx, [p["unit_id"] for p in found["items"]]),
        paging=paged(found, pg, REVIEW_PAGE_SIZE),
        base=kept_query(ctx, "page"),
        page=pg,
        failed=failed,
        **ctx.outcome(error, form),
    )


def back_to(form: dict[str, Any]) -> str:
    """Where the form was: its payment order's page (``payment_order_id``) or the list of payouts to
    confirm, at the page it showed."""
    order_id = str(form.get("payment_order_id") or "").strip()
    page = str(form.get("page") or "1")
    query = urlencode({"page": page if page.isdigit() else "1", "done": "1"})
    return f"/finance/payment-orders/{order_id}?{query}" if order_id and "/" not in order_id else f"{TO_CONFIRM}?{query}"


def handlers(kit: Kit) -> list[Any]:
    @kit.page("/finance/payment-orders/{payment_order_id:str}")
    async def payment_order(request: Request[Any, Any, Any], payment_order_id: FromPath[str]) -> Response[str]:
        return await kit.show(request, READERS, order_page, payment_order_id)

    @kit.page(TO_CONFIRM)
    async def payouts_to_confirm(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, FINANCE, to_confirm_page)

    @kit.action("/finance/payouts/{payout_id:str}/paid")
    async def confirm_paid(request: Request[Any, Any, Any], payout_id: FromPath[str]) -> Response[str]:
        """Finance confirms an ordered payout paid, with the bank's reference (``confirmPayoutPaid``;
        confirming one already paid changes nothing)."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> str:
            reference = str(form.get("bank_reference") or "").strip()
            if not reference:
                raise refused_at("payout.bank_reference_required", "a_paid_payout_needs_its_bank_reference", "bank_reference")
            await ctx.api.post("payments", f"/v1/payouts/{payout_id}/paid", json={"bank_reference": reference})
            return f"{back_to(form)}#payout-{payout_id}"

        async def at_row(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            order_id = str(form.get("payment_order_id") or "").strip()
            if order_id and "/" not in order_id:
                return await order_page(ctx, order_id, error=err, form=form, failed=payout_id)
            return await to_confirm_page(ctx, error=err, form=form, failed=payout_id)

        return await kit.submit(request, FINANCE, run, again=at_row, done=lambda target: str(target))

    return [payment_order, payouts_to_confirm, confirm_paid]
