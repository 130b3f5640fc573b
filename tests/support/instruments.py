"""An instrument registered over the registry's API as its unit registers it."""

from __future__ import annotations

from typing import Any

from services.runtime.roles import Role
from tests.support.platform import Platform


def body(unit_id: str, **kw: Any) -> dict[str, Any]:
    return {
        "unit_id": unit_id,
        "name": "液相色谱质谱联用仪",
        "category": "分析仪器",
        "model": "LCMS-8060",
        "manufacturer": "岛津",
        "original_value_fen": 20_000_000,
        "funding": "fiscal_full",
        "acceptance_date": "2024-09-20",
        **kw,
    }


async def register(p: Platform, unit_id: str, **kw: Any) -> dict[str, Any]:
    r = await p.call("registry", "POST", "/v1/instruments/", role=Role.UNIT, org=unit_id, json=body(unit_id, **kw))
    assert r.status_code == 201, r.text
    return r.json()
