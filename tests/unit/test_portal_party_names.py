"""The portal names parties by name (issue 17): ``unit_names`` asks the registry for exactly
the units a page lists, each once, however many units the city has; a unit the registry does
not show leaves no name (the template falls back to its id)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from services.gateway.portal.party_names import looked_up, unit_names


class _Registry:
    def __init__(self, units: dict[str, str]) -> None:
        self.units = units
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def maybe(self, service: str, path: str, **params: Any) -> Any:
        assert service == "registry"
        self.calls.append((path, params))
        if path == "/v1/units/":
            return {"items": [{"unit_id": u, "name": n} for u, n in self.units.items()][: params["page_size"]], "total": len(self.units)}
        unit_id = path.removeprefix("/v1/units/")
        return {"unit_id": unit_id, "name": self.units[unit_id]} if unit_id in self.units else None


def test_each_unit_on_the_page_is_asked_for_once_whatever_the_number_of_units() -> None:
    registry = _Registry({f"u{i:04d}": f"单位{i}" for i in range(250)})
    names = asyncio.run(unit_names(SimpleNamespace(api=registry), ["u0249", "u0003", "u0249", None, "", "u0150"]))
    assert names == {"u0249": "单位249", "u0003": "单位3", "u0150": "单位150"}  # beyond the first 100 too
    assert sorted(p for p, _ in registry.calls) == ["/v1/units/u0003", "/v1/units/u0150", "/v1/units/u0249"]


def test_a_unit_the_registry_does_not_show_has_no_name() -> None:
    registry = _Registry({"u1": "许昌学院"})
    assert asyncio.run(unit_names(SimpleNamespace(api=registry), ["u1", "gone"])) == {"u1": "许昌学院"}
    assert asyncio.run(unit_names(SimpleNamespace(api=registry), [])) == {} and len(registry.calls) == 2


class _Orders:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    async def maybe(self, service: str, path: str, **params: Any) -> Any:
        self.calls.append((service, path))
        return {"o1": {"case_no": "DD-2026-000001"}, "o2": {"case_no": None}}.get(path.removeprefix("/v1/orders/"))


def test_any_record_is_named_by_the_field_asked_for_each_once() -> None:
    api = _Orders()
    found = asyncio.run(looked_up(SimpleNamespace(api=api), "registry", "/v1/orders/", ["o1", "o2", "o1", "gone", None], "case_no"))
    assert found == {"o1": "DD-2026-000001"}  # an order without a number, or not shown, is left to the template's fallback
    assert sorted(api.calls) == [("registry", "/v1/orders/gone"), ("registry", "/v1/orders/o1"), ("registry", "/v1/orders/o2")]
