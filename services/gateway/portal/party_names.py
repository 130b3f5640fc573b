"""Parties shown by name, never by id (issue 17): the names of the units a page lists.

``unit_names`` asks the registry for exactly the units on the page (``getUnit``, one call per
distinct unit, at once), so a name is found whatever the number of units in the city; a unit
the viewer may not see, or a registry that does not answer, leaves its id to the template's
fallback. ``user_names`` does the same for users (``getUser``). ``looked_up`` is the lookup itself,
for any record a list names by one of its fields (an instrument's name, an order's or a claim's case
number). A form picks a unit with ``unit_picker`` (by part of its name or credit code).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from services.gateway.portal.core import Ctx


async def looked_up(ctx: Ctx, service: str, path: str, ids: Iterable[str | None], field: str = "name") -> dict[str, Any]:
    """``{id: record[field]}`` for the records a page names (``GET {path}{id}`` of ``service``, each
    distinct id once, at once); an empty id, a record the viewer may not see or a service that does
    not answer, and a record without the field are left out, for the template's fallback."""
    wanted = sorted({i for i in ids if i})
    found = await asyncio.gather(*(ctx.api.maybe(service, f"{path}{i}") for i in wanted))
    return {i: record[field] for i, record in zip(wanted, found, strict=True) if record and record.get(field)}


async def unit_names(ctx: Ctx, unit_ids: Iterable[str | None]) -> dict[str, str]:
    """``{unit_id: name}`` for the units named on a page (ids that are empty or unknown are left out)."""
    return await looked_up(ctx, "registry", "/v1/units/", unit_ids)


async def user_names(ctx: Ctx, user_ids: Iterable[str | None]) -> dict[str, str]:
    """``{user_id: name}`` for the users (enterprises, start-up teams) named on a page."""
    return await looked_up(ctx, "registry", "/v1/users/", user_ids)
