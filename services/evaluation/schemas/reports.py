"""The units evaluation knows of, their use of their instruments, and the
bureau's yearly reports per unit, county and instrument category (see
:mod:`services.evaluation.schemas`). The workbooks are built from the same
rows (:mod:`services.evaluation.reports`)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from sqlalchemy.engine import RowMapping

from services.evaluation.county_report import county_name
from services.runtime.city import City
from services.evaluation.domain.measures import Measures
from services.evaluation.measures import measure_fields
from services.evaluation.reports import CATEGORY_FIELDS, GroupRow, UnitRow
from services.runtime.http.pagination import Page, page_schema

Row = RowMapping | dict[str, Any]

#: every summable measure, integer (fen, hundredths of an hour, counts)
MeasureTotals = msgspec.defstruct("MeasureTotals", [(f, int, 0) for f in measure_fields()], kw_only=True)
CategoryMeasures = msgspec.defstruct("CategoryMeasures", [(f, int, 0) for f in CATEGORY_FIELDS], kw_only=True)


# ---------------------------------------------------------------- units


class EvaluatedUnit(msgspec.Struct):
    unit_id: str
    version: int
    name: str
    kind: str
    status: str
    county_code: str | None
    department: str | None
    parent_unit_id: str | None


def evaluated_unit(row: Row) -> EvaluatedUnit:
    """A unit as the registry reported it (a ``unit_view`` row)."""
    return EvaluatedUnit(unit_id=row["unit_id"], version=row["version"], name=row["name"], kind=row["kind"], status=row["status"], county_code=row["county_code"],
                         department=row["department"], parent_unit_id=row["parent_unit_id"])


EvaluatedUnitPage = Annotated[Page[EvaluatedUnit], page_schema("EvaluatedUnitPage")]


# ---------------------------------------------------------------- use


class InstrumentUseOut(msgspec.Struct, kw_only=True):
    instrument_id: str
    #: listed on the platform by the year's end
    listed: bool
    effective_minutes: int
    outside_minutes: int
    #: listed, and no session of use in the year
    idle: bool


class UnitUseOut(msgspec.Struct, kw_only=True):
    unit_id: str
    year: int
    #: 有效工作机时, in minutes (every session of use in the year)
    effective_minutes: int
    #: 对外服务机时, in minutes (sessions serving outside users' orders)
    outside_minutes: int
    #: 共享率 = outside ÷ effective, in basis points (10000 = 100 %), rounded down; 0 without use
    sharing_rate_bp: int
    idle_instrument_ids: list[str]
    instruments: list[InstrumentUseOut]


# ---------------------------------------------------------------- reports


class EvaluatedUnitInfo(msgspec.Struct, kw_only=True):
    unit_id: str
    name: str
    kind: str | None = None
    status: str | None = None
    county_code: str | None = None
    county_name: str
    department: str | None = None
    parent_unit_id: str | None = None


class UnitMeasures(msgspec.Struct, kw_only=True):
    """A unit's measures for a year, as counted from the platform's records."""

    year: int
    unit: EvaluatedUnitInfo
    measures: Measures


def unit_measures(year: int, r: UnitRow, city: City) -> UnitMeasures:
    """A report row: the unit's registry attributes (with its county's name) and its measures."""
    info = EvaluatedUnitInfo(
        unit_id=r.unit_id,
        name=r.name,
        kind=r.kind,
        status=r.status,
        county_code=r.county_code,
        county_name=county_name(r.county_code, city),
        department=r.department,
        parent_unit_id=r.parent_unit_id,
    )
    return UnitMeasures(year=year, unit=info, measures=r.measures)


class UnitReportPage(msgspec.Struct, kw_only=True):
    year: int
    items: list[UnitMeasures]
    total: int
    page: int
    page_size: int
    #: the sum over every unit the filter selects (not only this page)
    totals: MeasureTotals  # type: ignore[valid-type]


class CountyRow(msgspec.Struct, kw_only=True):
    #: "" for units that gave no county
    county_code: str
    county_name: str
    units: int
    measures: MeasureTotals  # type: ignore[valid-type]


def county_row(g: GroupRow) -> CountyRow:
    return CountyRow(county_code=g.key, county_name=g.label, units=g.units, measures=MeasureTotals(**g.values))


class CountyReportPage(msgspec.Struct, kw_only=True):
    year: int
    items: list[CountyRow]
    total: int
    page: int
    page_size: int
    totals: MeasureTotals  # type: ignore[valid-type]


class CategoryRow(msgspec.Struct, kw_only=True):
    #: "" for orders whose instrument evaluation does not know
    category: str
    label: str
    measures: CategoryMeasures  # type: ignore[valid-type]


def category_row(g: GroupRow) -> CategoryRow:
    return CategoryRow(category=g.key, label=g.label, measures=CategoryMeasures(**g.values))


class CategoryReportPage(msgspec.Struct, kw_only=True):
    year: int
    items: list[CategoryRow]
    total: int
    page: int
    page_size: int
    totals: CategoryMeasures  # type: ignore[valid-type]
