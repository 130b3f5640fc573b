"""Service order rules (M12, M14(1), R5, R19, R22–R25): a pure state machine
and the checks of a contract, a signature and a document. No I/O here.

* States (M14(1), R19): requested → quoted → contracted → in_service →
  results_delivered → settled → rated; cancelled from any state before
  service begins. Settlement follows payments (the user paid the rest in full,
  R19(4)); then the user rates the service once, 1–5 with an optional comment.
* The contract (R19(1), R22, M12, R25) lists the testing fee, the IP
  ownership, the confidentiality and the damage compensation terms; the
  contract document and the R&D proof are uploaded; both parties sign.
* Purpose (R5): research or technology development; statutory or mandatory
  testing is outside the policy. It is recorded, not refused: the order is a
  record of the service, and the voucher decision (vouchers) refuses it.
* Results (R24) are references for research, never third-party certification:
  every result document carries ``RESULT_STATEMENT``.
"""

from __future__ import annotations

import io
import zipfile
from enum import StrEnum

from services.runtime.errors import Conflict, DomainError

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "MAX_QUANTITY",
    "RESULT_STATEMENT",
    "RESULT_STATEMENT_EN",
    "RESULT_STATEMENT_ZH",
    "ContractTerms",
    "DocumentKind",
    "OrderAction",
    "OrderStatus",
    "Party",
    "Purpose",
    "CONTENT_TYPES",
    "check_document_use",
    "check_service_hours",
    "check_terms_editable",
    "check_upload",
    "MAX_RATING_COMMENT",
    "check_rating",
    "settlement_voucher",
    "illegal",
    "missing_terms",
    "next_status",
    "sign",
    "sniff_content_type",
]

#: the largest document a party may upload (10 MiB)
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
#: a sanity bound on the quantity of one price item in an order
MAX_QUANTITY = 100_000
#: the longest comment a rating may carry
MAX_RATING_COMMENT = 500

RESULT_STATEMENT_ZH = "本结果仅作为科技创新活动的参考，不作为第三方检测证明"
RESULT_STATEMENT_EN = "for research reference only, not third-party certification"
#: R24: carried by every result document
RESULT_STATEMENT = f"{RESULT_STATEMENT_ZH} / {RESULT_STATEMENT_EN}"


class OrderStatus(StrEnum):
    requested = "requested"
    quoted = "quoted"
    contracted = "contracted"
    in_service = "in_service"
    results_delivered = "results_delivered"
    settled = "settled"
    rated = "rated"
    cancelled = "cancelled"


class OrderAction(StrEnum):
    quote = "quote"
    contract = "contract"  # both parties signed
    start = "start"
    deliver = "deliver"
    settle = "settle"  # payments: the user paid the rest in full
    rate = "rate"
    cancel = "cancel"


class Purpose(StrEnum):
    """What the service is for (R5)."""

    research = "research"  # 科学研究
    technology_development = "technology_development"  # 技术开发
    statutory_testing = "statutory_testing"  # 强制性检测、法定检测: outside the policy


class Party(StrEnum):
    user = "user"
    unit = "unit"


class DocumentKind(StrEnum):
    contract = "contract"  # 服务合同（协议）
    rd_proof = "rd_proof"  # 科技研发证明材料
    result = "result"  # 服务结果


_TRANSITIONS: dict[tuple[OrderStatus, OrderAction], OrderStatus] = {
    (OrderStatus.requested, OrderAction.quote): OrderStatus.quoted,
    (OrderStatus.quoted, OrderAction.contract): OrderStatus.contracted,
    (OrderStatus.contracted, OrderAction.start): OrderStatus.in_service,
    (OrderStatus.in_service, OrderAction.deliver): OrderStatus.results_delivered,
    (OrderStatus.results_delivered, OrderAction.settle): OrderStatus.settled,
    (OrderStatus.settled, OrderAction.rate): OrderStatus.rated,
    (OrderStatus.requested, OrderAction.cancel): OrderStatus.cancelled,
    (OrderStatus.quoted, OrderAction.cancel): OrderStatus.cancelled,
    (OrderStatus.contracted, OrderAction.cancel): OrderStatus.cancelled,
}

