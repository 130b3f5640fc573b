"""The unit's form for an instrument's public text (issue 17): name, category, model,
manufacturer, location, specifications, functions, service content, sample requirements and
whether it is in service or under maintenance, at ``/unit/instruments/{id}/edit`` (``changeInstrument``).
What registration fixed (funding, original value, acceptance date, the duty-exempt and
classified flags) is shown, not edited. The form carries the version it was shown with
(``If-Match``): a colleague's save meanwhile shows the form again with the record as it now
is. A blank optional field clears it; a blank name or category is refused at its field."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from services.gateway.portal.client import ApiError, missing
from services.gateway.portal.core import Ctx, Kit, again, instrument_of
from services.gateway.portal.versioned import if_match

UNIT = ("unit",)
#: the fields the form edits; all but the first two may be left blank (cleared)
FIELDS = ("name", "category", "model", "manufacturer", "location", "specifications", "functions", "service_content", "sample_requirements")
REQUIRED = FIELDS[:2]
STATUSES = ("in_service", "maintenance")


def change_of(form: dict[str, Any]) -> dict[str, Any]:
    """The ``changeInstrument`` body of what the form holds: every field sent (blank optional
    ones as ``null``, which clears them), the status only when it is one the unit may set."""
    body: dict[str, Any] = {f: str(form.get(f) or "").strip() for f in REQUIRED}
    body |= {f: str(form.get(f) or "").strip() or None for f in FIELDS[2:]}
    if form.get("status") in STATUSES:
        body["status"] = form["status"]
    return body


async def edit_page(ctx: Ctx, instrument_id: str, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    """The form, filled from the instrument (or with what was typed, after a refusal)."""
    inst = await instrument_of(ctx, instrument_id)
    if isinstance(inst, Response):
        return inst
    typed = form or {}
    shown = {f: typed.get(f, inst.get(f) or "") for f in (*FIELDS, "status")}
    return ctx.render("unit_instrument_edit.html", inst=inst, statuses=STATUSES, **ctx.outcome(error, shown))


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    @page("/unit/instruments/{instrument_id:str}/edit")
    async def edit(request: Request[Any, Any, Any], instrument_id: FromPath[str]) -> Response[str]:
        return await kit.show(request, UNIT, edit_page, instrument_id)

    @action("/unit/instruments/{instrument_id:str}/edit")
    async def save(request: Request[Any, Any, Any], instrument_id: FromPath[str]) -> Response[str]:
        async def run(ctx: Ctx, form: dict[str, Any]) -> None:
            body = change_of(form)
            if blank := [f for f in REQUIRED if not body[f]]:
                raise missing(*blank)  # 此项必填 at the field, before the registry is asked
            await ctx.api.call("PATCH", "registry", f"/v1/instruments/{instrument_id}", json=body, headers=if_match(form))

        return await kit.submit(request, UNIT, run, again=again(edit_page, instrument_id), done=f"/unit/instruments/{instrument_id}/edit?done=1")

    return [edit, save]
