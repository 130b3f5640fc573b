"""Complaints on pages (issue 17; M11(6) 接受社会监督), over the registry's API only
(``fileComplaint``, ``listComplaints``, ``getComplaint``, ``decideComplaint``).

* **Filing.** Anybody files about a unit (from an instrument's page: the unit is the
  instrument's), with an optional contact; a signed-in user also about one of its own
  orders (from the order's page). A user is taken to its complaint's page; the public,
  who cannot read a complaint afterwards, gets the receipt on the spot: the TS case
  number, the status and the deadline.
* **Reading.** ``/complaints`` lists what the API lets the caller see: a user its own
  (我的投诉), a unit those about it (the API leaves out who complained and how to reach
  them), center and bureau every one, by case number and status, a page at a time.
* **Deciding.** The center upholds or dismisses an open complaint with a reason on its
  page; the bureau reads.
* **Lengths.** The portal keeps no copy of the registry's limits of the texts: a text too
  long is the registry's 422 ``complaint.field_too_long``, shown at its field
  (``details.field``) in the registry's words, which name its ``details.limit``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from services.gateway.portal.client import ApiError, reason_required, refused_at
from services.gateway.portal.core import PAGE_SIZE, Ctx, Kit
from services.gateway.portal.paging import page_links, page_number, searched_case_no
from services.gateway.portal.party_names import unit_names

#: who reads complaints (the API's readers); the center alone decides
READERS = ("user", "unit", "center", "bureau")
CATEGORIES = ("fees", "service_quality", "refusal", "confidentiality", "other")
STATES = ("open", "upheld", "dismissed")
OUTCOMES = ("upheld", "dismissed")
#: a refusal of the registry said at the field it concerns (its ``details.field`` aside)
AT_FIELD = {"complaint.unit_mismatch": "order_id", "order.not_found": "order_id", "complaint.subject_required": "unit_id", "complaint.already_decided": "outcome"}


def shown(ctx: Ctx, err: ApiError | None, form: dict[str, Any] | None) -> dict[str, Any]:
    """The refusal at its field: the registry's ``details.field``, else ``AT_FIELD``'s."""
    found = err.field_errors(ctx.lang) if err else {}
    if err is not None and (field := AT_FIELD.get(err.code)):
        found.setdefault(field, err.message(ctx.lang))
    return ctx.outcome(err, form, field_errors=found if err else None)


async def _subject(ctx: Ctx, order_id: str, unit_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(the order, the unit) a complaint is about, as far as the caller may read them."""
    order = await ctx.api.maybe("registry", f"/v1/orders/{order_id}") if order_id and ctx.role == "user" else None
    unit_id = (order or {}).get("unit_id") or unit_id
    unit = await ctx.api.maybe("registry", f"/v1/units/{unit_id}") if unit_id else None
    return order, unit


async def form_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    """The complaint form, about ``?order_id=`` (a signed-in user's order) or ``?unit_id=``."""
    typed = form or {}
    q = ctx.request.query_params
    order_id = str(typed.get("order_id") or q.get("order_id") or "")[:36]
    unit_id = str(typed.get("unit_id") or q.get("unit_id") or "")[:36]
    order, unit = await _subject(ctx, order_id, unit_id)
    if order is None and unit is None and error is None:
        return Kit.not_found(ctx, "portal.complaint_subject")
    return ctx.render(
        "complaint_form.html", order=order, unit=unit, order_id=order_id, unit_id=(unit or {}).get("unit_id") or unit_id, categories=CATEGORIES, **shown(ctx, error, form)
    )


async def file_run(ctx: Ctx, form: dict[str, Any]) -> Response[str] | dict[str, Any]:
    category = str(form.get("category") or "")
    if category not in CATEGORIES:
        raise refused_at("complaint.category_required", "choose_what_the_complaint_is_about", "category")
    body: dict[str, Any] = {"category": category, "text": str(form.get("text") or "")}
    for key in ("order_id", "unit_id", "contact"):
        if value := str(form.get(key) or "").strip():
            body[key] = value
    if ctx.role != "user":  # only a signed-in user names an order; the public complains about the unit
        body.pop("order_id", None)
    filed = dict(await ctx.api.post("registry", "/v1/complaints/", json=body))
    if ctx.role == "user":
        return filed
    names = await unit_names(ctx, [filed["unit_id"]])
    return ctx.render("complaint.html", status=201, c=filed, receipt=True, names=names, order=None, complainant=None, outcomes=OUTCOMES, form={}, field_errors={})


