"""The test clock: one platform-wide simulated time for rehearsing a year
(dev and staging modes only; anchor: Stripe's test clocks).

The simulated time is stored once, as an *offset from the wall clock*, in the
NATS key-value bucket ``XCISS_CLOCK`` (key ``simulated``): registry writes it
(its operator-only ``/v1/clock`` API) and so does the operator
(``xciss clock set|advance|reset``); every other process only reads it. Each
process follows the bucket (:class:`ClockFollower`, a read every
``XCISS_CLOCK_POLL_S`` seconds) and shifts its policy clock
(:mod:`services.runtime.clock`), so deadlines, windows, expiry and periodic
tasks all move together; time keeps running from the simulated instant.

Production mode never follows the bucket, mounts no clock API, and refuses to
start while a simulated time is stored (:mod:`services.runtime.safety`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta

import msgspec
import nats
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, NotFoundError
from nats.js.kv import KeyValue

from services.runtime import clock
from services.runtime.errors import DomainError
from services.runtime.settings import Settings

log = logging.getLogger("xciss.testclock")

KEY = "simulated"

_SPAN = re.compile(r"^([+-]?)(\d{1,6})([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
#: how far a rehearsal may move from today (either way)
MAX_OFFSET = timedelta(days=3 * 366)


class StoredClock(msgspec.Struct, frozen=True, kw_only=True):
    """The bucket's value."""

    offset_s: float
    set_by: str
    set_at: datetime


def allowed(settings: Settings) -> bool:
    """Whether this deployment may run on a simulated clock (not in production)."""
    return settings.mode != "prod"


def parse_span(text: str) -> timedelta:
    """``5d``, ``-2h``, ``90m``, ``30s``, ``1w`` → a signed duration."""
    m = _SPAN.match(text.strip())
    if m is None:
        raise DomainError(
            "clock.bad_span", "时长格式应为数字加单位，如 5d、-2h、90m", "a span is a number and a unit, e.g. 5d, -2h, 90m", status=422, field="by"
        )
    sign = -1 if m.group(1) == "-" else 1
    return sign * timedelta(**{_UNITS[m.group(3)]: int(m.group(2))})


def offset_for(target: datetime, wall: datetime) -> float:
    """The offset that makes ``wall`` read as ``target``."""
    if target.tzinfo is None:
        raise DomainError("clock.naive_time", "时间必须带时区（如 +08:00）", "the time needs a zone (e.g. +08:00)", status=422, field="at")
    return _bounded((target - wall).total_seconds())


def advanced(current_offset_s: float, span: timedelta) -> float:
    return _bounded(current_offset_s + span.total_seconds())


def _bounded(offset_s: float) -> float:
    if abs(offset_s) > MAX_OFFSET.total_seconds():
        raise DomainError(
            "clock.out_of_range",
            "模拟时间距今不得超过3年",
            "the simulated time must stay within 3 years of today",
            status=422,
            max_days=MAX_OFFSET.days,
        )
    return offset_s


def simulation_of(stored: StoredClock | None, revision: int = 0) -> clock.Simulation | None:
    if stored is None:
        return None
    return clock.Simulation(offset_s=stored.offset_s, set_by=stored.set_by, set_at=stored.set_at, revision=revision)


async def bucket(nc: nats.NATS, *, create: bool, replicas: int = 1) -> KeyValue:
    """The bucket; its owner (registry, or the operator) creates it when missing,
    with ``replicas`` copies (``XCISS_STREAM_REPLICAS``, as the streams)."""
    from services.runtime.bus.plan import CLOCK_BUCKET

    js = nc.jetstream(timeout=5.0)
    try:
        return await js.key_value(CLOCK_BUCKET)
    except (BucketNotFoundError, NotFoundError):
        if not create:
            raise
        return await js.create_key_value(bucket=CLOCK_BUCKET, history=5, replicas=replicas, description="xciss test clock (dev/staging only)")


async def read(kv: KeyValue) -> clock.Simulation | None:
    try:
        entry = await kv.get(KEY)
    except KeyNotFoundError:
        return None
    if not entry.value:
        return None
    return simulation_of(msgspec.json.decode(entry.value, type=StoredClock), entry.revision or 0)


async def store(kv: KeyValue, offset_s: float, set_by: str) -> clock.Simulation:
    """Store a simulated time and adopt it in this process at once."""
    value = StoredClock(offset_s=offset_s, set_by=set_by[:200], set_at=clock.wall_now())
    revision = await kv.put(KEY, msgspec.json.encode(value))
    sim = simulation_of(value, revision)
    clock.follow(sim)
    return sim  # type: ignore[return-value]


async def clear(kv: KeyValue) -> None:
    """Back to real time, everywhere."""
    try:
        await kv.purge(KEY)
    except KeyNotFoundError:
        pass
    clock.follow(None)


class ClockFollower:
    """Keeps this process's policy clock on the stored simulated time.

    ``connection`` gives the process's NATS connection (or None while it is
    down); while the bus or the bucket is unreachable the last known time
    stays in force."""

    def __init__(self, connection: Callable[[], nats.NATS | None], poll_s: float = 1.0, name: str = "") -> None:
        self.connection = connection
        self.poll_s = poll_s
        self.name = name
        self._kv: KeyValue | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"{self.name}-clock")

    async def stop(self) -> None:
        """Cancel the reader; a shutdown never waits more than a moment for it."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=2.0)

    async def poll(self) -> None:
        nc = self.connection()
        if nc is None or not nc.is_connected:
            return
        if self._kv is None:
            try:
                self._kv = await bucket(nc, create=False)
            except (BucketNotFoundError, NotFoundError):
                return  # nobody has created it: real time
        sim = await read(self._kv)
        current = clock.simulation()
        if (sim is None) != (current is None) or (sim is not None and current is not None and sim.revision != current.revision):
            log.info("%s: the test clock is now %s", self.name, "real time" if sim is None else f"offset {sim.offset_s:+.0f}s by {sim.set_by}")
            clock.follow(sim)

    async def _run(self) -> None:
        while True:
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the bus is down or the bucket is being recreated
                self._kv = None
                log.debug("%s: reading the test clock failed (%s)", self.name, type(exc).__name__)
            await asyncio.sleep(self.poll_s)


async def follow_once(settings: Settings, identity: str) -> None:
    """A one-shot task (``xciss task``) runs on the platform's policy time: the
    test clock's if one is set (dev and staging), else real time."""
    from services.runtime.bus.connect import connect_nats

    if not (allowed(settings) and settings.nats_url):
        return
    try:
        nc = await asyncio.wait_for(connect_nats(settings.bus(identity), f"xciss-task-{identity}"), 10)
    except Exception:  # noqa: BLE001 - no bus: real time
        return
    try:
        clock.follow(await read(await bucket(nc, create=False)))
    except Exception:  # noqa: BLE001 - no bucket: real time
        pass
    finally:
        await nc.close()
