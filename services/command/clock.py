"""``xciss clock …``: the test clock for rehearsing a year (dev and staging).

    xciss clock show                          the policy time now, and whether it is simulated
    xciss clock set 2026-12-31T23:59:50+08:00 every service's policy time jumps there (and runs on)
    xciss clock advance 5d                    move it on (s, m, h, d, w; negative goes back)
    xciss clock reset                         back to real time

The command speaks as the ``operator`` bus identity. On a laptop running
``xciss up`` it finds the embedded server (``XCISS_NATS_PORT``, default 4322)
and the seeds under the data directory. Production mode refuses.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from datetime import datetime

import msgspec

from services.runtime import clock
from services.runtime.bus import testclock
from services.runtime.bus.connect import connect_nats
from services.runtime.bus_identity.permissions import OPERATOR
from services.runtime.errors import DomainError
from services.runtime.settings import Settings, SettingsError


def _settings() -> Settings:
    settings = Settings.from_env()
    if settings.nats_url is None and settings.mode == "dev":  # `xciss up`'s embedded server
        settings = msgspec.structs.replace(settings, nats_url=f"nats://127.0.0.1:{os.environ.get('XCISS_NATS_PORT', '4322')}")
    return settings


def describe(sim: clock.Simulation | None) -> str:
    now = clock.local_now()
    if sim is None:
        return f"real time: {now.isoformat(timespec='seconds')} (Asia/Shanghai)"
    return (
        f"SIMULATED: {now.isoformat(timespec='seconds')} (Asia/Shanghai), "
        f"offset {sim.offset_s / 86400:+.3f} days, set by {sim.set_by} at {sim.set_at.isoformat(timespec='seconds') if sim.set_at else '?'}"
    )


async def _run(settings: Settings, args: argparse.Namespace) -> str:
    nc = await connect_nats(settings.bus(OPERATOR), "xciss-clock-cli")
    try:
        kv = await testclock.bucket(nc, create=True, replicas=settings.stream_replicas)
        current = await testclock.read(kv)
        clock.follow(current)
        who = f"cli:{getpass.getuser()}"
        if args.clock_cmd == "set":
            await testclock.store(kv, testclock.offset_for(datetime.fromisoformat(args.at), clock.wall_now()), who)
        elif args.clock_cmd == "advance":
            await testclock.store(kv, testclock.advanced(current.offset_s if current else 0.0, testclock.parse_span(args.by)), who)
        elif args.clock_cmd == "reset":
            await testclock.clear(kv)
        return describe(clock.simulation())
    finally:
        await nc.close()


def cmd_clock(args: argparse.Namespace) -> int:
    try:
        settings = _settings()
    except SettingsError as exc:
        print(f"xciss: configuration error: {exc}", file=sys.stderr)
        return 2
    if not testclock.allowed(settings) and args.clock_cmd != "show":
        print("xciss: production runs on real time: the test clock is for dev and staging only", file=sys.stderr)
        return 2
    try:
        print(asyncio.run(_run(settings, args)))
    except ValueError as exc:  # a malformed ISO time
        print(f"xciss: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"xciss: {exc.message_en} [{exc.code}]", file=sys.stderr)
        return 2
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    c = sub.add_parser("clock", help="the test clock: rehearse the year on a simulated time (dev and staging)")
    csub = c.add_subparsers(dest="clock_cmd", required=True)
    csub.add_parser("show", help="the policy time now")
    s = csub.add_parser("set", help="jump to a time, e.g. 2026-12-31T23:59:50+08:00")
    s.add_argument("at")
    a = csub.add_parser("advance", help="move on by a span: 30s, 90m, 5h, 5d, 1w (negative goes back)")
    a.add_argument("by")
    csub.add_parser("reset", help="back to real time")
    c.set_defaults(fn=cmd_clock)
