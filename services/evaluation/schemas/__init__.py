"""What evaluation's use cases return, and its API answers as they are: one
struct per record, with the pages and plans built of them, by topic:

* :mod:`.applications`: the cycle, applications, experts and their
  assignments, evidence files and rectifications;
* :mod:`.notices`: public notices and their lines, objections, provincial
  awards, the award plan and its approval, reviewed redemptions;
* :mod:`.reports`: the units evaluation knows of, a unit's use of its
  instruments, and the yearly reports per unit, county and category.

Each record is built from its table row by the one function below it
(``application(row)``, ``notice(row)``…), so a column reaches a client in one
place. Request bodies stay beside their routes in ``api/``; events are in
``contracts/evaluation.py``."""

from services.evaluation.schemas.applications import (
    Application,
    ApplicationPage,
    Assignment,
    AssignmentPage,
    Cycle,
    EvaluationDocument,
    Expert,
    ExpertPage,
    IndicatorSetInForce,
    Rectification,
    application,
    assignment,
    cycle,
    evaluation_document,
    expert,
    indicator_set_in_force,
    rectification,
)

from services.evaluation.schemas.notices import (
    AwardLine,
    AwardPlan,
    AwardPlanApproval,
    Notice,
    NoticeItem,
    NoticePage,
    Objection,
    ObjectionPage,
    ProvincialAward,
    ProvincialAwardPage,
    Redemption,
    RedemptionPage,
    award_line,
    award_plan_approval,
    notice,
    notice_item,
    objection,
    provincial_award,
    redemption,
)

from services.evaluation.schemas.reports import (
    CategoryMeasures,
    CategoryReportPage,
    CategoryRow,
    CountyReportPage,
    CountyRow,
    EvaluatedUnit,
    EvaluatedUnitInfo,
    EvaluatedUnitPage,
    InstrumentUseOut,
    MeasureTotals,
    UnitMeasures,
    UnitReportPage,
    UnitUseOut,
    category_row,
    county_row,
    evaluated_unit,
    unit_measures,
)

__all__ = [
    "Application",
    "ApplicationPage",
    "Assignment",
    "AssignmentPage",
    "Cycle",
    "EvaluationDocument",
    "Expert",
    "ExpertPage",
    "IndicatorSetInForce",
    "Rectification",
    "application",
    "assignment",
    "cycle",
    "evaluation_document",
    "expert",
    "indicator_set_in_force",
    "rectification",
    "AwardLine",
    "AwardPlan",
    "AwardPlanApproval",
    "Notice",
    "NoticeItem",
    "NoticePage",
    "Objection",
    "ObjectionPage",
    "ProvincialAward",
    "ProvincialAwardPage",
    "Redemption",
    "RedemptionPage",
    "award_line",
    "award_plan_approval",
    "notice",
    "notice_item",
    "objection",
    "provincial_award",
    "redemption",
    "CategoryMeasures",
    "CategoryReportPage",
    "CategoryRow",
    "CountyReportPage",
    "CountyRow",
    "EvaluatedUnit",
    "EvaluatedUnitInfo",
    "EvaluatedUnitPage",
    "InstrumentUseOut",
    "MeasureTotals",
    "UnitMeasures",
    "UnitReportPage",
    "UnitUseOut",
    "category_row",
    "county_row",
    "evaluated_unit",
    "unit_measures",
]
