"""Issue 17, step trackers: every state of every case's state machine (orders,
voucher applications and their vouchers, redemption claims, the unit's
evaluation) maps to a step and a next-step sentence in Chinese and English; the
next step differs by who looks (the enterprise, the unit, the center); refusals,
cancellations and rejections end the tracker on a failed step; the macro renders
an ordered list with ``aria-current="step"``."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType

import jinja2
import pytest

from services.evaluation import application_rows
from services.gateway.portal import progress
from services.gateway.portal.i18n import STRINGS, translate
from services.payments import payouts
from services.gateway.portal.progress import AHEAD, CURRENT, DONE, FAILED, Progress
from services.registry.domain.orders import OrderStatus
from services.vouchers import application_steps, applications, issued, redemption
from services.vouchers.domain import redemption as claim_rules

ROLES = ("user", "unit", "center", "bureau", "department", None)
#: constants in the state modules that are not states (a purpose, appeal outcomes, revoke reasons, case prefixes)
NOT_STATES = {"statutory_testing", "uphold", "overturn", "order_cancelled", "blacklisted", "unit_disqualified", "fraud"}


def states_of(*modules: ModuleType) -> set[str]:
    """Every state a service names: the module-level lower-case string constants of
    its state modules, so a new state added there without a mapping fails here."""
    found = set()
    for m in modules:
        for name, value in vars(m).items():
            if name.isupper() and isinstance(value, str) and re.fullmatch(r"[a-z_]+", value) and value not in NOT_STATES:
                found.add(value)
    return found


def well_formed(p: Progress) -> None:
    assert p.steps, p
    states = [s.state for s in p.steps]
    assert set(states) <= {DONE, CURRENT, AHEAD, FAILED}
    assert states.count(CURRENT) + states.count(FAILED) <= 1
    if FAILED in states:
        assert states[-1] == FAILED and p.ended
    # the order is kept: done steps first, then the current one, then those ahead
    assert states == sorted(states, key=[DONE, CURRENT, FAILED, AHEAD].index)
    for key in [s.key for s in p.steps] + [p.next_key]:
        assert key in STRINGS, key
        zh, en = STRINGS[key]
        assert re.search(r"[\u4e00-\u9fff]", zh) and not re.search(r"[\u4e00-\u9fff]", en)
        assert "_" not in translate(key, "zh", **p.next_args)


def current_label(p: Progress, lang: str = "zh") -> str | None:
    step = p.current
    return translate(step.key, lang) if step else None


# --- every state maps ---------------------------------------------------------------

@pytest.mark.parametrize("status", list(OrderStatus))
@pytest.mark.parametrize("role", ROLES)
def test_every_order_state_maps(status: OrderStatus, role: str | None) -> None:
    assert str(status) in progress.ORDER_STATES
    well_formed(progress.order(str(status), role))


def test_every_application_and_voucher_state_maps() -> None:
    names = states_of(application_steps, applications, issued, redemption) - {"used", "redeemed", "issued", "expired", "revoked"}
    assert names == set(progress.APPLICATION_STATES), "a voucher application state has no step"
    assert states_of(issued, redemption) - set(progress.APPLICATION_STATES) == set(progress.VOUCHER_STATES), "a voucher state has no step"
    for status in progress.APPLICATION_STATES:
        for role in ROLES:
            well_formed(progress.application(status, role))
    for voucher_status in progress.VOUCHER_STATES:
        well_formed(progress.application("approved", "user", voucher_status=voucher_status))


def test_every_claim_state_maps() -> None:
    assert states_of(claim_rules) == set(progress.CLAIM_STATES), "a claim state has no step"
    for status in progress.CLAIM_STATES:
        for role in ROLES:
            well_formed(progress.claim(status, role))


def test_every_evaluation_state_maps() -> None:
    assert states_of(application_rows) == set(progress.EVALUATION_STATES), "an evaluation state has no step"
    for status in progress.EVALUATION_STATES:
        for role in ROLES:
            well_formed(progress.evaluation(status, role))
    # the award's payout, after the final grades notice
    assert states_of(payouts) == set(progress.PAYOUT_STATES), "a payout state has no step"
    for payout_status in progress.PAYOUT_STATES:
        well_formed(progress.evaluation("final", "unit", grade="good", payout_status=payout_status))


def test_an_unknown_state_is_no_tracker_on_a_page() -> None:
    with pytest.raises(ValueError):
        progress.order("lost", "user")
    assert progress.of("order", {"status": "lost"}, "user") is None
    assert progress.of("claim", None, "unit") is None


# --- orders ----------------------------------------------------------------------

def test_an_order_walks_its_steps() -> None:
    seen = [current_label(progress.order(s, "user")) for s in ("requested", "quoted", "contracted", "in_service", "results_delivered", "settled")]
    assert seen == ["单位报价", "签订合同", "开展服务", "交付结果", "结算付款", "服务评价"]
    done = progress.order("rated", "user")
    assert done.ended and done.current is None and all(s.state == DONE for s in done.steps)
    assert translate(done.next_key, "zh") == "订单已完成"


def test_the_next_step_of_an_order_depends_on_who_looks() -> None:
    assert translate(progress.order("requested", "user").next_key, "zh") == "等待服务单位确认订单并报价"
    assert translate(progress.order("requested", "unit").next_key, "zh") == "请确认订单并填写报价"
    assert translate(progress.order("requested", "center").next_key, "zh") == "等待服务单位报价"
    # the contract: who still has to sign
    assert progress.order("quoted", "user").next_key == "p_next_order_sign"
    assert translate(progress.order("quoted", "user", user_signed=True).next_key, "zh") == "您已签署合同，等待服务单位签署"
    assert translate(progress.order("quoted", "unit", unit_signed=True).next_key, "zh") == "本单位已签署合同，等待用户签署"
    assert progress.order("quoted", "unit", user_signed=True).next_key == "p_next_order_sign"
    assert translate(progress.order("results_delivered", "user").next_key, "en") == "Results delivered: settle the order and pay the remainder"
    assert translate(progress.order("results_delivered", "unit").next_key, "zh") == "结果已交付，等待用户结算付款"


def test_a_cancelled_order_ends_where_it_stopped() -> None:
    early = progress.order("cancelled", "user")
    assert [(s.key, s.state) for s in early.steps] == [("p_order_placed", DONE), ("p_order_cancelled", FAILED)]
    quoted = progress.of("order", {"status": "cancelled", "quoted_at": "2026-12-01T02:00:00Z", "contract": {}}, "unit")
    assert quoted and [s.state for s in quoted.steps] == [DONE, DONE, FAILED]
    signed = progress.order("cancelled", "unit", user_signed=True, unit_signed=True, quoted=True)
    assert [s.state for s in signed.steps] == [DONE, DONE, DONE, FAILED] and signed.ended
    assert translate(signed.next_key, "zh") == "订单已取消，无需进一步操作"


# --- applications, claims, evaluation ------------------------------------------------

def test_a_voucher_application_through_review_appeal_and_use() -> None:
    assert current_label(progress.application("submitted", "user")) == "资格审核"
    assert translate(progress.application("submitted", "center").next_key, "zh") == "请审核该创新券申请"
    assert translate(progress.application("submitted", "bureau").next_key, "zh") == "等待服务中心审核创新券申请"
    assert translate(progress.application("appealed", "bureau").next_key, "zh") == "请对该复议作出决定"
    rejected = progress.application("rejected", "user")
    assert rejected.steps[-1] == progress.Step("p_app_rejected", FAILED)
    assert translate(rejected.next_key, "zh") == "申请被驳回：如有异议，可申请复议"
    assert translate(progress.application("rejected", "user", appealed=True).next_key, "zh") == "复议维持驳回决定，申请已结束"
    appealed = progress.application("appealed", "user")
    assert current_label(appealed) == "复议审查" and translate(appealed.next_key, "zh") == "已申请复议，等待科技局复议决定"
    issued_now = progress.of("application", {"status": "approved"}, "user", {"status": "issued", "expires_at": datetime(2026, 12, 31, 15, 59, tzinfo=timezone.utc)})
    assert issued_now and current_label(issued_now) == "使用创新券"
    # the deadline in Beijing time (23:59 on the 31st)
    assert translate(issued_now.next_key, "zh", **issued_now.next_args) == "创新券已发放，请在 2026-12-31 前完成服务并结算"
    expired = progress.application("approved", "user", voucher_status="expired")
    assert expired.ended and expired.steps[-1].key == "p_app_expired"
    assert progress.application("approved", "user", voucher_status="redeemed").ended


def test_a_claim_through_review_notice_and_payout() -> None:
    assert [current_label(progress.claim(s, "unit")) for s in ("claimed", "approved", "noticed")] == ["中心审核", "兑现公示", "资金拨付"]
    assert translate(progress.claim("claimed", "unit").next_key, "zh") == "等待服务中心审核兑现材料"
    assert translate(progress.claim("claimed", "center").next_key, "zh") == "请审核兑现材料，逐券作出审核结论"
    assert translate(progress.claim("claimed", "bureau").next_key, "zh") == "等待服务中心审核兑现材料"  # the bureau reviews nothing
    assert progress.claim("settled", "unit").ended
    rejected = progress.claim("rejected", "unit")
    assert [s.state for s in rejected.steps] == [DONE, FAILED]


def test_the_units_evaluation_through_notice_and_award() -> None:
    walk = [current_label(progress.evaluation(s, "unit")) for s in ("submitted", "forwarded", "graded", "final")]
    assert walk == ["形式审查", "专家评审", "结果公示", "奖补拨付"]
    assert translate(progress.evaluation("returned", "unit").next_key, "zh") == "材料被退回，请按审查意见修改后重新提交"
    assert translate(progress.evaluation("submitted", "unit").next_key, "zh") == "等待主管部门形式审查"
    assert translate(progress.evaluation("submitted", "department").next_key, "zh") == "请进行形式审查：转交专家评审或退回修改"
    assert translate(progress.evaluation("submitted", "center").next_key, "zh") == "等待主管部门形式审查"
    assert translate(progress.evaluation("final", "unit", grade="excellent", payout_status="due").next_key, "zh") == "奖补已核定，等待财务拨付"
    paid = progress.of("evaluation", {"status": "final", "grade": "good"}, "unit", {"status": "paid", "kind": "award"})
    assert paid and paid.ended and all(s.state == DONE for s in paid.steps)
    unqualified = progress.evaluation("final", "unit", grade="unqualified")
    assert unqualified.steps[-1] == progress.Step("p_eval_no_award", FAILED)
    assert translate(unqualified.next_key, "zh") == "评定为不合格，不予奖补：请按通知要求整改"
    withdrawn = progress.evaluation("withdrawn", "unit")
    assert withdrawn.ended and withdrawn.steps[-1].state == FAILED


# --- the macro ------------------------------------------------------------------------

def test_the_tracker_macro_is_an_ordered_list_with_the_current_step_marked() -> None:
    here = Path(progress.__file__).parent / "templates"
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(here), autoescape=True)
    macro = env.get_template("macros.html").module.tracker
    html = str(macro(progress.order("quoted", "user"), lambda k, **kw: translate(k, "zh", **kw), id="order-progress"))
    assert '<ol class="steps"' in html and html.count("<li") == len(progress.ORDER_STEPS)
    assert re.search(r'<li class="step-current" aria-current="step"><span class="sr">当前步骤：</span>签订合同</li>', html)
    assert html.count('aria-current="step"') == 1
    assert "下一步：" in html and "请上传服务合同和科技研发证明材料" in html
    assert "p_" not in re.sub(r'class="[^"]*"', "", html)


# --- complaints and bookings --------------------------------------------------------

def test_every_complaint_and_booking_state_maps() -> None:
    from services.registry.domain.bookings import BookingStatus
    from services.registry.domain.complaints import ComplaintStatus

    assert {str(s) for s in ComplaintStatus} == set(progress.COMPLAINT_STATES), "a complaint state has no step"
    assert {str(s) for s in BookingStatus} == set(progress.BOOKING_STATES), "a booking state has no step"
    for role in (*ROLES, "expert"):
        for status in progress.COMPLAINT_STATES:
            well_formed(progress.complaint(status, role, due_on="2026-12-18"))
        for status in progress.BOOKING_STATES:
            well_formed(progress.booking(status, role))


def test_an_open_complaint_tells_each_party_what_comes_by_its_due_day() -> None:
    told = {role: translate((p := progress.complaint("open", role, due_on="2026-12-18")).next_key, "zh", **p.next_args) for role in ("user", "unit", "center", "bureau")}
    assert "2026-12-18" in told["user"] and "2026-12-18" in told["center"] and "2026-12-18" in told["bureau"]
    assert told["center"].startswith("请")  # the center is the one to act
    assert len(set(told.values())) == 4
    assert current_label(progress.complaint("open", "user")) == "服务中心处理"
    decided = progress.complaint("dismissed", "user")
    assert decided.ended and decided.current is None and [s.state for s in decided.steps] == [DONE, DONE, DONE]
    assert progress.of("complaint", {"status": "upheld", "due_on": "2026-12-18"}, "center") == progress.complaint("upheld", "center")


def test_a_booking_walks_to_its_use_or_ends_where_it_stopped() -> None:
    asked = progress.booking("requested", "unit")
    assert current_label(asked) == "管理单位确认" and translate(asked.next_key, "zh").startswith("请")
    assert asked.next_key != progress.booking("requested", "user").next_key
    assert current_label(progress.booking("confirmed", "user")) == "按时使用"
    assert progress.booking("used", "user").ended
    for status, label in (("declined", "管理单位未接受"), ("cancelled", "预约已取消"), ("no_show", "未按时到场")):
        p = progress.booking(status, "user")
        assert p.ended and p.steps[-1].state == FAILED and current_label(p) == label, (status, p)
    assert progress.of("booking", {"status": "no_show"}, "unit") == progress.booking("no_show", "unit")


def test_a_rectification_from_required_to_its_recheck() -> None:
    from services.evaluation import rectification

    assert {rectification.PASSED, rectification.FAILED, "required", "reported"} == set(progress.RECTIFICATION_STATES)
    for role in (*ROLES, "expert"):
        for status in progress.RECTIFICATION_STATES:
            well_formed(progress.rectification(status, role, deadline="2027-03-31"))
    due = progress.rectification("required", "unit", deadline="2027-03-31")
    assert current_label(due) == "提交整改报告" and translate(due.next_key, "zh", **due.next_args) == "请在2027-03-31前提交整改报告"
    assert translate(progress.rectification("reported", "bureau").next_key, "zh").startswith("请复查")  # the bureau acts
    assert progress.rectification("reported", "unit").next_key == "p_next_rect_reported"
    failed = progress.rectification("failed", "unit", deadline="2027-03-31")
    assert failed.steps[-1].state == FAILED and "2027-03-31" in translate(failed.next_key, "zh", **failed.next_args)
    assert progress.rectification("passed", "department").ended
    assert progress.of("rectification", {"status": "required", "deadline": "2027-03-31"}, "unit") == due
