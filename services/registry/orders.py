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
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import RowMapping

from contracts import registry as ev
from contracts.envelope import new_event_id
from services.registry import bookings
from services.registry.db.instrument_models import instruments, price_items
from services.registry.db.order_models import case_counters, order_documents, order_items, orders
from services.registry.db.party_models import units, users
from services.registry.domain.orders import (
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
    missing_terms,
    next_status,
    sign,
)
from services.registry.domain.parties import UnitStatus, check_reason
from services.registry.domain.usage import service_time
from services.registry.instruments import IN_SERVICE
from services.registry.order_rows import Viewer, change_order, load_order, order_not_found, order_record, order_records, order_snapshot
from services.registry.schemas.orders import Order, OrderPage
from services.registry.search_model import refresh_rated
from services.registry.usage_reads import order_usage
from services.runtime import clock
from services.runtime.errors import DomainError
from services.runtime.http.idempotency import Idempotency, remember
from services.runtime.http.pagination import Page, read_page
from services.runtime.db.case_numbers import next_case_number, normalise_case_number
from services.runtime.db.unit_of_work import Actor
from services.runtime.http.preconditions import check_version
from services.runtime.db.service_db import ServiceDatabase

#: an order's case number: DD (订单)-<year>-<n>
ORDER_CASE_PREFIX = "DD"

log = logging.getLogger("xciss.registry.orders")


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
) -> Order:
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
                # issued last, once every check has passed: a refused request uses no number
                case_no=await next_case_number(s, case_counters, ORDER_CASE_PREFIX, clock.local_year(now)),
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
        record = await order_record(s, row)
        image = {"user_id": record.user_id, "unit_id": record.unit_id, "purpose": record.purpose, "list_amount_fen": record.list_amount_fen, "items": record.items}
        await uow.audit("order.request", "order", order_id, after=image)
        await remember(uow, idempotency, record)
    return record


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
    expected_version: int | None = None,
) -> Order:
    """Either party fills in the contract of a quoted order before anybody signs:
    every term is required (R22, M12, R25) and the documents must be this
    order's contract and R&D proof. 412 when ``expected_version`` (an If-Match)
    is not the order's."""
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await load_order(s, order_id, viewer)
        check_version(row["version"], expected_version)
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
        after = await change_order(s, row, now, **values)
        await uow.audit("order.contract", "order", order_id, before={k: row[k] for k in values}, after=values)
        return await order_record(s, after)


def _terms_of(row: RowMapping) -> ContractTerms:
    return ContractTerms(**{k: row[k] for k in ContractTerms.__slots__})


async def sign_contract(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, order_id: str, viewer: Viewer, *, expected_version: int | None = None
) -> Order:
    """The user or the unit signs the complete contract of a quoted order; when
    both have signed the order is contracted and OrderContracted is published
    (with the contract's sha256 and the purpose, so vouchers can decide). With
    ``expected_version`` (an If-Match) only the version the signer read: a
    contract changed since is 412, not signed."""
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await load_order(s, order_id, viewer)
        check_version(row["version"], expected_version)
        assert viewer.party is not None
        user_signed, unit_signed = row["user_signed_at"] is not None, row["unit_signed_at"] is not None
        both = sign(row["status"], viewer.party, user_signed=user_signed, unit_signed=unit_signed)
        missing_terms(_terms_of(row), row["amount_fen"])
        values: dict[str, Any] = {"user_signed_at" if viewer.party is Party.user else "unit_signed_at": now}
        if both:
            values.update(status=str(next_status(row["status"], OrderAction.contract)), contracted_at=now)
        after = await change_order(s, row, now, **values)
        await uow.audit("order.sign", "order", order_id, after={"party": str(viewer.party), "status": after["status"]})
        if both:
            snap = await order_snapshot(s, after)
            await uow.emit(ev.OrderContracted(**snap))
        return await order_record(s, after)


async def start_service(db: ServiceDatabase, actor: Actor, correlation_id: str | None, order_id: str, viewer: Viewer) -> Order:
    """The unit begins the service of a contracted order; from now on it can no longer be cancelled."""
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await load_order(s, order_id, viewer)
        status = next_status(row["status"], OrderAction.start)
        after = await change_order(s, row, now, status=str(status), started_at=now)
        await uow.audit("order.start", "order", order_id, before={"status": row["status"]}, after={"status": str(status)})
        return await order_record(s, after)


