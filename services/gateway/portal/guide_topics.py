"""The guide's topics (办事指南, issue 17): one per procedure people follow, in the order a
newcomer meets them. Each names its template (the steps in plain Chinese, a short English
summary on ``?lang=en``), who it is for, the articles it rests on and which of the
services' public policy numbers it shows (``needs``): the page asks the services for
them, the text never repeats a number a parameter holds."""

from __future__ import annotations

import msgspec

#: where each policy number comes from: the service and its public endpoint (``{year}``:
#: this programme year; ``year`` among the query's parameters when the path has no place for it)
SOURCES: dict[str, tuple[str, str, bool]] = {
    "programme": ("vouchers", "/v1/programmes/{year}", False),  # R15, R16, R19(2): rate, caps, appeal window, budget
    "complaint_policy": ("registry", "/v1/complaints/policies/{year}", False),  # M11(6): handling deadline
    "indicator_set": ("evaluation", "/v1/indicator-set/", True),  # R11, R12, M15: grades, awards, notice, rectification
    "redemption_window": ("vouchers", "/v1/redemption/windows/{year}", False),  # R20(1): the claim window
}

#: the policy's documents on the guide: the notice (0) and its attachments (1 管理办法, 2 实施细则)
DOCUMENT_NAMES: dict[int, tuple[str, str]] = {
    0: ("印发通知", "The notice"),
    1: ("管理办法", "The Measures"),
    2: ("实施细则", "The Rules"),
}


class Topic(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    title_zh: str
    title_en: str
    #: who follows it, in the portal's words
    audience_zh: str
    audience_en: str
    #: (document, article) it rests on, linked to the policy text
    articles: tuple[tuple[int, int], ...]
    needs: tuple[str, ...] = ()

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh

    def audience(self, lang: str) -> str:
        return self.audience_en if lang == "en" else self.audience_zh

    @property
    def template(self) -> str:
        return f"guide/{self.slug}.html"


TOPICS: tuple[Topic, ...] = (
    Topic(
        slug="registration",
        title_zh="企业和创新创业团队注册与认证",
        title_en="Registering and verifying an enterprise or start-up team",
        audience_zh="用户（企业、创新创业团队）",
        audience_en="Users (enterprises, start-up teams)",
        articles=((2, 4), (2, 19), (2, 26)),
        needs=("programme",),
    ),
    Topic(
        slug="booking",
        title_zh="预约仪器、服务订单与服务合同",
        title_en="Booking an instrument, the service order and its contract",
        audience_zh="用户、管理单位",
        audience_en="Users and units",
        articles=((1, 12), (2, 5), (2, 19), (2, 22), (2, 23), (2, 24), (2, 25)),
    ),
    Topic(
        slug="vouchers",
        title_zh="申领科技创新券",
        title_en="Applying for an innovation voucher",
        audience_zh="用户",
        audience_en="Users",
        articles=((2, 4), (2, 6), (2, 15), (2, 16), (2, 19), (2, 21), (2, 22), (2, 26), (2, 27)),
        needs=("programme",),
    ),
    Topic(
        slug="listing",
        title_zh="管理单位上线仪器、公布收费标准与年度上线义务",
        title_en="A unit listing its instruments and prices, and the yearly listing duty",
        audience_zh="管理单位",
        audience_en="Units",
        articles=((1, 5), (1, 6), (1, 11), (2, 7), (2, 9), (2, 18)),
    ),
    Topic(
        slug="redemption",
        title_zh="科技创新券兑付",
        title_en="Redeeming the vouchers a unit received",
        audience_zh="管理单位",
        audience_en="Units",
        articles=((2, 17), (2, 20), (2, 22), (2, 27)),
        needs=("redemption_window", "indicator_set"),
    ),
    Topic(
        slug="evaluation",
        title_zh="绩效评价与奖励（含公示和异议）",
        title_en="The yearly evaluation and awards, with public notice and objections",
        audience_zh="管理单位、主管部门，社会公众可对公示提出异议",
        audience_en="Units and their departments; anybody may object to a notice",
        articles=((1, 13), (1, 14), (1, 15), (2, 6), (2, 11), (2, 12), (2, 13), (2, 14)),
        needs=("indicator_set",),
    ),
    Topic(
        slug="complaints",
        title_zh="投诉",
        title_en="Complaints",
        audience_zh="用户和社会公众",
        audience_en="Users and the public",
        articles=((1, 11), (2, 23), (2, 27)),
        needs=("complaint_policy",),
    ),
)

BY_SLUG: dict[str, Topic] = {t.slug: t for t in TOPICS}
