"""The workspace (工作台) each role lands on after signing in (issue 17: "signing in
lands every role on the public home page"): what waits for this person, counted,
each with the page where it is done. The counts are the services' own: each is
the ``total`` of one list call the caller is allowed to make (its own orders for a
user or a unit, every application for the center), asked in parallel; a service
that does not answer shows "—" for its counts, never a wrong zero.

The three officers keep their own landing pages (``session.WORKSPACES``)."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Request, Response

from services.gateway.portal.client import ApiError
from services.gateway.portal.guide_topics import ROLE_TOPICS
from services.gateway.portal.core import Ctx, Kit

PATH = "/workspace"


class Task(msgspec.Struct, frozen=True):
    """One kind of work waiting: its words (``workspace_<key>``), where it is done, and
    the list call whose ``total`` counts it."""

    key: str
    link: str
    service: str
    #: ``{org}``: the person's organisation (a unit's own compliance)
    path: str
    params: dict[str, str] = {}
    #: the answer's ``counts`` to add up instead of a list's ``total`` (a summary, not a list)
    counted: tuple[str, ...] = ()

    def total_of(self, answer: Any) -> int:
        if self.counted:
            found = answer.get("counts") or {}
            return sum(int(found.get(k, 0)) for k in self.counted)
        return int(answer.get("total", 0))


def _orders(status: str, key: str) -> Task:
    return Task(key, f"/orders?status={status}", "registry", "/v1/orders/", {"status": status})


#: what each role is asked to act on, in the order it usually comes
TASKS: dict[str, tuple[Task, ...]] = {
    "user": (
        _orders("quoted", "to_sign"),
        _orders("contracted", "contracted"),
        _orders("results_delivered", "to_settle"),
        _orders("settled", "to_rate"),
        Task("unread", "/notifications?unread=1", "registry", "/v1/notifications/", {"unread": "true"}),
    ),
    "unit": (
        _orders("requested", "to_quote"),
        _orders("contracted", "to_start"),
        _orders("in_service", "to_deliver"),
        # M11(3): its must-list instruments past their listing deadline or close to it
        Task("listings_due", "/unit/instruments", "registry", "/v1/compliance/units/{org}", counted=("overdue", "due_soon")),
        Task("complaints_about_us", "/complaints?status=open", "registry", "/v1/complaints/", {"status": "open"}),
        Task("unread", "/notifications?unread=1", "registry", "/v1/notifications/", {"unread": "true"}),
    ),
    "center": (
        Task("applications_to_review", "/review", "vouchers", "/v1/applications/", {"status": "submitted"}),
        Task("users_to_verify", "/review/users", "registry", "/v1/users/", {"verified": "false"}),
        Task("claims_to_review", "/redemption/claims?status=claimed", "vouchers", "/v1/redemption/claims", {"status": "claimed"}),
        _orders("requested", "orders_requested"),
        Task("complaints_open", "/complaints?status=open", "registry", "/v1/complaints/", {"status": "open"}),
        # public notices in their notice period or waiting to be made final (R14(3), R20(3))
        Task("notices_published", "/notices", "evaluation", "/v1/notices/", {"status": "published"}),
        Task("unread", "/notifications?unread=1", "registry", "/v1/notifications/", {"unread": "true"}),
    ),
    "bureau": (
        Task("appeals_to_decide", "/review", "vouchers", "/v1/applications/", {"status": "appealed"}),
        Task("units_to_approve", "/review/units", "registry", "/v1/units/", {"status": "applied"}),
        Task("claims_to_review", "/redemption/claims?status=claimed", "vouchers", "/v1/redemption/claims", {"status": "claimed"}),
        Task("complaints_overdue", "/complaints?status=open&overdue=1", "registry", "/v1/complaints/", {"status": "open", "overdue": "true"}),
        Task("unread", "/notifications?unread=1", "registry", "/v1/notifications/", {"unread": "true"}),
    ),
    "finance": (
        Task("payouts_due", "/finance", "payments", "/v1/payouts/due"),
        Task("payouts_to_confirm", "/finance/payouts/to-confirm", "payments", "/v1/payouts/", {"status": "ordered"}),
        Task("unread", "/notifications?unread=1", "registry", "/v1/notifications/", {"unread": "true"}),
    ),
    "expert": (Task("assignments", "/queue", "evaluation", "/v1/assignments/"),),
    "department": (
        Task("evaluations_to_forward", "/queue", "evaluation", "/v1/applications/", {"status": "submitted"}),
    ),
}


class Count(msgspec.Struct, frozen=True):
    task: Task
    #: None when the service did not answer
    total: int | None


async def counts(ctx: Ctx, tasks: tuple[Task, ...]) -> list[Count]:
    """Each task's count, asked of the services at once."""
    answers = await asyncio.gather(*(ctx.api.answer(t.service, t.path.format(org=ctx.org or "-"), **t.params, page=1, page_size=1) for t in tasks))
    return [Count(t, None if isinstance(a, ApiError) or not isinstance(a, dict) else t.total_of(a)) for t, a in zip(tasks, answers, strict=True)]


def handlers(kit: Kit) -> list[Any]:
    @kit.page(PATH)
    async def workspace(request: Request[Any, Any, Any]) -> Response[str]:
        ctx = kit.ctx(request)
        if refused := kit.need(ctx, *TASKS):
            return refused
        found = await counts(ctx, TASKS[str(ctx.role)])
        return ctx.render("workspace.html", counts=found, waiting=sum(c.total or 0 for c in found), guide_topic=ROLE_TOPICS.get(str(ctx.role)))

    return [workspace]
