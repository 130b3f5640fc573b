"""A unit's pages: its instruments and ledger imports, prices, payee account,
voucher redemption claims and the yearly evaluation application."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from services.gateway.portal.client import ApiError, with_field
from services.gateway.portal.core import REVIEW_PAGE_SIZE, Ctx, Kit, again, form_year, no_file, this_year, yuan_to_fen
from services.gateway.portal.paging import WHOLE, first_only, kept_query, page_number, paged
from services.gateway.portal.versioned import if_match

UNIT = ("unit",)


async def imports_page(ctx: Ctx, *, error: ApiError | None = None) -> Response[str]:
    # the latest 20 jobs by design: an import's rows are the instruments, listed in full on /unit/instruments
    jobs = await ctx.api.maybe("registry", f"/v1/units/{ctx.org}/imports", page_size=20) or {"items": []}
    details = (error.problem.get("details") or {}) if error else {}
    return ctx.render(
        "imports.html",
        status=error.status if error else 200,
        jobs=jobs["items"],
        error=error.message(ctx.lang) if error else None,
        row_errors=details.get("errors") if isinstance(details, dict) else None,
        failed_job=details.get("job_id") if isinstance(details, dict) else None,
    )


async def instruments_page(ctx: Ctx, *, error: ApiError | None = None) -> Response[str]:
    """The unit's instruments with their listing day and deadline; an unlisted one it may list (M11(3))."""
    pg = page_number(ctx)
    result = await ctx.api.maybe("registry", "/v1/instruments/", unit_id=ctx.org, page=pg, page_size=REVIEW_PAGE_SIZE) or {"items": []}
    compliance = await ctx.api.maybe("registry", f"/v1/compliance/units/{ctx.org}")
    return ctx.render(
        "unit_instruments.html", items=result["items"], compliance=compliance, paging=paged(result, pg, REVIEW_PAGE_SIZE), base=kept_query(ctx, "page"), **ctx.outcome(error)
    )


async def documents_of(ctx: Ctx, form: dict[str, Any]) -> list[str]:
    """Upload the form's files to the evaluation service's document store (the
    self-evaluation report, supporting evidence) and return their ids, for the
    application's ``documents``."""
    out = []
    for kind in ("self_assessment", "supporting"):
        upload = form.get(kind)
        if upload is None or not getattr(upload, "filename", None):
            continue
        data = await upload.read()
        if data:
            params = {"kind": kind, "filename": str(upload.filename)[:200]}
            doc = await ctx.api.call("POST", "evaluation", "/v1/evaluation-documents", params=params, content=data, headers={"Content-Type": "application/octet-stream"})
            out.append(str(doc["document_id"]))
    return out


async def evaluation_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    year = this_year()
    cycle = await ctx.api.maybe("evaluation", f"/v1/cycles/{year}")
    # the unit's own applications, one a year: fifty years fit in one page
    apps = await ctx.api.maybe("evaluation", "/v1/applications/", page_size=50) or {"items": []}
    current = next((a for a in apps["items"] if a.get("year") == year), None)
    payout = None  # the award's payout, once the grades are final (the step tracker's last step)
    if current and current.get("status") == "final":
        payouts = (await ctx.api.maybe("payments", "/v1/payouts/", kind="award", year=year, page_size=10) or {"items": []})["items"]  # one a year
        payout = next((po for po in payouts if po.get("kind") == "award" and po.get("year") == year), None)
    return ctx.render("evaluation.html", year=year, cycle=cycle, current=current, applications=apps["items"], award_payout=payout, **ctx.outcome(error, form))


def reasons_named(items: list[dict[str, Any]], orders: dict[str, str], invoice_word: str) -> list[str]:
    """A claim's review reasons as the unit reads them, from its items' own decisions
    (the claim's ``reasons`` list is a copy with each voucher's id at its head): each
    rejected voucher named by its order's case number (``orders``), else by the invoice
    number the unit typed; never by its id."""
    shown = []
    for i in items:
        if i.get("approved") is False and i.get("reason"):
            name = orders.get(i["voucher_id"]) or f"{invoice_word} {i.get('invoice_number') or ''}".strip()
            shown.append(f"{name}：{i['reason']}")
    return shown


