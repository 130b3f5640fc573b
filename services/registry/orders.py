"""Registry use cases for service orders (M14(1), R19, R22–R25): a verified
user requests service on a unit's public instruments, the unit quotes, the
parties fill in and upload the contract and both sign (OrderContracted), the
unit serves and delivers results (OrderResultsDelivered); either party may
cancel before service begins (OrderCancelled). Every transition is one
transaction with its audit row, its outbox event where one exists and an
optimistic ``version`` check.

Confidentiality (R23): an order, its documents and results are seen by its
user, its unit and staff reviewers only; to anybody else it does not exist
(404, so its existence does not leak).

Settlement (R19(4)) follows the payment: the registry worker consumes
payments' SettlementCompleted (the voucher deduction) and PaymentReceived;
when the user has paid in full a delivered order is ``settled`` (OrderSettled
with the voucher deduction). The two events may arrive in either order, and
again: an order settles once. The user then rates the service once (OrderRated).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import RowMapping

from contracts import registry as ev
from contracts.envelope import new_event_id
from services.registry import bookings
from services.registry.db.models import (
    instruments,
    order_documents,
    order_items,
    orders,
    price_items,
    units,
    users,
)
from services.registry.domain.orders import (
    MAX_DOCUMENT_BYTES,
    RESULT_STATEMENT,
    ContractTerms,
    DocumentKind,
    OrderAction,
    OrderStatus,
    Party,
    Purpose,
    check_document_use,
    check_rating,
    check_service_hours,
    check_terms_editable,
    check_upload,
    missing_terms,
    next_status,
    sign,
    sniff_content_type,
)
from services.registry.domain.parties import UnitStatus, check_reason
from services.registry.domain.usage import service_time
from services.registry.instruments import IN_SERVICE
from services.registry.usage_reads import order_usage
from services.runtime import clock
from services.runtime.documentstore import DocumentStore
from services.runtime.errors import Conflict, DomainError, NotFound
from services.runtime.idempotency import Idempotency, remember
from services.runtime.outbox import Actor
from services.runtime.service_db import ServiceDatabase

_BY_LIMIT = 200

log = logging.getLogger("xciss.registry.orders")


@dataclass(frozen=True)
class Viewer:
    """Who asks: a party to orders (``party`` with its ``org``) or staff (``party`` None)."""

    party: Party | None
    org: str | None = None

    def sees(self, row: RowMapping) -> bool:
        if self.party is None:
            return True
        if self.party is Party.user:
            return self.org is not None and row["user_id"] == self.org
        return self.org is not None and row["unit_id"] == self.org


STAFF = Viewer(None)


def too_large() -> DomainError:
    return DomainError(
        "document.too_large",
        f"文件不能超过 {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB",
        f"a document may not exceed {MAX_DOCUMENT_BYTES} bytes",
        status=413,
        limit=MAX_DOCUMENT_BYTES,
    )


def _not_found(order_id: str) -> NotFound:
    return NotFound("order", "订单", order_id)


async def _load(s: Any, order_id: str, viewer: Viewer) -> RowMapping:
    row = (await s.execute(select(orders).where(orders.c.id == order_id))).mappings().first()
    if row is None or not viewer.sees(row):
        raise _not_found(order_id)
    return row


async def _instrument_ids(s: Any, order_id: str) -> list[str]:
    rows = (await s.execute(select(order_items.c.instrument_id).where(order_items.c.order_id == order_id).order_by(order_items.c.position))).all()
    return list(dict.fromkeys(r[0] for r in rows))


async def _document_sha(s: Any, document_id: str | None) -> str | None:
    if document_id is None:
        return None
    return (await s.execute(select(order_documents.c.sha256).where(order_documents.c.id == document_id))).scalar_one_or_none()


async def _snapshot(s: Any, row: RowMapping) -> dict[str, Any]:
    """The public state of an order, as the Order* events carry it (no documents, no personal data)."""
    return {
        "order_id": row["id"],
        "version": row["version"],
        "user_id": row["user_id"],
        "unit_id": row["unit_id"],
        "instrument_ids": await _instrument_ids(s, row["id"]),
        "status": row["status"],
        "amount_fen": row["amount_fen"],
        "testing_fee_fen": row["testing_fee_fen"] or 0,
        "purpose": row["purpose"],
        "contract_sha256": await _document_sha(s, row["contract_document_id"]),
        "provincial_subsidy": row["provincial_subsidy"],
    }


async def _change(s: Any, row: RowMapping, now: datetime, **values: Any) -> RowMapping:
    """Update an order if nobody changed it meanwhile; the new row."""
    changed = await s.execute(
        update(orders).where(orders.c.id == row["id"], orders.c.version == row["version"]).values(**values, version=row["version"] + 1, updated_at=now)
    )
    if changed.rowcount != 1:
        raise Conflict("order.concurrent_change", "该订单正被他人修改，请刷新后重试", "the order changed meanwhile; reload and retry")
    return (await s.execute(select(orders).where(orders.c.id == row["id"]))).mappings().one()


def _document(row: RowMapping) -> dict[str, Any]:
    doc = {
        "document_id": row["id"],
        "order_id": row["order_id"],
        "kind": row["kind"],
        "sha256": row["sha256"],
        "size": row["size"],
        "content_type": row["content_type"],
        "filename": row["filename"],
        "uploaded_by_role": row["uploaded_by"].split(":", 1)[0],
        "uploaded_at": row["uploaded_at"],
        "statement": RESULT_STATEMENT if row["kind"] == DocumentKind.result else None,
    }
    return doc


async def _record(s: Any, row: RowMapping) -> dict[str, Any]:
    items = (await s.execute(select(order_items).where(order_items.c.order_id == row["id"]).order_by(order_items.c.position))).mappings().all()
    docs = (
        await s.execute(select(order_documents).where(order_documents.c.order_id == row["id"]).order_by(order_documents.c.uploaded_at, order_documents.c.id))
    ).mappings().all()
    return {
        "order_id": row["id"],
        "version": row["version"],
        "user_id": row["user_id"],
        "unit_id": row["unit_id"],
        "purpose": row["purpose"],
        "description": row["description"],
        "status": row["status"],
        "list_amount_fen": row["list_amount_fen"],
        "amount_fen": row["amount_fen"],
        "quote_note": row["quote_note"],
        "quote_reason": row["quote_reason"],
        "items": [
            {k: i[k] for k in ("instrument_id", "price_item_id", "name", "billing_unit", "price_fen", "quantity", "amount_fen")} for i in items
        ],
        "contract": {
            "testing_fee_fen": row["testing_fee_fen"],
            "ip_ownership": row["ip_ownership"],
            "confidentiality": row["confidentiality"],
            "damage_compensation": row["damage_compensation"],
            "provincial_subsidy": row["provincial_subsidy"],
            "contract_document_id": row["contract_document_id"],
            "rd_proof_document_id": row["rd_proof_document_id"],
            "user_signed_at": row["user_signed_at"],
            "unit_signed_at": row["unit_signed_at"],
        },
        "result_document_id": row["result_document_id"],
        "service_hours": row["service_hours"],
        "service_minutes": row["service_minutes"],
        "cancel_reason": row["cancel_reason"],
        "settlement_id": row["settlement_id"],
        "voucher_fen": row["voucher_fen"],
        "paid_fen": row["paid_fen"],
        "rating": row["rating"],
        "rating_comment": row["rating_comment"],
        "documents": [_document(d) for d in docs],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "quoted_at": row["quoted_at"],
        "contracted_at": row["contracted_at"],
        "started_at": row["started_at"],
        "delivered_at": row["delivered_at"],
        "cancelled_at": row["cancelled_at"],
        "settled_at": row["settled_at"],
        "rated_at": row["rated_at"],
    }


def _unavailable(price_item_id: str) -> DomainError:
    return DomainError(
        "order.item_unavailable",
        "所选收费项目不存在、已停用，或其仪器未开放共享",
        f"price item {price_item_id} does not exist, is inactive, or its instrument is not listed and in service",
        price_item_id=price_item_id,
    )


async def request_order(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    *,
    user_id: str,
    purpose: Purpose,
    description: str | None,
    items: Sequence[tuple[str, int]],
    idempotency: Idempotency | None = None,
) -> dict[str, Any]:
    """A verified user requests service on price items (with quantities) of one
    unit's listed, in-service instruments. The list total is the sum of price ×
    quantity at the prices of today; the order is ``requested``. With an
    idempotency key, the answer is stored with the order (one transaction)."""
    ids = [pid for pid, _ in items]
    if len(set(ids)) != len(ids):
        raise DomainError("order.duplicate_item", "同一收费项目只能出现一次", "a price item may appear only once in an order")
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        user = (await s.execute(select(users.c.verified).where(users.c.id == user_id))).first()
        if user is None:
            raise DomainError("order.user_not_registered", "请先在平台注册用户信息", "register as a user before requesting service")
        if not user[0]:
            raise DomainError("order.user_not_verified", "用户信息尚未经审核，暂不能申请服务", "the user is not verified yet")
        found = {
            r["id"]: r
            for r in (
                await s.execute(
                    select(price_items, instruments.c.listed_on, instruments.c.status.label("instrument_status"))
                    .join(instruments, instruments.c.id == price_items.c.instrument_id)
                    .where(price_items.c.id.in_(ids))
                )
            ).mappings()
        }
        for pid in ids:
            r = found.get(pid)
            if r is None or not r["active"] or r["listed_on"] is None or r["instrument_status"] != IN_SERVICE:
                raise _unavailable(pid)
        unit_ids = {r["unit_id"] for r in found.values()}
        if len(unit_ids) != 1:
            raise DomainError("order.mixed_units", "一个订单只能包含同一管理单位的仪器", "an order covers the instruments of one unit")
        unit_id = unit_ids.pop()
        unit_status = (await s.execute(select(units.c.status).where(units.c.id == unit_id))).scalar_one()
        if unit_status != UnitStatus.APPROVED:
            raise DomainError("order.unit_unavailable", "该管理单位当前不能提供共享服务", "the unit cannot take orders now", unit_id=unit_id, unit_status=unit_status)
        order_id = new_event_id()
        lines = [
            {
                "order_id": order_id,
                "position": n,
                "instrument_id": found[pid]["instrument_id"],
                "price_item_id": pid,
                "name": found[pid]["name"],
                "billing_unit": found[pid]["billing_unit"],
                "price_fen": found[pid]["price_fen"],
                "quantity": qty,
                "amount_fen": found[pid]["price_fen"] * qty,
            }
            for n, (pid, qty) in enumerate(items)
        ]
        total = sum(line["amount_fen"] for line in lines)
        await s.execute(
            insert(orders).values(
                id=order_id,
                user_id=user_id,
                unit_id=unit_id,
                purpose=str(Purpose(purpose)),
                description=(description or "").strip() or None,
                status=str(OrderStatus.requested),
                list_amount_fen=total,
                amount_fen=total,
                provincial_subsidy=False,
                version=1,
                created_at=now,
                updated_at=now,
            )
        )
        await s.execute(insert(order_items), lines)
        row = (await s.execute(select(orders).where(orders.c.id == order_id))).mappings().one()
        record = await _record(s, row)
        await uow.audit("order.request", "order", order_id, after={k: record[k] for k in ("user_id", "unit_id", "purpose", "list_amount_fen", "items")})
        await remember(uow, idempotency, record)
    return record


def _uploaded_by(actor: Actor) -> str:
    return f"{actor.role}:{actor.subject}"[:_BY_LIMIT]


async def upload_document(
    db: ServiceDatabase,
    store: DocumentStore,
    actor: Actor,
    correlation_id: str | None,
    order_id: str,
    viewer: Viewer,
    *,
    kind: DocumentKind,
    filename: str,
    data: bytes,
    idempotency: Idempotency | None = None,
) -> dict[str, Any]:
    """A party uploads a document of the order (contract and R&D proof while the
    contract is open, results in service by the unit). The bytes go to the
    content-addressed store; the row keeps sha256, size and the sniffed type."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise too_large()
    if not data:
        raise DomainError("document.empty", "文件为空", "the document is empty", status=400)
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await _load(s, order_id, viewer)
        assert viewer.party is not None  # staff do not upload (access declaration)
        check_upload(row["status"], kind, viewer.party, signed=row["user_signed_at"] is not None or row["unit_signed_at"] is not None)
        content_type = sniff_content_type(data)
        sha = await store.put(data)
        doc = {
            "id": new_event_id(),
            "order_id": order_id,
            "kind": str(DocumentKind(kind)),
            "sha256": sha,
            "size": len(data),
            "content_type": content_type,
            "filename": (filename.strip() or "document")[-255:],
            "uploaded_by": _uploaded_by(actor),
            "uploaded_at": now,
        }
        await s.execute(insert(order_documents).values(**doc))
        meta = _document(doc)  # type: ignore[arg-type]
        await uow.audit("order.document_upload", "order", order_id, after={k: meta[k] for k in ("document_id", "kind", "sha256", "size", "content_type")})
        await remember(uow, idempotency, meta)
    return meta