async def deliver_results(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, order_id: str, viewer: Viewer, *, document_id: str, service_hours: int | None
) -> Order:
    """The unit delivers the results (R19(3)): a result document of the order and
    the service time. An order with usage sessions (issue 16) takes it from them:
    their minutes, and the hours rounded (a stated number must agree); an order
    without any states its hours (kept as hours × 60 minutes)."""
    if service_hours is not None:
        check_service_hours(service_hours)
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await load_order(s, order_id, viewer)
        status = next_status(row["status"], OrderAction.deliver)
        check_document_use(DocumentKind.result, await _document_kind(s, order_id, document_id), document_id)
        hours, minutes = service_time(service_hours, *await order_usage(s, order_id))
        values = {"status": str(status), "result_document_id": document_id, "service_hours": hours, "service_minutes": minutes, "delivered_at": now}
        after = await change_order(s, row, now, **values)
        await uow.audit("order.deliver", "order", order_id, before={"status": row["status"]}, after={"status": str(status), "service_hours": hours, "service_minutes": minutes})
        snap = await order_snapshot(s, after)
        await uow.emit(ev.OrderResultsDelivered(**snap, service_hours=hours, service_minutes=minutes))
        return await order_record(s, after)


async def cancel(db: ServiceDatabase, actor: Actor, correlation_id: str | None, order_id: str, viewer: Viewer, *, reason: str | None) -> Order:
    """The user or the unit cancels an order before service begins, with a reason."""
    text = check_reason(reason, required=True, what_zh="取消订单", what_en="a cancellation")
    assert text is not None
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await load_order(s, order_id, viewer)
        status = next_status(row["status"], OrderAction.cancel)
        by = str(viewer.party) if viewer.party is not None else "staff"
        after = await change_order(s, row, now, status=str(status), cancel_reason=text, cancelled_by_role=by, cancelled_at=now)
        released = await bookings.release_for_order(uow, order_id, party="unit" if by == "unit" else "user", reason=text)
        await uow.audit("order.cancel", "order", order_id, reason=text, before={"status": row["status"]}, after={"status": str(status), "by": by, "bookings_cancelled": released})
        snap = await order_snapshot(s, after)
        await uow.emit(ev.OrderCancelled(**snap, reason=text))
        return await order_record(s, after)


async def rate(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, order_id: str, viewer: Viewer, *, rating: int, comment: str | None
) -> Order:
    """The order's user rates a settled order once, 1–5 with an optional comment (R19(4))."""
    if viewer.party is not Party.user:
        raise order_not_found(order_id)
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await load_order(s, order_id, viewer)
        text = check_rating(row["status"], rating, comment)
        status = next_status(row["status"], OrderAction.rate)
        after = await change_order(s, row, now, status=str(status), rating=rating, rating_comment=text, rated_at=now)
        await uow.audit("order.rate", "order", order_id, before={"status": row["status"]}, after={"status": str(status), "rating": rating})
        await uow.emit(ev.OrderRated(**await order_snapshot(s, after), rating=rating))
        await refresh_rated(s, order_id)  # the catalogue's results show their instrument's ratings
        return await order_record(s, after)


async def get_order(db: ServiceDatabase, order_id: str, viewer: Viewer) -> Order:
    async with db.read() as s:
        return await order_record(s, await load_order(s, order_id, viewer))


async def list_orders(
    db: ServiceDatabase, viewer: Viewer, *, status: OrderStatus | None, page: int, page_size: int, case_no: str | None = None
) -> OrderPage:
    """A page of orders: a user's own, a unit's own, or (staff) every order; newest first.
    ``case_no`` finds one order by its case number, as typed (case and spaces aside)."""
    conds: list[Any] = []
    if case_no is not None:
        conds.append(orders.c.case_no == normalise_case_number(case_no))
    if viewer.party is Party.user:
        conds.append(orders.c.user_id == (viewer.org or ""))
    elif viewer.party is Party.unit:
        conds.append(orders.c.unit_id == (viewer.org or ""))
    if status is not None:
        conds.append(orders.c.status == str(status))
    async with db.read() as s:
        rows = await read_page(
            s, select(orders).where(*conds), order_by=[orders.c.created_at.desc(), orders.c.id.desc()], page=page, page_size=page_size, item=lambda r: r
        )
        records = await order_records(s, rows.items)
    return Page(items=records, total=rows.total, page=page, page_size=page_size)
