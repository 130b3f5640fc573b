"""A form's unit picker that works whatever the number of units in the city (issue 17).

The officer types part of a unit's name or of its unified social credit code in the text field
``<field>_q``; the registry is asked for the matching units (``listUnits?q=``, one short page,
never the whole list). Saving with one match (or the text naming a unit exactly) chooses it; with
several, the form comes back with the matches as radio buttons named ``<field>`` to choose from;
with none, a message at the field. The 查找 button (``find=<field>``) shows the matches without
saving. The unit chosen travels as ``<field>`` (hidden once chosen) and is checked again against
the registry on every save, so a forged or stale id is never sent on. No script: the portal's
pages load none (``services/runtime/http/security_headers.py``), and the form needs none.

The same picker finds a user (an enterprise or start-up team: ``pick_user``, ``listUsers?q=``)
where a form names one, with its own words (``user_picker…``).
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


@dataclass(frozen=True)
class Kind:
    """What a picker finds: the registry's list and record (``path``), the record's id field, the
    prefix of its words in the catalogue."""

    path: str
    key: str
    words: str


UNITS = Kind("/v1/units/", "unit_id", "unit_picker")
USERS = Kind("/v1/users/", "user_id", "user_picker")


@dataclass
class Pick:
    """A picker's state: what was typed, the party chosen (if one is: ``unit``, a unit's or a
    user's record), the matches to choose from."""

    text: str = ""
    unit: dict[str, Any] | None = None
    matches: list[dict[str, Any]] = field(default_factory=list)
    searched: bool = False
    kind: Kind = UNITS

    @property
    def unit_id(self) -> str | None:
        """The chosen party's id (a unit's, or with ``USERS`` a user's)."""
        return self.unit[self.kind.key] if self.unit else None

    @property
    def key(self) -> str:
        return self.kind.key

    @property
    def words(self) -> str:
        return self.kind.words

    @property
    def shown(self) -> str:
        """The text field's value: the chosen unit's name, else what was typed."""
        return self.unit["name"] if self.unit else self.text


def refusal(code: str, field_name: str, **kw: Any) -> ApiError:
    """The picker's own refusal, at its field, in the catalogue's words."""
    return ApiError(400, {"code": code, "message_zh": translate(code, "zh", **kw), "message_en": translate(code, "en", **kw), "details": {"field": field_name}})


async def find_units(ctx: Ctx, text: str, *, approved_only: bool = False, limit: int = MATCHES, kind: Kind = UNITS) -> list[dict[str, Any]]:
    """The first ``limit`` units (or users) whose name or credit code contains ``text``."""
    text = text.strip()[:100]
    if not text:
        return []
    found = await ctx.api.maybe("registry", kind.path, q=text, page_size=limit, status="approved" if approved_only else None)
    return list(found["items"]) if found else []


def _fits(party: dict[str, Any] | None, text: str, approved_only: bool, kind: Kind = UNITS) -> bool:
    if not party or (approved_only and party.get("status") != "approved"):
        return False
    code = party.get("credit_code") or ""  # a start-up team may have none
    return not text or text == party[kind.key] or text.casefold() in party["name"].casefold() or (bool(code) and text.upper() in code)


async def pick_unit(ctx: Ctx, form: dict[str, Any] | None, name: str, *, approved_only: bool = False, text_field: str | None = None, kind: Kind = UNITS) -> Pick:
    """The picker ``name`` as the form gives it: the id chosen (``form[name]``) if that unit
    still fits what is typed (``form[name + '_q']``), else the one unit the text names or matches."""
    form = form or {}
    text = str(form.get(text_field or f"{name}_q") or "").strip()
    chosen = str(form.get(name) or "").strip() or (text if ID.match(text) else "")  # an id typed or linked
    if chosen and _fits(party := await ctx.api.maybe("registry", f"{kind.path}{chosen}"), text, approved_only, kind):
        return Pick(text, party, kind=kind)
    if not text:
        return Pick(kind=kind)
    matches = await find_units(ctx, text, approved_only=approved_only, kind=kind)
    exact = [u for u in matches if text in (u["name"], u.get("credit_code"), u[kind.key]) or text.upper() == u.get("credit_code")]
    if len(exact) == 1 or len(matches) == 1:
        return Pick(text, (exact or matches)[0], matches, searched=True, kind=kind)
    return Pick(text, None, matches, searched=True, kind=kind)


async def pick_user(ctx: Ctx, form: dict[str, Any] | None, name: str) -> Pick:
    """A user (enterprise or start-up team) picked the same way, from ``listUsers?q=``."""
    return await pick_unit(ctx, form, name, kind=USERS)


def chosen_unit(pick: Pick, name: str, *, required: bool = True) -> str | None:
    """The unit id to send, or the refusal at the picker's field (none typed, none or several match)."""
    if pick.unit_id:
        return pick.unit_id
    if not pick.text:
        if required:
            raise refusal(f"{pick.words}.required", name)
        return None
    if not pick.matches:
        raise refusal(f"{pick.words}.not_found", name, text=pick.text)
    raise refusal(f"{pick.words}.choose", name, text=pick.text, count=len(pick.matches))


async def chosen_party(ctx: Ctx, form: dict[str, Any]) -> tuple[str, str]:
    """A form naming a unit or a user (``party_type``, the ``unit_id`` and ``user_id`` pickers):
    the party's type and id; an id of "" when the type is neither (the form's own refusal),
    the picker's refusal at its field when the party is not found or not chosen."""
    party_type = str(form.get("party_type") or "")
    if party_type == "unit":
        return party_type, chosen_unit(await pick_unit(ctx, form, "unit_id"), "unit_id") or ""
    if party_type == "user":
        return party_type, chosen_unit(await pick_user(ctx, form, "user_id"), "user_id") or ""
    return party_type, ""


def is_search(form: dict[str, Any]) -> bool:
    """The 查找 button was pressed: show the matches, save nothing."""
    return bool(form.get("find"))
