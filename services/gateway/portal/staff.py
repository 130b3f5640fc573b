"""The pages of the science bureau, its service center, finance, county
departments and experts: notices and the award plan, the voucher review queue
and appeals, the review of units and users, the dashboard, payouts, the
departments' evaluation queue and the experts' scoring."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from services.gateway.portal.client import ApiError, missing, reason_required, with_field
from services.gateway.portal.core import REVIEW_PAGE_SIZE, Ctx, Kit, again, form_year, this_year, yuan_to_fen
from services.gateway.portal.paging import find_listed, kept_query, page_in, page_links, page_number, paged, searched_case_no
from services.gateway.portal.messages import sheet_errors
from services.gateway.portal.party_names import unit_names, user_names
from services.gateway.portal.public import notices_page

CENTER_OR_BUREAU = ("center", "bureau")


async def review_page(ctx: Ctx, *, error: ApiError | None = None, failed: str | None = None) -> Response[str]:
    """The queue (``?page=``) and the appeals (``?apage=``), each paged; the latest applications
    (the newest 20 by design: any other is found by its case number)."""
    pg, apg, case_no = page_number(ctx), page_number(ctx, "apage"), searched_case_no(ctx)
    submitted, appealed, recent = await asyncio.gather(
        ctx.api.maybe("vouchers", "/v1/applications/", status="submitted", page=pg, page_size=REVIEW_PAGE_SIZE),
        ctx.api.maybe("vouchers", "/v1/applications/", status="appealed", page=apg, page_size=REVIEW_PAGE_SIZE),
        ctx.api.maybe("vouchers", "/v1/applications/", page_size=20, case_no=case_no or None),
    )
    return ctx.render(
        "review.html",
        queue=(submitted or {"items": []})["items"],
        appealed=(appealed or {"items": []})["items"],
        recent=(recent or {"items": []})["items"],
        queue_pages=paged(submitted, pg, REVIEW_PAGE_SIZE),
        appeal_pages=paged(appealed, apg, REVIEW_PAGE_SIZE),
        queue_base=kept_query(ctx, "page"),
        appeal_base=kept_query(ctx, "apage"),
        case_no=case_no,
        failed=failed,
        **ctx.outcome(error),
    )


async def finance_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None, failed: str | None = None) -> Response[str]:
    """The payouts due, the payment orders and the clawbacks (``?kpage=``); with ``case_no``, also the payout of that case number (BF-…),
    whatever its status, or the payouts of the payment order of that number (FK-…), each payout with the
    number of the payment order it is on; with ``order_case_no``, only the payment order of that case number."""
    case_no, order_case_no = searched_case_no(ctx), searched_case_no(ctx, "order_case_no")
    pg, opg, fpg, kpg = page_number(ctx), page_number(ctx, "opage"), page_number(ctx, "fpage"), page_number(ctx, "kpage")  # each list paged
    due, orders, hits, claws = await asyncio.gather(
        ctx.api.maybe("payments", "/v1/payouts/due"),  # every due payout, unpaged: paged here
        ctx.api.maybe("payments", "/v1/payment-orders/", page=opg, page_size=REVIEW_PAGE_SIZE, case_no=order_case_no or None),
        ctx.api.maybe("payments", "/v1/payouts/", case_no=case_no, page=fpg, page_size=REVIEW_PAGE_SIZE) if case_no else asyncio.sleep(0),
        ctx.api.maybe("payments", "/v1/clawbacks/", page=kpg, page_size=REVIEW_PAGE_SIZE),  # R27 追回, each by its ZH- number
    )
    claws = claws or {"items": []}
    orders = orders or {"items": []}
    due_shown, due_pages = page_in((due or {"items": []})["items"], pg, REVIEW_PAGE_SIZE)
    found = (hits or {"items": []})["items"] if case_no else None
    names, users = await asyncio.gather(
        unit_names(ctx, [*(p["unit_id"] for p in [*due_shown, *(found or [])]), *(c["party_id"] for c in claws["items"] if c["party_type"] == "unit")]),
        user_names(ctx, [c["party_id"] for c in claws["items"] if c["party_type"] == "user"]),  # a clawback from a user: by its name too
    )
    return ctx.render(
        "finance.html",
        due=due_shown,
        orders=orders["items"],
        case_no=case_no,
        found=found,
        names=names,
        user_names=users,
        order_case_no=order_case_no,
        due_pages=due_pages,
        order_pages=paged(orders, opg, REVIEW_PAGE_SIZE),
        found_pages=paged(hits, fpg, REVIEW_PAGE_SIZE) if case_no else None,
        due_base=kept_query(ctx, "page"),
        order_base=kept_query(ctx, "opage"),
        found_base=kept_query(ctx, "fpage"),
        clawbacks=claws["items"],
        clawback_pages=paged(claws, kpg, REVIEW_PAGE_SIZE),
        clawback_base=kept_query(ctx, "kpage"),
        failed=failed,  # the clawback whose repayment was refused: its form shows the errors and what was typed
        export_years=(this_year(), this_year() - 1),  # the budget execution report's Excel, this year and last
        **ctx.outcome(error, form),
    )


async def queue_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    """A department's applications to forward or return; an expert's assignments."""
    pg, ipg = page_number(ctx), page_number(ctx, "ipage")
    paging = {"queue_base": kept_query(ctx, "page"), "instrument_base": kept_query(ctx, "ipage")}
    if ctx.role == "expert":  # a page of the assignments, each with the unit and year it evaluates (its application, read at once)
        mine = await ctx.api.maybe("evaluation", "/v1/assignments/", page=pg, page_size=REVIEW_PAGE_SIZE) or {"items": []}
        wanted = sorted({a["application_id"] for a in mine["items"]})
        theirs = await asyncio.gather(*(ctx.api.maybe("evaluation", f"/v1/applications/{a}") for a in wanted))
        evaluated = {a: got for a, got in zip(wanted, theirs, strict=True) if got}
        return ctx.render(
            "queue.html", items=mine["items"], evaluated=evaluated, instruments=[], failed=None, queue_pages=paged(mine, pg, REVIEW_PAGE_SIZE), **paging, **ctx.outcome(error)
        )
    items, instruments = await asyncio.gather(
        ctx.api.maybe("evaluation", "/v1/applications/", page=pg, page_size=REVIEW_PAGE_SIZE),
        ctx.api.maybe("registry", "/v1/instruments/", page=ipg, page_size=REVIEW_PAGE_SIZE) if ctx.role == "department" else asyncio.sleep(0),
    )
    return ctx.render(
        "queue.html",
        items=(items or {"items": []})["items"],
        evaluated={},
        instruments=(instruments or {}).get("items", []),
        queue_pages=paged(items, pg, REVIEW_PAGE_SIZE),
        instrument_pages=paged(instruments, ipg, REVIEW_PAGE_SIZE),
        failed=(form or {}).get("application_id"),
        **paging,
        **ctx.outcome(error),
    )


async def scoring_page(ctx: Ctx, assignment_id: str, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    assignment = await find_listed(ctx, "evaluation", "/v1/assignments/", lambda a: a["assignment_id"] == assignment_id)  # the API has no GET of one
    if assignment is None:
        return Kit.not_found(ctx, "portal.not_found")
    application = await ctx.api.maybe("evaluation", f"/v1/applications/{assignment['application_id']}")
    year = (application or {}).get("year") or this_year()
    iset = await ctx.api.maybe("evaluation", "/v1/indicator-set/", year=year) or {"dimensions": []}
    indicators = [i for d in iset.get("dimensions", []) for i in d.get("indicators", []) if i.get("source") == "expert" and i.get("role") == assignment["role"]]
    maxima = {i["code"]: i.get("max_centi") for i in indicators}
    shown = ctx.outcome(error, form, field_errors=sheet_errors(error, maxima, ctx.lang) if error else None)
    return ctx.render("scoring.html", assignment=assignment, application=application, indicators=indicators, **shown)


def reason_at_field(err: ApiError, lang: str) -> dict[str, str]:
    """The problem's field errors, and a missing or overlong reason next to the reason."""
    found = err.field_errors(lang)
    if err.code in ("decision.reason_required", "decision.reason_too_long"):
        found["reason"] = err.message(lang)
    return found


