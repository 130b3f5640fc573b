"""The bureau's reports of a year as the API answers them: one unit's
measures, and the pages of the per-unit, per-county and per-category reports
with their totals over every row the filter selects (the rows themselves:
:mod:`~services.evaluation.unit_report`, :mod:`~services.evaluation.county_report`,
:mod:`~services.evaluation.category_report`)."""

from __future__ import annotations

from services.evaluation import category_report, county_report, schemas, unit_report
from services.evaluation.reports import CATEGORY_FIELDS, UnitFilter, page, totals
from services.evaluation.schemas import CategoryMeasures, CategoryReportPage, CountyReportPage, MeasureTotals, UnitMeasures, UnitReportPage
from services.runtime.city import City
from services.runtime.db.service_db import ServiceDatabase


async def unit_measures(db: ServiceDatabase, year: int, unit_id: str, city: City) -> UnitMeasures:
    return schemas.unit_measures(year, await unit_report.one_unit(db, year, unit_id), city)


async def units_page(db: ServiceDatabase, year: int, flt: UnitFilter, page_no: int, page_size: int, city: City) -> UnitReportPage:
    """Every unit's measures by unit name; ``totals`` sums every unit the filter selects."""
    rows = await unit_report.unit_rows(db, year, flt)
    return UnitReportPage(
        year=year,
        items=[schemas.unit_measures(year, r, city) for r in page(rows, page_no, page_size)],
        total=len(rows),
        page=page_no,
        page_size=page_size,
        totals=MeasureTotals(**totals([r.measures for r in rows])),
    )


async def counties_page(db: ServiceDatabase, year: int, flt: UnitFilter, page_no: int, page_size: int, city: City) -> CountyReportPage:
    """The units' measures summed per county; ``totals`` sums every unit the filter selects."""
    rows = await unit_report.unit_rows(db, year, flt)
    groups = county_report.county_rows(rows, city)
    return CountyReportPage(
        year=year,
        items=[schemas.county_row(g) for g in page(groups, page_no, page_size)],
        total=len(groups),
        page=page_no,
        page_size=page_size,
        totals=MeasureTotals(**totals([r.measures for r in rows])),
    )


async def categories_page(db: ServiceDatabase, year: int, county_code: str | None, page_no: int, page_size: int) -> CategoryReportPage:
    """Instruments and orders per instrument category; ``totals`` sums every category."""
    groups = await category_report.category_rows(db, year, county_code)
    total = dict.fromkeys(CATEGORY_FIELDS, 0)
    for g in groups:
        for f in total:
            total[f] += g.values[f]
    return CategoryReportPage(
        year=year,
        items=[schemas.category_row(g) for g in page(groups, page_no, page_size)],
        total=len(groups),
        page=page_no,
        page_size=page_size,
        totals=CategoryMeasures(**total),
    )