async def redemption_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    year = this_year()
    window = await ctx.api.maybe("vouchers", f"/v1/redemption/windows/{year}")
    # read whole (a page of 100 each), not paged: which used vouchers are still to claim needs the claims
    # together; a unit with more says so above each list ("仅显示前 100 条，共 N 条")
    claimed_page, used_page = await asyncio.gather(
        ctx.api.maybe("vouchers", "/v1/redemption/claims", page_size=WHOLE), ctx.api.maybe("vouchers", "/v1/vouchers/", status="used", page_size=WHOLE)
    )
    claims, used = (claimed_page or {"items": []})["items"], (used_page or {"items": []})["items"]
    claimed: set[str] = set()
    orders = {v["voucher_id"]: f"{ctx.t('order')} {v['order_case_no']}" for v in used if v.get("order_case_no")}
    for c in claims:
        if c.get("status") == "rejected" and not c.get("reasons"):
            continue
        items = c.get("items")
        if items is None:  # the list leaves the items out
            items = (await ctx.api.maybe("vouchers", f"/v1/redemption/claims/{c['claim_id']}") or {}).get("items") or []
        if c.get("status") != "rejected":
            claimed |= {i["voucher_id"] for i in items}
        c["reasons"] = reasons_named(items, orders, ctx.t("redemption_invoice"))
    return ctx.render(
        "redemption.html",
        year=year,
        window=window,
        claims=claims,
        vouchers=[v for v in used if v["voucher_id"] not in claimed],
        claims_more=first_only(claimed_page),
        vouchers_more=first_only(used_page),
        **ctx.outcome(error, form),
    )


async def payee_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    payee = await ctx.api.maybe("payments", f"/v1/payees/{ctx.org}")
    pg = page_number(ctx)
    payouts = await ctx.api.maybe("payments", "/v1/payouts/", page=pg, page_size=REVIEW_PAGE_SIZE) or {"items": []}
    fields = None
    if error and error.code == "payee.account_invalid":
        fields = error.field_errors(ctx.lang) | {"account_number": error.message(ctx.lang)}
    # the account number is never put back into the form
    kept = {k: v for k, v in (form or {}).items() if k in ("bank_name", "account_name")}
    return ctx.render(
        "payee.html",
        payee=payee,
        payouts=payouts.get("items", []),
        paging=paged(payouts, pg, REVIEW_PAGE_SIZE),
        base=kept_query(ctx, "page"),
        **ctx.outcome(error, kept, field_errors=fields),
    )


async def prices_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None, failed: str | None = None) -> Response[str]:
    """A page of the unit's instruments (``?page=``) with their price items; the form adds one to them."""
    pg = page_number(ctx)
    found = await ctx.api.maybe("registry", "/v1/instruments/", unit_id=ctx.org, page=pg, page_size=REVIEW_PAGE_SIZE) or {"items": []}
    instruments = found["items"]
    prices = await asyncio.gather(*(ctx.api.maybe("registry", f"/v1/instruments/{inst['instrument_id']}/prices") for inst in instruments))
    rows = [(inst, (got or {"items": []})["items"]) for inst, got in zip(instruments, prices, strict=True)]
    paging, base = paged(found, pg, REVIEW_PAGE_SIZE), kept_query(ctx, "page")
    return ctx.render("unit_prices.html", rows=rows, page=pg, paging=paging, base=base, failed=failed, **ctx.outcome(error, form))


SERVICE_FIELDS = ("service_content", "contact_person", "contact_phone", "address")