_STATUS_ZH = {
    OrderStatus.requested: "已申请",
    OrderStatus.quoted: "已报价",
    OrderStatus.contracted: "已签约",
    OrderStatus.in_service: "服务中",
    OrderStatus.results_delivered: "已交付结果",
    OrderStatus.settled: "已结算",
    OrderStatus.rated: "已评价",
    OrderStatus.cancelled: "已取消",
}


def illegal(status: OrderStatus | str, action: OrderAction | str) -> Conflict:
    s = OrderStatus(status)
    return Conflict(
        "order.illegal_transition",
        f"订单当前状态为“{_STATUS_ZH[s]}”，不能执行该操作",
        f"an order in status {s} cannot {action}",
        current_status=str(s),
        action=str(action),
    )


def next_status(status: OrderStatus | str, action: OrderAction | str) -> OrderStatus:
    """The status after ``action``; 409 ``order.illegal_transition`` (with the
    current status in ``details.current_status``) when the action is not allowed now."""
    target = _TRANSITIONS.get((OrderStatus(status), OrderAction(action)))
    if target is None:
        raise illegal(status, action)
    return target


# --- the contract ---------------------------------------------------------------

_TERMS = ("testing_fee_fen", "ip_ownership", "confidentiality", "damage_compensation", "contract_document_id", "rd_proof_document_id")


class ContractTerms:
    """The contract as the parties filled it in; blank text counts as missing."""

    __slots__ = _TERMS

    def __init__(
        self,
        *,
        testing_fee_fen: int | None,
        ip_ownership: str | None,
        confidentiality: str | None,
        damage_compensation: str | None,
        contract_document_id: str | None,
        rd_proof_document_id: str | None,
    ) -> None:
        self.testing_fee_fen = testing_fee_fen
        self.ip_ownership = (ip_ownership or "").strip() or None
        self.confidentiality = (confidentiality or "").strip() or None
        self.damage_compensation = (damage_compensation or "").strip() or None
        self.contract_document_id = contract_document_id or None
        self.rd_proof_document_id = rd_proof_document_id or None


def missing_terms(terms: ContractTerms, amount_fen: int) -> None:
    """Every term is required: the testing fee (R22, an integer of fen, at
    least 1 and at most the quoted amount), the IP ownership, confidentiality
    and damage compensation terms (M12, R25), the contract document and the
    R&D proof (R19(1), R22). 422 ``order.contract_incomplete`` listing every
    missing field in ``details.missing``; 422 ``order.testing_fee_invalid``
    for a fee out of range."""
    missing = [name for name in _TERMS if getattr(terms, name) is None]
    if missing:
        raise DomainError(
            "order.contract_incomplete",
            "合同须列明检验检测费用、知识产权归属、保密条款和损坏赔偿条款，并上传服务合同和科技研发证明材料（第二十二条、第二十五条）",
            f"the contract lacks: {', '.join(missing)} (R22, R25, M12)",
            missing=missing,
        )
    fee = terms.testing_fee_fen
    if isinstance(fee, bool) or not isinstance(fee, int) or fee < 1 or fee > amount_fen:
        raise DomainError(
            "order.testing_fee_invalid",
            "检验检测费用须为以分为单位的正整数，且不超过订单报价金额",
            f"the testing fee is a positive integer number of fen not above the quoted amount ({amount_fen})",
            testing_fee_fen=fee,
            amount_fen=amount_fen,
        )


def sign(status: OrderStatus | str, party: Party, *, user_signed: bool, unit_signed: bool) -> bool:
    """Record ``party``'s signature on a quoted order; True when both parties
    have now signed (the order becomes contracted). Signing twice is 409
    ``order.already_signed``."""
    if OrderStatus(status) is not OrderStatus.quoted:
        raise illegal(status, "sign")
    already = user_signed if party is Party.user else unit_signed
    if already:
        raise Conflict("order.already_signed", "您已签署该合同", f"the {party} has already signed the contract", party=str(party))
    return (user_signed or party is Party.user) and (unit_signed or party is Party.unit)


def check_terms_editable(status: OrderStatus | str, *, user_signed: bool, unit_signed: bool) -> None:
    """The contract is filled in on a quoted order, before anybody signs."""
    if OrderStatus(status) is not OrderStatus.quoted:
        raise illegal(status, "edit the contract")
    if user_signed or unit_signed:
        raise Conflict("order.contract_signed", "合同已有一方签署，不能再修改", "a party has signed the contract; it can no longer change")


