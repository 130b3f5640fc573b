"""The demo data (``xciss up``) is Xuchang's and stays valid against the packaged city file
(issue 18): its units' counties are divisions of the city, its departments' counties too, and
its users are registered in the city (R4); under another city file ``load_demo`` names the
counties that are not that city's."""

from __future__ import annotations

from pathlib import Path

from services.command import demo
from services.registry.domain.identifiers import registered_in
from services.runtime.city import packaged_city
from services.runtime.settings import Settings
from tests.support.city import ZHENGZHOU, settings_of


def test_the_demo_counties_are_the_packaged_citys_divisions(tmp_path: Path) -> None:
    city = packaged_city()
    assert {u["county_code"] for u in demo.UNITS} <= set(city.divisions)
    assert set(demo.DEPARTMENTS) <= set(city.divisions)
    assert demo.foreign_counties(Settings(data_dir=tmp_path)) == []


def test_the_demo_users_are_registered_in_the_city() -> None:
    prefix = packaged_city().division_prefix
    codes = [u.get("credit_code") or u["incubator_credit_code"] for u in demo.USERS]
    assert len(codes) == len(demo.USERS) and all(registered_in(c, prefix) for c in codes)


def test_under_another_city_the_demo_names_its_foreign_counties(tmp_path: Path) -> None:
    assert demo.foreign_counties(settings_of(tmp_path, ZHENGZHOU)) == ["411002", "411003", "411082"]
