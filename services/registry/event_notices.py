"""Notices of other services' decisions (issue 17): the registry owns the
accounts and their e-mails, so it tells people what vouchers, payments and
evaluation decided about them (an application, an appeal, a payout ordered,
paid or cancelled, a clawback the party must repay, a redemption claim
reviewed, a public notice; the bureau an appeal it must decide, the center an
objection it must resolve, finance a payout it must pay), and reminds a
rejected applicant before its appeal window closes, the units a public notice
names before its objections close, and a voucher's holder before it expires
(scheduled_notices.py). Each handler runs in the worker's transaction with the
inbox row (``Subscription``): a redelivered event is a duplicate and tells
nobody twice; a crash before the commit leaves neither the inbox row nor the
notice, and the redelivery writes both."""

from __future__ import annotations

from sqlalchemy import select

from contracts import evaluation as evt
from contracts import payments as pay
from contracts import vouchers as ve
from services.registry.db.party_models import units
from services.registry.domain import application_notices, objection_notices, public_notices
from services.registry.domain.application_notices import (
    APPEAL_CLOSING,
    OVERTURN,
    UPHOLD,
    ApplicationDecision,
    appeal_closing_notice,
    appeal_decided_notice,
    appeal_filed_notice,
    appeal_reminder_at,
    decided_notice,
)
from services.registry.domain.clawback_notices import ClawbackFacts, recorded_notice
from services.registry.domain.objection_notices import ObjectionFacts, raised_notice
from services.registry.domain.payout_notices import FINANCE_LINK
from services.registry.domain.payout_notices import LINK as PAYOUT_LINK
from services.registry.domain.payout_notices import PayoutFacts, cancelled_notice, ordered_notices, paid_notice
from services.registry.domain.public_notices import NoticeLine, PublishedNotice, closing_notices, closing_reminder_at, published_notices
from services.registry.domain.redemption_notices import LINK as REDEMPTION_LINK
from services.registry.domain.redemption_notices import ReviewFacts, reviewed_notice
from services.registry.domain.voucher_notices import KIND as EXPIRING
from services.registry.domain.voucher_notices import LINK as VOUCHERS_LINK
from services.registry.domain.voucher_notices import VoucherFacts, expiring_notice, remind_at
from services.registry.notices import tell
from services.registry.order_rows import order_case_no
from services.registry.scheduled_notices import cancel, schedule
from services.runtime import clock
from services.runtime.bus.consumers import Subscription
from services.runtime.db.unit_of_work import UnitOfWork


def _decision(e: ve.ApplicationApproved | ve.ApplicationRejected, order_case: str | None) -> ApplicationDecision:
    rejected = isinstance(e, ve.ApplicationRejected)
    return ApplicationDecision(
        application_id=e.application_id,
        user_id=e.user_id,
        order_case_no=order_case,
        approved=not rejected,
        amount_fen=e.amount_fen,
        case_no=e.case_no,
        reason=e.reason if isinstance(e, ve.ApplicationRejected) else None,
        appeal_until=e.appeal_until if isinstance(e, ve.ApplicationRejected) else None,
    )


async def on_application_decided(uow: UnitOfWork, event: ve.ApplicationApproved | ve.ApplicationRejected) -> None:
    """Tell the applicant's organisation the decision; a rejection with an appeal
    window also schedules the reminder before the window closes."""
    d = _decision(event, await order_case_no(uow.session, event.order_id))
    now, link = clock.utc_now(), application_notices.link_of(d)
    await tell(uow.session, decided_notice(d), link, now)
    if d.appeal_until is not None and (at := appeal_reminder_at(event.occurred_at, d.appeal_until)) is not None:
        await schedule(uow.session, appeal_closing_notice(d), ref=d.application_id, due_at=at, link=link, now=now)


async def on_appeal_filed(uow: UnitOfWork, event: ve.AppealFiled) -> None:
    """Tell the bureau it must decide the appeal; an appealed rejection needs no reminder of its window."""
    now = clock.utc_now()
    d = ApplicationDecision(
        application_id=event.application_id, user_id=event.user_id, approved=False, case_no=event.case_no, order_case_no=await order_case_no(uow.session, event.order_id)
    )
    await tell(uow.session, appeal_filed_notice(d), application_notices.review_link_of(d), now)
    await cancel(uow.session, APPEAL_CLOSING, event.application_id, role="user", org=event.user_id, now=now)


async def on_appeal_decided(uow: UnitOfWork, event: ve.AppealDecided) -> None:
    """Tell the applicant the bureau's decision on its appeal (an outcome this
    registry does not know tells nobody rather than something wrong)."""
    if event.outcome not in (UPHOLD, OVERTURN):
        return
    d = ApplicationDecision(
        application_id=event.application_id,
        user_id=event.user_id,
        order_case_no=await order_case_no(uow.session, event.order_id),
        approved=event.outcome == OVERTURN,
        amount_fen=event.amount_fen,
        case_no=event.case_no,
        reason=event.reason,
    )
    await tell(uow.session, appeal_decided_notice(d), application_notices.link_of(d), clock.utc_now())


def _payout(event: pay.PayoutOrdered | pay.PayoutPaid | pay.PayoutCancelled) -> PayoutFacts:
    return PayoutFacts(payout_id=event.payout_id, unit_id=event.unit_id, kind=event.kind, year=event.year, amount_fen=event.amount_fen, case_no=event.case_no)


async def _unit_name(uow: UnitOfWork, unit_id: str) -> str | None:
    return (await uow.session.execute(select(units.c.name).where(units.c.id == unit_id))).scalar()


