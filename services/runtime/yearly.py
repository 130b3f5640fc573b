"""Parameters by year, the shape of every per-year policy file: ``defaults``
for every year, ``years[Y]`` where the file changes them for year Y. Plain
data with no I/O, so domain code may hold it; reading the file is
:mod:`services.runtime.policyfile`."""

from __future__ import annotations

from typing import Generic, TypeVar

import msgspec

T = TypeVar("T")


class ByYear(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """One parameter set per year: ``years[year]`` if the file gives that year its own, else ``defaults``."""

    defaults: T
    years: dict[int, T] = {}

    def for_year(self, year: int) -> T:
        return self.years.get(year, self.defaults)