async def _document_kind(s: Any, order_id: str, document_id: str | None) -> str | None:
    if document_id is None:
        return None
    return (
        await s.execute(select(order_documents.c.kind).where(order_documents.c.id == document_id, order_documents.c.order_id == order_id))
    ).scalar_one_or_none()


async def set_contract(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    order_id: str,
    viewer: Viewer,
    *,
    terms: ContractTerms,
    provincial_subsidy: bool,
) -> dict[str, Any]:
    """Either party fills in the contract of a quoted order before anybody signs:
    every term is required (R22, M12, R25) and the documents must be this
    order's contract and R&D proof."""
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await _load(s, order_id, viewer)
        check_terms_editable(row["status"], user_signed=row["user_signed_at"] is not None, unit_signed=row["unit_signed_at"] is not None)
        missing_terms(terms, row["amount_fen"])
        for wanted, doc_id in ((DocumentKind.contract, terms.contract_document_id), (DocumentKind.rd_proof, terms.rd_proof_document_id)):
            assert doc_id is not None
            check_document_use(wanted, await _document_kind(s, order_id, doc_id), doc_id)
        values = {
            "testing_fee_fen": terms.testing_fee_fen,
            "ip_ownership": terms.ip_ownership,
            "confidentiality": terms.confidentiality,
            "damage_compensation": terms.damage_compensation,
            "contract_document_id": terms.contract_document_id,
            "rd_proof_document_id": terms.rd_proof_document_id,
            "provincial_subsidy": provincial_subsidy,
        }
        after = await _change(s, row, now, **values)
        await uow.audit("order.contract", "order", order_id, before={k: row[k] for k in values}, after=values)
        return await _record(s, after)


