"""A service order from request to rating (the user's and the unit's steps on one
page), the user's vouchers and appeals, and the registration of an enterprise
or a start-up team."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from services.gateway.portal.client import ApiError, at_field, confirmed, reason_required, refused_at
from services.gateway.portal.core import REVIEW_PAGE_SIZE, Ctx, Kit, again, this_year, yuan_to_fen
from services.gateway.portal.paging import WHOLE, first_only, kept_query, page_links, page_number, paged, searched_case_no
from services.gateway.portal.i18n import said_problem
from services.gateway.portal.instrument_time import local_moment
from services.gateway.portal.public import instrument_page
from services.gateway.portal.versioned import if_match

REGISTER_FIELDS = ("name", "kind", "credit_code", "leader_name", "leader_id_number", "incubator_credit_code")


async def order_page(ctx: Ctx, order_id: str, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    try:
        o = await ctx.api.get("registry", f"/v1/orders/{order_id}")
    except ApiError as err:
        return ctx.error_page(err)
    application = None
    settlement = None
    if ctx.role in ("user", "center", "bureau"):
        # the order's application (at most one), however many the user or the city has
        found = await ctx.api.maybe("vouchers", "/v1/applications/", order_id=order_id, page_size=1)
        application = next(iter((found or {}).get("items") or []), None)
    # the voucher, read once (getVoucher, with the unit's refusals of it): the application's for the
    # step tracker's last steps; the one the user presents on this order for the unit, which reads no
    # applications and finds it by the order (listVouchers?order_id=, whose items carry no refusals)
    voucher = None
    if application and application.get("voucher_id"):
        voucher = await ctx.api.maybe("vouchers", f"/v1/vouchers/{application['voucher_id']}")
    elif ctx.role == "unit" and o["status"] in VOUCHER_STATES:
        voucher = await order_voucher(ctx, order_id, with_refusals=True)
    if o.get("settlement_id"):
        settlement = await ctx.api.maybe("payments", f"/v1/settlements/{o['settlement_id']}")
    unit = await ctx.api.maybe("registry", f"/v1/units/{o['unit_id']}")
    usage = usage_more = None
    if ctx.role in ("unit", "center", "bureau") and o["status"] in ("in_service", "results_delivered", "settled", "rated"):
        # one order's sessions of use: a hundred check-ins of one order is beyond any real order (and the page says so)
        sessions = await ctx.api.maybe("registry", "/v1/usage/sessions/", order_id=order_id, page_size=WHOLE)
        usage, usage_more = (sessions or {"items": []})["items"], first_only(sessions)
    return ctx.render("order.html", o=o, unit=unit, application=application, voucher=voucher, settlement=settlement, usage=usage, usage_more=usage_more if usage is not None else None, **ctx.outcome(error, form))


#: an order's states in which a voucher may be bound to it
VOUCHER_STATES = ("contracted", "in_service", "results_delivered", "settled", "rated")


async def order_voucher(ctx: Ctx, order_id: str, *, with_refusals: bool = False) -> dict[str, Any] | None:
    """The voucher bound to the order, as the signed-in party may see it (listVouchers?order_id=);
    with its refusals (getVoucher) when asked."""
    found = await ctx.api.maybe("vouchers", "/v1/vouchers/", order_id=order_id, page_size=1)
    voucher = next(iter((found or {}).get("items") or []), None)
    if voucher and with_refusals:
        voucher = await ctx.api.maybe("vouchers", f"/v1/vouchers/{voucher['voucher_id']}") or voucher
    return voucher


async def refuse_voucher(ctx: Ctx, form: dict[str, Any], order_id: str) -> None:
    """The unit records why it refuses the voucher presented on the order (R19(2): never
    without a reason); the voucher stays valid, the refusal is kept for the center."""
    reason = str(form.get("reason") or "").strip()
    if not reason:
        raise reason_required("a_voucher_refusal_needs_a_reason", "refuse_reason")
    voucher = await order_voucher(ctx, order_id)
    if voucher is None:
        raise refused_at("voucher.not_found", "no_voucher_on_this_order", "refuse_reason")
    try:
        await ctx.api.post("vouchers", f"/v1/vouchers/{voucher['voucher_id']}/refuse", json={"reason": reason})
    except ApiError as err:
        raise at_field(err, "refuse_reason") from err


async def order_step_run(ctx: Ctx, form: dict[str, Any], order_id: str, step: str) -> Response[str] | None:
    """One step of an order, by whoever takes it; a Response when the step is unknown."""
    base = f"/v1/orders/{order_id}"
    if step == "quote":
        body = {"amount_fen": yuan_to_fen(str(form.get("amount") or ""))}
        for key in ("note", "reason"):  # reason: required above the published list (M11(4))
            if form.get(key):
                body[key] = form[key]
        await ctx.api.post("registry", f"{base}/quote", json=body)
    elif step == "document":
        upload = form.get("file")
        kind = str(form.get("kind") or "contract")
        if upload is None or not getattr(upload, "filename", None):
            raise ApiError(400, {"code": "document.no_file", **said_problem("choose_a_file"), "errors": [{"key": "file", "message": ctx.t("file")}]})
        data = await upload.read()
        await ctx.api.call("POST", "registry", f"{base}/documents", params={"kind": kind, "filename": upload.filename}, content=data, headers={"Content-Type": "application/octet-stream"})
        if kind == "result":  # the hours may be left out when the usage log has them
            o = await ctx.api.get("registry", base)
            doc = [d for d in o["documents"] if d["kind"] == "result"][-1]
            body = {"document_id": doc["document_id"]}
            if form.get("service_hours") not in (None, ""):
                body["service_hours"] = int(form["service_hours"]) if str(form["service_hours"]).isdigit() else form["service_hours"]
            await ctx.api.post("registry", f"{base}/results", json=body)
    elif step == "contract":
        body = {
            "testing_fee_fen": yuan_to_fen(str(form.get("testing_fee") or "")) if form.get("testing_fee") else None,
            "ip_ownership": form.get("ip_ownership") or None,
            "confidentiality": form.get("confidentiality") or None,
            "damage_compensation": form.get("damage_compensation") or None,
            "contract_document_id": form.get("contract_document_id") or None,
            "rd_proof_document_id": form.get("rd_proof_document_id") or None,
            "provincial_subsidy": form.get("provincial_subsidy") == "on",
        }
        # the version the page showed: terms the other party changed since are refused (412) and shown anew
        await ctx.api.call("PUT", "registry", f"{base}/contract", json=body, headers=if_match(form))
    elif step in ("check-in", "check-out"):
        await usage_step(ctx, form, order_id, step)
    elif step == "sign":
        confirmed(form, "agree_to_the_contract_first")  # one click must not sign a contract unread
        # the version the page showed: a contract the other party changed since is refused (412), not signed unseen
        await ctx.api.post("registry", f"{base}/sign", headers=if_match(form))
    elif step == "refuse-voucher":
        await refuse_voucher(ctx, form, order_id)
    elif step == "start":
        await ctx.api.post("registry", f"{base}/start")
    elif step == "cancel":
        reason = str(form.get("reason") or "").strip()
        if not reason:
            raise reason_required("a_cancellation_needs_a_reason", "cancel_reason")
        try:
            await ctx.api.post("registry", f"{base}/cancel", json={"reason": reason})
        except ApiError as err:
            raise at_field(err, "cancel_reason") from err
    elif step == "rate":
        rating = int(form["rating"]) if str(form.get("rating") or "").isdigit() else form.get("rating")
        await ctx.api.post("registry", f"{base}/rate", json={"rating": rating, "comment": form.get("comment") or None})
    elif step == "apply":
        year = this_year()
        account = await ctx.api.raw("GET", "vouchers", f"/v1/accounts/{year}")
        if account.status_code == 404:
            await ctx.api.post("vouchers", f"/v1/accounts/{year}")
        await ctx.api.post("vouchers", "/v1/applications/", json={"order_id": order_id})
    elif step == "settle":
        await ctx.api.post("payments", "/v1/settlements", json={"order_id": order_id})
    elif step == "pay":
        body = {
            "amount_fen": yuan_to_fen(str(form.get("amount") or "")),
            "bank_reference": form.get("bank_reference") or "",
            "idempotency_key": str(form.get("idempotency_key") or secrets.token_hex(8)),
        }
        await ctx.api.post("payments", f"/v1/settlements/{form.get('settlement_id') or ''}/payments", json=body)
    else:
        return Kit.not_found(ctx, "portal.unknown_step")
    return None


async def usage_step(ctx: Ctx, form: dict[str, Any], order_id: str, step: str) -> None:
    """The unit checks a session of use of the order in or out (Beijing time; empty: now)."""
    at = local_moment(str(form.get("at") or ""), "at")
    if step == "check-in":
        body: dict[str, Any] = {"kind": "outside", "order_id": order_id, "instrument_id": str(form.get("instrument_id") or "")}
        if form.get("booking_id"):
            body["booking_id"] = str(form["booking_id"])
        await ctx.api.post("registry", "/v1/usage/sessions/check-in", json=body | ({"at": at} if at else {}))
    else:
        await ctx.api.post("registry", f"/v1/usage/sessions/{form.get('session_id') or '-'}/check-out", json={"at": at} if at else {})


async def vouchers_page(ctx: Ctx, *, error: ApiError | None = None) -> Response[str]:
    year = this_year()
    account = await ctx.api.maybe("vouchers", f"/v1/accounts/{year}")
    programme = await ctx.api.maybe("vouchers", f"/v1/programmes/{year}")
    case_no, pg, vpg = searched_case_no(ctx), page_number(ctx), page_number(ctx, "vpage")  # two lists, each paged
    apps = await ctx.api.maybe("vouchers", "/v1/applications/", page=pg, page_size=REVIEW_PAGE_SIZE, case_no=case_no or None) or {"items": []}
    vs = await ctx.api.maybe("vouchers", "/v1/vouchers/", page=vpg, page_size=REVIEW_PAGE_SIZE) or {"items": []}
    # each application's voucher for its step tracker, also when the voucher is on another page of the vouchers
    voucher_of = {v["voucher_id"]: v for v in vs["items"]}
    wanted = sorted({a["voucher_id"] for a in apps["items"] if a.get("voucher_id") and a["voucher_id"] not in voucher_of})
    for vid, got in zip(wanted, await asyncio.gather(*(ctx.api.maybe("vouchers", f"/v1/vouchers/{v}") for v in wanted)), strict=True):
        if got:
            voucher_of[vid] = got
    return ctx.render(
        "vouchers.html",
        year=year,
        account=account,
        programme=programme,
        applications=apps["items"],
        vouchers=vs["items"],
        voucher_of=voucher_of,
        app_pages=paged(apps, pg, REVIEW_PAGE_SIZE),
        voucher_pages=paged(vs, vpg, REVIEW_PAGE_SIZE),
        app_base=kept_query(ctx, "page"),
        voucher_base=kept_query(ctx, "vpage"),
        case_no=case_no,
        **ctx.outcome(error),
    )


def register_errors(err: ApiError, lang: str, kind: str) -> dict[str, str]:
    """The service's refusal next to the field it concerns, in the service's words."""
    found = err.field_errors(lang)
    text = err.message(lang)
    if err.code == "user.credit_code_required":
        found["credit_code"] = text
    elif err.code == "user.team_fields_required":
        for k in ("leader_name", "leader_id_number", "incubator_credit_code"):
            found.setdefault(k, text)
    elif err.code == "registry.credit_code_invalid":
        found["incubator_credit_code" if kind == "team" else "credit_code"] = text
    elif "resident_id" in err.code or "identity" in err.code:
        found["leader_id_number"] = text
    elif err.code in ("user.team_class", "user.enterprise_class", "user.duplicate_class"):
        found["classes"] = text
    elif err.code == "user.duplicate":
        found["leader_id_number" if kind == "team" else "credit_code"] = text
    return found


def register_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None, registered: dict[str, Any] | None = None) -> Response[str]:
    form = form or {}
    kind = str(form.get("kind") or "enterprise")
    shown = ctx.outcome(error, field_errors=register_errors(error, ctx.lang, kind) if error else None)
    return ctx.render(
        "register.html",
        may_register=ctx.role in ("user", "center"),
        chosen=list(form.get("_classes") or []),
        registered=registered,
        **(shown | {"form": {k: str(form.get(k) or "") for k in REGISTER_FIELDS} | {"kind": kind}}),
    )


#: an order's states in the order they come (the list's filter)
ORDER_STATES = ("requested", "quoted", "contracted", "in_service", "results_delivered", "settled", "rated", "cancelled")


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    @page("/orders")
    async def orders(request: Request[Any, Any, Any]) -> Response[str]:
        ctx = kit.ctx(request)
        # not the departments: the registry shows them no order (their units' figures: /department/summary)
        if refused := kit.need(ctx, "user", "unit", "center", "bureau"):
            return refused
        pg = page_number(ctx)
        case_no = searched_case_no(ctx)
        status = (request.query_params.get("status") or "").strip()[:20]
        try:
            result = await ctx.api.get("registry", "/v1/orders/", page=pg, page_size=20, status=status or None, case_no=case_no or None)
        except ApiError as err:
            return ctx.error_page(err)
        filters = {k: v for k, v in (("case_no", case_no), ("status", status)) if v}
        return ctx.render("orders.html", items=result["items"], paging=page_links(result["total"], pg, 20), case_no=case_no, order_status=status, filters=filters, order_states=ORDER_STATES)

    @action("/orders")
    async def order_create(request: Request[Any, Any, Any]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> dict[str, Any]:
            try:
                qty: Any = int(form.get("quantity") or 1)
            except ValueError:
                qty = form.get("quantity")
            body: dict[str, Any] = {"purpose": form.get("purpose") or "research", "items": [{"price_item_id": form.get("price_item_id"), "quantity": qty}]}
            if form.get("description"):
                body["description"] = form["description"]
            return dict(await ctx.api.post("registry", "/v1/orders/", json=body))

        async def on_instrument(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            return await instrument_page(ctx, str(form.get("instrument_id") or ""), error=err, form=form)

        return await kit.submit(request, ("user",), run, again=on_instrument, done=lambda o: f"/orders/{o['order_id']}?done=1")

    @page("/orders/{order_id:str}")
    async def order(request: Request[Any, Any, Any], order_id: FromPath[str]) -> Response[str]:
        return await kit.show(request, (), order_page, order_id)

    @action("/orders/{order_id:str}/{step:str}")
    async def order_step(request: Request[Any, Any, Any], order_id: FromPath[str], step: FromPath[str]) -> Response[str]:
        return await kit.submit(
            request, ("user", "unit", "center"), lambda ctx, form: order_step_run(ctx, form, order_id, step), again=again(order_page, order_id), done=f"/orders/{order_id}?done={step}"
        )

    @get("/orders/{order_id:str}/documents/{document_id:str}", include_in_schema=False, **kit.pub)
    async def order_document(request: Request[Any, Any, Any], order_id: FromPath[str], document_id: FromPath[str]) -> Response[Any]:
        """A document of the order, for whoever signed in the registry lets read it (the order's parties, the staff)."""
        return await kit.download(request, (), "registry", f"/v1/orders/{order_id}/documents/{document_id}")

    @page("/vouchers")
    async def vouchers(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, ("user",), vouchers_page)

    @action("/vouchers/account")
    async def activate(request: Request[Any, Any, Any]) -> Response[str]:
        async def run(ctx: Ctx, _form: dict[str, Any]) -> None:
            await ctx.api.post("vouchers", f"/v1/accounts/{this_year()}")

        return await kit.submit(request, ("user",), run, again=again(vouchers_page, form=False), done="/vouchers?done=1")

    @action("/vouchers/applications/{application_id:str}/appeal")
    async def appeal(request: Request[Any, Any, Any], application_id: FromPath[str]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            await ctx.api.post("vouchers", f"/v1/applications/{application_id}/appeal", json={"reason": form.get("reason") or ""})

        return await kit.submit(request, ("user",), run, again=again(vouchers_page, form=False), done="/vouchers?done=1")

    @page("/register")
    async def register(request: Request[Any, Any, Any]) -> Response[str]:
        return register_page(kit.ctx(request))

    @action("/register")
    async def register_post(request: Request[Any, Any, Any]) -> Response[str]:
        """An enterprise or a start-up team registers (R4) with the signed-in user's (or the
        center's) token; the center verifies it in /review/users."""
        raw = await request.form()
        classes = [str(c) for c in raw.getall("classes", [])]
        special = [str(c) for c in raw.getall("special_classes", [])]

        async def run(ctx: Ctx, form: dict[str, Any]) -> Response[str]:
            form["_classes"] = classes + special
            kind = str(form.get("kind") or "enterprise")
            body: dict[str, Any] = {"name": str(form.get("name") or "").strip(), "kind": kind, "classes": classes, "special_classes": special}
            fields = ("credit_code",) if kind == "enterprise" else ("leader_name", "leader_id_number", "incubator_credit_code")
            for k in fields:
                if str(form.get(k) or "").strip():
                    body[k] = str(form[k]).strip()
            if not classes:
                raise ApiError(400, {"code": "request.invalid", **said_problem("choose_at_least_one_class"), "details": {"missing": ["classes"]}})
            return register_page(ctx, registered=await ctx.api.post("registry", "/v1/users/", json=body))

        async def refused(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            return register_page(ctx, error=err, form=form)

        return await kit.submit(request, ("user", "center"), run, again=refused, done="/register")

    return [orders, order_create, order, order_step, order_document, vouchers, activate, appeal, register, register_post]
