"""The service order rules: the state machine, the contract terms, signatures,
uploads and document types."""

from __future__ import annotations

import io
import zipfile

import pytest

from services.registry.domain.orders import (
    DOCX,
    JPEG,
    MAX_RATING_COMMENT,
    PDF,
    PNG,
    RESULT_STATEMENT,
    ContractTerms,
    DocumentKind,
    OrderAction,
    OrderStatus,
    Party,
    check_document_use,
    check_rating,
    check_service_hours,
    check_terms_editable,
    check_upload,
    missing_terms,
    next_status,
    settlement_voucher,
    sign,
    sniff_content_type,
)
from services.runtime.errors import DomainError

S, A = OrderStatus, OrderAction


def test_the_happy_path() -> None:
    assert next_status(S.requested, A.quote) is S.quoted
    assert next_status(S.quoted, A.contract) is S.contracted
    assert next_status(S.contracted, A.start) is S.in_service
    assert next_status(S.in_service, A.deliver) is S.results_delivered
    assert next_status(S.results_delivered, A.settle) is S.settled
    assert next_status(S.settled, A.rate) is S.rated


@pytest.mark.parametrize("status", [S.requested, S.quoted, S.contracted])
def test_cancel_before_service(status: OrderStatus) -> None:
    assert next_status(status, A.cancel) is S.cancelled


@pytest.mark.parametrize("status", [S.in_service, S.results_delivered, S.settled, S.rated, S.cancelled])
def test_no_cancel_once_service_began(status: OrderStatus) -> None:
    with pytest.raises(DomainError) as e:
        next_status(status, A.cancel)
    assert e.value.code == "order.illegal_transition" and e.value.status == 409 and e.value.details["current_status"] == str(status)


def test_every_other_transition_is_illegal() -> None:
    legal = {(S.requested, A.quote), (S.quoted, A.contract), (S.contracted, A.start), (S.in_service, A.deliver)}
    legal |= {(S.results_delivered, A.settle), (S.settled, A.rate)}
    legal |= {(s, A.cancel) for s in (S.requested, S.quoted, S.contracted)}
    for s in S:
        for a in A:
            if (s, a) in legal:
                continue
            with pytest.raises(DomainError) as e:
                next_status(s, a)
            assert e.value.code == "order.illegal_transition" and e.value.details == {"current_status": str(s), "action": str(a)}
    # every status is reachable, and nothing leaves rated or cancelled
    reachable = {next_status(s, a) for s, a in legal}
    assert reachable == set(S) - {S.requested}
    assert not {s for s, _ in legal} & {S.rated, S.cancelled}


def terms(**kw: object) -> ContractTerms:
    base: dict[str, object] = {
        "testing_fee_fen": 50_000,
        "ip_ownership": "成果归用户所有",
        "confidentiality": "管理单位对样品和数据保密",
        "damage_compensation": "因用户原因损坏仪器的照价赔偿",
        "contract_document_id": "c",
        "rd_proof_document_id": "r",
    }
    return ContractTerms(**{**base, **kw})  # type: ignore[arg-type]


def test_complete_terms_pass() -> None:
    missing_terms(terms(), 50_000)
    missing_terms(terms(testing_fee_fen=1), 50_000)


def test_every_term_is_required_and_blank_is_missing() -> None:
    with pytest.raises(DomainError) as e:
        missing_terms(terms(testing_fee_fen=None, ip_ownership="  ", damage_compensation=None, rd_proof_document_id=""), 50_000)
    assert e.value.code == "order.contract_incomplete" and e.value.status == 422
    assert e.value.details["missing"] == ["testing_fee_fen", "ip_ownership", "damage_compensation", "rd_proof_document_id"]


@pytest.mark.parametrize("fee", [0, -1, 50_001, True])
def test_the_testing_fee_is_positive_and_within_the_amount(fee: object) -> None:
    with pytest.raises(DomainError) as e:
        missing_terms(terms(testing_fee_fen=fee), 50_000)
    assert e.value.code == "order.testing_fee_invalid"


def test_signatures() -> None:
    assert sign(S.quoted, Party.user, user_signed=False, unit_signed=False) is False
    assert sign(S.quoted, Party.unit, user_signed=True, unit_signed=False) is True
    assert sign(S.quoted, Party.user, user_signed=False, unit_signed=True) is True
    for party, signed in ((Party.user, {"user_signed": True, "unit_signed": False}), (Party.unit, {"user_signed": False, "unit_signed": True})):
        with pytest.raises(DomainError) as e:
            sign(S.quoted, party, **signed)
        assert e.value.code == "order.already_signed" and e.value.status == 409
    for s in (S.requested, S.contracted, S.cancelled):
        with pytest.raises(DomainError) as e:
            sign(s, Party.user, user_signed=False, unit_signed=False)
        assert e.value.code == "order.illegal_transition" and e.value.details["current_status"] == str(s)


