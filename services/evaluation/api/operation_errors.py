"""The error codes each evaluation operation answers beside the generic ones
(authentication, validation, an unknown address, idempotency, the rate limit:
added by rule in :mod:`services.runtime.http.operation_docs`). Operation id ->
codes; every code is in the catalogue read from the source
(:mod:`services.runtime.http.error_catalogue`). A new route adds its line here
(``()`` when it answers only the generic codes); tests/unit/test_operation_docs.py
names any operation without one.
"""

ERRORS: dict[str, tuple[str, ...]] = {
    # services.evaluation.api.cycle
    "openEvaluationCycle": ("cycle.already_open", "cycle.redemption_window_incomplete", "cycle.redemption_window_invalid"),
    "getEvaluationCycle": ("cycle.not_open",),
    "getIndicatorSet": (),
    "assignExpert": ("application.not_found", "assignment.application_not_forwarded", "assignment.conflict_of_interest", "assignment.duplicate", "expert.not_found"),
    "forwardEvaluationApplication": ("application.illegal_transition", "application.not_found", "application.not_submitted", "decision.reason_required"),
    "decideEvaluationGrade": ("application.illegal_transition", "application.not_found", "cycle.not_open", "grade.application_not_ready", "grade.reason_required", "grade.scores_incomplete"),
    "listEvaluationApplications": (),
    "submitEvaluationApplication": ("application.document_unknown", "application.duplicate", "application.not_found", "application.self_assessment_required", "application.unit_not_approved", "cycle.not_open"),
    "getEvaluationApplication": ("application.not_found",),
    "resubmitEvaluationApplication": ("application.document_unknown", "application.illegal_transition", "application.not_found", "application.self_assessment_required"),
    "returnEvaluationApplication": ("application.illegal_transition", "application.not_found", "application.not_submitted", "decision.reason_required"),
    "registerExpert": (),
    "listExperts": (),
    "listAssignments": (),
    "recordScores": ("application.not_found", "assignment.not_found", "cycle.not_open", "score.application_closed", "score.sheet_invalid"),
    # services.evaluation.api.notices
    "finalizeNotice": ("notice.concurrent_change", "notice.not_found", "notice.objections_open", "notice.window_open"),
    "publishNotice": ("cycle.not_open", "notice.already_published", "notice.applications_pending", "notice.nothing_to_publish", "notice.published_in_future", "notice.window_already_closed"),
    "listNotices": (),
    "raiseObjection": ("notice.not_found", "notice_item.not_found", "objection.contact_invalid", "objection.real_name_required", "objection.window_closed"),
    "listObjections": ("notice.not_found",),
    "getNotice": ("notice.not_found",),
    "resolveObjection": ("notice.not_found", "objection.already_resolved", "objection.case_not_redecided", "objection.line_changed", "objection.not_found"),
    "proposeAwardPlan": ("award_plan.already_proposed", "award_plan.grades_not_final", "award_plan.nothing_to_plan", "cycle.not_open", "notice.nothing_to_publish"),
    "getAwardPlan": ("award_plan.not_found", "cycle.not_open", "notice.not_found"),
    "listProvincialAwards": (),
    "recordProvincialAward": ("provincial_award.duplicate",),
    "listReviewedRedemptions": (),
    # services.evaluation.api.reports
    "getCategoriesReport": ("report.year_out_of_range",),
    "exportCategoriesReport": ("report.year_out_of_range",),
    "getCountiesReport": ("report.year_out_of_range",),
    "exportCountiesReport": ("report.year_out_of_range",),
    "getUnitMeasures": ("report.year_out_of_range", "unit.not_found"),
    "getUnitsReport": ("report.year_out_of_range",),
    "exportUnitsReport": ("report.year_out_of_range",),
    # services.evaluation.api.units
    "listEvaluationUnits": (),
    # services.evaluation.api.use (issue 16)
    "getUnitUse": ("report.year_out_of_range", "unit.not_found"),
    "getDepartmentSummary": ("auth.forbidden", "report.department_required", "report.department_unknown", "report.other_department", "report.year_out_of_range"),
    # R14(2) evidence files
    "uploadEvaluationDocument": ("document.empty", "document.no_file", "document.too_large", "document.unsupported_type"),
    "getEvaluationDocument": ("application.not_found", "evaluation_document.not_found"),
    "downloadEvaluationDocument": ("application.not_found", "evaluation_document.not_found"),
    # R14(4) the award plan approved before its notice
    "approveAwardPlan": ("award_plan.already_approved", "award_plan.not_found", "cycle.not_open", "notice.not_found"),
    "publishAwardPlanNotice": ("award_plan.not_approved", "award_plan.not_found", "cycle.not_open", "notice.already_published", "notice.not_found", "notice.nothing_to_publish", "notice.published_in_future", "notice.window_already_closed"),
    # M15 rectification
    "getRectification": ("rectification.not_found",),
    "submitRectificationReport": ("rectification.already_passed", "rectification.concurrent_change", "rectification.deadline_passed", "rectification.document_unknown", "rectification.not_required"),
    "recheckRectification": ("rectification.already_checked", "rectification.concurrent_change", "rectification.not_reported", "rectification.not_required"),
}