# --- documents ---------------------------------------------------------------

def check_upload(status: OrderStatus | str, kind: DocumentKind | str, party: Party, *, signed: bool) -> None:
    """Contract and R&D proof: either party, while the contract is open
    (requested or quoted, nobody signed). Results: the unit, in service."""
    s, k = OrderStatus(status), DocumentKind(kind)
    if k is DocumentKind.result:
        if party is not Party.unit:
            raise DomainError("order.results_by_unit", "服务结果由管理单位上传", "the unit uploads the results", status=403)
        if s is not OrderStatus.in_service:
            raise illegal(s, "upload results")
        return
    if s not in (OrderStatus.requested, OrderStatus.quoted):
        raise illegal(s, f"upload a {k} document")
    if signed:
        raise Conflict("order.contract_signed", "合同已有一方签署，不能再上传合同材料", "a party has signed the contract; its documents can no longer change")


def check_document_use(kind_wanted: DocumentKind, found_kind: str | None, document_id: str) -> None:
    """A document referenced by a contract or a delivery must belong to the order and be of the kind wanted."""
    if found_kind is None:
        raise DomainError("order.unknown_document", "该订单没有此文件", f"the order has no document {document_id}", document_id=document_id)
    if DocumentKind(found_kind) is not kind_wanted:
        raise DomainError(
            "order.wrong_document_kind",
            "文件类型与用途不符",
            f"document {document_id} is a {found_kind} document, not a {kind_wanted} document",
            document_id=document_id,
            kind=found_kind,
            wanted=str(kind_wanted),
        )


def check_service_hours(hours: object) -> int:
    if isinstance(hours, bool) or not isinstance(hours, int) or hours < 0:
        raise DomainError("order.invalid_service_hours", "服务机时须为非负整数", "service hours are an integer ≥ 0", service_hours=hours)
    return hours


# --- rating ------------------------------------------------------------------

def check_rating(status: OrderStatus | str, rating: object, comment: str | None) -> str | None:
    """The user rates a settled order once (R19(4)): an integer 1–5 and an
    optional comment of at most MAX_RATING_COMMENT characters (blank counts as
    none); the comment, stripped. 409 ``order.already_rated`` on a rated order,
    409 ``order.illegal_transition`` before settlement, 422 ``order.invalid_rating``."""
    if OrderStatus(status) is OrderStatus.rated:
        raise Conflict("order.already_rated", "该订单已评价", "the order has already been rated")
    next_status(status, OrderAction.rate)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise DomainError("order.invalid_rating", "评价须为 1 至 5 的整数", "a rating is an integer from 1 to 5", rating=rating)
    text = (comment or "").strip() or None
    if text is not None and len(text) > MAX_RATING_COMMENT:
        raise DomainError(
            "order.invalid_rating",
            f"评价内容不能超过 {MAX_RATING_COMMENT} 字",
            f"a rating comment may not exceed {MAX_RATING_COMMENT} characters",
            limit=MAX_RATING_COMMENT,
        )
    return text


def settlement_voucher(known_voucher_fen: int | None, amount_fen: int, payable_fen: int) -> int:
    """The voucher deduction of a settled order: as payments' SettlementCompleted
    told it when it has arrived, else the order's amount less what the user had
    to pay (PaymentReceived), never below 0."""
    if known_voucher_fen is not None:
        return known_voucher_fen
    return max(0, amount_fen - payable_fen)


PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CONTENT_TYPES: tuple[str, ...] = (PDF, JPEG, PNG, DOCX)


def sniff_content_type(data: bytes) -> str:
    """The content type of a document from its bytes (the declared type is not
    trusted): PDF, JPEG, PNG or DOCX; 415 ``document.unsupported_type`` else."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                if "word/document.xml" in z.namelist():
                    return DOCX
        except zipfile.BadZipFile:
            pass
    raise DomainError(
        "document.unsupported_type",
        "仅支持 PDF、JPEG、PNG 或 DOCX 文件",
        "only PDF, JPEG, PNG and DOCX documents are accepted",
        status=415,
    )