def test_terms_change_only_before_signing() -> None:
    check_terms_editable(S.quoted, user_signed=False, unit_signed=False)
    with pytest.raises(DomainError) as e:
        check_terms_editable(S.quoted, user_signed=False, unit_signed=True)
    assert e.value.code == "order.contract_signed"
    with pytest.raises(DomainError) as e:
        check_terms_editable(S.requested, user_signed=False, unit_signed=False)
    assert e.value.code == "order.illegal_transition"


def test_uploads() -> None:
    for party in Party:
        check_upload(S.requested, DocumentKind.contract, party, signed=False)
        check_upload(S.quoted, DocumentKind.rd_proof, party, signed=False)
    with pytest.raises(DomainError) as e:
        check_upload(S.quoted, DocumentKind.contract, Party.user, signed=True)
    assert e.value.code == "order.contract_signed"
    with pytest.raises(DomainError) as e:
        check_upload(S.contracted, DocumentKind.contract, Party.unit, signed=True)
    assert e.value.code == "order.illegal_transition"
    check_upload(S.in_service, DocumentKind.result, Party.unit, signed=True)
    with pytest.raises(DomainError) as e:
        check_upload(S.in_service, DocumentKind.result, Party.user, signed=True)
    assert e.value.code == "order.results_by_unit" and e.value.status == 403
    with pytest.raises(DomainError) as e:
        check_upload(S.contracted, DocumentKind.result, Party.unit, signed=True)
    assert e.value.code == "order.illegal_transition"


def test_document_use() -> None:
    check_document_use(DocumentKind.result, "result", "d")
    with pytest.raises(DomainError) as e:
        check_document_use(DocumentKind.result, None, "d")
    assert e.value.code == "order.unknown_document"
    with pytest.raises(DomainError) as e:
        check_document_use(DocumentKind.contract, "rd_proof", "d")
    assert e.value.code == "order.wrong_document_kind"


def test_service_hours() -> None:
    assert check_service_hours(0) == 0 and check_service_hours(12) == 12
    for bad in (-1, 1.5, True, None):
        with pytest.raises(DomainError):
            check_service_hours(bad)


def _docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def _xlsx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


def test_content_types_come_from_the_bytes() -> None:
    assert sniff_content_type(b"%PDF-1.7\n...") == PDF
    assert sniff_content_type(b"\xff\xd8\xff\xe0rest") == JPEG
    assert sniff_content_type(b"\x89PNG\r\n\x1a\nrest") == PNG
    assert sniff_content_type(_docx()) == DOCX
    for bad in (b"hello", _xlsx(), b"PK\x03\x04broken", b"<html>"):
        with pytest.raises(DomainError) as e:
            sniff_content_type(bad)
        assert e.value.code == "document.unsupported_type" and e.value.status == 415


def test_the_result_statement() -> None:
    assert "不作为第三方检测证明" in RESULT_STATEMENT and "not third-party certification" in RESULT_STATEMENT


# --- settlement and rating -------------------------------------------------------


def test_the_voucher_of_a_settlement() -> None:
    # SettlementCompleted's deduction wins when it has arrived
    assert settlement_voucher(20_000, 60_000, 30_000) == 20_000
    assert settlement_voucher(0, 60_000, 30_000) == 0
    # else the amount less what the user had to pay, never negative
    assert settlement_voucher(None, 60_000, 36_000) == 24_000
    assert settlement_voucher(None, 60_000, 60_000) == 0
    assert settlement_voucher(None, 60_000, 70_000) == 0


def test_a_rating() -> None:
    assert check_rating(S.settled, 5, None) is None
    assert check_rating(S.settled, 1, "  很好  ") == "很好"
    assert check_rating(S.settled, 3, "   ") is None
    assert check_rating(S.settled, 4, "好" * MAX_RATING_COMMENT) == "好" * MAX_RATING_COMMENT


@pytest.mark.parametrize("rating", [0, 6, -1, True, 4.5, "5", None])
def test_a_rating_is_1_to_5(rating: object) -> None:
    with pytest.raises(DomainError) as e:
        check_rating(S.settled, rating, None)
    assert e.value.code == "order.invalid_rating" and e.value.status == 422


def test_a_rating_comment_is_short() -> None:
    with pytest.raises(DomainError) as e:
        check_rating(S.settled, 5, "好" * (MAX_RATING_COMMENT + 1))
    assert e.value.code == "order.invalid_rating" and e.value.details["limit"] == MAX_RATING_COMMENT


def test_rating_once_and_only_when_settled() -> None:
    with pytest.raises(DomainError) as e:
        check_rating(S.rated, 5, None)
    assert e.value.code == "order.already_rated" and e.value.status == 409
    for status in (S.requested, S.quoted, S.contracted, S.in_service, S.results_delivered, S.cancelled):
        with pytest.raises(DomainError) as e:
            check_rating(status, 5, None)
        assert e.value.code == "order.illegal_transition" and e.value.status == 409
