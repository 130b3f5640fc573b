"""The center's and the bureau's evaluation work on pages (issue 17): the objections on
a public notice (anybody raises one on the notice's page; center and bureau see them,
the center resolves them), the expert pool (the center registers experts) and the
assignment of experts to forwarded evaluation applications. Over the evaluation API
only: ``raiseObjection``, ``listObjections``, ``resolveObjection``, ``registerExpert``,
``listExperts``, ``listEvaluationApplications``, ``listAssignments``, ``assignExpert``."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from services.gateway.portal.client import ApiError, confirmed, missing, reason_required
from services.gateway.portal.core import PAGE_SIZE, Ctx, Kit
from services.gateway.portal.paging import WHOLE, first_only, page_links, page_number
from services.gateway.portal.party_names import unit_names
from services.gateway.portal.unit_picker import Pick, chosen_unit, is_search, pick_unit

STAFF = ("center", "bureau")
OUTCOMES = ("upheld_line", "corrected", "withdrawn")
EXPERT_ROLES = ("management", "technical", "finance")
#: the evaluation applications the center works on, by status (``all``: no filter)
APPLICATION_STATES = ("forwarded", "reopened", "submitted", "returned", "graded", "all")
#: a refusal of the evaluation service said at the field it concerns
AT_FIELD = {
    "objection.line_changed": "outcome",
    "objection.case_not_redecided": "outcome",
    "assignment.conflict_of_interest": "expert_id",
    "assignment.duplicate": "expert_id",
    "assignment.application_not_forwarded": "expert_id",
}


def errors_at(err: ApiError | None, lang: str, form: dict[str, Any] | None = None) -> dict[str, str]:
    """The refusal's field errors, with the evaluation's rule refusals at their field."""
    if err is None:
        return {}
    found = err.field_errors(lang)
    field = AT_FIELD.get(err.code)
    if err.code == "objection.contact_invalid":
        field = "phone" if (form or {}).get("phone") else "id_number"
    elif err.code == "objection.real_name_required":
        field = "phone" if str((form or {}).get("name") or "").strip() else "name"
    elif err.code == "not_found.notice_item" or (err.status == 404 and "ref" in (form or {})):
        field = "ref"
    elif err.code == "not_found.expert":
        field = "expert_id"
    if field:
        found.setdefault(field, err.message(lang))
    return found


def shown(ctx: Ctx, err: ApiError | None, form: dict[str, Any] | None) -> dict[str, Any]:
    return ctx.outcome(err, form, field_errors=errors_at(err, ctx.lang, form) if err else None)


# -- a notice's objections ----------------------------------------------------------------


async def notice_page(
    ctx: Ctx, notice_id: str, *, error: ApiError | None = None, form: dict[str, Any] | None = None, failed: str | None = None
) -> Response[str]:
    """A notice with its lines; the public's objection form while the notice is published;
    for center and bureau its objections a page at a time, the center's resolve form at each
    open one (``failed``: the objection whose resolution was refused)."""
    try:
        n = await ctx.api.get("evaluation", f"/v1/notices/{notice_id}")
    except ApiError as err:
        return ctx.error_page(err)
    objections, paging = None, None
    if ctx.role in STAFF:
        pg = page_number(ctx)
        found = await ctx.api.answer("evaluation", f"/v1/notices/{notice_id}/objections", page=pg, page_size=PAGE_SIZE)
        if not isinstance(found, ApiError):
            objections, paging = found["items"], page_links(found["total"], pg, PAGE_SIZE)
    lines = {i["ref"]: i["label"] for i in n.get("items") or []}
    return ctx.render("notice.html", n=n, lines=lines, objections=objections, paging=paging, failed=failed, outcomes=OUTCOMES, **shown(ctx, error, form))


# -- the expert pool and the assignments ----------------------------------------------------


async def experts_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None, ties: list[str] | None = None) -> Response[str]:
    """The pool, and for the center the form: the expert's own unit and the units it declares
    ties to are picked by part of a name or credit code (``unit_picker``), ties one at a time
    (those already added stay ticked)."""
    pg = page_number(ctx)
    role = ctx.request.query_params.get("role") or ""
    role = role if role in EXPERT_ROLES else ""
    found, own, tie = await asyncio.gather(
        ctx.api.answer("evaluation", "/v1/experts/", role=role or None, page=pg, page_size=PAGE_SIZE),
        pick_unit(ctx, form, "unit_id", approved_only=True),
        pick_unit(ctx, form, "tie", approved_only=True),
    )
    if isinstance(found, ApiError):
        return ctx.error_page(found)
    ties = sorted(set(ties or []) | ({tie.unit_id} if tie.unit_id else set()))
    names = await unit_names(ctx, (u for e in found["items"] for u in (e.get("unit_id"), *e.get("ties", ()))))
    names |= await unit_names(ctx, (t for t in ties if t not in names))
    return ctx.render(
        "experts.html",
        items=found["items"],
        own=own,
        tie=tie if not tie.unit_id else Pick(),  # a tie found joins the ticked ones
        names=names,
        shown_role=role,
        expert_roles=EXPERT_ROLES,
        base={"role": role} if role else {},
        paging=page_links(found["total"], pg, PAGE_SIZE),
        ties=ties,
        **shown(ctx, error, form),
    )


async def assign_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None, failed: str | None = None) -> Response[str]:
    """Evaluation applications (forwarded first), each with its experts, and for the center
    the form assigning one of the pool."""
    pg = page_number(ctx)
    status = ctx.request.query_params.get("status") or "forwarded"
    status = status if status in APPLICATION_STATES else "forwarded"
    found, pool = await asyncio.gather(
        ctx.api.answer("evaluation", "/v1/applications/", status=None if status == "all" else status, page=pg, page_size=PAGE_SIZE),
        ctx.api.maybe("evaluation", "/v1/experts/", page_size=WHOLE),  # the pool to choose from: one whole page, more said
    )
    if isinstance(found, ApiError):
        return ctx.error_page(found)
    experts = (pool or {"items": []})["items"]
    names = {e["expert_id"]: e["name"] for e in experts}
    # one application's experts: a handful each (one per role), far below a page
    per_app = await asyncio.gather(*(ctx.api.maybe("evaluation", "/v1/assignments/", application_id=a["application_id"], page_size=WHOLE) for a in found["items"]))
    assigned = {a["application_id"]: (got or {"items": []})["items"] for a, got in zip(found["items"], per_app, strict=True)}
    return ctx.render(
        "expert_assignments.html",
        items=found["items"],
        assigned=assigned,
        experts=experts,
        experts_more=first_only(pool),
        names=names,
        shown=status,
        states=APPLICATION_STATES,
        base={"status": status},
        paging=page_links(found["total"], pg, PAGE_SIZE),
        failed=failed,
        **shown(ctx, error, form),
    )


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    @action("/notices/{notice_id:str}/objections")
    async def raise_objection(request: Request[Any, Any, Any], notice_id: FromPath[str]) -> Response[str]:
        """Anybody objects to one line with a real name and a phone or identity number."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            body = {k: str(form.get(k) or "").strip() for k in ("ref", "name", "text", "phone", "id_number")}
            if absent := [k for k in ("ref", "name", "text") if not body[k]]:
                raise missing(*absent)
            await ctx.api.post("evaluation", f"/v1/notices/{notice_id}/objections", json={k: v for k, v in body.items() if v})

        async def again(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            return await notice_page(ctx, notice_id, error=err, form=form)

        return await kit.submit(request, None, run, again=again, done=f"/notices/{notice_id}?done=1&raised=1#objection")

    @action("/notices/{notice_id:str}/objections/{objection_id:str}/resolve")
    async def resolve_objection(request: Request[Any, Any, Any], notice_id: FromPath[str], objection_id: FromPath[str]) -> Response[str]:
        """The center resolves an objection: the outcome and its reason."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            outcome, reason = str(form.get("outcome") or ""), str(form.get("reason") or "").strip()
            if outcome not in OUTCOMES:
                raise missing("outcome")
            if not reason:
                raise reason_required("a_resolution_needs_a_reason")
            await ctx.api.post("evaluation", f"/v1/objections/{objection_id}/resolve", json={"outcome": outcome, "reason": reason})

        async def again(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            return await notice_page(ctx, notice_id, error=err, form=form, failed=objection_id)

        return await kit.submit(request, ("center",), run, again=again, done=f"/notices/{notice_id}?done=1#objections")

    @page("/experts")
    async def experts(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, STAFF, experts_page)

    @action("/experts")
    async def register_expert(request: Request[Any, Any, Any]) -> Response[str]:
        """The center registers an expert: name, role, own unit, declared ties to units."""

        async def run(ctx: Ctx, typed: dict[str, Any]) -> Response[str] | None:
            form = await request.form()
            ties = {str(t) for t in form.getall("ties", []) if t}
            if is_search(typed):
                return await experts_page(ctx, form=typed, ties=sorted(ties))
            name, role = str(form.get("name") or "").strip(), str(form.get("role") or "")
            own, tie = await asyncio.gather(pick_unit(ctx, typed, "unit_id", approved_only=True), pick_unit(ctx, typed, "tie", approved_only=True))
            unit_id, added = chosen_unit(own, "unit_id", required=False), chosen_unit(tie, "tie", required=False)
            if absent := [k for k, v in (("name", name), ("role", role)) if not v]:
                raise missing(*absent)
            body: dict[str, Any] = {"name": name, "role": role, "ties": sorted(ties | ({added} if added else set()))}
            if unit_id:
                body["unit_id"] = unit_id
            await ctx.api.post("evaluation", "/v1/experts/", json=body)
            return None

        async def again(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            typed = await request.form()
            return await experts_page(ctx, error=err, form=form, ties=[str(t) for t in typed.getall("ties", []) if t])

        return await kit.submit(request, ("center",), run, again=again, done="/experts?done=1")

    @page("/experts/assignments")
    async def assignments(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, STAFF, assign_page)

    @action("/experts/assignments/{application_id:str}")
    async def assign_expert(request: Request[Any, Any, Any], application_id: FromPath[str]) -> Response[str]:
        """The center assigns an expert of the pool to a forwarded application."""

        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            expert_id = str(form.get("expert_id") or "")
            if not expert_id:
                raise missing("expert_id")
            confirmed(form)
            await ctx.api.post("evaluation", f"/v1/applications/{application_id}/assignments", json={"expert_id": expert_id})

        async def again(ctx: Ctx, err: ApiError, form: dict[str, Any]) -> Response[str]:
            return await assign_page(ctx, error=err, form=form, failed=application_id)

        return await kit.submit(request, ("center",), run, again=again, done="/experts/assignments?done=1")

    return [raise_objection, resolve_objection, experts, register_expert, assignments, assign_expert]