async def on_payout_ordered(uow: UnitOfWork, event: pay.PayoutOrdered) -> None:
    """Tell finance a payout awaits payment (every finance account) and the unit its payout was ordered."""
    finance, unit = ordered_notices(_payout(event), await _unit_name(uow, event.unit_id), event.payment_order_case_no)
    now = clock.utc_now()
    await tell(uow.session, finance, FINANCE_LINK, now)
    await tell(uow.session, unit, PAYOUT_LINK, now)


async def on_payout_paid(uow: UnitOfWork, event: pay.PayoutPaid) -> None:
    """Tell the unit its award or redemption payout is paid."""
    await tell(uow.session, paid_notice(_payout(event)), PAYOUT_LINK, clock.utc_now())


async def on_payout_cancelled(uow: UnitOfWork, event: pay.PayoutCancelled) -> None:
    """Tell the unit a payout it expected was cancelled after a fraud finding (R27)."""
    await tell(uow.session, cancelled_notice(_payout(event)), PAYOUT_LINK, clock.utc_now())


async def on_clawback_recorded(uow: UnitOfWork, event: pay.ClawbackRecorded) -> None:
    """Tell the user or unit that it must repay what a fraud finding claws back (R27);
    no portal page shows a party its clawbacks, so the notice links nowhere."""
    c = ClawbackFacts(party_type=event.party_type, party_id=event.party_id, kind=event.kind, year=event.year, amount_fen=event.amount_fen, case_no=event.case_no)
    if (notice := recorded_notice(c)) is not None:
        await tell(uow.session, notice, None, clock.utc_now())


async def on_redemption_reviewed(uow: UnitOfWork, event: ve.RedemptionReviewed) -> None:
    """Tell the unit the experts' result on its redemption claim (R20(3))."""
    r = ReviewFacts(unit_id=event.unit_id, year=event.year, claimed_fen=event.amount_fen, approved=event.approved, approved_fen=event.approved_fen, case_no=event.case_no)
    await tell(uow.session, reviewed_notice(r), REDEMPTION_LINK, clock.utc_now())


async def on_notice_published(uow: UnitOfWork, event: evt.NoticePublished) -> None:
    """Tell each unit a public notice names that it is open and until when objections
    can be made; schedule the reminder the day before its last day."""
    n = PublishedNotice(
        notice_id=event.notice_id,
        kind=event.kind,
        title=event.title,
        opens_on=event.opens_on,
        closes_on=event.closes_on,
        lines=tuple(NoticeLine(unit_id=i.unit_id, label=i.label) for i in event.items),
        case_no=event.case_no,
    )
    now, link = clock.utc_now(), public_notices.link_of(n)
    for notice in published_notices(n):
        await tell(uow.session, notice, link, now)
    at = closing_reminder_at(n.closes_on)
    if at > event.occurred_at:  # a window too short for a reminder: the notice above gives its last day
        for ref, notice in closing_notices(n):
            await schedule(uow.session, notice, ref=ref, due_at=at, link=link, now=now)


async def on_objection_raised(uow: UnitOfWork, event: evt.ObjectionRaised) -> None:
    """Tell the center an objection holds a line of a public notice until it resolves it
    (the line as the notice shows it; from a producer before it was carried, the unit's name)."""
    line = event.label or await _unit_name(uow, event.unit_id)
    o = ObjectionFacts(notice_id=event.notice_id, kind=event.kind, year=event.year, case_no=event.case_no, line=line)
    await tell(uow.session, raised_notice(o), objection_notices.link_of(o), clock.utc_now())


async def on_voucher_issued(uow: UnitOfWork, event: ve.VoucherIssued) -> None:
    """Schedule the holder's reminder 30 days before the voucher expires."""
    case_no = await order_case_no(uow.session, event.order_id)
    v = VoucherFacts(voucher_id=event.voucher_id, user_id=event.user_id, amount_fen=event.amount_fen, expires_at=event.expires_at, order_case_no=case_no)
    await schedule(uow.session, expiring_notice(v), ref=v.voucher_id, due_at=remind_at(v.expires_at), link=VOUCHERS_LINK, now=clock.utc_now())


async def on_voucher_ended(uow: UnitOfWork, event: ve.VoucherUsed | ve.VoucherExpired | ve.VoucherRevoked) -> None:
    """A voucher used, expired or revoked needs no reminder."""
    await cancel(uow.session, EXPIRING, event.voucher_id, role="user", org=event.user_id, now=clock.utc_now())


def subscriptions() -> list[Subscription]:
    """The registry worker's notices of vouchers', payments' and evaluation's decisions."""
    return [
        Subscription(ve.ApplicationApproved, on_application_decided),
        Subscription(ve.ApplicationRejected, on_application_decided),
        Subscription(ve.AppealFiled, on_appeal_filed),
        Subscription(ve.AppealDecided, on_appeal_decided),
        Subscription(pay.PayoutOrdered, on_payout_ordered),
        Subscription(pay.PayoutPaid, on_payout_paid),
        Subscription(pay.PayoutCancelled, on_payout_cancelled),
        Subscription(pay.ClawbackRecorded, on_clawback_recorded),
        Subscription(ve.RedemptionReviewed, on_redemption_reviewed),
        Subscription(evt.NoticePublished, on_notice_published),
        Subscription(evt.ObjectionRaised, on_objection_raised),
        Subscription(ve.VoucherIssued, on_voucher_issued),
        Subscription(ve.VoucherUsed, on_voucher_ended),
        Subscription(ve.VoucherExpired, on_voucher_ended),
        Subscription(ve.VoucherRevoked, on_voucher_ended),
    ]