async def list_page(ctx: Ctx) -> Response[str]:
    pg, case_no = page_number(ctx), searched_case_no(ctx)
    status = str(ctx.request.query_params.get("status") or "")
    status = status if status in STATES else ""
    overdue = ctx.request.query_params.get("overdue") == "1"
    found = await ctx.api.answer(
        "registry", "/v1/complaints/", page=pg, page_size=PAGE_SIZE, case_no=case_no or None, status=status or None, overdue="true" if overdue else None
    )
    if isinstance(found, ApiError):
        return ctx.error_page(found)
    filters = {k: v for k, v in (("case_no", case_no), ("status", status), ("overdue", "1" if overdue else "")) if v}
    return ctx.render(
        "complaints.html",
        items=found["items"],
        names=await unit_names(ctx, (c["unit_id"] for c in found["items"])),
        case_no=case_no,
        chosen_status=status,
        overdue=overdue,
        states=STATES,
        filters=filters,
        paging=page_links(found["total"], pg, PAGE_SIZE),
    )


async def complaint_page(ctx: Ctx, complaint_id: str, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    found = await ctx.api.answer("registry", f"/v1/complaints/{complaint_id}")
    if isinstance(found, ApiError):
        return ctx.error_page(found)
    c: dict[str, Any] = found
    order, names, complainant = await asyncio.gather(
        ctx.api.maybe("registry", f"/v1/orders/{c['order_id']}") if c.get("order_id") else asyncio.sleep(0),
        unit_names(ctx, [c["unit_id"]]),
        ctx.api.maybe("registry", f"/v1/users/{c['complainant_user_id']}") if c.get("complainant_user_id") and ctx.role in ("center", "bureau") else asyncio.sleep(0),
    )
    return ctx.render("complaint.html", c=c, receipt=False, order=order, names=names, complainant=complainant, outcomes=OUTCOMES, **shown(ctx, error, form))


async def decide_run(ctx: Ctx, form: dict[str, Any], complaint_id: str) -> None:
    outcome = str(form.get("outcome") or "")
    if outcome not in OUTCOMES:
        raise refused_at("complaint.outcome_required", "choose_the_outcome", "outcome")
    reason = str(form.get("reason") or "").strip()
    if not reason:
        raise reason_required("complaint_decision_reason")
    await ctx.api.post("registry", f"/v1/complaints/{complaint_id}/decision", json={"outcome": outcome, "reason": reason})


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    @page("/complaints")
    async def complaints(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, READERS, list_page)

    @page("/complaints/new")
    async def complaint_form(request: Request[Any, Any, Any]) -> Response[str]:
        return await form_page(kit.ctx(request))

    @action("/complaints")
    async def file(request: Request[Any, Any, Any]) -> Response[str]:
        """Anybody files, signed in or not (the gateway rate-limits it as every request)."""

        async def refused(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            return await form_page(ctx, error=err, form=form)

        return await kit.submit(request, None, file_run, again=refused, done=lambda c: f"/complaints/{c['complaint_id']}?done=1")

    @page("/complaints/{complaint_id:str}")
    async def complaint(request: Request[Any, Any, Any], complaint_id: FromPath[str]) -> Response[str]:
        return await kit.show(request, READERS, complaint_page, complaint_id)

    @action("/complaints/{complaint_id:str}/decision")
    async def decide(request: Request[Any, Any, Any], complaint_id: FromPath[str]) -> Response[str]:
        async def refused(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            return await complaint_page(ctx, complaint_id, error=err, form=form)

        return await kit.submit(
            request, ("center",), lambda ctx, form: decide_run(ctx, form, complaint_id), again=refused, done=f"/complaints/{complaint_id}?done=1"
        )

    return [complaints, complaint_form, file, complaint, decide]
