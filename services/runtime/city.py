"""The city the platform serves, a deployment setting (issue 18, "the next city
changes parameters, not code"): its name, the administrative division prefix its
users are registered under (R4 在本市登记注册) and its counties and districts
(区划代码 → name), the ones the catalogue search filters by and the county report
and the portal name. One YAML file: the packaged ``city-xuchang.yaml`` (许昌市)
or the file named by ``XCISS_CITY_FILE``; read when the settings are, so a bad
file stops every process at start-up with the file and the problem named.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from services.runtime.env import SettingsError
from services.runtime.policyfile import load_policy_file

#: the packaged city: Xuchang
DEFAULT_FILE = Path(__file__).with_name("city-xuchang.yaml")
VARIABLE = "XCISS_CITY_FILE"
#: an administrative division code (GB/T 2260) of a county, district or county-level city
DIVISION_DIGITS = 6


class CityError(ValueError):
    """The city file says something impossible; the message names the field."""


class CityName(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    zh: str
    en: str


class City(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: CityName
    #: the division code prefix of the city (4110: Henan 41, Xuchang 10); a user's credit
    #: code registered under it is local (R4)
    division_prefix: str
    #: code → Chinese name of the city's counties, county-level cities and districts, in the
    #: order the forms offer them
    divisions: dict[str, str]

    def division_name(self, code: str | None) -> str | None:
        """The Chinese name of one of the city's divisions; None for another code."""
        return self.divisions.get(code) if code else None


def _code(value: Any) -> str:
    """A code as written: quoted, or a bare YAML number (division codes never start with 0)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise CityError(f"a division code must be digits, not {value!r}")
    return str(value).strip()


def parse_city(doc: Any) -> City:
    """A city from the file's YAML document; a :class:`CityError` names what is wrong."""
    if not isinstance(doc, dict):
        raise CityError("the file must be a mapping with name, division_prefix and divisions")
    prefix = _code(doc.get("division_prefix", ""))
    if not (prefix.isascii() and prefix.isdigit() and 2 <= len(prefix) <= DIVISION_DIGITS):
        raise CityError(f"division_prefix must be 2 to {DIVISION_DIGITS} digits (4110 for Xuchang), not {prefix!r}")
    divisions = doc.get("divisions")
    if not isinstance(divisions, dict) or not divisions:
        raise CityError("divisions must map each division code to its name, and name at least one")
    named: dict[str, str] = {}
    for raw, label in divisions.items():
        code = _code(raw)
        if not (code.isascii() and code.isdigit() and len(code) == DIVISION_DIGITS):
            raise CityError(f"division code {code!r} must be {DIVISION_DIGITS} digits")
        if not code.startswith(prefix):
            raise CityError(f"division code {code} is not under the city's division_prefix {prefix}")
        if not isinstance(label, str) or not label.strip():
            raise CityError(f"division {code} has no name")
        named[code] = label.strip()
    try:
        name = msgspec.convert(doc.get("name"), CityName, strict=True)
    except msgspec.ValidationError as exc:
        raise CityError(f"name must have zh and en: {exc}") from exc
    if not name.zh.strip() or not name.en.strip():
        raise CityError("name.zh and name.en must not be empty")
    unknown = set(doc) - {"name", "division_prefix", "divisions"}
    if unknown:
        raise CityError(f"unknown field(s): {', '.join(sorted(map(str, unknown)))}")
    return City(name=CityName(name.zh.strip(), name.en.strip()), division_prefix=prefix, divisions=named)


def load_city(path: Path | None = None) -> City:
    """The city of ``path`` (default: the packaged Xuchang file), read again only when
    the file changes; a missing or invalid file is a :class:`SettingsError`."""
    return load_policy_file(VARIABLE, path or DEFAULT_FILE, parse_city, (CityError,))


def packaged_city() -> City:
    return load_city(DEFAULT_FILE)


def with_prefix_setting(city: City, prefix: str | None, path: Path | None) -> City:
    """``XCISS_CITY_DIVISION_PREFIX`` (the setting before the city file) may still be
    set, but only to the file's own prefix: two answers to one question stop the start."""
    if prefix is None or prefix.strip() == "" or prefix.strip() == city.division_prefix:
        return city
    raise SettingsError(
        f"XCISS_CITY_DIVISION_PREFIX={prefix.strip()} disagrees with division_prefix {city.division_prefix} of "
        f"{VARIABLE} {path or DEFAULT_FILE}: unset it (the city file holds the prefix) or make the two agree"
    )