def _terms_of(row: RowMapping) -> ContractTerms:
    return ContractTerms(**{k: row[k] for k in ContractTerms.__slots__})


async def sign_contract(db: ServiceDatabase, actor: Actor, correlation_id: str | None, order_id: str, viewer: Viewer) -> dict[str, Any]:
    """The user or the unit signs the complete contract of a quoted order; when
    both have signed the order is contracted and OrderContracted is published
    (with the contract's sha256 and the purpose, so vouchers can decide)."""
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await _load(s, order_id, viewer)
        assert viewer.party is not None
        user_signed, unit_signed = row["user_signed_at"] is not None, row["unit_signed_at"] is not None
        both = sign(row["status"], viewer.party, user_signed=user_signed, unit_signed=unit_signed)
        missing_terms(_terms_of(row), row["amount_fen"])
        values: dict[str, Any] = {"user_signed_at" if viewer.party is Party.user else "unit_signed_at": now}
        if both:
            values.update(status=str(next_status(row["status"], OrderAction.contract)), contracted_at=now)
        after = await _change(s, row, now, **values)
        await uow.audit("order.sign", "order", order_id, after={"party": str(viewer.party), "status": after["status"]})
        if both:
            snap = await _snapshot(s, after)
            await uow.emit(ev.OrderContracted(**snap))
        return await _record(s, after)