async def review_list(ctx: Ctx, template: str, path: str, key: str, shown: str, *, error: ApiError | None, failed: str | None) -> Response[str]:
    """A review queue: one page of ``path`` filtered by ``key`` (``all``: no filter), with a failed decision's error at its row."""
    pg = page_number(ctx)
    try:
        result = await ctx.api.get("registry", path, **{key: None if shown == "all" else shown}, page=pg, page_size=REVIEW_PAGE_SIZE)
    except ApiError as err:
        return ctx.error_page(err)
    return ctx.render(
        template,
        items=result["items"],
        shown=shown,
        base={key: shown},
        paging=page_links(result["total"], pg, REVIEW_PAGE_SIZE),
        failed=failed,
        **ctx.outcome(error, field_errors=reason_at_field(error, ctx.lang) if error else None),
    )


async def review_units_page(ctx: Ctx, *, error: ApiError | None = None, failed: str | None = None, status: str | None = None) -> Response[str]:
    shown = status or ctx.request.query_params.get("status") or "applied"
    return await review_list(ctx, "review_units.html", "/v1/units/", "status", shown, error=error, failed=failed)


async def review_users_page(ctx: Ctx, *, error: ApiError | None = None, failed: str | None = None) -> Response[str]:
    shown = ctx.request.query_params.get("verified") or "false"
    shown = shown if shown in ("false", "true", "all") else "false"
    return await review_list(ctx, "review_users.html", "/v1/users/", "verified", shown, error=error, failed=failed)


