"""A unit's computed measures, and the bureau's yearly reports per unit, per
county and per instrument category, as JSON pages and Excel workbooks."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from services.evaluation import category_report, county_report, report_pages, report_workbooks, reports, unit_report
from services.evaluation.schemas import CategoryReportPage, CountyReportPage, UnitMeasures, UnitReportPage
from services.runtime.roles import Role
from services.runtime.http.auth import access, principal_of
from services.runtime.errors import DomainError, NotFound
from services.runtime.http.pagination import PageNumber, PageSize
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings

MIN_YEAR, MAX_YEAR = 2000, 2100

CountyCode = Annotated[str | None, Parameter(pattern=r"^\d{6}$", description="a county's division code (one of the city file's divisions, XCISS_CITY_FILE), e.g. 411002")]
Department = Annotated[str | None, Parameter(max_length=100, description="the units' competent department")]
UnitStatus = Annotated[str | None, Parameter(max_length=20, description="the unit's status, e.g. approved")]
UnitKind = Annotated[str | None, Parameter(max_length=30, description="the unit's kind, e.g. university")]


async def readable_unit(request: Request[Any, Any, Any], db: ServiceDatabase, unit_id: str) -> None:
    """Who reads one unit's figures: the unit itself, its competent department (the
    unit's ``department`` is the caller's organisation), the center and the bureau
    (the route's roles). 404 ``unit.not_found`` for a unit evaluation has not heard
    of and, so as not to tell that it exists, for another's unit."""
    p = principal_of(request)
    if p.role is Role.UNIT and p.org != unit_id:
        raise NotFound("unit", "单位", unit_id)
    info = await unit_report.unit_info(db, unit_id)
    if info is None or (p.role is Role.DEPARTMENT and (not p.org or info.department != p.org)):
        raise NotFound("unit", "单位", unit_id)


def _year(year: int) -> int:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise DomainError("report.year_out_of_range", f"年度须在 {MIN_YEAR}–{MAX_YEAR} 之间", f"year must be between {MIN_YEAR} and {MAX_YEAR}", status=400, year=year)
    return year


def _xlsx(body: bytes, kind: str, year: int, title_zh: str) -> Response[bytes]:
    zh = quote(f"{year}年{title_zh}.xlsx")
    return Response(
        body,
        media_type=report_workbooks.XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f"attachment; filename=\"{report_workbooks.filename(kind, year)}\"; filename*=UTF-8''{zh}"},
    )


def _filter(county_code: str | None, department: str | None, status: str | None, kind: str | None) -> reports.UnitFilter:
    return reports.UnitFilter(county_code=county_code, department=department, status=status, kind=kind)


