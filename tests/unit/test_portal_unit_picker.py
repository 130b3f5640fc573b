"""A form's unit picker (issue 17): the registry is asked for the units matching what the
officer typed (``listUnits?q=``, one short page), never for the whole list; one match (or the
text naming a unit exactly) chooses it, several are offered to choose from, none is refused at
the field in Chinese; an id chosen earlier is kept only while it fits the text."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from services.gateway.portal.client import ApiError
from services.gateway.portal.unit_picker import MATCHES, chosen_unit, pick_unit


class _Registry:
    def __init__(self, n: int) -> None:
        self.units = {f"unit-{i:04d}": {"unit_id": f"unit-{i:04d}", "name": f"许昌第{i}检测中心", "credit_code": f"91411000MA{i:08d}", "status": "approved"} for i in range(1, n + 1)}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def maybe(self, service: str, path: str, **params: Any) -> Any:
        assert service == "registry"
        self.calls.append((path, params))
        if path == "/v1/units/":
            q = params["q"]
            found = [u for u in self.units.values() if q.casefold() in u["name"].casefold() or q.upper() in u["credit_code"]]
            return {"items": found[: params["page_size"]], "total": len(found)}
        return self.units.get(path.removeprefix("/v1/units/"))


def _pick(registry: _Registry, form: dict[str, Any], **kw: Any) -> Any:
    return asyncio.run(pick_unit(SimpleNamespace(api=registry), form, "unit_id", **kw))


def test_the_hundred_and_twentieth_unit_is_found_by_name_or_credit_code() -> None:
    registry = _Registry(120)
    by_name = _pick(registry, {"unit_id_q": "第120检测"})
    assert (by_name.unit_id, by_name.shown) == ("unit-0120", "许昌第120检测中心")
    assert registry.calls == [("/v1/units/", {"q": "第120检测", "page_size": MATCHES, "status": None})]  # one short page
    assert _pick(registry, {"unit_id_q": "91411000ma00000120"}).unit_id == "unit-0120"
    assert _pick(registry, {"unit_id_q": "unit-0120"}).unit_id == "unit-0120"  # an id typed


def test_several_matches_are_offered_and_none_is_refused_in_chinese() -> None:
    registry = _Registry(120)
    several = _pick(registry, {"unit_id_q": "第12"})
    assert several.unit_id is None and [u["name"] for u in several.matches][:2] == ["许昌第12检测中心", "许昌第120检测中心"] and len(several.matches) == 2
    assert _pick(registry, {"unit_id_q": "第12", "unit_id": "unit-0120"}).unit_id == "unit-0120"  # then one of them is chosen
    many = _pick(registry, {"unit_id_q": "检测中心"})
    assert many.unit_id is None and len(many.matches) == MATCHES
    with pytest.raises(ApiError) as refused:
        chosen_unit(many, "unit_id")
    assert refused.value.field_errors("zh")["unit_id"] == f"有 {MATCHES} 个单位符合“检测中心”，请从列表中选择一个"
    none = _pick(registry, {"unit_id_q": "郑州"})
    with pytest.raises(ApiError) as refused:
        chosen_unit(none, "unit_id")
    assert refused.value.field_errors("zh")["unit_id"] == "找不到名称或统一社会信用代码含“郑州”的单位"
    assert "no unit" in refused.value.message("en")
    assert chosen_unit(_pick(registry, {}), "unit_id", required=False) is None


def test_a_chosen_unit_is_kept_while_it_fits_the_text() -> None:
    registry = _Registry(120)
    assert _pick(registry, {"unit_id_q": "检测中心", "unit_id": "unit-0120"}).unit_id == "unit-0120"
    assert _pick(registry, {"unit_id_q": "第7检测", "unit_id": "unit-0120"}).unit_id == "unit-0007"  # the text changed: the old choice goes
    assert _pick(registry, {"unit_id": "unit-0099"}).shown == "许昌第99检测中心"  # an id from a link
    assert _pick(registry, {"unit_id": "forged-id"}).unit_id is None
    registry.units["unit-0005"]["status"] = "applied"
    assert _pick(registry, {"unit_id": "unit-0005"}, approved_only=True).unit_id is None
