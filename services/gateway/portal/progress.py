"""Where a case stands and what happens next (issue 17): a pure mapping of a
case's kind and status (and the viewer's role, where the next step differs) to
an ordered list of steps and a next-step sentence. No I/O here.

Kinds and the states they read (the services' own state names):

* ``order`` — registry's ``OrderStatus``: requested → quoted → contracted →
  in_service → results_delivered → settled → rated; cancelled ends it.
* ``application`` — a voucher application (vouchers): submitted → approved
  (the voucher is issued with it) → the voucher used (then redeemed by the
  unit); rejected, appealed
  (then approved or rejected again); the voucher may expire or be revoked.
* ``claim`` — a redemption claim (vouchers): claimed → approved → noticed →
  settled (paid); rejected ends it.
* ``evaluation`` — a unit's evaluation application (evaluation): submitted
  (returned for correction) → forwarded to experts (reopened) → graded →
  final (the grades notice is final) → the award and its payout.
* ``complaint`` — a complaint about a unit (registry): filed (open) → the
  center handles it by its due day → upheld or dismissed.
* ``booking`` — a booking of instrument time (registry): requested →
  confirmed → used; declined, cancelled or a no-show ends it.
* ``rectification`` — an unqualified unit's rectification (evaluation, M15):
  required → reported → re-checked (passed; a failed re-check may be answered
  with a new report by the deadline).

A step is ``done``, ``current``, ``ahead`` or ``failed`` (the case ended
there: refused, cancelled, rejected, expired, withdrawn). Labels and sentences
are keys of the portal's catalogues (``locale/``); nothing here is shown as a code.
"""

from __future__ import annotations

from typing import Any, Mapping

import msgspec

from services.gateway.portal.messages import local_time

__all__ = ["DONE", "CURRENT", "AHEAD", "FAILED", "Step", "Progress", "ORDER_STATES", "APPLICATION_STATES", "VOUCHER_STATES",
           "CLAIM_STATES", "EVALUATION_STATES", "PAYOUT_STATES", "COMPLAINT_STATES", "BOOKING_STATES", "RECTIFICATION_STATES", "order", "application",
           "claim", "evaluation", "complaint", "booking", "rectification", "of"]

DONE, CURRENT, AHEAD, FAILED = "done", "current", "ahead", "failed"


class Step(msgspec.Struct, frozen=True):
    #: the catalogue key of the step's label
    key: str
    state: str


class Progress(msgspec.Struct, frozen=True):
    kind: str
    steps: tuple[Step, ...]
    #: the catalogue key of the next-step sentence, and its arguments
    next_key: str
    next_args: dict[str, str] = {}
    #: the case is over (completed, or ended by a refusal / cancellation)
    ended: bool = False

    @property
    def current(self) -> Step | None:
        return next((s for s in self.steps if s.state in (CURRENT, FAILED)), None)


def _track(kind: str, keys: tuple[str, ...], reached: int, next_key: str, *, failed: str | None = None,
           next_args: dict[str, str] | None = None, ended: bool = False) -> Progress:
    """Steps ``keys[:reached]`` done; then either the failed step ``failed`` (the
    case ended there, the rest dropped) or ``keys[reached]`` current and the rest ahead."""
    steps = [Step(k, DONE) for k in keys[:reached]]
    if failed is not None:
        steps.append(Step(failed, FAILED))
        ended = True
    else:
        steps += [Step(k, CURRENT if i == reached else AHEAD) for i, k in enumerate(keys) if i >= reached]
    return Progress(kind, tuple(steps), next_key, next_args or {}, ended or (failed is None and reached >= len(keys)))


# --- orders ----------------------------------------------------------------------

#: the order's steps; a status at index i means steps[:i+1] are done
ORDER_STEPS = ("p_order_placed", "p_order_quote", "p_order_contract", "p_order_service", "p_order_results", "p_order_settle", "p_order_rate")
ORDER_STATES = ("requested", "quoted", "contracted", "in_service", "results_delivered", "settled", "rated", "cancelled")


def order(status: str, role: str | None, *, user_signed: bool = False, unit_signed: bool = False, quoted: bool = False) -> Progress:
    """An order as ``role`` sees it (``user``: the enterprise that ordered;
    ``unit``: the unit serving it; anyone else: the staff following it)."""
    side = role if role in ("user", "unit") else "staff"
    if status == "cancelled":
        reached = 3 if user_signed and unit_signed else 2 if quoted else 1
        return _track("order", ORDER_STEPS, reached, "p_next_order_cancelled", failed="p_order_cancelled")
    index = ORDER_STATES.index(status)  # ValueError for a state with no mapping
    if status == "quoted":
        mine = user_signed if side == "user" else unit_signed
        if side == "staff":
            key = "p_next_order_quoted_staff"
        elif not mine:
            key = "p_next_order_sign"
        else:
            key = "p_next_order_wait_unit_sign" if side == "user" else "p_next_order_wait_user_sign"
    else:
        key = f"p_next_order_{status}_{side}"
    return _track("order", ORDER_STEPS, index + 1, key)