async def start_service(db: ServiceDatabase, actor: Actor, correlation_id: str | None, order_id: str, viewer: Viewer) -> dict[str, Any]:
    """The unit begins the service of a contracted order; from now on it can no longer be cancelled."""
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await _load(s, order_id, viewer)
        status = next_status(row["status"], OrderAction.start)
        after = await _change(s, row, now, status=str(status), started_at=now)
        await uow.audit("order.start", "order", order_id, before={"status": row["status"]}, after={"status": str(status)})
        return await _record(s, after)


async def deliver_results(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, order_id: str, viewer: Viewer, *, document_id: str, service_hours: int | None
) -> dict[str, Any]:
    """The unit delivers the results (R19(3)): a result document of the order and
    the service time. An order with usage sessions (issue 16) takes it from them:
    their minutes, and the hours rounded (a stated number must agree); an order
    without any states its hours (kept as hours × 60 minutes)."""
    if service_hours is not None:
        check_service_hours(service_hours)
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await _load(s, order_id, viewer)
        status = next_status(row["status"], OrderAction.deliver)
        check_document_use(DocumentKind.result, await _document_kind(s, order_id, document_id), document_id)
        hours, minutes = service_time(service_hours, *await order_usage(s, order_id))
        values = {"status": str(status), "result_document_id": document_id, "service_hours": hours, "service_minutes": minutes, "delivered_at": now}
        after = await _change(s, row, now, **values)
        await uow.audit("order.deliver", "order", order_id, before={"status": row["status"]}, after={"status": str(status), "service_hours": hours, "service_minutes": minutes})
        snap = await _snapshot(s, after)
        await uow.emit(ev.OrderResultsDelivered(**snap, service_hours=hours, service_minutes=minutes))
        return await _record(s, after)


