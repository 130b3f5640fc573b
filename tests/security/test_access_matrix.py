"""Every endpoint × every role × another organisation's object (issue 5).

Organisation A gets a full set of objects (unit, listed and unlisted
instruments, price item, user, a settled order with its contract, a voucher
application and voucher, a settlement, an affiliation, a clawback after a fraud finding); every role then calls
every operation on them acting for organisation B. The table is printed at the
end of the test run (``pytest_terminal_summary``) and written to
``.xciss/test-artifacts/access-matrix-<backend>.md``; any ``LEAK`` or ``500``
fails the suite.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from services.runtime.http.auth import PUBLIC
from services.runtime.roles import Role
from services.runtime.settings import SERVICES
from tests.security import matrix
from tests.security.matrix import INTRUDERS, STAFF, WRITE
from tests.support.platform import Platform, running
from tests.support.registry import PDF, approved_unit, verified_user
from tests.support.world_a import world_a

TABLES: list[str] = []  # read by tests/conftest.py's terminal summary


def _public_operation_ids(p: Platform, service: str) -> set[str]:
    app = p[service]._lifespan.app  # type: ignore[union-attr]
    ids = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if PUBLIC in (handler.opt.get("access") or ()):
                ids.add(handler.operation_id if isinstance(handler.operation_id, str) else "")
    return ids


#: A's ids nobody outside A (and the city's staff) may see; the unit, its
#: listed instrument and price item are public by policy (M11, R9)
PRIVATE = ("account_id", "job_id", "user_id", "order_id", "document_id", "application_id", "voucher_id", "settlement_id", "instrument_id", "affiliation_id", "clawback_id", "claim_id", "complaint_id", "booking_id", "qualification_id", "feed_id", "notification_id")


async def _intruder_orgs(p: Platform) -> dict[Role, str | None]:
    unit_b = await approved_unit(p, name="许昌大学B")
    user_b = await verified_user(p, name="许昌乙企业")
    return {
        Role.ANONYMOUS: None,
        Role.USER: user_b,
        Role.UNIT: unit_b,
        Role.DEPARTMENT: "dept-b",
        Role.EXPERT: "expert-b",
        Role.PARTNER: "partner-b",
        Role.SYSADMIN: None,
        Role.SECADMIN: None,
        Role.AUDITOR: None,
        Role.CENTER: None,
        Role.BUREAU: None,
        Role.FINANCE: None,
        Role.SERVICE: None,
    }


async def test_no_role_reaches_another_organisations_objects(make_settings, backend: str) -> None:
    # the login limit would answer the later backend's login cells with 429 (the NATS bucket lives as long as the session)
    settings = await make_settings(list(SERVICES), login_rate_limit_per_minute=10_000)
    async with running(Platform(settings, SERVICES)) as p:
        ids = await world_a(p)
        private = [ids[k] for k in PRIVATE]
        orgs = await _intruder_orgs(p)
        rows: list[tuple[str, dict[Role, str]]] = []
        notes: list[str] = []
        for service in SERVICES:
            doc = (await p.call(service, "GET", "/schema/openapi.json")).json()
            for op in matrix.operations(service, doc, _public_operation_ids(p, service)):
                cells: dict[Role, str] = {}
                missing = [x for x in op.params if x not in ids]
                path = op.path
                for name in op.params:
                    path = path.replace("{" + name + "}", ids.get(name, "none"))
                body = matrix.synthesise(op.body_schema, doc, ids) if op.body_schema else None
                for role in (*INTRUDERS, *STAFF):
                    if missing:
                        cells[role] = "n/a"
                        continue
                    if role in STAFF and op.method in WRITE:
                        cells[role] = "n/a"  # would change A's world for the next rows
                        continue
                    kw: dict[str, Any] = {"params": {k: matrix.synthesise(v, doc, ids, k) for k, v in op.query.items()}}
                    if op.upload or (op.body_schema is None and op.method in ("post", "put")):
                        # a raw upload (or a body the handler reads itself)
                        kw |= {"content": PDF, "headers": {"Content-Type": "application/octet-stream"}}
                    else:
                        kw["json"] = body
                    r = await p.call(service, op.method.upper(), path, role=None if role is Role.ANONYMOUS else role, org=orgs[role], **kw)
                    cells[role] = matrix.verdict(role, op, r.status_code, r.text, private)
                    if cells[role] in ("400", "409", "LEAK", "500"):
                        notes.append(f"{service} {op.method.upper()} {op.path} as {role.value}: {r.status_code} {r.text[:300]}")
                rows.append((f"{service} {op.method.upper()} {op.path}", cells))

    roles = (*INTRUDERS, *STAFF)
    header = "| operation | " + " | ".join(r.value for r in roles) + " |"
    lines = [f"Access matrix ({backend}): every endpoint × role, acting for another organisation", "", header, "|" + "---|" * (len(roles) + 1)]
    lines += ["| " + name + " | " + " | ".join(cells[r] for r in roles) + " |" for name, cells in rows]
    counts = Counter(c for _, cells in rows for c in cells.values())
    lines += ["", "totals: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))]
    lines += ["", "cells that are not plain deny/ok:", *(f"- {n}" for n in notes)] if notes else []
    table = "\n".join(lines)
    TABLES.append(table)
    out = Path(settings.data_dir) / "access-matrix.md"
    out.write_text(table, encoding="utf-8")
    artifacts = Path(".xciss/test-artifacts")
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / f"access-matrix-{backend}.md").write_text(table, encoding="utf-8")

    bad = [(name, r.value, c) for name, cells in rows for r, c in cells.items() if c in ("LEAK", "500")]
    assert not bad, "access leaks or server errors:\n" + "\n".join(f"  {n} as {r}: {c}" for n, r, c in bad)
