"""At most once, in the database: a voucher in one live claim, an invoice in one
claim — also when two claims race (vouchers' migrated SQLite schema)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from services.runtime.errors import DomainError
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase
from services.vouchers import redemption as uc
from services.vouchers.db.models import metadata, redemption_documents, redemption_items, redemption_windows, vouchers
from services.vouchers.schemas import Claim

YEAR = 2031
TODAY = date(2032, 2, 1)
UNIT = Actor(subject="unit-1", role="unit", org="u1")


@pytest.fixture
async def db(sqlite_templates, tmp_path):
    d = ServiceDatabase("vouchers", await sqlite_templates.fresh("vouchers", tmp_path), metadata)
    now = datetime.now(UTC)
    async with d.unit_of_work() as uow:
        await uow.session.execute(insert(redemption_windows).values(year=YEAR, opens_on=date(2032, 1, 5), closes_on=date(2032, 3, 31), version=1, updated_at=now))
        await uow.session.execute(insert(redemption_documents).values(id="doc", unit_id="u1", sha256="0" * 64, filename="r.pdf", content_type="application/pdf",
                                                                      size=1, uploaded_at=now))
    yield d
    await d.dispose()


async def voucher(db: ServiceDatabase, *, status: str = "used", unit: str = "u1", year: int = YEAR) -> str:
    vid = str(uuid.uuid4())
    now = datetime.now(UTC)
    async with db.unit_of_work() as uow:
        await uow.session.execute(insert(vouchers).values(id=vid, application_id=str(uuid.uuid4()), user_id="user", unit_id=unit, order_id=str(uuid.uuid4()),
                                                          year=year, amount_fen=300_000, expires_at=now + timedelta(days=30), status=status, issued_at=now))
    return vid


def item(vid: str, number: str) -> uc.ClaimItem:
    return uc.ClaimItem(voucher_id=vid, invoice_number=number, receipt_document_id="doc", results_document_id="doc")


async def claim(db: ServiceDatabase, *items: uc.ClaimItem, today: date = TODAY) -> Claim:
    return await uc.claim(db, UNIT, None, unit_id="u1", year=YEAR, items=list(items), today=today)


async def test_the_window_is_checked_on_its_edges(db) -> None:
    vid = await voucher(db)
    for day in (date(2032, 1, 4), date(2032, 4, 1)):
        with pytest.raises(DomainError) as e:
            await claim(db, item(vid, "1" * 20), today=day)
        assert e.value.code == "redemption.window_closed"
    assert (await claim(db, item(vid, "1" * 20), today=date(2032, 3, 31))).status == "claimed"


async def test_only_used_vouchers_of_the_unit_and_year(db) -> None:
    for v in (await voucher(db, status="issued"), await voucher(db, status="expired"), await voucher(db, unit="u2"), await voucher(db, year=YEAR - 1)):
        with pytest.raises(DomainError) as e:
            await claim(db, item(v, "2" * 20))
        assert e.value.code == "redemption.voucher_not_claimable"


async def test_two_racing_claims_of_one_voucher_one_wins(db) -> None:
    vid = await voucher(db)
    results = await asyncio.gather(claim(db, item(vid, "3" * 20)), claim(db, item(vid, "4" * 20)), return_exceptions=True)
    assert sum(isinstance(r, Claim) for r in results) == 1
    assert [r.code for r in results if isinstance(r, DomainError)] == ["redemption.voucher_claimed"]


async def test_two_racing_claims_of_one_invoice_one_wins(db) -> None:
    a, b = await voucher(db), await voucher(db)
    results = await asyncio.gather(claim(db, item(a, "5" * 20)), claim(db, item(b, "5" * 20)), return_exceptions=True)
    assert sum(isinstance(r, Claim) for r in results) == 1
    assert [r.code for r in results if isinstance(r, DomainError)] == ["redemption.invoice_reused"]
    with pytest.raises(DomainError) as e:
        await claim(db, item(await voucher(db), "6" * 20), item(await voucher(db), "6" * 20))
    assert e.value.code == "redemption.invoice_reused"


async def test_the_constraints_hold_without_the_use_case(db) -> None:
    row = {"amount_fen": 1, "invoice_number": "1", "receipt_document_id": "d", "results_document_id": "d"}
    async with db.unit_of_work() as uow:
        await uow.session.execute(insert(redemption_items).values(claim_id="c1", voucher_id="v", held_voucher_id="v", invoice_key="k1", **row))
    for dup in ({"held_voucher_id": "v", "invoice_key": "k2"}, {"held_voucher_id": "w", "invoice_key": "k1"}):
        with pytest.raises(IntegrityError):
            async with db.unit_of_work() as uow:
                await uow.session.execute(insert(redemption_items).values(claim_id="c2", voucher_id=dup["held_voucher_id"], **dup, **row))
    # a released (rejected) voucher holds nothing: NULLs do not collide
    async with db.unit_of_work() as uow:
        await uow.session.execute(insert(redemption_items).values(claim_id="c3", voucher_id="x", held_voucher_id=None, invoice_key="k3", **row))
        await uow.session.execute(insert(redemption_items).values(claim_id="c4", voucher_id="x", held_voucher_id=None, invoice_key="k4", **row))
