"""Parties shown by name, never by id (issue 17): the names of the units a page lists.

``unit_names`` asks the registry for exactly the units on the page (``getUnit``, one call per
distinct unit, at once), so a name is found whatever the number of units in the city; a unit
the viewer may not see, or a registry that does not answer, leaves its id to the template's
fallback. ``user_names`` does the same for users (``getUser``). A form picks a unit with ``unit_picker`` (by part of its name or credit code).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from services.gateway.portal.core import Ctx

async def unit_names(ctx: Ctx, unit_ids: Iterable[str | None]) -> dict[str, str]:
    """``{unit_id: name}`` for the units named on a page (ids that are empty or unknown are left out)."""
    wanted = sorted({u for u in unit_ids if u})
    found = await asyncio.gather(*(ctx.api.maybe("registry", f"/v1/units/{u}") for u in wanted))
    return {u: unit["name"] for u, unit in zip(wanted, found, strict=True) if unit}


async def user_names(ctx: Ctx, user_ids: Iterable[str | None]) -> dict[str, str]:
    """``{user_id: name}`` for the users (enterprises, start-up teams) named on a page."""
    wanted = sorted({u for u in user_ids if u})
    found = await asyncio.gather(*(ctx.api.maybe("registry", f"/v1/users/{u}") for u in wanted))
    return {u: user["name"] for u, user in zip(wanted, found, strict=True) if user and user.get("name")}
