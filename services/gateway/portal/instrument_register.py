"""One instrument registered by form (M2, M5, M6, M11(3), issue 17; ``registerInstrument``): a
unit registers one of its own at ``/unit/instruments/new`` (beside the ledger import), the center
one for any approved unit at ``/center/instruments/new`` (the unit found with the unit picker).
The form's fields are the API's: name, category, model, manufacturer, original value (yuan, sent
in fen), funding, acceptance date, duty-exempt and classified flags, location, specifications,
functions, service content, sample requirements, asset number. A required field left blank is
refused at it before the registry is asked; the registry's refusals (a malformed amount or date,
a category not in the catalogue, an asset number the unit already used, a year without a
working-day calendar) at theirs, what was typed kept. Registered, the page says whether the
instrument must be listed and by when (M5, M11(3)), with links to its edit, price and listing."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from services.gateway.portal.client import ApiError, missing
from services.gateway.portal.core import Ctx, Kit, again, yuan_to_fen
from services.gateway.portal.unit_picker import chosen_unit, is_search, pick_unit

UNIT = ("unit",)
CENTER = ("center",)
FUNDING = ("fiscal_full", "fiscal_part", "non_fiscal")
REQUIRED = ("name", "category", "original_value", "funding", "acceptance_date")
OPTIONAL = ("model", "manufacturer", "location", "specifications", "functions", "service_content", "sample_requirements", "asset_number")
FLAGS = ("duty_exempt", "classified")
#: a registry refusal by its code: the form's field it concerns
AT_FIELD = {
    "instrument.unknown_category": "category",
    "instrument.duplicate_asset_number": "asset_number",
    "calendar.unknown_year": "acceptance_date",
    "unit.not_found": "unit_id",
    "instrument.unit_not_approved": "unit_id",
}


def registration_of(form: dict[str, Any], unit_id: str) -> dict[str, Any]:
    """The ``registerInstrument`` body of what the form holds (blank optional fields left out;
    the original value in fen, or as typed for the registry to refuse at its field)."""
    body: dict[str, Any] = {"unit_id": unit_id, **{f: str(form.get(f) or "").strip() for f in ("name", "category", "funding", "acceptance_date")}}
    body["original_value_fen"] = yuan_to_fen(str(form.get("original_value") or ""))
    body |= {f: bool(form.get(f)) for f in FLAGS}
    body |= {f: text for f in OPTIONAL if (text := str(form.get(f) or "").strip())}
    return body


def at_fields(err: ApiError, lang: str) -> dict[str, str]:
    found = err.field_errors(lang)
    if "original_value_fen" in found:
        found["original_value"] = found.pop("original_value_fen")
    if field := AT_FIELD.get(err.code):
        found.setdefault(field, err.message(lang))
    return found


async def register_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    typed = form if form is not None else {"unit_id": ctx.request.query_params.get("unit_id") or ""}  # the unit's record links here with its id
    pick = await pick_unit(ctx, typed, "unit_id", approved_only=True) if ctx.role == "center" else None
    registered_id = ctx.request.query_params.get("registered")
    registered = await ctx.api.maybe("registry", f"/v1/instruments/{registered_id}") if registered_id and not error else None
    shown = ctx.outcome(error, typed, field_errors=at_fields(error, ctx.lang) if error else None)
    base = "/center" if ctx.role == "center" else "/unit"
    return ctx.render("instrument_register.html", pick=pick, funding=FUNDING, registered=registered, action=f"{base}/instruments/new", **shown)


def handlers(kit: Kit) -> list[Any]:
    page, action = kit.page, kit.action

    def registering(prefix: str, roles: tuple[str, ...]) -> list[Any]:
        @page(prefix + "/instruments/new")
        async def show(request: Request[Any, Any, Any]) -> Response[str]:
            return await kit.show(request, roles, register_page)

        @action(prefix + "/instruments/new")
        async def register(request: Request[Any, Any, Any]) -> Response[str]:
            async def run(ctx: Ctx, form: dict[str, Any]) -> Response[str] | dict[str, Any]:
                if ctx.role == "center":
                    if is_search(form):
                        return await register_page(ctx, form=form)
                    unit_id = chosen_unit(await pick_unit(ctx, form, "unit_id", approved_only=True), "unit_id") or ""
                else:
                    unit_id = ctx.org or ""
                if blank := [f for f in REQUIRED if not str(form.get(f) or "").strip()]:
                    raise missing(*blank)  # 此项必填 at each, before the registry is asked
                return dict(await ctx.api.post("registry", "/v1/instruments/", json=registration_of(form, unit_id)))

            return await kit.submit(request, roles, run, again=again(register_page), done=lambda inst: f"{prefix}/instruments/new?done=1&registered={inst['instrument_id']}")

        return [show, register]

    return [*registering("/unit", UNIT), *registering("/center", CENTER)]
