"""A form's unit picker that works whatever the number of units in the city (issue 17).

The officer types part of a unit's name or of its unified social credit code in the text field
``<field>_q``; the registry is asked for the matching units (``listUnits?q=``, one short page,
never the whole list). Saving with one match (or the text naming a unit exactly) chooses it; with
several, the form comes back with the matches as radio buttons named ``<field>`` to choose from;
with none, a message at the field. The 查找 button (``find=<field>``) shows the matches without
saving. The unit chosen travels as ``<field>`` (hidden once chosen) and is checked again against
the registry on every save, so a forged or stale id is never sent on. No script: the portal's
pages load none (``services/runtime/http/security_headers.py``), and the form needs none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from services.gateway.portal.client import ApiError
from services.gateway.portal.core import Ctx
from services.gateway.portal.i18n import translate

#: how many matches a picker offers at once (the officer types more to narrow them)
MATCHES = 15
ID = re.compile(r"^[0-9A-Za-z_-]{8,64}$")


@dataclass
class Pick:
    """A picker's state: what was typed, the unit chosen (if one is), the matches to choose from."""

    text: str = ""
    unit: dict[str, Any] | None = None
    matches: list[dict[str, Any]] = field(default_factory=list)
    searched: bool = False

    @property
    def unit_id(self) -> str | None:
        return self.unit["unit_id"] if self.unit else None

    @property
    def shown(self) -> str:
        """The text field's value: the chosen unit's name, else what was typed."""
        return self.unit["name"] if self.unit else self.text


def refusal(code: str, field_name: str, **kw: Any) -> ApiError:
    """The picker's own refusal, at its field, in the catalogue's words."""
    return ApiError(400, {"code": code, "message_zh": translate(code, "zh", **kw), "message_en": translate(code, "en", **kw), "details": {"field": field_name}})


async def find_units(ctx: Ctx, text: str, *, approved_only: bool = False, limit: int = MATCHES) -> list[dict[str, Any]]:
    """The first ``limit`` units whose name or credit code contains ``text``."""
    text = text.strip()[:100]
    if not text:
        return []
    found = await ctx.api.maybe("registry", "/v1/units/", q=text, page_size=limit, status="approved" if approved_only else None)
    return list(found["items"]) if found else []


def _fits(unit: dict[str, Any] | None, text: str, approved_only: bool) -> bool:
    if not unit or (approved_only and unit.get("status") != "approved"):
        return False
    return not text or text == unit["unit_id"] or text.casefold() in unit["name"].casefold() or text.upper() in unit["credit_code"]


async def pick_unit(ctx: Ctx, form: dict[str, Any] | None, name: str, *, approved_only: bool = False, text_field: str | None = None) -> Pick:
    """The picker ``name`` as the form gives it: the id chosen (``form[name]``) if that unit
    still fits what is typed (``form[name + '_q']``), else the one unit the text names or matches."""
    form = form or {}
    text = str(form.get(text_field or f"{name}_q") or "").strip()
    chosen = str(form.get(name) or "").strip() or (text if ID.match(text) else "")  # an id typed or linked
    if chosen and _fits(unit := await ctx.api.maybe("registry", f"/v1/units/{chosen}"), text, approved_only):
        return Pick(text, unit)
    if not text:
        return Pick()
    matches = await find_units(ctx, text, approved_only=approved_only)
    exact = [u for u in matches if text in (u["name"], u["credit_code"], u["unit_id"]) or text.upper() == u["credit_code"]]
    if len(exact) == 1 or len(matches) == 1:
        return Pick(text, (exact or matches)[0], matches, searched=True)
    return Pick(text, None, matches, searched=True)


def chosen_unit(pick: Pick, name: str, *, required: bool = True) -> str | None:
    """The unit id to send, or the refusal at the picker's field (none typed, none or several match)."""
    if pick.unit_id:
        return pick.unit_id
    if not pick.text:
        if required:
            raise refusal("unit_picker.required", name)
        return None
    if not pick.matches:
        raise refusal("unit_picker.not_found", name, text=pick.text)
    raise refusal("unit_picker.choose", name, text=pick.text, count=len(pick.matches))


def is_search(form: dict[str, Any]) -> bool:
    """The 查找 button was pressed: show the matches, save nothing."""
    return bool(form.get("find"))
