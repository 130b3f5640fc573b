"""The center's and the bureau's voucher work on pages (issue 17): the year's redemption
window and the review of the units' redemption claims (the center sets the window, lists
the claims, opens one, assigns an expert, reviews it voucher by voucher), and the
programme budget the bureau or finance change, with its reason, from the dashboard. Over
the vouchers API only: ``setRedemptionWindow``, ``getRedemptionWindow``,
``listRedemptionClaims``, ``getRedemptionClaim``, ``listRedemptionAssignments``,
``assignRedemptionExpert``, ``reviewRedemption``, ``downloadRedemptionDocument``,
``getProgramme``, ``changeProgrammeBudget`` (and evaluation's ``listExperts`` for names)."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from services.gateway.portal.client import ApiError, confirmed, missing, reason_required
from services.gateway.portal.core import PAGE_SIZE, Ctx, Kit, asked_year, form_year, this_year, yuan_to_fen
from services.gateway.portal.paging import WHOLE, first_only, page_links, page_number, searched_case_no
from services.gateway.portal.i18n import said_problem
from services.gateway.portal.party_names import unit_names
from services.gateway.portal.versioned import if_match

REVIEWERS = ("center", "bureau")
BUDGET = ("bureau", "finance")
CLAIM_STATES = ("claimed", "approved", "rejected", "noticed", "settled", "all")
#: a refusal of the vouchers service said at the field it concerns
AT_FIELD = {
    "redemption.window_invalid": "closes_on",
    "assignment.conflict_of_interest": "expert_id",
    "assignment.duplicate": "expert_id",
    "not_found.expert": "expert_id",
    "voucher.budget_below_committed": "budget_fen",
    "voucher.budget_invalid": "budget_fen",
}


def errors_at(err: ApiError | None, lang: str) -> dict[str, str]:
    if err is None:
        return {}
    found = err.field_errors(lang)
    details = err.problem.get("details")
    if err.code == "redemption.reason_required" and isinstance(details, dict) and details.get("voucher_id"):
        found[f"reason:{details['voucher_id']}"] = err.message(lang)
    elif field := AT_FIELD.get(err.code):
        found.setdefault(field, err.message(lang))
    return found


def shown(ctx: Ctx, err: ApiError | None, form: dict[str, Any] | None) -> dict[str, Any]:
    return ctx.outcome(err, form, field_errors=errors_at(err, ctx.lang) if err else None)


async def claims_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    """The year's claim window (the center's form to set it) and the claims, a page at a time;
    with a case number typed, the claim that has it, whatever its year and status."""
    q = ctx.request.query_params
    case_no = searched_case_no(ctx)
    year = asked_year(ctx)
    status = q.get("status") or "claimed"
    status = status if status in CLAIM_STATES else "claimed"
    pg = page_number(ctx)
    window, found = await asyncio.gather(
        ctx.api.maybe("vouchers", f"/v1/redemption/windows/{year}"),
        ctx.api.answer(
            "vouchers",
            "/v1/redemption/claims",
            **({"case_no": case_no} if case_no else {"year": year, "status": None if status == "all" else status}),
            page=pg,
            page_size=PAGE_SIZE,
        ),
    )
    if isinstance(found, ApiError):
        return ctx.error_page(found)
    return ctx.render(
        "redemption_claims.html",
        year=year,
        window=window,
        items=found["items"],
        units=await unit_names(ctx, (c["unit_id"] for c in found["items"])),
        shown=status,
        states=CLAIM_STATES,
        base={"year": year, "status": status} | ({"case_no": case_no} if case_no else {}),
        case_no=case_no,
        paging=page_links(found["total"], pg, PAGE_SIZE),
        **shown(ctx, error, form),
    )


async def claim_page(ctx: Ctx, claim_id: str, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    """One claim: its unit, vouchers and evidence, its experts; the forms to assign one and
    (the center) to review it."""
    claim = await ctx.api.answer("vouchers", f"/v1/redemption/claims/{claim_id}")
    if isinstance(claim, ApiError):
        return ctx.error_page(claim)
    unit, assigned, pool = await asyncio.gather(
        ctx.api.maybe("registry", f"/v1/units/{claim['unit_id']}"),
        ctx.api.maybe("vouchers", f"/v1/redemption/claims/{claim_id}/assignments"),
        ctx.api.maybe("evaluation", "/v1/experts/", page_size=WHOLE),  # the pool to choose from: one whole page, more said
    )
    experts = (pool or {"items": []})["items"]
    return ctx.render(
        "redemption_claim.html",
        claim=claim,
        unit=unit,
        assigned=assigned or [],
        experts=experts,
        experts_more=first_only(pool),
        names={e["expert_id"]: e["name"] for e in experts},
        **shown(ctx, error, form),
    )


async def budget_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    """The year's programme and the form changing its budget (shown again with a refusal)."""
    year = this_year()
    programme = await ctx.api.maybe("vouchers", f"/v1/programmes/{year}")
    return ctx.render("programme_budget.html", year=year, programme=programme, **shown(ctx, error, form))


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    @page("/redemption/claims")
    async def claims(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, REVIEWERS, claims_page)

    @action("/redemption/window")
    async def set_window(request: Request[Any, Any, Any]) -> Response[str]:
        """The center sets the days units claim on for a programme year (both inclusive)."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> int:
            year = form_year(form)
            opens_on, closes_on = str(form.get("opens_on") or ""), str(form.get("closes_on") or "")
            if absent := [k for k, v in (("opens_on", opens_on), ("closes_on", closes_on)) if not v]:
                raise missing(*absent)
            await ctx.api.call("PUT", "vouchers", f"/v1/redemption/windows/{year}", json={"opens_on": opens_on, "closes_on": closes_on}, headers=if_match(form))
            return year

        async def again(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            return await claims_page(ctx, error=err, form=form)

        return await kit.submit(request, ("center",), run, again=again, done=lambda year: f"/redemption/claims?year={year}&done=1")

    @page("/redemption/claims/{claim_id:str}")
    async def claim(request: Request[Any, Any, Any], claim_id: FromPath[str]) -> Response[str]:
        return await kit.show(request, REVIEWERS, claim_page, claim_id)

    @action("/redemption/claims/{claim_id:str}/assign")
    async def assign(request: Request[Any, Any, Any], claim_id: FromPath[str]) -> Response[str]:
        """The center or the bureau assigns an expert of the pool to a claim awaiting review."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            if not form.get("expert_id"):
                raise missing("expert_id")
            confirmed(form)
            await ctx.api.post("vouchers", f"/v1/redemption/claims/{claim_id}/assignments", json={"expert_id": str(form["expert_id"])})

        async def again(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            return await claim_page(ctx, claim_id, error=err, form=form)

        return await kit.submit(request, REVIEWERS, run, again=again, done=f"/redemption/claims/{claim_id}?done=1")

    @action("/redemption/claims/{claim_id:str}/review")
    async def review(request: Request[Any, Any, Any], claim_id: FromPath[str]) -> Response[str]:
        """The center decides each voucher of the claim: approved, or rejected with a reason."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            decisions = []
            for key, value in form.items():
                if key.startswith("decision:") and value in ("approve", "reject"):
                    vid = key.removeprefix("decision:")
                    reason = str(form.get(f"reason:{vid}") or "").strip()
                    if value == "reject" and not reason:
                        raise ApiError(422, {"code": "redemption.reason_required", **said_problem("rejected_voucher_reason"), "details": {"voucher_id": vid}})
                    decisions.append({"voucher_id": vid, "approved": value == "approve", **({"reason": reason} if reason else {})})
            if not decisions:
                raise reason_required("decide_every_voucher_of_the_claim", field="decisions")
            confirmed(form)
            await ctx.api.post("vouchers", f"/v1/redemption/claims/{claim_id}/review", json={"decisions": decisions})

        async def again(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            return await claim_page(ctx, claim_id, error=err, form=form)

        return await kit.submit(request, ("center",), run, again=again, done=f"/redemption/claims/{claim_id}?done=1")

    @get("/redemption/documents/{document_id:str}", include_in_schema=False, **kit.pub)
    async def document(request: Request[Any, Any, Any], document_id: FromPath[str]) -> Response[Any]:
        return await kit.download(request, REVIEWERS, "vouchers", f"/v1/redemption/documents/{document_id}")

    @page("/programme/budget")
    async def budget(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, BUDGET, budget_page)

    @action("/programme/budget")
    async def change_budget(request: Request[Any, Any, Any]) -> Response[str]:
        """Bureau or finance change the year's budget (in yuan here, fen to the API) with a reason."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            amount, reason = str(form.get("budget") or "").strip(), str(form.get("reason") or "").strip()
            if not amount:
                raise missing("budget_fen")
            if not reason:
                raise reason_required("a_budget_change_needs_a_reason")
            await ctx.api.call("PATCH", "vouchers", f"/v1/programmes/{this_year()}/budget", json={"budget_fen": yuan_to_fen(amount), "reason": reason}, headers=if_match(form))

        return await kit.submit(request, BUDGET, run, again=lambda ctx, err, form: budget_page(ctx, error=err, form=form), done="/dashboard?done=1#budget")

    return [claims, set_window, claim, assign, review, document, budget, change_budget]
