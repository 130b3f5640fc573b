"""The structs evaluation's use cases return (issue 18): each is built from
its row, and the audit trail keeps the same record under the keys it had
when the use cases returned dicts (``audit_image``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.evaluation import schemas
from services.evaluation.application_rows import audited as audited_application
from services.evaluation.notices import audited as audited_notice
from services.runtime.audit_image import audit_image

AT = datetime(2026, 5, 6, 7, 8, tzinfo=UTC)

APPLICATION = {"id": "a1", "unit_id": "u1", "year": 2026, "status": "graded", "materials": [{"document_id": "d1"}], "statement": None, "submitted_at": AT,
               "reviewed_at": AT, "review_reason": None, "scores": {"x": 750}, "total_centi": 8000, "grade": "good", "decided_at": AT, "version": 3}
NOTICE = {"id": "n1", "case_no": "GS-2026-000001", "kind": "grades", "year": 2026, "title": "t", "status": "published", "published_on": date(2026, 5, 6), "opens_on": date(2026, 5, 7),
          "closes_on": date(2026, 5, 13), "published_at": AT, "finalized_at": None}
ITEM = {"notice_id": "n1", "position": 0, "ref": "a1", "unit_id": "u1", "label": "单位：良好", "amount_fen": 0, "grade": "good", "total_centi": 8000, "state": "listed"}


def test_an_application_is_audited_without_its_unit_view_and_rectification() -> None:
    image = audited_application(APPLICATION)
    assert set(image) == {"application_id", "unit_id", "year", "status", "unit_name", "department", "materials", "statement", "submitted_at", "reviewed_at",
                          "review_reason", "scores", "total_centi", "grade", "decided_at"}
    assert image["unit_name"] is None and image["scores"] == {"x": 750} and image["submitted_at"] == "2026-05-06T07:08:00Z"


def test_the_answer_carries_the_unit_and_its_rectification() -> None:
    rect = schemas.rectification(date(2026, 9, 7), None, "u1", 2026)
    app = schemas.application(APPLICATION, {"name": "单位", "department": "dept"}, rect)
    assert (app.unit_name, app.department, app.rectification) == ("单位", "dept", rect)
    assert rect.status == "required" and rect.report is None


def test_a_notice_is_audited_without_its_lines_and_open_objections() -> None:
    notice = schemas.notice(NOTICE, [ITEM], 0)
    assert notice.items == [schemas.notice_item(ITEM)] and notice.open_objections == 0
    assert set(audited_notice(notice)) == {"notice_id", "case_no", "kind", "year", "title", "status", "published_on", "opens_on", "closes_on", "published_at", "finalized_at"}
    assert set(audit_image(notice.items[0])) == {"ref", "unit_id", "label", "amount_fen", "grade", "total_centi", "state"}


def test_an_objection_shows_and_audits_only_the_masked_contact() -> None:
    row = {"id": "o1", "notice_id": "n1", "ref": "a1", "unit_id": "u1", "name": "张三", "contact_kind": "phone", "contact_enc": "secret", "contact_masked": "138****5678",
           "text": "t", "status": "open", "outcome": None, "resolution": None, "raised_at": AT, "resolved_at": None}
    image = audit_image(schemas.objection(row))
    assert image["contact"] == "138****5678" and "secret" not in image.values() and "contact_enc" not in image
