"""The center's and the bureau's supervision on pages (issue 17): the city-wide listing
compliance of instruments (M11(3)), the provincial awards the bureau records (no city
award for them, R6) and the fraud findings the bureau records with their sanctions (R27).
Over the APIs only: registry ``getCityCompliance``, ``recordFraudFinding``,
``listFraudFindings``; evaluation ``recordProvincialAward``, ``listProvincialAwards``."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response

from services.gateway.portal.client import ApiError, confirmed, missing, reason_required
from services.gateway.portal.core import PAGE_SIZE, Ctx, Kit, asked_year, this_year
from services.gateway.portal.paging import page_in, page_links, page_number
from services.gateway.portal.party_names import unit_names
from services.gateway.portal.unit_picker import chosen_party, chosen_unit, is_search, pick_unit, pick_user

STAFF = ("center", "bureau")
SANCTIONS = ("criticism", "disqualification", "blacklist")
#: a refusal of the services said at the field it concerns
AT_FIELD = {
    "provincial_award.duplicate": "unit_id",
    "fraud.duplicate": "party_id",
    "fraud.disqualify_user": "sanctions",
    "fraud.sanction_unknown": "sanctions",
}


def shown(ctx: Ctx, err: ApiError | None, form: dict[str, Any] | None) -> dict[str, Any]:
    found = err.field_errors(ctx.lang) if err else {}
    if err is not None and (field := AT_FIELD.get(err.code) or ("party_id" if err.status == 404 else None)):
        found.setdefault(field, err.message(ctx.lang))
    return ctx.outcome(err, form, field_errors=found if err else None)



async def compliance_page(ctx: Ctx) -> Response[str]:
    """Instruments by listing state on a day, and those overdue or due soon (a page at a time)."""
    as_of = ctx.request.query_params.get("as_of") or None
    found = await ctx.api.answer("registry", "/v1/compliance/", as_of=as_of)
    error = found if isinstance(found, ApiError) else None
    result = {"counts": {}, "attention": [], "total": 0, "as_of": as_of} if error else found
    pg = page_number(ctx)
    items, paging = page_in(result["attention"], pg, PAGE_SIZE)
    return ctx.render(
        "compliance.html",
        result=result,
        items=items,
        names=await unit_names(ctx, (i["unit_id"] for i in items)),
        base={"as_of": as_of} if as_of else {},
        paging=paging,
        **(ctx.outcome(error, field_errors={"as_of": error.message(ctx.lang)} if error else None) | {"status": 200}),
    )


async def provincial_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    year, pg = asked_year(ctx), page_number(ctx)
    found, pick = await asyncio.gather(ctx.api.answer("evaluation", "/v1/provincial-awards", year=year, page=pg, page_size=PAGE_SIZE), pick_unit(ctx, form, "unit_id"))
    if isinstance(found, ApiError):
        return ctx.error_page(found)
    names = await unit_names(ctx, (a["unit_id"] for a in found["items"]))
    return ctx.render(
        "provincial_awards.html", year=year, items=found["items"], pick=pick, names=names, base={"year": year}, paging=page_links(found["total"], pg, PAGE_SIZE), **shown(ctx, error, form)
    )


async def fraud_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None, sanctions: list[str] | None = None) -> Response[str]:
    pg = page_number(ctx)
    found, pick, user_pick = await asyncio.gather(
        ctx.api.answer("registry", "/v1/fraud-findings/", page=pg, page_size=PAGE_SIZE),
        pick_unit(ctx, form, "unit_id"),
        pick_user(ctx, form, "user_id"),  # found by part of its name or credit code, whatever the number of users
    )
    if isinstance(found, ApiError):
        return ctx.error_page(found)
    return ctx.render(
        "fraud_findings.html",
        items=found["items"],
        pick=pick,
        user_pick=user_pick,
        all_sanctions=SANCTIONS,
        chosen=sanctions if sanctions is not None else list(SANCTIONS),
        base={},
        paging=page_links(found["total"], pg, PAGE_SIZE),
        **shown(ctx, error, form),
    )


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    @page("/supervision/compliance")
    async def compliance(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, STAFF, compliance_page)

    @page("/supervision/provincial-awards")
    async def provincial(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, STAFF, provincial_page)

    @action("/supervision/provincial-awards")
    async def record_provincial(request: Request[Any, Any, Any]) -> Response[str]:
        """The bureau records a unit's provincial award of a year with the decision's number."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> int | Response[str]:
            if is_search(form):
                return await provincial_page(ctx, form=form)
            unit_id = chosen_unit(await pick_unit(ctx, form, "unit_id"), "unit_id", required=False) or ""
            body = {"unit_id": unit_id, **{k: str(form.get(k) or "").strip() for k in ("year", "reference")}}
            if absent := [k for k, v in body.items() if not v]:
                raise missing(*absent)
            confirmed(form)
            year = int(body["year"]) if body["year"].isdigit() else body["year"]
            await ctx.api.post("evaluation", "/v1/provincial-awards", json={**body, "year": year})
            return int(year) if isinstance(year, int) else this_year()

        return await kit.submit(
            request, ("bureau",), run, again=lambda ctx, err, form: provincial_page(ctx, error=err, form=form), done=lambda y: f"/supervision/provincial-awards?year={y}&done=1"
        )

    @page("/supervision/fraud")
    async def fraud(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, STAFF, fraud_page)

    @action("/supervision/fraud")
    async def record_fraud(request: Request[Any, Any, Any]) -> Response[str]:
        """The bureau records a fraud finding against a unit or a user: the sanctions it
        decides, the years concerned (none: all), the reason and the evidence's reference."""
        typed = await request.form()
        chosen = [str(s) for s in typed.getall("sanctions", []) if s in SANCTIONS]

        async def run(ctx: Ctx, form: dict[str, Any]) -> Response[str] | None:
            if is_search(form):
                return await fraud_page(ctx, form=form, sanctions=chosen)
            party_type, party_id = await chosen_party(ctx, form)
            if not party_id:
                raise missing("party_id")
            if not chosen:
                raise missing("sanctions")
            reason = str(form.get("reason") or "").strip()
            if not reason:
                raise reason_required("a_fraud_finding_needs_a_reason")
            years = [int(y) for y in str(form.get("years") or "").replace("，", ",").replace("、", ",").split(",") if y.strip().isdigit()]
            body: dict[str, Any] = {"party_type": party_type, "party_id": party_id, "reason": reason, "sanctions": chosen, "years": years}
            if evidence := str(form.get("evidence_ref") or "").strip():
                body["evidence_ref"] = evidence
            await ctx.api.post("registry", "/v1/fraud-findings/", json=body)
            return None

        return await kit.submit(
            request, ("bureau",), run, again=lambda ctx, err, form: fraud_page(ctx, error=err, form=form, sanctions=chosen), done="/supervision/fraud?done=1"
        )

    return [compliance, provincial, record_provincial, fraud, record_fraud]
