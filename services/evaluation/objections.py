"""Objections to a public notice (公示异议): anybody may object to a line during
the window, with their real name and a phone or identity number (encrypted at
rest, shown masked). An objection holds its line and reopens the case behind
it: a grade goes back to the center's decision; an award or a redemption line
is held. The center resolves each objection: the line stands
(``upheld_line``), is corrected from the case as it stands now
(``corrected``: the re-decided grade, the award recomputed, the claim's latest
review), or is taken off the list (``withdrawn``)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields, replace
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.cn import ric

from contracts import evaluation as ev
from contracts.envelope import new_event_id
from services.evaluation import application_rows as app_rows
from services.evaluation import schemas
from services.evaluation import notices as nt  # nt.today(): looked up at each call, so tests move the day
from services.evaluation.db.models import applications, awards, notice_items, objections, provincial_awards, redemption_view, unit_view
from services.evaluation.domain import awards as aw
from services.evaluation.schemas import Objection, ObjectionPage
from services.evaluation.notices import AWARD_PLAN, GRADE_ZH, GRADES, HELD, LISTED, OPEN, PUBLISHED, REDEMPTION, RESOLVED, WITHDRAWN, load_notice, open_objection_count
from services.runtime import clock
from services.runtime.audit_image import audit_image
from services.runtime.crypto import FieldCipher, mask_id_number
from services.runtime.errors import Conflict, DomainError, NotFound
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.pagination import read_page


PHONE = re.compile(r"^\+?\d[\d-]{6,19}$")


def _mask_phone(p: str) -> str:
    digits = p.replace("-", "").lstrip("+")
    return digits[:3] + "*" * max(0, len(digits) - 7) + digits[-4:] if len(digits) > 7 else "*" * len(digits)


async def raise_objection(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, cipher: FieldCipher, notice_id: str, *, ref: str, name: str, phone: str | None, id_number: str | None, text: str
) -> Objection:
    """Anybody, with their real name and a phone or identity number, during the window."""
    name = name.strip()
    if not name:
        raise DomainError("objection.real_name_required", "异议须实名提出", "an objection needs your real name")
    if phone:
        if not PHONE.match(phone.strip()):
            raise DomainError("objection.contact_invalid", "联系电话格式不正确", "the phone number is not valid")
        kind, contact, masked = "phone", phone.strip(), _mask_phone(phone.strip())
    elif id_number:
        if not ric.is_valid(id_number.strip()):
            raise DomainError("objection.contact_invalid", "身份证号码不正确", "the identity number is not valid")
        kind, contact, masked = "id_number", id_number.strip().upper(), mask_id_number(id_number.strip().upper())
    else:
        raise DomainError("objection.real_name_required", "异议须实名提出：请留下电话或身份证号码", "an objection needs a phone or identity number with the name")
    on = nt.today()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        notice = await load_notice(s, notice_id)
        if notice["status"] != PUBLISHED or not aw.objections_open(notice["closes_on"], on):
            raise Conflict("objection.window_closed", "公示期已结束，不再受理异议", "the notice's objection window has closed", closes_on=notice["closes_on"].isoformat())
        item = (await s.execute(select(notice_items).where(notice_items.c.notice_id == notice_id, notice_items.c.ref == ref))).mappings().first()
        if item is None or item["state"] == WITHDRAWN:
            raise NotFound("notice_item", "公示条目", ref)
        row = {
            "id": new_event_id(),
            "notice_id": notice_id,
            "ref": ref,
            "unit_id": item["unit_id"],
            "name": name,
            "contact_kind": kind,
            "contact_enc": cipher.encrypt(contact, "objection.contact"),
            "contact_masked": masked,
            "text": text,
            "status": OPEN,
            "raised_at": clock.utc_now(),
        }
        await s.execute(insert(objections).values(**row))
        await s.execute(update(notice_items).where(notice_items.c.notice_id == notice_id, notice_items.c.ref == ref).values(state=HELD))
        if notice["kind"] == GRADES:
            # the case goes back to the center's decision
            await s.execute(update(applications).where(applications.c.id == ref, applications.c.status == app_rows.GRADED).values(status=app_rows.REOPENED, version=applications.c.version + 1))
        await uow.emit(ev.ObjectionRaised(notice_id=notice_id, objection_id=row["id"], kind=notice["kind"], year=notice["year"], ref=ref, unit_id=item["unit_id"],
                                            case_no=notice["case_no"], label=item["label"]))
        raised = schemas.objection((await s.execute(select(objections).where(objections.c.id == row["id"]))).mappings().one())
        await uow.audit("objection.raise", "objection", row["id"], after=audit_image(raised))
        return raised


async def list_objections(db: ServiceDatabase, notice_id: str, *, status: str | None, page: int, page_size: int) -> ObjectionPage:
    where = and_(objections.c.notice_id == notice_id, *([objections.c.status == status] if status else []))
    async with db.read() as s:
        await load_notice(s, notice_id)
        return await read_page(s, select(objections).where(where), order_by=[objections.c.raised_at, objections.c.id], page=page, page_size=page_size, item=schemas.objection)


@dataclass(frozen=True, kw_only=True)
class LineChange:
    """What resolving an objection changes on its notice line (None: left as it is)."""

    state: str | None = None
    grade: str | None = None
    total_centi: int | None = None
    label: str | None = None
    amount_fen: int | None = None

    def values(self) -> dict[str, Any]:
        """The line's columns to update."""
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}


