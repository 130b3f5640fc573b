"""Retiring (报废) an instrument on a page (issue 17, ``retireInstrument``): the unit retires one of
its own at ``/unit/instruments/{id}/retire`` (linked from its instruments and the instrument's edit
page), the center any at ``/center/instruments/{id}/retire`` (linked from the instrument's public
page). Retiring is final: the instrument takes no orders, cannot be edited and leaves the public
catalogue; so the form asks for the reason (the registry keeps it in the audit trail) and a ticked
confirmation, each refused at its field before the registry is asked. Afterwards the page says
the instrument is retired."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from services.gateway.portal.client import ApiError, confirmed, reason_required
from services.gateway.portal.core import Ctx, Kit, again, instrument_of

UNIT = ("unit",)
CENTER = ("center",)


async def retire_page(ctx: Ctx, instrument_id: str, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    inst = await instrument_of(ctx, instrument_id)
    if isinstance(inst, Response):
        return inst
    base = "/center" if ctx.role == "center" else "/unit"
    back = f"/instruments/{instrument_id}" if base == "/center" else "/unit/instruments"
    return ctx.render("instrument_retire.html", inst=inst, action=f"{base}/instruments/{instrument_id}/retire", back=back, **ctx.outcome(error, form))


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    def retiring(prefix: str, roles: tuple[str, ...]) -> list[Any]:
        """The page and its form under ``prefix`` (/unit or /center), for ``roles``."""

        @page(prefix + "/instruments/{instrument_id:str}/retire")
        async def show(request: Request[Any, Any, Any], instrument_id: FromPath[str]) -> Response[str]:
            return await kit.show(request, roles, retire_page, instrument_id)

        @action(prefix + "/instruments/{instrument_id:str}/retire")
        async def retire(request: Request[Any, Any, Any], instrument_id: FromPath[str]) -> Response[str]:
            async def run(ctx: Ctx, form: dict[str, Any]) -> Response[str] | None:
                inst = await instrument_of(ctx, instrument_id)  # a unit retires only its own (403 otherwise)
                if isinstance(inst, Response):
                    return inst
                reason = str(form.get("reason") or "").strip()
                if not reason:
                    raise reason_required("a_retirement_needs_a_reason")
                confirmed(form, "a_retirement_needs_confirming")
                await ctx.api.post("registry", f"/v1/instruments/{instrument_id}/retire", json={"reason": reason})
                return None

            return await kit.submit(request, roles, run, again=again(retire_page, instrument_id), done=f"{prefix}/instruments/{instrument_id}/retire?done=1")

        return [show, retire]

    return [*retiring("/unit", UNIT), *retiring("/center", CENTER)]
