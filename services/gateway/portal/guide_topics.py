"""The guide's topics (办事指南, issue 17): one per procedure people follow, in the order a
newcomer meets them. Each names its template (the steps in plain Chinese, a short English
summary on ``?lang=en``), who it is for, the articles it rests on and which of the
services' public policy numbers it shows (``needs``): the page asks the services for
them, the text never repeats a number a parameter holds."""

from __future__ import annotations

import msgspec

from services.gateway.portal.i18n import words

#: where each policy number comes from: the service and its public endpoint (``{year}``:
#: this programme year; ``year`` among the query's parameters when the path has no place for it)
SOURCES: dict[str, tuple[str, str, bool]] = {
    "programme": ("vouchers", "/v1/programmes/{year}", False),  # R15, R16, R19(2): rate, caps, appeal window, budget
    "complaint_policy": ("registry", "/v1/complaints/policies/{year}", False),  # M11(6): handling deadline
    "indicator_set": ("evaluation", "/v1/indicator-set/", True),  # R11, R12, M15: grades, awards, notice, rectification
    "redemption_window": ("vouchers", "/v1/redemption/windows/{year}", False),  # R20(1): the claim window
}

#: the policy's documents on the guide: the notice (0) and its attachments (1 管理办法, 2 实施细则),
#: each as (Chinese, English) from the catalogues (msgctxt "policy_document")
_DOCUMENTS = words("policy_document")
DOCUMENT_NAMES: dict[int, tuple[str, str]] = {n: _DOCUMENTS.pair(str(n)) for n in range(3)}
#: a topic's title and who it is for, by its slug (msgctxt "guide_title", "guide_audience")
_TITLES, _AUDIENCES = words("guide_title"), words("guide_audience")


class Topic(msgspec.Struct, frozen=True, kw_only=True):
    #: its page, and the key of its title and audience in the catalogues
    slug: str
    #: (document, article) it rests on, linked to the policy text
    articles: tuple[tuple[int, int], ...]
    needs: tuple[str, ...] = ()

    def title(self, lang: str) -> str:
        return _TITLES.get(self.slug, lang) or self.slug

    def audience(self, lang: str) -> str:
        """Who follows it, in the portal's words."""
        return _AUDIENCES.get(self.slug, lang) or ""

    @property
    def template(self) -> str:
        return f"guide/{self.slug}.html"


TOPICS: tuple[Topic, ...] = (
    Topic(
        slug="registration",
        articles=((2, 4), (2, 19), (2, 26)),
        needs=("programme",),
    ),
    Topic(
        slug="booking",
        articles=((1, 12), (2, 5), (2, 19), (2, 22), (2, 23), (2, 24), (2, 25)),
    ),
    Topic(
        slug="vouchers",
        articles=((2, 4), (2, 6), (2, 15), (2, 16), (2, 19), (2, 21), (2, 22), (2, 26), (2, 27)),
        needs=("programme",),
    ),
    Topic(
        slug="listing",
        articles=((1, 5), (1, 6), (1, 11), (2, 7), (2, 9), (2, 18)),
    ),
    Topic(
        slug="redemption",
        articles=((2, 17), (2, 20), (2, 22), (2, 27)),
        needs=("redemption_window", "indicator_set"),
    ),
    Topic(
        slug="evaluation",
        articles=((1, 13), (1, 14), (1, 15), (2, 6), (2, 11), (2, 12), (2, 13), (2, 14)),
        needs=("indicator_set",),
    ),
    Topic(
        slug="complaints",
        articles=((1, 11), (2, 23), (2, 27)),
        needs=("complaint_policy",),
    ),
    # the staff's own procedures: what each role does and where, on the pages it works on
    Topic(slug="center", articles=((1, 9), (2, 10), (2, 14), (2, 19), (2, 20))),
    Topic(slug="bureau", articles=((1, 15), (2, 6), (2, 7), (2, 14), (2, 15), (2, 18), (2, 19), (2, 27))),
    Topic(slug="finance", articles=((1, 8), (2, 14), (2, 15), (2, 20), (2, 27))),
    Topic(slug="department", articles=((1, 10), (1, 15), (2, 8), (2, 14))),
    Topic(slug="expert", articles=((2, 14), (2, 20))),
)

#: the topic a staff role's workspace links to: its own procedures
ROLE_TOPICS: dict[str, str] = {"center": "center", "bureau": "bureau", "finance": "finance", "department": "department", "expert": "expert"}

BY_SLUG: dict[str, Topic] = {t.slug: t for t in TOPICS}