async def _correct_grade(s: AsyncSession, item: RowMapping, outcome: str) -> LineChange:
    app = (await s.execute(select(applications).where(applications.c.id == item["ref"]))).mappings().one()
    if outcome == "withdrawn":
        await s.execute(update(applications).where(applications.c.id == app["id"]).values(status=app_rows.WITHDRAWN, version=applications.c.version + 1))
        return LineChange(state=WITHDRAWN)
    if outcome == "upheld_line":
        if app["status"] == app_rows.GRADED and (app["grade"], app["total_centi"]) != (item["grade"], item["total_centi"]):
            raise Conflict("objection.line_changed", "该单位已重新评定，请以“更正”处理", "the case was re-decided with another result; resolve it as corrected", grade=app["grade"], total_centi=app["total_centi"])
        await s.execute(update(applications).where(applications.c.id == app["id"], applications.c.status == app_rows.REOPENED).values(status=app_rows.GRADED, version=applications.c.version + 1))
        return LineChange()
    if app["status"] != app_rows.GRADED:
        raise Conflict("objection.case_not_redecided", "请先重新评定该单位的等次，再更正公示", "decide the reopened case again before correcting the line", current_status=app["status"])
    unit_name = (await s.execute(select(unit_view.c.name).where(unit_view.c.unit_id == app["unit_id"]))).scalar_one_or_none()
    return LineChange(grade=app["grade"], total_centi=app["total_centi"], label=f"{unit_name or app['unit_id']}：{GRADE_ZH[app['grade']]}（{app['total_centi'] / 100:.2f} 分）")


async def _correct_award(s: AsyncSession, item: RowMapping, outcome: str) -> LineChange:
    award = (await s.execute(select(awards).where(awards.c.id == item["ref"]))).mappings().one()
    if outcome == "upheld_line":
        return LineChange()
    if outcome == "corrected":
        provincial = (await s.execute(select(provincial_awards.c.unit_id).where(provincial_awards.c.unit_id == award["unit_id"], provincial_awards.c.year == award["year"]))).first()
        if provincial is None:
            return LineChange()  # the line was right: the award stands as computed
        await s.execute(update(awards).where(awards.c.id == award["id"]).values(status=WITHDRAWN, amount_fen=0, outcome=aw.PROVINCIAL_AWARD))
        return LineChange(state=WITHDRAWN, amount_fen=0)
    await s.execute(update(awards).where(awards.c.id == award["id"]).values(status=WITHDRAWN))
    return LineChange(state=WITHDRAWN)


async def _correct_redemption(s: AsyncSession, item: RowMapping, outcome: str) -> LineChange:
    if outcome == "upheld_line":
        return LineChange()
    claim = (await s.execute(select(redemption_view).where(redemption_view.c.claim_id == item["ref"]))).mappings().first()
    if outcome == "corrected" and claim is not None and claim["approved"] and claim["approved_fen"] > 0:
        return LineChange(amount_fen=claim["approved_fen"])
    # off the list; a later review can put the claim on another notice
    await s.execute(update(redemption_view).where(redemption_view.c.claim_id == item["ref"]).values(notice_id=None))
    return LineChange(state=WITHDRAWN)


CORRECTORS: dict[str, Callable[[AsyncSession, RowMapping, str], Awaitable[LineChange]]] = {GRADES: _correct_grade, AWARD_PLAN: _correct_award, REDEMPTION: _correct_redemption}


async def resolve(db: ServiceDatabase, actor: Actor, correlation_id: str | None, objection_id: str, *, outcome: str, reason: str) -> Objection:
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        obj = (await s.execute(select(objections).where(objections.c.id == objection_id))).mappings().first()
        if obj is None:
            raise NotFound("objection", "异议", objection_id)
        if obj["status"] != OPEN:
            raise Conflict("objection.already_resolved", "该异议已处理", "the objection is already resolved", outcome=obj["outcome"])
        notice = await load_notice(s, obj["notice_id"])
        item = (await s.execute(select(notice_items).where(notice_items.c.notice_id == notice["id"], notice_items.c.ref == obj["ref"]))).mappings().one()
        change = await CORRECTORS[notice["kind"]](s, item, outcome) if item["state"] != WITHDRAWN else LineChange()
        done = await s.execute(
            update(objections).where(objections.c.id == objection_id, objections.c.status == OPEN).values(status=RESOLVED, outcome=outcome, resolution=reason, resolved_at=clock.utc_now(), resolved_by=actor.label)
        )
        if done.rowcount != 1:
            raise Conflict("objection.already_resolved", "该异议已处理", "the objection is already resolved")
        if change.state != WITHDRAWN and item["state"] != WITHDRAWN and await open_objection_count(s, notice["id"], obj["ref"]) == 0:
            change = replace(change, state=LISTED)
        if changes := change.values():
            await s.execute(update(notice_items).where(notice_items.c.notice_id == notice["id"], notice_items.c.ref == obj["ref"]).values(**changes))
        resolved = schemas.objection((await s.execute(select(objections).where(objections.c.id == objection_id))).mappings().one())
        await uow.emit(ev.ObjectionResolved(notice_id=notice["id"], objection_id=objection_id, kind=notice["kind"], year=notice["year"], ref=obj["ref"], unit_id=obj["unit_id"], outcome=outcome))  # type: ignore[arg-type]
        new_item = (await s.execute(select(notice_items).where(notice_items.c.notice_id == notice["id"], notice_items.c.ref == obj["ref"]))).mappings().one()
        before = {**audit_image(schemas.objection(obj)), "item": audit_image(schemas.notice_item(item))}
        await uow.audit("objection.resolve", "objection", objection_id, reason=reason, before=before, after={**audit_image(resolved), "item": audit_image(schemas.notice_item(new_item))})
        return resolved