# --- voucher applications ---------------------------------------------------------

APPLICATION_STEPS = ("p_app_submitted", "p_app_review", "p_app_issued", "p_app_used")
APPLICATION_STATES = ("submitted", "approved", "rejected", "appealed")
VOUCHER_STATES = ("issued", "used", "redeemed", "expired", "revoked")


def application(status: str, role: str | None, *, voucher_status: str | None = None, expires_at: Any = None,
                appealed: bool = False) -> Progress:
    """A voucher application (and its voucher, when known) as the enterprise
    (``user``) sees it; the center that decides it (the bureau that decides an
    appeal) is told to act, anyone else what is awaited."""
    if status == "submitted":
        return _track("application", APPLICATION_STEPS, 1, "p_next_app_submitted_center" if role == "center" else "p_next_app_submitted")
    if status == "appealed":
        return _track("application", ("p_app_submitted", "p_app_appeal", "p_app_issued", "p_app_used"), 1,
                      "p_next_app_appealed_bureau" if role == "bureau" else "p_next_app_appealed")
    if status == "rejected":
        return _track("application", APPLICATION_STEPS, 1, "p_next_app_rejected_final" if appealed else "p_next_app_rejected",
                      failed="p_app_rejected")
    if status != "approved":
        raise ValueError(f"no step for application status {status!r}")
    if voucher_status in (None, "issued"):
        args = {"date": local_time(expires_at)[:10]} if expires_at else {}
        return _track("application", APPLICATION_STEPS, 3, "p_next_app_issued_by" if args else "p_next_app_issued", next_args=args)
    if voucher_status in ("used", "redeemed"):  # redeemed: the unit was paid for it
        return _track("application", APPLICATION_STEPS, 4, "p_next_app_used")
    if voucher_status in ("expired", "revoked"):
        return _track("application", APPLICATION_STEPS, 3, f"p_next_app_{voucher_status}", failed=f"p_app_{voucher_status}")
    raise ValueError(f"no step for voucher status {voucher_status!r}")


# --- redemption claims ------------------------------------------------------------

CLAIM_STEPS = ("p_claim_submitted", "p_claim_review", "p_claim_notice", "p_claim_payout")
CLAIM_STATES = ("claimed", "approved", "noticed", "settled", "rejected")


def claim(status: str, role: str | None) -> Progress:
    """A redemption claim as the claiming unit or the staff see it; the center,
    which reviews it, is told to act."""
    if status == "rejected":
        return _track("claim", CLAIM_STEPS, 1, "p_next_claim_rejected", failed="p_claim_rejected")
    index = CLAIM_STATES.index(status)
    key = "p_next_claim_claimed_center" if status == "claimed" and role == "center" else f"p_next_claim_{status}"
    return _track("claim", CLAIM_STEPS, index + 1, key)


# --- the unit's evaluation ----------------------------------------------------------

EVALUATION_STEPS = ("p_eval_submitted", "p_eval_check", "p_eval_experts", "p_eval_grade", "p_eval_notice", "p_eval_award")
#: how far each application state has come (steps done)
_EVALUATION_REACHED = {"submitted": 1, "returned": 1, "forwarded": 2, "reopened": 2, "graded": 4, "final": 5}
EVALUATION_STATES = (*_EVALUATION_REACHED, "withdrawn")


#: payments' payout states, for the award that follows a final grade
PAYOUT_STATES = ("due", "ordered", "paid", "cancelled", "blocked")


def evaluation(status: str, role: str | None, *, grade: str | None = None, payout_status: str | None = None) -> Progress:
    """A unit's evaluation application as the unit (or the staff) see it; the
    department, which checks and forwards it, is told to act. The award and its
    payout (payments' ``payout_status``) follow the final grades notice; an
    unqualified unit gets no award and is asked to rectify (M15)."""
    side = "unit" if role == "unit" else "department" if role == "department" and status == "submitted" else "staff"
    if status == "withdrawn":
        return _track("evaluation", EVALUATION_STEPS, 1, "p_next_eval_withdrawn", failed="p_eval_withdrawn")
    reached = _EVALUATION_REACHED[status]
    if status != "final":
        return _track("evaluation", EVALUATION_STEPS, reached, f"p_next_eval_{status}_{side}")
    if grade == "unqualified":
        return _track("evaluation", EVALUATION_STEPS, reached, "p_next_eval_unqualified", failed="p_eval_no_award")
    if payout_status is None:
        return _track("evaluation", EVALUATION_STEPS, reached, f"p_next_eval_final_{side}")
    if payout_status == "paid":
        return _track("evaluation", EVALUATION_STEPS, reached + 1, "p_next_eval_paid")
    if payout_status in ("due", "ordered"):
        return _track("evaluation", EVALUATION_STEPS, reached, f"p_next_eval_payout_{payout_status}")
    if payout_status in ("cancelled", "blocked"):
        return _track("evaluation", EVALUATION_STEPS, reached, "p_next_eval_payout_stopped", failed="p_eval_payout_stopped")
    raise ValueError(f"no step for payout status {payout_status!r}")


