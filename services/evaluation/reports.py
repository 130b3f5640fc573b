"""The bureau's reports of a year: per unit (:mod:`~services.evaluation.unit_report`),
per county (:mod:`~services.evaluation.county_report`) and per instrument
category (:mod:`~services.evaluation.category_report`) — as rows for the API
and as Excel workbooks with a Chinese header row and bar charts
(:mod:`~services.evaluation.report_workbooks`).

Every figure is summed from the same facts as :func:`services.evaluation.measures.unit_measures`, so the
per-unit rows, the county rows and the totals agree. Here: the shapes of the
rows, and their totals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from services.evaluation.domain.measures import Measures
from services.evaluation.measures import measure_fields

#: the measures a category row carries
CATEGORY_FIELDS: tuple[str, ...] = (
    "instruments_must_list",
    "instruments_listed",
    "instruments_listed_on_time",
    "instruments_listed_voluntarily",
    "listed_value_fen",
    "instruments_overdue",
    "orders_served",
    "service_hours_centi",
    "revenue_fen",
    "revenue_voucher_fen",
    "ratings_count",
    "ratings_sum",
)


@dataclass
class UnitRow:
    unit_id: str
    name: str
    kind: str | None
    status: str | None
    county_code: str | None
    department: str | None
    parent_unit_id: str | None
    measures: Measures


@dataclass
class GroupRow:
    key: str
    label: str
    units: int = 0
    values: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class UnitFilter:
    county_code: str | None = None
    department: str | None = None
    status: str | None = None
    kind: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.county_code or self.department or self.status or self.kind)


def totals(measures: Sequence[Measures], fields: Sequence[str] | None = None) -> dict[str, int]:
    out = dict.fromkeys(fields or measure_fields(), 0)
    for m in measures:
        for f in out:
            out[f] += getattr(m, f)
    return out


def page(items: Sequence[Any], page_no: int, page_size: int) -> list[Any]:
    start = (page_no - 1) * page_size
    return list(items[start : start + page_size])