def optional_reason(form: dict[str, Any]) -> dict[str, Any]:
    """``{"reason": …}`` when the form gave one, else ``{}``."""
    reason = str(form.get("reason") or "").strip()
    return {"reason": reason} if reason else {}


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    @action("/notices")
    async def publish_notice(request: Request[Any, Any, Any]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> dict[str, Any]:
            body: dict[str, Any] = {"kind": form.get("kind") or "grades", "year": form_year(form)}
            if form.get("reason"):
                body["reason"] = form["reason"]
            return dict(await ctx.api.post("evaluation", "/v1/notices/", json=body))

        return await kit.submit(request, CENTER_OR_BUREAU, run, again=again(notices_page), done=lambda n: f"/notices/{n['notice_id']}?done=1")

    @action("/award-plans")
    async def propose_award_plan(request: Request[Any, Any, Any]) -> Response[str]:
        """The bureau proposes the year's award plan, approves it, and publishes the approved
        plan on its own public notice (R14(4)), one step per submission."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> dict[str, Any]:
            year = form_year(form)
            step = {"approve": "/approve", "notice": "/notice"}.get(str(form.get("step") or "propose"), "")
            return dict(await ctx.api.post("evaluation", f"/v1/award-plans/{year}{step}", json={"reason": form["reason"]} if form.get("reason") else {}))

        def done(plan: dict[str, Any]) -> str:
            notice_id = (plan.get("notice") or {}).get("notice_id")
            return f"/notices/{notice_id}?done=1" if notice_id else "/notices?done=1"

        return await kit.submit(request, ("bureau",), run, again=again(notices_page), done=done)

    # -- the voucher review queue and appeals -------------------------------------------

    @page("/review")
    async def review(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, CENTER_OR_BUREAU, review_page)

    @action("/review/{application_id:str}/{decision:str}")
    async def decide(request: Request[Any, Any, Any], application_id: FromPath[str], decision: FromPath[str]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> Response[str] | None:
            reason = str(form.get("reason") or "").strip() or None
            if decision == "reject" and not reason:
                raise reason_required("a_rejection_needs_a_reason")
            if decision in ("approve", "reject"):
                await ctx.api.post("vouchers", f"/v1/applications/{application_id}/{decision}", json={"reason": reason} if reason else {})
            elif decision in ("uphold", "overturn"):
                await ctx.api.post("vouchers", f"/v1/applications/{application_id}/appeal/decide", json={"outcome": decision, "reason": reason})
            else:
                return Kit.not_found(ctx, "portal.unknown_decision")
            return None

        async def at_row(ctx: Ctx, err: ApiError, _: dict[str, Any]) -> Response[str]:
            return await review_page(ctx, error=err, failed=application_id)

        return await kit.submit(request, CENTER_OR_BUREAU, run, again=at_row, done="/review?done=1")

    # -- the bureau's dashboard; finance's payouts ---------------------------------------

    @page("/dashboard")
    async def dashboard(request: Request[Any, Any, Any]) -> Response[str]:
        async def show(ctx: Ctx) -> Response[str]:
            year = this_year()
            programme = await ctx.api.maybe("vouchers", f"/v1/programmes/{year}")
            report = await ctx.api.maybe("payments", f"/v1/reports/budget-execution/{year}")
            orders = await ctx.api.maybe("registry", "/v1/orders/", page_size=1)
            apps = await ctx.api.maybe("vouchers", "/v1/applications/", page_size=1)
            cat = await ctx.api.maybe("registry", "/v1/catalogue/instruments", page_size=1)
            bars = []
            if programme:
                budget = programme["budget_fen"] or 1
                bars = [
                    (ctx.t("budget"), programme["budget_fen"], 100),
                    (ctx.t("committed"), programme["committed_fen"], round(100 * programme["committed_fen"] / budget, 1)),
                    (ctx.t("remaining"), programme["remaining_fen"], round(100 * programme["remaining_fen"] / budget, 1)),
                ]
            counts = {
                "orders": orders["total"] if orders else None,
                "applications": apps["total"] if apps else None,
                "instruments": cat["total"] if cat else None,
            }
            return ctx.render("dashboard.html", year=year, programme=programme, report=report, bars=bars, counts=counts)

        return await kit.show(request, ("bureau", "center", "finance"), show)

    @page("/finance")
    async def finance(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, ("finance", "center", "bureau"), finance_page)

    @action("/finance/payment-orders")
    async def payment_order(request: Request[Any, Any, Any]) -> Response[str]:
        async def run(ctx: Ctx, _form: dict[str, Any]) -> None:
            await ctx.api.post("payments", "/v1/payment-orders/", json={})

        return await kit.submit(request, ("finance",), run, again=again(finance_page, form=False), done="/finance?done=1")

    @action("/finance/clawbacks/{clawback_id:str}/repayments")
    async def clawback_repayment(request: Request[Any, Any, Any], clawback_id: FromPath[str]) -> Response[str]:
        """Finance records money a party paid back on a clawback (R27): the amount in yuan and the
        bank's reference; the form's key makes a second press of the same form one repayment."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            body = {
                "amount_fen": yuan_to_fen(str(form.get("amount") or "")),
                "bank_reference": str(form.get("bank_reference") or "").strip(),
                "idempotency_key": str(form.get("idempotency_key") or ""),
            }
            if not body["bank_reference"]:
                raise missing("bank_reference")
            await ctx.api.post("payments", f"/v1/clawbacks/{clawback_id}/repayments", json=body)

        async def at_row(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            if err.code in ("clawback.exceeds_outstanding", "clawback.amount_invalid") or "amount_fen" in err.field_errors(ctx.lang):
                with_field(err, "amount", lambda lang: err.field_errors(lang).get("amount_fen") or err.message(lang))
            return await finance_page(ctx, error=err, form=form, failed=clawback_id)

        return await kit.submit(request, ("finance",), run, again=at_row, done="/finance?done=1#clawbacks")

    @get("/finance/payment-orders/{payment_order_id:str}/export", include_in_schema=False, **kit.pub)
    async def payment_order_export(request: Request[Any, Any, Any], payment_order_id: FromPath[str]) -> Response[Any]:
        """A payment order's workbook (``exportPaymentOrder``: finance's alone, as the page offers it)."""
        return await kit.download(request, ("finance",), "payments", f"/v1/payment-orders/{payment_order_id}/export")

    # -- departments and experts ------------------------------------------------------------

    @page("/queue")
    async def queue(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, ("department", "expert"), queue_page)

    @action("/queue/{application_id:str}/{decision:str}")
    async def queue_decide(request: Request[Any, Any, Any], application_id: FromPath[str], decision: FromPath[str]) -> Response[str]:
        """The department forwards an application of its units, or returns it with a reason."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> Response[str] | None:
            if decision not in ("forward", "return"):
                return Kit.not_found(ctx, "portal.unknown_decision")
            body = optional_reason(form)
            await ctx.api.post("evaluation", f"/v1/applications/{application_id}/{decision}", json={"reason": None} | body if decision == "return" else body)
            return None

        async def at_row(ctx: Ctx, err: ApiError, _form: dict[str, Any]) -> Response[str]:
            return await queue_page(ctx, error=err, form={"application_id": application_id})

        return await kit.submit(request, ("department",), run, again=at_row, done="/queue?done=1")

    @page("/expert/assignments/{assignment_id:str}")
    async def scoring(request: Request[Any, Any, Any], assignment_id: FromPath[str]) -> Response[str]:
        return await kit.show(request, ("expert",), scoring_page, assignment_id)

    @action("/expert/assignments/{assignment_id:str}")
    async def scoring_post(request: Request[Any, Any, Any], assignment_id: FromPath[str]) -> Response[str]:
        """The expert's points per indicator of its role (entered as points, sent in
        hundredths), the on-site check date and its findings."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            scores = {k.removeprefix("score:"): yuan_to_fen(str(v or "")) for k, v in form.items() if k.startswith("score:")}
            body = {"scores": scores, "onsite_date": str(form.get("onsite_date") or ""), "findings": str(form.get("findings") or "").strip()}
            await ctx.api.post("evaluation", f"/v1/assignments/{assignment_id}/scores", json=body)

        return await kit.submit(request, ("expert",), run, again=again(scoring_page, assignment_id), done=f"/expert/assignments/{assignment_id}?done=1")

    # -- the review of units' applications and users' registrations ---------------------------

    @page("/review/units")
    async def review_units(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, CENTER_OR_BUREAU, review_units_page)

    @action("/review/units/{unit_id:str}/{decision:str}")
    async def review_units_decide(request: Request[Any, Any, Any], unit_id: FromPath[str], decision: FromPath[str]) -> Response[str]:
        """The bureau approves a unit's application, or rejects it with a reason (R7)."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> Response[str] | None:
            if decision not in ("approve", "reject"):
                return Kit.not_found(ctx, "portal.unknown_decision")
            await ctx.api.post("registry", f"/v1/units/{unit_id}/{decision}", json=optional_reason(form))
            return None

        async def at_row(ctx: Ctx, err: ApiError, _form: dict[str, Any]) -> Response[str]:
            return await review_units_page(ctx, error=err, failed=unit_id, status="applied")

        return await kit.submit(request, ("bureau",), run, again=at_row, done="/review/units?done=1")

    @page("/review/users")
    async def review_users(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, CENTER_OR_BUREAU, review_users_page)

    @action("/review/users/{user_id:str}/{decision:str}")
    async def review_users_verify(request: Request[Any, Any, Any], user_id: FromPath[str], decision: FromPath[str]) -> Response[str]:
        """The center verifies a registered user, or rejects one (a reason required), e.g.
        the one of two registrations of a credit code that is not the enterprise."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> Response[str] | None:
            if decision not in ("verify", "reject"):
                return Kit.not_found(ctx, "portal.unknown_decision")
            await ctx.api.post("registry", f"/v1/users/{user_id}/{decision}", json=optional_reason(form))
            return None

        async def at_row(ctx: Ctx, err: ApiError, _form: dict[str, Any]) -> Response[str]:
            return await review_users_page(ctx, error=err, failed=user_id)

        return await kit.submit(request, ("center",), run, again=at_row, done="/review/users?done=1")

    return [
        publish_notice, propose_award_plan, review, decide, dashboard, finance, payment_order, clawback_repayment, payment_order_export,
        queue, queue_decide, scoring, scoring_post, review_units, review_units_decide, review_users, review_users_verify,
    ]
