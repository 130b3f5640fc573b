"""A price item of an instrument added over the registry's API as its unit adds it."""

from __future__ import annotations

from typing import Any

from services.runtime.roles import Role
from tests.support.platform import Platform


def item(**kw: Any) -> dict[str, Any]:
    return {"name": "常规样品检测", "billing_unit": "per_sample", "price_fen": 30_000, "basis": "cost_compensation", **kw}


async def add(p: Platform, unit_id: str, iid: str, **kw: Any) -> dict[str, Any]:
    r = await p.call("registry", "POST", f"/v1/instruments/{iid}/prices", role=Role.UNIT, org=unit_id, json=item(**kw))
    assert r.status_code == 201, r.text
    return r.json()
