"""``/v1/clock``: the test clock over HTTP (dev and staging; absent in production).

Every service answers ``GET /v1/clock`` (the policy time it runs on, so a
tester can see that all have followed a change); registry, the bucket's owner,
also takes the operator's changes: ``PUT /v1/clock`` (jump to a time),
``POST /v1/clock/advance`` (move on by a span) and ``DELETE /v1/clock`` (back to
real time), system administrator only, each audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody

from services.runtime import clock
from services.runtime.bus import testclock
from services.runtime.http.auth import PUBLIC, access
from services.runtime.roles import Role
from services.runtime.http.app import actor_of


class ClockView(msgspec.Struct, kw_only=True):
    #: the policy time this process runs on (UTC) and the same in Asia/Shanghai
    now: datetime
    local_now: datetime
    simulated: bool
    offset_s: float = 0.0
    set_by: str | None = None
    set_at: datetime | None = None
    #: the real time, for comparison
    wall_now: datetime


class SetClock(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    #: the simulated time to jump to, with its zone (e.g. 2026-12-31T23:59:50+08:00)
    at: datetime


class AdvanceClock(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    #: a signed span: 30s, 90m, 5h, 5d, 1w, -1d
    by: str = msgspec.field(default="")


def view() -> ClockView:
    sim = clock.simulation()
    return ClockView(
        now=clock.utc_now(),
        local_now=clock.local_now(),
        simulated=sim is not None,
        offset_s=sim.offset_s if sim else 0.0,
        set_by=sim.set_by if sim else None,
        set_at=sim.set_at if sim else None,
        wall_now=clock.wall_now(),
    )


def _who(request: Request[Any, Any, Any]) -> str:
    return actor_of(request).label


def clock_controllers(owner: bool, replicas: int = 1) -> list[type[Controller]]:
    class ClockReader(Controller):
        path = "/v1/clock"
        tags = ["test clock"]

        @get("/", operation_id="readClock", summary="The policy time this service runs on (test clock; dev and staging)", **access(PUBLIC))
        async def read(self) -> ClockView:
            """The policy time (`now`, `local_now`), whether it is simulated, by whom and since when."""
            return view()

    if not owner:
        return [ClockReader]

    class ClockWriter(ClockReader):
        async def _kv(self, nats: Any) -> Any:
            return await testclock.bucket(await nats.connection(), create=True, replicas=replicas)

        async def _audit(self, request: Request[Any, Any, Any], db: Any, action: str, before: ClockView) -> ClockView:
            after = view()
            async with db.unit_of_work(actor_of(request)) as uow:
                await uow.audit(action, "clock", "simulated", before=msgspec.to_builtins(before), after=msgspec.to_builtins(after))
            return after

        @put("/", operation_id="setClock", summary="Jump every service's policy time to a simulated time (sysadmin)", **access(Role.SYSADMIN))
        async def set_time(self, request: Request[Any, Any, Any], db: NamedDependency[Any], nats: NamedDependency[Any], data: JSONBody[SetClock]) -> ClockView:
            """Every service follows within `XCISS_CLOCK_POLL_S` (1 s); time runs on from there.
            `clock.naive_time` (no zone), `clock.out_of_range` (more than 3 years away)."""
            before = view()
            await testclock.store(await self._kv(nats), testclock.offset_for(data.at, clock.wall_now()), _who(request))
            return await self._audit(request, db, "clock.set", before)

        @post("/advance", status_code=200, operation_id="advanceClock", summary="Move the simulated time on by a span (sysadmin)", **access(Role.SYSADMIN))
        async def advance(self, request: Request[Any, Any, Any], db: NamedDependency[Any], nats: NamedDependency[Any], data: JSONBody[AdvanceClock]) -> ClockView:
            """`by`: 30s, 90m, 5h, 5d, 1w (negative goes back); `clock.bad_span`, `clock.out_of_range`."""
            before = view()
            kv = await self._kv(nats)
            current = await testclock.read(kv)
            offset = testclock.advanced(current.offset_s if current else 0.0, testclock.parse_span(data.by))
            await testclock.store(kv, offset, _who(request))
            return await self._audit(request, db, "clock.advance", before)

        @delete("/", status_code=200, operation_id="resetClock", summary="Back to real time, everywhere (sysadmin)", **access(Role.SYSADMIN))
        async def reset(self, request: Request[Any, Any, Any], db: NamedDependency[Any], nats: NamedDependency[Any]) -> ClockView:
            before = view()
            await testclock.clear(await self._kv(nats))
            return await self._audit(request, db, "clock.reset", before)

    return [ClockWriter]
