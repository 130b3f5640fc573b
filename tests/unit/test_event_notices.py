"""Issue 17: what vouchers', payments' and evaluation's decisions tell whom, in
Chinese and English, with the case number and the link (pure rules), and the
portal's name for each kind's link."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from services.gateway.portal.i18n import translate
from services.gateway.portal.i18n_notices import link_key
from services.registry.domain import application_notices, objection_notices, public_notices
from services.registry.domain.application_notices import ApplicationDecision, appeal_closing_notice, appeal_decided_notice, appeal_filed_notice, appeal_reminder_at, decided_notice
from services.registry.domain.notices import CITY_WIDE, absolute_links, mail_body, mail_subject
from services.registry.domain.objection_notices import ObjectionFacts, raised_notice
from services.registry.domain.clawback_notices import ClawbackFacts, recorded_notice
from services.registry.domain.payout_notices import FINANCE_LINK, LINK as PAYOUT_LINK, PayoutFacts, cancelled_notice, ordered_notices, paid_notice
from services.registry.domain.redemption_notices import ReviewFacts, reviewed_notice
from services.registry.domain.public_notices import NoticeLine, PublishedNotice, closing_notices, closing_reminder_at, published_notices
from services.registry.domain.voucher_notices import VoucherFacts, expiring_notice, remind_at


def test_an_approval_tells_the_applicant_the_amount_and_the_case() -> None:
    d = ApplicationDecision(application_id="a1", user_id="u1", order_case_no="DD-2026-000001", approved=True, amount_fen=1_234_550, case_no="SQ-2026-000123")
    n = decided_notice(d)
    assert (n.recipient_role, n.recipient_org, n.kind) == ("user", "u1", "application.approved")
    assert "SQ-2026-000123" in n.text_zh and "¥12,345.50" in n.text_zh and "已批准" in n.text_zh
    assert "SQ-2026-000123" in n.subject_en and "¥12,345.50" in n.text_en
    assert "（订单 DD-2026-000001）" in n.text_zh and "(order DD-2026-000001)" in n.text_en  # the order by its case number
    assert application_notices.link_of(d) == "/vouchers?case_no=SQ-2026-000123"


def test_a_rejection_tells_the_reason_and_the_appeal_deadline_in_beijing_time() -> None:
    until = datetime(2026, 3, 17, 2, 30, tzinfo=UTC)
    d = ApplicationDecision(application_id="a1", user_id="u1", order_case_no="DD-2026-000001", approved=False, case_no="SQ-2026-000124", reason="合同金额与报价不符", appeal_until=until)
    n = decided_notice(d)
    assert n.kind == "application.rejected" and n.recipient_org == "u1"
    assert "理由：合同金额与报价不符" in n.text_zh and "2026-03-17 10:30（北京时间）前提出复议" in n.text_zh
    assert "appeal until 2026-03-17 10:30 (Beijing time)" in n.text_en
    # no window in the policy, no reason given: neither is mentioned
    bare = decided_notice(ApplicationDecision(application_id="a2", user_id="u1", order_case_no="DD-2026-000001", approved=False))
    assert "复议" not in bare.text_zh and "理由" not in bare.text_zh
    # an event from before case numbers: "your application", never its id
    assert bare.subject_zh == "创新券申请未获批准" and bare.text_zh.startswith("您的创新券申请（订单 DD-2026-000001）未获批准") and "a2" not in bare.text_zh + bare.text_en
    assert bare.text_en.startswith("Your voucher application (order DD-2026-000001) was rejected.")
    assert "订单" not in decided_notice(ApplicationDecision(application_id="a3", user_id="u1", approved=True)).text_zh  # an order it does not hold: not named
    assert application_notices.link_of(ApplicationDecision(application_id="a2", user_id="u1", order_case_no="DD-2026-000001", approved=False)) == "/vouchers"


def test_a_payout_without_a_case_number_is_not_named_by_its_id() -> None:
    n = paid_notice(PayoutFacts(payout_id="0192f-payout-id", unit_id="u", kind="award", year=2026, amount_fen=100))
    assert "0192f" not in n.subject_zh + n.text_zh + n.subject_en + n.text_en
    assert n.text_zh.endswith("已支付至贵单位登记的收款账户。") and n.text_en.endswith("registered account.")


def test_a_paid_payout_tells_its_unit() -> None:
    n = paid_notice(PayoutFacts(payout_id="p1", unit_id="unit-9", kind="redemption", year=2026, amount_fen=500_000, case_no="BF-2026-000007"))
    assert (n.recipient_role, n.recipient_org, n.kind) == ("unit", "unit-9", "payout.paid")
    assert "BF-2026-000007" in n.text_zh and "创新券兑付" in n.text_zh and "¥5,000.00" in n.text_zh
    assert "redemption" in n.text_en and "BF-2026-000007" in n.subject_en


def test_an_ordered_payout_tells_finance_it_awaits_payment_and_its_unit_it_was_ordered() -> None:
    p = PayoutFacts(payout_id="0192f-payout-id", unit_id="unit-9", kind="award", year=2026, amount_fen=5_000_000, case_no="BF-2026-000007")
    finance, unit = ordered_notices(p, "许昌学院", "FK-2026-000003")
    assert (finance.recipient_role, finance.recipient_org, finance.kind) == ("finance", CITY_WIDE, "payout.ordered")
    assert finance.subject_zh == "奖励款待支付（BF-2026-000007）" and finance.subject_en == "An award payout awaits payment (BF-2026-000007)"
    assert finance.text_zh.startswith("许昌学院的2026年度奖励款 ¥50,000.00（拨付编号 BF-2026-000007）已列入付款单 FK-2026-000003，待支付")
    assert finance.text_en.startswith("许昌学院's 2026 award payout of ¥50,000.00 (payout BF-2026-000007) is on payment order FK-2026-000003 and awaits payment")
    assert (unit.recipient_role, unit.recipient_org, unit.kind) == ("unit", "unit-9", "payout.ordered")
    assert unit.subject_zh == "奖励款已列入付款单（BF-2026-000007）" and "¥50,000.00（拨付编号 BF-2026-000007）已列入付款单，等待市财政局支付" in unit.text_zh
    assert "awaits payment by the finance bureau" in unit.text_en and "FK-" not in unit.text_zh
    assert all("0192f" not in t and "unit-9" not in t for n in (finance, unit) for t in (n.subject_zh, n.text_zh, n.subject_en, n.text_en))
    assert (FINANCE_LINK, PAYOUT_LINK) == ("/finance", "/unit/payee") and translate(link_key(finance.kind), "zh") == "查看拨付记录"
    # from a producer before case numbers, a unit the registry does not know: nothing named wrongly, never an id
    bare, _ = ordered_notices(PayoutFacts(payout_id="0192f-payout-id", unit_id="unit-9", kind="redemption", year=2026, amount_fen=100), None)
    assert bare.subject_zh == "创新券兑付款待支付" and bare.subject_en == "A voucher redemption payout awaits payment" and bare.text_zh.startswith("2026年度创新券兑付款 ¥1.00 已列入付款单，待支付")
    assert "拨付编号" not in bare.text_zh and bare.text_en.startswith("The 2026 voucher redemption payout of ¥1.00 is on a payment order")


def test_a_published_notice_tells_each_named_unit_once_with_its_lines() -> None:
    lines = (NoticeLine("unit-a", "甲实验室：优秀"), NoticeLine("unit-b", "乙中心：良好"), NoticeLine("unit-a", "甲实验室（二）：良好"))
    pn = PublishedNotice(notice_id="n1", kind="grades", title="2026年度评价结果公示", opens_on=date(2026, 12, 1), closes_on=date(2026, 12, 7), lines=lines, case_no="GS-2026-000012")
    a, b = published_notices(pn)
    assert (a.recipient_org, b.recipient_org) == ("unit-a", "unit-b") and a.kind == b.kind == "notice.published"
    assert "甲实验室：优秀；甲实验室（二）：良好" in a.text_zh and "乙中心" not in a.text_zh
    assert "GS-2026-000012" in a.text_zh and "2026年12月7日（含）前实名提出" in a.text_zh
    assert "until 2026-12-07 inclusive" in a.text_en
    assert public_notices.link_of(pn) == "/notices/n1"
    many = tuple(NoticeLine("unit-a", f"第{i}项") for i in range(8))
    [only] = published_notices(PublishedNotice(notice_id="n2", kind="award_plan", title="t", opens_on=date(2026, 1, 5), closes_on=date(2026, 1, 9), lines=many))
    assert "第4项；…" in only.text_zh and "第5项" not in only.text_zh and "n2" in only.text_zh


def test_the_mail_carries_both_languages_and_an_absolute_link_when_sent() -> None:
    n = paid_notice(PayoutFacts(payout_id="p1", unit_id="u", kind="award", year=2026, amount_fen=100, case_no="BF-2026-000001"))
    body = mail_body(n, "/unit/payee")
    assert mail_subject(n).startswith("[科技创新券平台] 奖励款已支付（BF-2026-000001） / ")
    sent = absolute_links(body, "https://portal.xciss.test/")
    assert "详情：https://portal.xciss.test/unit/payee" in sent and "Details: https://portal.xciss.test/unit/payee" in sent
    assert absolute_links(body, None) == body


def test_each_kind_of_notification_has_a_link_text_in_both_languages() -> None:
    for kind, zh in (("booking.confirmed", "预约详情"), ("application.rejected", "查看创新券申请"), ("payout.paid", "查看拨付记录"), ("notice.published", "查看公示"), ("compliance.listing_overdue", "查看上线合规情况"), ("something.new", "查看详情")):
        key = link_key(kind)
        assert translate(key, "zh") == zh and translate(key, "en") != key


def test_a_voucher_is_reminded_of_30_days_before_it_becomes_void() -> None:
    expires = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)  # 2027-01-01 00:00 in Beijing
    v = VoucherFacts(voucher_id="v1", user_id="u1", amount_fen=250_000, expires_at=expires, order_case_no="DD-2026-000042")
    assert remind_at(expires) == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
    n = expiring_notice(v)
    assert (n.recipient_role, n.recipient_org, n.kind) == ("user", "u1", "voucher.expiring")
    assert "2027-01-01 00:00（北京时间）到期作废" in n.text_zh and "订单 DD-2026-000042" in n.text_zh and "¥2,500.00" in n.text_zh
    assert "2027-01-01 00:00 (Beijing time)" in n.text_en and "order DD-2026-000042" in n.text_en
    assert translate(link_key(n.kind), "zh") == "查看创新券"
    # an order the registry does not know is left out, never named by its id
    unknown = expiring_notice(VoucherFacts(voucher_id="v1", user_id="u1", amount_fen=250_000, expires_at=expires))
    assert "订单" not in unknown.text_zh and unknown.text_zh.startswith("您的创新券（金额 ¥2,500.00）")


def test_a_rejected_applicant_is_reminded_3_days_before_the_appeal_window_closes() -> None:
    rejected_at = datetime(2026, 3, 2, 2, 30, tzinfo=UTC)
    until = datetime(2026, 3, 17, 2, 30, tzinfo=UTC)
    assert appeal_reminder_at(rejected_at, until) == datetime(2026, 3, 14, 2, 30, tzinfo=UTC)
    assert appeal_reminder_at(rejected_at, rejected_at + timedelta(days=3)) is None  # a window this short: the rejection said it
    d = ApplicationDecision(application_id="a1", user_id="u1", order_case_no="DD-2026-000001", approved=False, case_no="SQ-2026-000124", appeal_until=until)
    n = appeal_closing_notice(d)
    assert (n.recipient_org, n.kind) == ("u1", "application.appeal_closing")
    assert "SQ-2026-000124" in n.text_zh and "2026-03-17 10:30（北京时间）届满" in n.text_zh and "2026-03-17 10:30 (Beijing time)" in n.text_en


def test_each_named_unit_is_reminded_the_day_before_a_notice_closes() -> None:
    lines = (NoticeLine("unit-a", "甲"), NoticeLine("unit-b", "乙"), NoticeLine("unit-a", "甲二"))
    pn = PublishedNotice(notice_id="n1", kind="grades", title="评价结果公示", opens_on=date(2026, 12, 7), closes_on=date(2026, 12, 11), lines=lines, case_no="GS-2026-000012")
    assert closing_reminder_at(pn.closes_on) == datetime(2026, 12, 10, 1, 0, tzinfo=UTC)  # 09:00 in Beijing the day before
    (ra, a), (rb, b) = closing_notices(pn)
    assert (a.recipient_org, b.recipient_org) == ("unit-a", "unit-b") and a.kind == "notice.closing"
    assert ra != rb and len(ra) == 36 and closing_notices(pn)[0][0] == ra  # one stable reminder per notice and unit
    assert "GS-2026-000012" in a.text_zh and "2026年12月11日（含）截止" in a.text_zh and "close on 2026-12-11 inclusive" in a.text_en


def test_an_appeal_decision_tells_the_applicant_whether_the_rejection_stands_and_why() -> None:
    upheld = ApplicationDecision(application_id="a1", user_id="u1", order_case_no="DD-2026-000001", approved=False, case_no="SQ-2026-000124", reason="材料不全")
    n = appeal_decided_notice(upheld)
    assert (n.recipient_role, n.recipient_org, n.kind) == ("user", "u1", "application.appeal_decided")
    assert n.subject_zh == "复议决定：维持驳回（SQ-2026-000124）" and "（订单 DD-2026-000001）" in n.text_zh and "维持原驳回决定。理由：材料不全。" in n.text_zh
    assert "the rejection is upheld. Reason: 材料不全." in n.text_en and "(order DD-2026-000001)" in n.text_en
    overturned = ApplicationDecision(application_id="a1", user_id="u1", approved=True, amount_fen=1_800_000, case_no="SQ-2026-000124")
    n = appeal_decided_notice(overturned)
    assert n.subject_zh == "复议决定：撤销驳回（SQ-2026-000124）" and "撤销原驳回决定，申请已批准，创新券金额 ¥18,000.00。" in n.text_zh and "理由" not in n.text_zh
    assert "overturned" in n.subject_en and "¥18,000.00" in n.text_en and "a1" not in n.text_zh
    assert translate(link_key(n.kind), "zh") == "查看创新券申请"
    # an event from before case numbers: "your application", never its id
    n = appeal_decided_notice(ApplicationDecision(application_id="a1", user_id="u1", approved=False))
    assert n.subject_zh == "复议决定：维持驳回" and n.text_zh.startswith("您对创新券申请提出的复议已有决定：维持原驳回决定。") and "a1" not in n.text_zh + n.text_en
    assert n.text_en.startswith("Your appeal on your voucher application is decided")


def test_a_clawback_tells_the_party_what_it_must_repay_and_how_much() -> None:
    unit = recorded_notice(ClawbackFacts(party_type="unit", party_id="unit-1", kind="redemption", year=2026, amount_fen=1_250_000))
    assert unit is not None and (unit.recipient_role, unit.recipient_org, unit.kind) == ("unit", "unit-1", "clawback.recorded")
    assert unit.subject_zh == "2026年度创新券兑付款须予追回" and "¥12,500.00" in unit.text_zh and "第二十七条" in unit.text_zh and "退回" in unit.text_zh
    assert "¥12,500.00" in unit.text_en and "repay" in unit.text_en and "redemption payout" in unit.subject_en
    user = recorded_notice(ClawbackFacts(party_type="user", party_id="user-1", kind="voucher", year=2025, amount_fen=300_000))
    assert user is not None and (user.recipient_role, user.recipient_org) == ("user", "user-1")
    assert "2025年度创新券抵扣资金 ¥3,000.00" in user.text_zh and "voucher deduction of ¥3,000.00" in user.text_en
    assert all("user-1" not in t for t in (user.text_zh, user.text_en, user.subject_zh, user.subject_en))
    # a party type without notifications: nobody is addressed rather than somebody wrong
    assert recorded_notice(ClawbackFacts(party_type="partner", party_id="p-1", kind="award", year=2026, amount_fen=1)) is None


def test_a_clawback_is_named_by_its_case_number() -> None:
    n = recorded_notice(ClawbackFacts(party_type="unit", party_id="unit-1", kind="award", year=2026, amount_fen=5_000_000, case_no="ZH-2026-000004"))
    assert n is not None and n.subject_zh == "2026年度奖励款须予追回（ZH-2026-000004）"
    assert "追回编号 ZH-2026-000004" in n.text_zh and "请注明追回编号" in n.text_zh and "¥50,000.00" in n.text_zh
    assert n.subject_en.endswith(" (ZH-2026-000004)") and "clawback ZH-2026-000004" in n.text_en
    # an event from before clawbacks had numbers: named by kind and year, no number, no id
    bare = recorded_notice(ClawbackFacts(party_type="unit", party_id="unit-1", kind="award", year=2026, amount_fen=5_000_000))
    assert bare is not None and bare.subject_zh == "2026年度奖励款须予追回" and "追回编号" not in bare.text_zh and "unit-1" not in bare.text_zh + bare.text_en


def test_a_cancelled_payout_tells_its_unit_by_case_number() -> None:
    n = cancelled_notice(PayoutFacts(payout_id="po-1", unit_id="unit-1", kind="award", year=2026, amount_fen=5_000_000, case_no="BF-2026-000007"))
    assert (n.recipient_role, n.recipient_org, n.kind) == ("unit", "unit-1", "payout.cancelled")
    assert n.subject_zh == "奖励款拨付已取消（BF-2026-000007）" and "¥50,000.00" in n.text_zh and "不再支付" in n.text_zh
    assert "BF-2026-000007" in n.text_en and "will not be paid" in n.text_en and "po-1" not in n.text_zh + n.text_en
    assert translate(link_key(n.kind), "zh") == "查看拨付记录"
    bare = cancelled_notice(PayoutFacts(payout_id="po-2", unit_id="unit-1", kind="redemption", year=2026, amount_fen=100))
    assert bare.subject_zh == "创新券兑付款拨付已取消" and "拨付编号" not in bare.text_zh and "po-2" not in bare.text_zh + bare.text_en


def test_a_reviewed_redemption_claim_tells_its_unit_the_approved_amount_or_the_rejection() -> None:
    full = reviewed_notice(ReviewFacts(unit_id="unit-1", year=2026, claimed_fen=800_000, approved=True, approved_fen=800_000, case_no="DF-2026-000123"))
    assert (full.recipient_role, full.recipient_org, full.kind) == ("unit", "unit-1", "redemption.reviewed")
    assert full.subject_zh == "兑付申请已通过审核（DF-2026-000123）" and "核定金额 ¥8,000.00" in full.text_zh and "部分" not in full.text_zh and "公示" in full.text_zh
    part = reviewed_notice(ReviewFacts(unit_id="unit-1", year=2026, claimed_fen=800_000, approved=True, approved_fen=500_000, case_no="DF-2026-000123"))
    assert "申请金额 ¥8,000.00" in part.text_zh and "核定金额 ¥5,000.00，部分创新券未获认定" in part.text_zh and "some vouchers were not approved" in part.text_en
    no = reviewed_notice(ReviewFacts(unit_id="unit-1", year=2026, claimed_fen=800_000, approved=False, approved_fen=0))
    assert no.subject_zh == "兑付申请未通过审核" and "未获通过" in no.text_zh and "rejected" in no.text_en and "核定" not in no.text_zh
    assert translate(link_key(no.kind), "zh") == "查看兑付申请" and translate(link_key(no.kind), "en") == "Redemption claims"


def test_an_objection_tells_the_center_which_notice_and_line_it_must_resolve() -> None:
    o = ObjectionFacts(notice_id="n-1", kind="grades", year=2026, case_no="GS-2026-000012", line="许昌学院：优秀")
    n = raised_notice(o)
    assert (n.recipient_role, n.recipient_org, n.kind) == ("center", CITY_WIDE, "objection.raised")
    assert n.subject_zh == "公示收到异议，待处理（GS-2026-000012）" and "2026年度评价结果公示（GS-2026-000012）收到对“许昌学院：优秀”一项的实名异议" in n.text_zh
    assert "维持、更正或撤回" in n.text_zh and "不能定稿" in n.text_zh
    assert "the 2026 evaluation grades public notice (GS-2026-000012)" in n.text_en and "“许昌学院：优秀”" in n.text_en
    assert objection_notices.link_of(o) == "/notices/n-1" and translate(link_key(n.kind), "zh") == "查看公示及异议"
    bare = raised_notice(ObjectionFacts(notice_id="n-2", kind="redemption", year=2026))
    assert bare.subject_zh == "公示收到异议，待处理" and "2026年度创新券兑付公示收到对其中一项的实名异议" in bare.text_zh and "n-2" not in bare.text_zh + bare.text_en


def test_an_appeal_tells_the_bureau_it_must_decide_it() -> None:
    d = ApplicationDecision(application_id="a1", user_id="u1", order_case_no="DD-2026-000001", approved=False, case_no="SQ-2026-000124")
    n = appeal_filed_notice(d)
    assert (n.recipient_role, n.recipient_org, n.kind) == ("bureau", CITY_WIDE, "application.appealed")
    assert n.subject_zh == "收到复议申请，待决定（SQ-2026-000124）" and n.text_zh.startswith("创新券申请 SQ-2026-000124（订单 DD-2026-000001）被驳回后，申请人提出了复议")
    assert "uphold or overturn" in n.text_en and "(order DD-2026-000001)" in n.text_en
    assert application_notices.review_link_of(d) == "/review?case_no=SQ-2026-000124"
    bare = appeal_filed_notice(ApplicationDecision(application_id="a2", user_id="u1", approved=False))
    assert bare.subject_zh == "收到复议申请，待决定" and bare.text_zh.startswith("一项创新券申请被驳回后") and "a2" not in bare.text_zh + bare.text_en and "u1" not in bare.text_zh
