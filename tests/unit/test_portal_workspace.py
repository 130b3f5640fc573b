"""The workspace's counts (services/gateway/portal/workspace.py) without a platform:
each is the total of its list call, asked with the task's filter, and a service that
does not answer shows no number rather than a zero."""

from __future__ import annotations

import asyncio
from typing import Any

from services.gateway.portal.client import ApiError
from services.gateway.portal.workspace import TASKS, counts


class _Api:
    def __init__(self, answers: dict[tuple[str, str], Any]) -> None:
        self.answers, self.asked = answers, []

    async def answer(self, service: str, path: str, **params: Any) -> Any:
        self.asked.append((service, path, params))
        return self.answers[(service, params.get("status") or params.get("verified") or path)]


class _Ctx:
    def __init__(self, api: _Api, org: str | None = None) -> None:
        self.api, self.org = api, org


def test_each_count_is_its_list_total_and_an_unanswered_service_shows_none() -> None:
    api = _Api(
        {
            ("vouchers", "submitted"): {"items": [{}], "total": 7},
            ("registry", "false"): ApiError(503, {"code": "upstream.unavailable"}),
            ("vouchers", "claimed"): {"items": [], "total": 0},
            ("registry", "requested"): {"items": [{}], "total": 2},
            ("registry", "open"): {"items": [{}], "total": 3},
            ("registry", "/v1/notifications/"): {"items": [{}], "total": 4},
            ("evaluation", "published"): {"items": [{}], "total": 1},
        }
    )
    found = asyncio.run(counts(_Ctx(api), TASKS["center"]))  # type: ignore[arg-type]
    assert [(c.task.key, c.total) for c in found] == [
        ("applications_to_review", 7),
        ("users_to_verify", None),  # shown as "—", never 0
        ("claims_to_review", 0),
        ("orders_requested", 2),
        ("complaints_open", 3),
        ("notices_published", 1),  # a notice in its period, or to be made final
        ("unread", 4),  # the center's message centre: an objection to handle
    ]
    # one item a call: the total is all that is read
    assert all(params["page_size"] == 1 and params["page"] == 1 for _, _, params in api.asked)
    assert ("registry", "/v1/users/", {"verified": "false", "page": 1, "page_size": 1}) in api.asked
    assert ("registry", "/v1/complaints/", {"status": "open", "page": 1, "page_size": 1}) in api.asked


def test_a_units_listings_due_are_its_overdue_and_due_soon_instruments() -> None:
    """M11(3): the unit's own compliance summary, its overdue and due-soon counts added up."""
    summary = {"total": 9, "counts": {"listed_on_time": 4, "overdue": 2, "due_soon": 1, "pending": 2}, "attention": []}
    api = _Api({("registry", "/v1/compliance/units/unit-7"): summary})
    task = next(t for t in TASKS["unit"] if t.key == "listings_due")
    found = asyncio.run(counts(_Ctx(api, org="unit-7"), (task,)))  # type: ignore[arg-type]
    assert [c.total for c in found] == [3] and api.asked[0][1] == "/v1/compliance/units/unit-7"


def test_every_role_with_tasks_lands_on_the_workspace_and_the_officers_on_their_pages() -> None:
    from services.gateway.portal.session import WORKSPACES

    assert {role for role, path in WORKSPACES.items() if path == "/workspace"} == set(TASKS)
    assert {role: WORKSPACES[role] for role in ("sysadmin", "secadmin", "auditor")} == {"sysadmin": "/accounts", "secadmin": "/accounts", "auditor": "/audit"}


def test_the_orders_filter_offers_the_registrys_states_in_their_order() -> None:
    """The portal may not import the registry: its list of states is tied to the registry's here."""
    from services.gateway.portal.orders import ORDER_STATES
    from services.registry.domain.orders import OrderStatus

    assert list(ORDER_STATES) == [str(s) for s in OrderStatus]


def test_a_department_is_not_counted_orders_the_registry_never_shows_it() -> None:
    """listOrders answers a department 403: a count of it would show "—" for ever."""
    from services.registry.api.orders import STAFF as ORDER_READERS

    assert "department" not in {str(r) for r in ORDER_READERS}
    assert [t.key for t in TASKS["department"]] == ["evaluations_to_forward"]
    assert not any(t.path == "/v1/orders/" for t in TASKS["department"])