async def cancel(db: ServiceDatabase, actor: Actor, correlation_id: str | None, order_id: str, viewer: Viewer, *, reason: str | None) -> dict[str, Any]:
    """The user or the unit cancels an order before service begins, with a reason."""
    text = check_reason(reason, required=True, what_zh="取消订单", what_en="a cancellation")
    assert text is not None
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await _load(s, order_id, viewer)
        status = next_status(row["status"], OrderAction.cancel)
        by = str(viewer.party) if viewer.party is not None else "staff"
        after = await _change(s, row, now, status=str(status), cancel_reason=text, cancelled_by_role=by, cancelled_at=now)
        released = await bookings.release_for_order(uow, order_id, party="unit" if by == "unit" else "user", reason=text)
        await uow.audit("order.cancel", "order", order_id, reason=text, before={"status": row["status"]}, after={"status": str(status), "by": by, "bookings_cancelled": released})
        snap = await _snapshot(s, after)
        await uow.emit(ev.OrderCancelled(**snap, reason=text))
        return await _record(s, after)


async def rate(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, order_id: str, viewer: Viewer, *, rating: int, comment: str | None
) -> dict[str, Any]:
    """The order's user rates a settled order once, 1–5 with an optional comment (R19(4))."""
    if viewer.party is not Party.user:
        raise _not_found(order_id)
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await _load(s, order_id, viewer)
        text = check_rating(row["status"], rating, comment)
        status = next_status(row["status"], OrderAction.rate)
        after = await _change(s, row, now, status=str(status), rating=rating, rating_comment=text, rated_at=now)
        await uow.audit("order.rate", "order", order_id, before={"status": row["status"]}, after={"status": str(status), "rating": rating})
        await uow.emit(ev.OrderRated(**await _snapshot(s, after), rating=rating))
        return await _record(s, after)


async def get_order(db: ServiceDatabase, order_id: str, viewer: Viewer) -> dict[str, Any]:
    async with db.read() as s:
        return await _record(s, await _load(s, order_id, viewer))


async def list_orders(db: ServiceDatabase, viewer: Viewer, *, status: OrderStatus | None, page: int, page_size: int) -> tuple[list[dict[str, Any]], int]:
    """A user's own orders, a unit's own orders, or (staff) every order; newest first."""
    conds: list[Any] = []
    if viewer.party is Party.user:
        conds.append(orders.c.user_id == (viewer.org or ""))
    elif viewer.party is Party.unit:
        conds.append(orders.c.unit_id == (viewer.org or ""))
    if status is not None:
        conds.append(orders.c.status == str(status))
    async with db.read() as s:
        total = (await s.execute(select(func.count()).select_from(orders).where(*conds))).scalar_one()
        rows = (
            await s.execute(
                select(orders).where(*conds).order_by(orders.c.created_at.desc(), orders.c.id.desc()).offset((page - 1) * page_size).limit(page_size)
            )
        ).mappings().all()
        return [await _record(s, r) for r in rows], total


async def document_for_download(db: ServiceDatabase, order_id: str, document_id: str, viewer: Viewer) -> dict[str, Any]:
    """A document's metadata, for whoever may see its order (else 404)."""
    async with db.read() as s:
        await _load(s, order_id, viewer)
        row = (
            await s.execute(select(order_documents).where(order_documents.c.id == document_id, order_documents.c.order_id == order_id))
        ).mappings().first()
        if row is None:
            raise NotFound("document", "文件", document_id)
        return _document(row)
