"""The demo accounts the sign-in page offers when ``XCISS_DEMO`` is on: the
registry's local accounts named ``demo-*`` that ``xciss up``'s demo loader
creates (``services/command/demo.py``), read from the registry's account list
with a short-lived system administrator's token. One per business role, in
the order the page shows them."""

from __future__ import annotations

from typing import Any

import msgspec

from services.gateway.upstreams import Upstreams
from services.runtime.roles import Role
from services.runtime.http.auth import issue_token
from services.runtime.settings import Settings

#: the password of every demo account (printed by ``xciss up``)
DEMO_PASSWORD = "Xuchang-Demo-2026"
DEMO_PREFIX = "demo-"
#: the business roles the page offers, in its order
ROLES = ("user", "unit", "center", "bureau", "department", "expert", "finance")


class DemoAccountsUnavailable(RuntimeError):
    """The registry did not list its accounts."""


async def demo_accounts(settings: Settings, client: Any, upstreams: Upstreams) -> list[dict[str, Any]]:
    """The active ``demo-*`` accounts of the business roles: role, org, name, username."""
    token = issue_token(settings, subject="portal-demo-accounts", role=Role.SYSADMIN, ttl_s=60)
    found: list[dict[str, Any]] = []
    for role in ROLES:
        # one page (100) of the role's accounts, oldest first: the demo loader creates the demo-*
        # accounts before anybody else's, so each is among the first of its role
        r = await upstreams["registry"].request(
            client, "GET", f"/v1/accounts/?role={role}&status=active&page_size=100", headers={"Authorization": f"Bearer {token}"}
        )
        if r.status_code != 200:
            raise DemoAccountsUnavailable(f"GET /v1/accounts/ answered {r.status_code}")
        items = msgspec.json.decode(r.content)["items"]
        found += [
            {"role": a["role"], "org": a["org"], "name": a["display_name"] or a["username"], "username": a["username"]}
            for a in items
            if a["username"].startswith(DEMO_PREFIX)
        ][:1]
    return found
