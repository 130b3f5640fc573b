"""An order's row as the registry's order modules share it: who may see it
(:class:`Viewer`), loading it, changing it under its version, and the two
shapes it leaves in: the record the API answers with (:class:`Order`, from
``services/registry/schemas/orders.py``) and the snapshot the ``Order*`` events
carry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import RowMapping

from services.registry.db.order_models import order_documents, order_items, orders
from services.registry.db.party_models import users
from services.registry.domain.orders import RESULT_STATEMENT, DocumentKind, Party
from services.registry.schemas.orders import Order, OrderContract, OrderDocument, OrderLine
from services.runtime.errors import Conflict, NotFound


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


def order_not_found(order_id: str) -> NotFound:
    return NotFound("order", "订单", order_id)


async def order_case_no(s: Any, order_id: str) -> str | None:
    """The order's case number (DD-…), None for an order the registry does not hold."""
    return (await s.execute(select(orders.c.case_no).where(orders.c.id == order_id))).scalar_one_or_none()


async def load_order(s: Any, order_id: str, viewer: Viewer) -> RowMapping:
    row = (await s.execute(select(orders).where(orders.c.id == order_id))).mappings().first()
    if row is None or not viewer.sees(row):
        raise order_not_found(order_id)
    return row


async def _instrument_ids(s: Any, order_id: str) -> list[str]:
    rows = (await s.execute(select(order_items.c.instrument_id).where(order_items.c.order_id == order_id).order_by(order_items.c.position))).all()
    return list(dict.fromkeys(r[0] for r in rows))


async def _document_sha(s: Any, document_id: str | None) -> str | None:
    if document_id is None:
        return None
    return (await s.execute(select(order_documents.c.sha256).where(order_documents.c.id == document_id))).scalar_one_or_none()


async def order_snapshot(s: Any, row: RowMapping) -> dict[str, Any]:
    """The public state of an order, as the Order* events carry it (no documents, no personal data)."""
    return {
        "order_id": row["id"],
        "case_no": row["case_no"],
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


async def change_order(s: Any, row: RowMapping, now: datetime, **values: Any) -> RowMapping:
    """Update an order if nobody changed it meanwhile; the new row."""
    changed = await s.execute(
        update(orders).where(orders.c.id == row["id"], orders.c.version == row["version"]).values(**values, version=row["version"] + 1, updated_at=now)
    )
    if changed.rowcount != 1:
        raise Conflict("order.concurrent_change", "该订单正被他人修改，请刷新后重试", "the order changed meanwhile; reload and retry")
    return (await s.execute(select(orders).where(orders.c.id == row["id"]))).mappings().one()


def document_view(row: RowMapping | dict[str, Any]) -> OrderDocument:
    """A document's metadata as the API shows it; a result document carries the R24 statement."""
    return OrderDocument(
        document_id=row["id"],
        order_id=row["order_id"],
        kind=row["kind"],
        sha256=row["sha256"],
        size=row["size"],
        content_type=row["content_type"],
        filename=row["filename"],
        uploaded_by_role=row["uploaded_by"].split(":", 1)[0],
        uploaded_at=row["uploaded_at"],
        statement=RESULT_STATEMENT if row["kind"] == DocumentKind.result else None,
    )


def _line(i: RowMapping) -> OrderLine:
    return OrderLine(
        instrument_id=i["instrument_id"],
        price_item_id=i["price_item_id"],
        name=i["name"],
        billing_unit=i["billing_unit"],
        price_fen=i["price_fen"],
        quantity=i["quantity"],
        amount_fen=i["amount_fen"],
    )


def _contract(row: RowMapping) -> OrderContract:
    return OrderContract(
        testing_fee_fen=row["testing_fee_fen"],
        ip_ownership=row["ip_ownership"],
        confidentiality=row["confidentiality"],
        damage_compensation=row["damage_compensation"],
        provincial_subsidy=row["provincial_subsidy"],
        contract_document_id=row["contract_document_id"],
        rd_proof_document_id=row["rd_proof_document_id"],
        user_signed_at=row["user_signed_at"],
        unit_signed_at=row["unit_signed_at"],
    )


async def order_record(s: Any, row: RowMapping) -> Order:
    """An order as the API shows it, with its items, contract and documents."""
    [record] = await order_records(s, [row])
    return record


async def order_records(s: Any, rows: Sequence[RowMapping]) -> list[Order]:
    """``rows`` as the API shows them, in their order: four queries whatever their
    number (the rows given, one read of every item, one of every document, one of
    the users' names)."""
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    lines: dict[str, list[OrderLine]] = {i: [] for i in ids}
    q = select(order_items).where(order_items.c.order_id.in_(ids)).order_by(order_items.c.order_id, order_items.c.position)
    for i in (await s.execute(q)).mappings():
        lines[i["order_id"]].append(_line(i))
    docs: dict[str, list[OrderDocument]] = {i: [] for i in ids}
    q = select(order_documents).where(order_documents.c.order_id.in_(ids)).order_by(order_documents.c.uploaded_at, order_documents.c.id)
    for d in (await s.execute(q)).mappings():
        docs[d["order_id"]].append(document_view(d))
    user_ids = sorted({r["user_id"] for r in rows})
    names = {r.id: r.name for r in await s.execute(select(users.c.id, users.c.name).where(users.c.id.in_(user_ids)))}
    return [_order(r, lines[r["id"]], docs[r["id"]], names.get(r["user_id"])) for r in rows]


def _order(row: RowMapping, items: list[OrderLine], documents: list[OrderDocument], user_name: str | None) -> Order:
    return Order(
        order_id=row["id"],
        case_no=row["case_no"],
        version=row["version"],
        user_id=row["user_id"],
        user_name=user_name,
        unit_id=row["unit_id"],
        purpose=row["purpose"],
        description=row["description"],
        status=row["status"],
        list_amount_fen=row["list_amount_fen"],
        amount_fen=row["amount_fen"],
        quote_note=row["quote_note"],
        quote_reason=row["quote_reason"],
        items=items,
        contract=_contract(row),
        result_document_id=row["result_document_id"],
        service_hours=row["service_hours"],
        service_minutes=row["service_minutes"],
        cancel_reason=row["cancel_reason"],
        settlement_id=row["settlement_id"],
        voucher_fen=row["voucher_fen"],
        paid_fen=row["paid_fen"],
        rating=row["rating"],
        rating_comment=row["rating_comment"],
        documents=documents,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        quoted_at=row["quoted_at"],
        contracted_at=row["contracted_at"],
        started_at=row["started_at"],
        delivered_at=row["delivered_at"],
        cancelled_at=row["cancelled_at"],
        settled_at=row["settled_at"],
        rated_at=row["rated_at"],
    )