async def service_info_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    """R18: what the unit publishes (service content, contact person, phone, address)."""
    unit = await ctx.api.maybe("registry", f"/v1/units/{ctx.org}") or {}
    shown = {f: (form or {}).get(f, unit.get(f) or "") for f in SERVICE_FIELDS}
    return ctx.render("unit_service.html", unit=unit, **ctx.outcome(error, shown))


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    @page("/unit/instruments")
    async def unit_instruments(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, UNIT, instruments_page)

    @action("/unit/instruments/{instrument_id:str}/list")
    async def list_instrument(request: Request[Any, Any, Any], instrument_id: FromPath[str]) -> Response[str]:
        """M11(3): the unit lists an instrument on the platform today (the listing reminder links here)."""

        async def run(ctx: Ctx, _form: dict[str, Any]) -> None:
            await ctx.api.post("registry", f"/v1/instruments/{instrument_id}/list", json={})

        return await kit.submit(request, UNIT, run, again=again(instruments_page, form=False), done="/unit/instruments?done=1")

    @page("/unit/imports")
    async def imports(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, UNIT, imports_page)

    @action("/unit/imports")
    async def import_post(request: Request[Any, Any, Any]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> dict[str, Any]:
            upload = form.get("file")
            if upload is None or not getattr(upload, "filename", None):
                raise no_file("choose_a_ledger_file", "file")
            data = await upload.read()
            media = getattr(upload, "content_type", None) or "application/octet-stream"
            return dict(await ctx.api.call("POST", "registry", f"/v1/units/{ctx.org}/imports", params={"filename": upload.filename}, content=data, headers={"Content-Type": media}))

        async def to_job(ctx: Ctx, err: ApiError, _form: dict[str, Any]) -> Response[str]:
            details = err.problem.get("details")
            job_id = details.get("job_id") if isinstance(details, dict) else None
            if job_id and err.code == "import.rows_invalid":  # the job's page lists the rows at fault
                return ctx.redirect(f"/unit/imports/{job_id}")
            return await imports_page(ctx, error=err)

        return await kit.submit(request, UNIT, run, again=to_job, done=lambda job: f"/unit/imports/{job['job_id']}")

    @page("/unit/imports/{job_id:str}")
    async def import_job(request: Request[Any, Any, Any], job_id: FromPath[str]) -> Response[str]:
        async def show(ctx: Ctx) -> Response[str]:
            try:
                job = await ctx.api.get("registry", f"/v1/imports/{job_id}")
            except ApiError as err:
                return ctx.error_page(err)
            total = job.get("total_rows") or 0
            pct = int(100 * (job.get("processed_rows") or 0) / total) if total else (100 if job.get("status") != "validating" else 0)
            return ctx.render("import_job.html", job=job, pct=pct, refresh=job.get("status") == "validating")

        return await kit.show(request, ("unit", "center", "bureau"), show)

    @page("/unit/evaluation")
    async def unit_evaluation(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, UNIT, evaluation_page)

    @action("/unit/evaluation")
    async def unit_evaluation_post(request: Request[Any, Any, Any]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            if not (getattr(form.get("self_assessment"), "filename", None)):
                raise no_file("self_assessment_report", "self_assessment")
            body: dict[str, Any] = {"documents": await documents_of(ctx, form), "statement": str(form.get("statement") or "").strip() or None}
            resubmit = str(form.get("application_id") or "")
            if resubmit:
                await ctx.api.post("evaluation", f"/v1/applications/{resubmit}/resubmit", json=body)
            else:
                await ctx.api.post("evaluation", "/v1/applications/", json={"year": form_year(form), **body})

        return await kit.submit(request, UNIT, run, again=again(evaluation_page), done="/unit/evaluation?done=1")

    @page("/unit/redemption")
    async def unit_redemption(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, UNIT, redemption_page)

    @action("/unit/redemption")
    async def unit_redemption_post(request: Request[Any, Any, Any]) -> Response[str]:
        """One used voucher claimed: the bank receipt and the results are uploaded as the unit's
        evidence documents, then the claim names them with the invoice (R20)."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            missing = [k for k in ("receipt", "results") if form.get(k) is None or not getattr(form.get(k), "filename", None)]
            if missing:
                raise no_file("bank_receipt_and_results", *missing)
            documents: dict[str, str] = {}
            for k in ("receipt", "results"):
                upload = form[k]
                data = await upload.read()
                media = getattr(upload, "content_type", None) or "application/octet-stream"
                documents[k] = (await ctx.api.post("vouchers", "/v1/redemption/documents", files={"file": (upload.filename, data, media)}))["document_id"]
            item: dict[str, Any] = {
                "voucher_id": str(form.get("voucher_id") or ""),
                "invoice_number": str(form.get("invoice_number") or "").strip(),
                "receipt_document_id": documents["receipt"],
                "results_document_id": documents["results"],
            }
            if str(form.get("invoice_code") or "").strip():
                item["invoice_code"] = str(form["invoice_code"]).strip()
            await ctx.api.post("vouchers", "/v1/redemption/claims", json={"year": form_year(form), "items": [item]})

        async def refused(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            if err.code == "redemption.invoice_invalid":
                with_field(err, "invoice_number", err.message)
            return await redemption_page(ctx, error=err, form=form)

        return await kit.submit(request, UNIT, run, again=refused, done="/unit/redemption?done=1")

    @page("/unit/payee")
    async def unit_payee(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, UNIT, payee_page)

    @action("/unit/payee")
    async def unit_payee_post(request: Request[Any, Any, Any]) -> Response[str]:
        """The unit's bank details for award and redemption payouts; the number comes back masked
        and is never put back into the form."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            body = {k: str(form.get(k) or "").strip() for k in ("bank_name", "account_name", "account_number")}
            # the version of the details the form was read with: a colleague's change meanwhile is 412 (where the money goes)
            await ctx.api.call("PUT", "payments", f"/v1/payees/{ctx.org}", json=body, headers=if_match(form))

        return await kit.submit(request, UNIT, run, again=again(payee_page), done="/unit/payee?done=1", keep_typed=True)

    @page("/unit/prices")
    async def unit_prices(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, UNIT, prices_page)

    @action("/unit/prices")
    async def unit_prices_post(request: Request[Any, Any, Any]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> int:
            body = {
                "name": str(form.get("name") or "").strip(),
                "billing_unit": form.get("billing_unit") or "",
                "price_fen": yuan_to_fen(str(form.get("price") or "")),
                "basis": form.get("basis") or "cost_compensation",
            }
            await ctx.api.post("registry", f"/v1/instruments/{form.get('instrument_id') or '-'}/prices", json=body)
            return page_number(ctx)  # the form posts to the page it was on (?page=): back to it, not to page 1

        async def refused(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            if "price_fen" in err.field_errors(ctx.lang):  # the form's field is the price in yuan
                with_field(err, "price", lambda lang: err.field_errors(lang)["price_fen"])
            return await prices_page(ctx, error=err, form=form)

        return await kit.submit(request, UNIT, run, again=refused, done=lambda page: f"/unit/prices?page={page}&done=1")

    @action("/unit/prices/{price_item_id:str}")
    async def unit_price_change(request: Request[Any, Any, Any], price_item_id: FromPath[str]) -> Response[str]:
        """The unit stops offering a price item, offers it again, or changes its price with a
        reason (changePriceItem, with the version the page showed: a colleague's change meanwhile
        is refused, not overwritten); back to the page it was on."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> int:
            op = str(form.get("op") or "")
            if op in ("deactivate", "activate"):
                body: dict[str, Any] = {"active": op == "activate"}
            else:
                body = {"price_fen": yuan_to_fen(str(form.get("new_price") or ""))}
                if reason := str(form.get("change_reason") or "").strip():
                    body["reason"] = reason
            await ctx.api.call("PATCH", "registry", f"/v1/price-items/{price_item_id}", json=body, headers=if_match(form))
            return page_number(ctx)

        async def at_row(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            fields = err.field_errors(ctx.lang)
            if "price_fen" in fields:
                with_field(err, "new_price", lambda lang: err.field_errors(lang)["price_fen"])
            if err.code == "price.reason_required":
                with_field(err, "change_reason", err.message)
            return await prices_page(ctx, error=err, form=form, failed=price_item_id)

        return await kit.submit(request, UNIT, run, again=at_row, done=lambda page: f"/unit/prices?page={page}&done=1")

    @page("/unit/service-info")
    async def unit_service(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, UNIT, service_info_page)

    @action("/unit/service-info")
    async def unit_service_post(request: Request[Any, Any, Any]) -> Response[str]:
        """The unit publishes its service content and contact (R18); a blank field clears it."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            body = {f: str(form.get(f) or "").strip() or None for f in SERVICE_FIELDS}
            # the version the form was filled from: a change by a colleague meanwhile is 412, the form shown again
            await ctx.api.call("PUT", "registry", f"/v1/units/{ctx.org}/service-info", json=body, headers=if_match(form))

        return await kit.submit(request, UNIT, run, again=again(service_info_page), done="/unit/service-info?done=1", keep_typed=True)

    return [
        unit_service, unit_service_post,
        unit_instruments, list_instrument, imports, import_post, import_job, unit_evaluation, unit_evaluation_post,
        unit_redemption, unit_redemption_post, unit_payee, unit_payee_post, unit_prices, unit_prices_post, unit_price_change,
    ]
