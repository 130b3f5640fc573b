"""The year's voucher programme on a page (issue 17): its terms as the vouchers service
holds them (``getProgramme``: budget, what is committed and left, the rate, the caps, the
appeal window, the eligible and special classes, open or closed and why), and the
bureau's form that opens a year (``openProgramme``, R15): the year, the budget in yuan,
and the year's parameters (rate in percent, caps in yuan, appeal window in days,
automatic approval, the classes). A parameter left empty takes the year's number from
the vouchers' policy file (the service's rule, not the portal's); the form starts
with last year's terms where there are any. Each refusal is shown at its field."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Request, Response

from services.gateway.portal.client import ApiError, missing, refused_at
from services.gateway.portal.core import Ctx, Kit, again, asked_year, yuan_to_fen
from services.gateway.portal.i18n_labels import SPECIAL_CLASSES, USER_CLASSES
from services.runtime.money import yuan_plain

READERS = ("bureau", "center", "finance")
#: the vouchers service's refusals of an opening, at the field they concern
AT_FIELD = {"voucher.programme_exists": "year", "voucher.budget_invalid": "budget_fen", "voucher.policy_invalid": "eligible_classes"}
FIRST_YEAR, LAST_YEAR = 2023, 2100


def errors_at(err: ApiError | None, lang: str) -> dict[str, str]:
    if err is None:
        return {}
    found = err.field_errors(lang)
    if field := AT_FIELD.get(err.code):
        found.setdefault(field, err.message(lang))
    return found


def prefilled(last: dict[str, Any] | None) -> dict[str, Any]:
    """The form as it first shows: last year's terms, or empty (the policy file's numbers)."""
    if not last:
        return {"classes": [], "special": []}
    return {
        "rate": format((Decimal(last["rate_bp"]) / 100).normalize(), "f"),  # 3000 → "30", 2550 → "25.5", 0 → "0"
        "cap": yuan_plain(last["cap_fen"]),
        "special_cap": yuan_plain(last["special_cap_fen"]),
        "appeal_window_days": str(last["appeal_window_days"]),
        "auto_approve": "1" if last["auto_approve"] else "",
        "classes": list(last.get("eligible_classes") or []),
        "special": list(last.get("special_classes") or []),
    }


async def programme_page(ctx: Ctx, *, error: ApiError | None = None, form: dict[str, Any] | None = None) -> Response[str]:
    """The year's terms; for the bureau, the form opening a year that has none (and the form
    as typed with its refusal, also when the year was opened meanwhile)."""
    year = asked_year(ctx, first=FIRST_YEAR, last=LAST_YEAR)
    programme = await ctx.api.maybe("vouchers", f"/v1/programmes/{year}")
    last = await ctx.api.maybe("vouchers", f"/v1/programmes/{year - 1}") if programme is None else None
    shown = ctx.outcome(error, form, field_errors=errors_at(error, ctx.lang) if error else None)
    values = prefilled(last)
    if form:  # refused: what was typed and ticked, as it was sent
        values = values | shown["form"] | {"classes": list(form.get("_classes") or []), "special": list(form.get("_special") or [])}
    return ctx.render("programme.html", year=year, programme=programme, may_open=ctx.role == "bureau", **(shown | {"form": values}))


def percent_to_bp(text: str) -> int:
    """'30' or '30.5' (per cent) → 3000 / 3050 basis points; refused at the rate otherwise."""
    try:
        bp = Decimal(text.replace("%", "").strip()) * 100
    except InvalidOperation:
        bp = Decimal(-1)
    if not bp.is_finite() or bp != bp.to_integral_value() or not 0 <= bp <= 10_000:
        raise refused_at("portal.rate_invalid", "programme_rate_invalid", "rate_bp")
    return int(bp)


def opening(form: dict[str, Any], classes: list[str], special: list[str]) -> dict[str, Any]:
    """The form as ``openProgramme``'s body; what is left empty is left out (the policy file's)."""
    year, budget = str(form.get("year") or "").strip(), str(form.get("budget") or "").strip()
    if not budget:
        raise missing("budget_fen")
    if not (year.isdigit() and FIRST_YEAR <= int(year) <= LAST_YEAR):
        raise refused_at("portal.year_invalid", "programme_year_invalid", "year")
    body: dict[str, Any] = {"year": int(year), "budget_fen": yuan_to_fen(budget)}
    if rate := str(form.get("rate") or "").strip():
        body["rate_bp"] = percent_to_bp(rate)
    for field, key in (("cap", "cap_fen"), ("special_cap", "special_cap_fen")):
        if typed := str(form.get(field) or "").strip():
            body[key] = yuan_to_fen(typed)
    if days := str(form.get("appeal_window_days") or "").strip():
        if not (days.isdigit() and int(days) <= 365):
            raise refused_at("portal.days_invalid", "programme_days_invalid", "appeal_window_days")
        body["appeal_window_days"] = int(days)
    body["auto_approve"] = bool(form.get("auto_approve"))
    if classes:
        body["eligible_classes"] = [c for c in USER_CLASSES if c in classes]
    if special:
        body["special_classes"] = [c for c in SPECIAL_CLASSES if c in special]
    return body


def handlers(kit: Kit) -> list[Any]:
    @kit.page("/programme")
    async def programme(request: Request[Any, Any, Any]) -> Response[str]:
        return await kit.show(request, READERS, programme_page)

    @kit.action("/programme")
    async def open_programme(request: Request[Any, Any, Any]) -> Response[str]:
        """The bureau opens a programme year with its budget and parameters (R15)."""
        raw = await request.form()
        classes = [str(c) for c in raw.getall("eligible_classes", [])]
        special = [str(c) for c in raw.getall("special_classes", [])]

        async def run(ctx: Ctx, form: dict[str, Any]) -> int:
            form["_classes"], form["_special"] = classes, special
            opened = await ctx.api.post("vouchers", "/v1/programmes/", json=opening(form, classes, special))
            return int(opened["year"])

        # the page the form was on (its ?year=), with the form as typed and the refusal at its field
        return await kit.submit(request, ("bureau",), run, again=again(programme_page), done=lambda year: f"/programme?year={year}&done=1")

    return [programme, open_programme]