class ReportController(Controller):
    path = "/v1/reports"
    tags = ["reports"]

    @get("/{year:int}/units/{unit_id:str}", operation_id="getUnitMeasures", **access(Role.UNIT, Role.DEPARTMENT, Role.CENTER, Role.BUREAU))
    async def unit(
        self, request: Request[Any, Any, Any], db: NamedDependency[ServiceDatabase], settings: NamedDependency[Settings], year: FromPath[int], unit_id: FromPath[str]
    ) -> UnitMeasures:
        """A unit's measures for the year, counted from the records of registry,
        vouchers and payments (R11, M14(1)): the unit itself, its competent
        department (the unit's ``department`` is the caller's organisation),
        the center and the bureau. 404 ``unit.not_found`` for a unit evaluation
        has not heard of and, so as not to tell that it exists, for another's unit."""
        _year(year)
        await readable_unit(request, db, unit_id)
        return await report_pages.unit_measures(db, year, unit_id, settings.city)

    @get("/{year:int}/units", operation_id="getUnitsReport", **access(Role.CENTER, Role.BUREAU))
    async def units(
        self,
        db: NamedDependency[ServiceDatabase],
        settings: NamedDependency[Settings],
        year: FromPath[int],
        county_code: CountyCode = None,
        department: Department = None,
        status: UnitStatus = None,
        kind: UnitKind = None,
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> UnitReportPage:
        """Every unit's measures for the year, by unit name; filter by the unit's
        county, department, status or kind. ``totals`` sums every unit the
        filter selects. Money in fen, hours in hundredths."""
        return await report_pages.units_page(db, _year(year), _filter(county_code, department, status, kind), page, page_size, settings.city)

    @get("/{year:int}/counties", operation_id="getCountiesReport", **access(Role.CENTER, Role.BUREAU))
    async def counties(
        self,
        db: NamedDependency[ServiceDatabase],
        settings: NamedDependency[Settings],
        year: FromPath[int],
        status: UnitStatus = None,
        kind: UnitKind = None,
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> CountyReportPage:
        """The units' measures summed per county (the unit's county); outside
        users are the sum of each unit's distinct outside users."""
        return await report_pages.counties_page(db, _year(year), _filter(None, None, status, kind), page, page_size, settings.city)

    @get("/{year:int}/categories", operation_id="getCategoriesReport", **access(Role.CENTER, Role.BUREAU))
    async def categories(
        self,
        db: NamedDependency[ServiceDatabase],
        year: FromPath[int],
        county_code: CountyCode = None,
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> CategoryReportPage:
        """Instruments (by their category) and orders (by the category of their
        first instrument) per instrument category; ``county_code`` keeps the
        instruments of that county and the orders on them."""
        return await report_pages.categories_page(db, _year(year), county_code, page, page_size)

    @get("/{year:int}/units.xlsx", operation_id="exportUnitsReport", media_type=report_workbooks.XLSX_MEDIA_TYPE, **access(Role.CENTER, Role.BUREAU))
    async def units_xlsx(
        self,
        db: NamedDependency[ServiceDatabase],
        settings: NamedDependency[Settings],
        year: FromPath[int],
        county_code: CountyCode = None,
        department: Department = None,
        status: UnitStatus = None,
        kind: UnitKind = None,
    ) -> Response[bytes]:
        """The units report as an Excel workbook: every unit with a 合计 row,
        money in yuan and hours in hours, and a bar chart of the twenty units
        with the highest service revenue."""
        rows = await unit_report.unit_rows(db, _year(year), _filter(county_code, department, status, kind))
        return _xlsx(unit_report.units_xlsx(year, rows, settings.city), "units", year, "单位评价指标报表")

    @get("/{year:int}/counties.xlsx", operation_id="exportCountiesReport", media_type=report_workbooks.XLSX_MEDIA_TYPE, **access(Role.CENTER, Role.BUREAU))
    async def counties_xlsx(
        self,
        db: NamedDependency[ServiceDatabase],
        settings: NamedDependency[Settings],
        year: FromPath[int],
        status: UnitStatus = None,
        kind: UnitKind = None,
    ) -> Response[bytes]:
        """The counties report as an Excel workbook with bar charts of orders,
        revenue and listed instruments per county."""
        rows = await unit_report.unit_rows(db, _year(year), _filter(None, None, status, kind))
        return _xlsx(county_report.counties_xlsx(year, county_report.county_rows(rows, settings.city)), "counties", year, "区县评价指标报表")

    @get("/{year:int}/categories.xlsx", operation_id="exportCategoriesReport", media_type=report_workbooks.XLSX_MEDIA_TYPE, **access(Role.CENTER, Role.BUREAU))
    async def categories_xlsx(self, db: NamedDependency[ServiceDatabase], year: FromPath[int], county_code: CountyCode = None) -> Response[bytes]:
        """The instrument categories report as an Excel workbook with bar charts
        of orders and listed instruments per category."""
        groups = await category_report.category_rows(db, _year(year), county_code)
        return _xlsx(category_report.categories_xlsx(year, groups), "categories", year, "仪器类别评价指标报表")