# --- complaints -------------------------------------------------------------------

COMPLAINT_STEPS = ("p_complaint_filed", "p_complaint_handling", "p_complaint_decided")
COMPLAINT_STATES = ("open", "upheld", "dismissed")


def complaint(status: str, role: str | None, *, due_on: str | None = None) -> Progress:
    """A complaint as the complainant (``user``), the unit it is about, the center
    that decides it by ``due_on`` (told to act) or the bureau following it see it."""
    if status == "open":
        side = role if role in ("user", "unit", "center") else "staff"
        return _track("complaint", COMPLAINT_STEPS, 1, f"p_next_complaint_open_{side}", next_args={"date": due_on or "—"})
    if status not in COMPLAINT_STATES:
        raise ValueError(f"no step for complaint status {status!r}")
    return _track("complaint", COMPLAINT_STEPS, 3, f"p_next_complaint_{status}")


# --- bookings ---------------------------------------------------------------------

BOOKING_STEPS = ("p_booking_requested", "p_booking_confirmed", "p_booking_used")
BOOKING_STATES = ("requested", "confirmed", "used", "declined", "cancelled", "no_show")


def booking(status: str, role: str | None) -> Progress:
    """A booking as the user who booked, the unit that confirms it (told to act)
    or the staff see it. A cancellation ends it after the request (the record
    does not say whether the unit had confirmed it first)."""
    side = role if role in ("user", "unit") else "staff"
    if status in ("requested", "confirmed"):
        return _track("booking", BOOKING_STEPS, BOOKING_STATES.index(status) + 1, f"p_next_booking_{status}_{side}")
    if status == "used":
        return _track("booking", BOOKING_STEPS, 3, "p_next_booking_used")
    if status == "declined":
        return _track("booking", BOOKING_STEPS, 1, "p_next_booking_declined", failed="p_booking_declined")
    if status == "cancelled":
        return _track("booking", BOOKING_STEPS, 1, "p_next_booking_cancelled", failed="p_booking_cancelled")
    if status == "no_show":
        return _track("booking", BOOKING_STEPS, 2, "p_next_booking_no_show", failed="p_booking_no_show")
    raise ValueError(f"no step for booking status {status!r}")


# --- rectification ----------------------------------------------------------------

RECTIFICATION_STEPS = ("p_rect_required", "p_rect_report", "p_rect_recheck")
RECTIFICATION_STATES = ("required", "reported", "passed", "failed")


def rectification(status: str, role: str | None, *, deadline: str | None = None) -> Progress:
    """M15: the unit reports by its deadline (told to act), the bureau re-checks (told to
    act); a failed re-check ends that round, and the unit may report again by the deadline."""
    side = "unit" if role == "unit" else "bureau" if role == "bureau" else "staff"
    args = {"date": deadline or "—"}
    if status == "required":
        return _track("rectification", RECTIFICATION_STEPS, 1, "p_next_rect_required_unit" if side == "unit" else "p_next_rect_required_staff", next_args=args)
    if status == "reported":
        return _track("rectification", RECTIFICATION_STEPS, 2, "p_next_rect_reported_bureau" if side == "bureau" else "p_next_rect_reported")
    if status == "passed":
        return _track("rectification", RECTIFICATION_STEPS, 3, "p_next_rect_passed")
    if status == "failed":
        return _track("rectification", RECTIFICATION_STEPS, 2, "p_next_rect_failed_unit" if side == "unit" else "p_next_rect_failed_staff",
                      failed="p_rect_failed", next_args=args)
    raise ValueError(f"no step for rectification status {status!r}")


# --- from the records the portal holds ----------------------------------------------

def of(kind: str, record: Mapping[str, Any] | None, role: str | None, related: Mapping[str, Any] | None = None) -> Progress | None:
    """The progress of a record as the services send it (for templates), with the
    record that follows it where there is one (an application's voucher, an
    evaluation's award payout); None for no record or a state with no mapping
    (never an error on a page)."""
    if not record or not record.get("status"):
        return None
    status = str(record["status"])
    try:
        if kind == "order":
            c = record.get("contract") or {}
            quoted = bool(record.get("quoted_at") or c.get("testing_fee_fen") is not None or record.get("quote_note") or record.get("quote_reason"))
            return order(status, role, user_signed=bool(c.get("user_signed_at")), unit_signed=bool(c.get("unit_signed_at")), quoted=quoted)
        if kind == "application":
            v = related or {}
            return application(status, role, voucher_status=v.get("status"), expires_at=v.get("expires_at"), appealed=bool(record.get("appealed_at")))
        if kind == "claim":
            return claim(status, role)
        if kind == "evaluation":
            return evaluation(status, role, grade=record.get("grade"), payout_status=(related or {}).get("status"))
        if kind == "complaint":
            return complaint(status, role, due_on=record.get("due_on"))
        if kind == "booking":
            return booking(status, role)
        if kind == "rectification":
            return rectification(status, role, deadline=str(record.get("deadline") or "") or None)
    except (ValueError, KeyError):
        return None
    return None
