"""The running platform the voucher model drives, and the model's time on the
platform's policy clock: the vouchers service (HTTP API in-process, worker,
relay, database) and a connection that publishes registry's facts."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar

from hypothesis import strategies as st
from sqlalchemy import select

from contracts import registry as ev
from contracts.envelope import Event, encode
from services.runtime import clock
from services.runtime.bus.connect import connect_nats
from services.vouchers.db.models import accounts, applications, programmes, vouchers
from tests.model import reference as ref
from tests.support.platform import Platform
from tests.support.polling import eventually

T = TypeVar("T")

#: programme years the model uses (the API takes 2023–2100; the real year stays clear)
FIRST_YEAR, LAST_YEAR = 2031, 2099


#: days passing stop this far before midnight on 31 December: only ``year_ends`` crosses it, so the
#: policy clock (which runs on during a step) is never a step's length on the other side of the model's
BEFORE_YEAR_END = timedelta(hours=2)


def policy_time(at: datetime | None) -> None:
    """Put the platform's policy clock (``services.runtime.clock``, as the test clock's
    follower does in every process) on the model's time ``at``, or back on real time.
    It is an offset from the wall clock: the service's "now" is ``at`` plus the few
    milliseconds since; technical times (tokens, outbox, inbox) stay on the wall clock."""
    clock.follow(None if at is None else clock.Simulation(offset_s=(at - clock.wall_now()).total_seconds(), set_by="model"))


class World:
    """The running platform, shared by the examples of one test."""

    #: the world of the running test (the ``world`` fixture sets it; a machine takes it)
    current: ClassVar[World | None] = None

    def __init__(self, runner: asyncio.Runner, make_settings: Callable[..., Awaitable[Any]]):
        self.runner = runner
        self.make_settings = make_settings
        self.platform: Platform | None = None
        self.nc: Any = None
        self.next_year = FIRST_YEAR
        self.restarts = 0
        self.examples = 0
        self.steps = 0
        self.outcomes: Counter[str] = Counter()

    def run(self, coro: Awaitable[T]) -> T:
        return self.runner.run(coro)  # type: ignore[arg-type]

    async def start(self) -> None:
        s = await self.make_settings(["vouchers"], voucher_expiry_interval_s=3600.0)
        self.platform = Platform(s, ["vouchers"])
        await self.platform.start()
        self.nc = await connect_nats(s.bus("operator"), "model-registry")

    async def stop(self) -> None:
        if self.nc is not None:
            await self.nc.close()
            self.nc = None
        if self.platform is not None:
            await self.platform.stop()
            self.platform = None

    def year(self) -> int:
        """A programme year no earlier example touched (fresh databases when they run out)."""
        if self.next_year > LAST_YEAR:
            self.run(self.stop())
            self.run(self.start())
            self.next_year = FIRST_YEAR
            self.restarts += 1
        y, self.next_year = self.next_year, self.next_year + 2  # the model may step into y + 1
        return y

    @property
    def p(self) -> Platform:
        assert self.platform is not None
        return self.platform

    async def publish(self, events: list[Event], waits: list[tuple[Any, str, str, int]]) -> None:
        """Publish as registry does; wait until vouchers' read model holds each (table, key column, key, version)."""
        js = self.nc.jetstream()
        for e in events:
            await js.publish(type(e).subject, encode(e), headers={"Nats-Msg-Id": e.event_id})
        db = self.p["vouchers"].db

        async def caught_up() -> bool:
            async with db.read() as s:
                for table, col, key, version in waits:
                    v = (await s.execute(select(table.c.version).where(table.c[col] == key))).scalar_one_or_none()
                    if v is None or v < version:
                        return False
            return True

        await eventually(caught_up, timeout=60, interval=0.01)

    async def read_state(self, year: int) -> dict[str, Any]:
        """Both years of the example (the second exists once the model opens it)."""
        years = (year, year + 1)
        async with self.p["vouchers"].db.read() as s:
            progs = {r.year: (r.budget_fen, r.committed_fen, r.open) for r in (await s.execute(select(programmes).where(programmes.c.year.in_(years))))}
            accts = {(r.user_id, r.year): r.committed_fen for r in (await s.execute(select(accounts).where(accounts.c.year.in_(years))))}
            apps = {r.id: (r.year, r.status, r.amount_fen) for r in (await s.execute(select(applications).where(applications.c.year.in_(years))))}
            vs = {
                r.id: (r.year, r.status, r.amount_fen, r.application_id, r.user_id, r.order_id)
                for r in (await s.execute(select(vouchers).where(vouchers.c.year.in_(years))))
            }
        return {"programmes": progs, "accounts": accts, "applications": apps, "vouchers": vs}


def diff(got: dict[str, Any], want: dict[str, Any]) -> str:
    lines = []
    for k, value in want.items():
        if got[k] != value:
            lines.append(f"{k}: service {got[k]!r}\n{' ' * len(k)}  model   {value!r}")
    return "service and model differ:\n" + "\n".join(lines)


def unit_event(unit_id: str, accepts: bool) -> Event:
    cls = ev.UnitVoucherAcceptanceGranted if accepts else ev.UnitApproved
    return cls(unit_id=unit_id, version=2, name=f"单位{unit_id[:4]}", credit_code="12410000MB0000000X", kind="university", status="approved", accepts_vouchers=accepts)


def order_event(o: ref.Order, cancelled: bool = False) -> Event:
    common: dict[str, Any] = {
        "order_id": o.order_id, "user_id": o.user_id, "unit_id": o.unit_id, "instrument_ids": ["i-1"], "amount_fen": o.fee,
        "testing_fee_fen": o.fee, "purpose": "research", "contract_sha256": o.contract, "provincial_subsidy": False,
    }
    if cancelled:
        return ev.OrderCancelled(version=4, status="cancelled", reason="用户取消", **common)
    return ev.OrderContracted(version=3, status="contracted", **common)


#: fees (fen) around the interesting edges: nothing listed, a zero amount, the caps, the budget
FEES = st.one_of(
    st.sampled_from([0, 1, 3, 4, 333_333, 1_000_000, 16_666_664, 16_666_667, 33_333_334, 40_000_000]),
    st.integers(min_value=0, max_value=40_000_000),
)
IDX = st.integers(min_value=0, max_value=10_000)


def pick(items: list[T], i: int) -> T:
    return items[i % len(items)]

