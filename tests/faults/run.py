"""One fault-injection run: start the cluster, set up the world, run the
journeys concurrently while faults are injected, wait for quiescence, check,
and return the result (whose ``line()`` is the one-line summary).

    python -m bench.faults --journeys 2000 --faults 120 --backend postgres
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from services.runtime.roles import Role
from tests.faults.checker import Result, observe, run_checks
from tests.faults.client import Api, ApiError, History
from tests.faults import natsfaults
from tests.faults.cluster import Cluster, Shape
from tests.faults.counts import redeliveries, stream_audit
from tests.faults.natsfaults import NATS_FAULTS
from tests.support.pgserver import PgServer
from tests.faults.journeys import EVENTUALLY_S, PLANS, Journey, World, _eventually, new_journey, run_journey
from tests.faults.claims import Claim, used_share
from tests.faults.redemption import Redemptions
from tests.faults import redemption_check  # noqa: F401  (registers the claim journeys' end-of-run check)
from tests.support.codes import credit_code
from tests.support.registry import SERVICE_INFO

log = logging.getLogger("xciss.faults")


@dataclass
class Config:
    backend: str = "sqlite"
    journeys: int = 500
    faults: int = 30
    concurrency: int = 48
    seed: int = 1
    pg_url: str | None = None
    auto_approve: bool = False
    ack_wait_s: float = 2.0
    #: how many faults may be under way at once
    fault_parallelism: int = 2
    quiescence_timeout_s: float = 300.0
    root: Path | None = None
    keep: bool = False
    #: what runs: one nats-server or a three-node cluster, replicas, the gateway
    shape: Shape = field(default_factory=Shape)
    #: which faults, by name, and how often relatively (None: by the shape)
    fault_weights: dict[str, int] | None = None
    #: at least this many faults on NATS servers: once the faults still to come are no more
    #: than those still missing, every further fault is a NATS one
    min_bus_faults: int = 0

    def weights(self) -> dict[str, int]:
        if self.fault_weights is not None:
            return self.fault_weights
        if self.shape.clustered:  # NATS servers take about half of the faults
            own_pg = {"postgres_restart": 1} if self.backend == "postgres" and self.shape.own_postgres else {}
            return {"kill": 3, "pause": 2, "database": 2, **own_pg, **NATS_FAULTS}
        return {"kill": 4, "pause": 3, "nats": 2, "database": 3}


@dataclass
class FaultLog:
    counts: Counter[str] = field(default_factory=Counter)
    events: list[str] = field(default_factory=list)
    #: what the faults did besides (leader changes)
    tally: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


async def setup_world(cluster: Cluster, api: Api, cfg: Config, rng: random.Random) -> World:
    """Units (registered, approved, allowed to accept vouchers; one not), their
    priced instruments, verified users, the year's programme and the users'
    voucher accounts — over the APIs, before the faults begin."""
    year = datetime.now(ZoneInfo("Asia/Shanghai")).year

    async def unit(accepts: bool, n: int) -> tuple[str, str]:
        body = {"name": f"许昌测试单位{n}", "kind": "university", "credit_code": credit_code(), "county_code": "411002", **SERVICE_INFO}
        uid = (await api.expect("registry", "POST", "/v1/units/", role=Role.UNIT, json=body, key=f"setup-unit-{n}"))["unit_id"]
        await api.expect("registry", "POST", f"/v1/units/{uid}/approve", role=Role.BUREAU, json={})
        if accepts:
            grant = {"full_time_staff": 3, "service_content": "成分分析", "service_norms": "按国家标准操作", "fees_published": True, "no_bad_credit": True}
            await api.expect("registry", "POST", f"/v1/units/{uid}/voucher-acceptance", role=Role.CENTER, json=grant)
        ins = {"unit_id": uid, "name": "液相色谱质谱联用仪", "category": "分析仪器", "original_value_fen": 20_000_000, "funding": "fiscal_full", "acceptance_date": "2024-09-20"}
        iid = (await api.expect("registry", "POST", "/v1/instruments/", role=Role.UNIT, org=uid, json=ins))["instrument_id"]
        await api.expect("registry", "POST", f"/v1/instruments/{iid}/list", role=Role.UNIT, org=uid, json={})
        price = {"name": "常规样品检测", "billing_unit": "per_sample", "price_fen": 100_000}
        pid = (await api.expect("registry", "POST", f"/v1/instruments/{iid}/prices", role=Role.UNIT, org=uid, json=price))["price_item_id"]
        return uid, pid

    async def user(n: int) -> str:
        body = {"name": f"许昌测试企业{n}", "kind": "enterprise", "classes": ["tech_sme"], "credit_code": credit_code()}
        uid = (await api.expect("registry", "POST", "/v1/users/", role=Role.USER, json=body, key=f"setup-user-{n}"))["user_id"]
        await api.expect("registry", "POST", f"/v1/users/{uid}/verify", role=Role.CENTER, json={})
        return str(uid)

    acceptors = [await unit(True, n) for n in range(4)]
    non_acceptor = await unit(False, 99)
    users = [await user(n) for n in range(max(4, cfg.journeys // 10))]
    # budget for most, not all, of the vouchers: the last applications meet an exhausted budget;
    # a low cap (15,000 CNY) makes users reach it
    budget = cfg.journeys * 180_000
    await api.expect("vouchers", "POST", "/v1/programmes/", role=Role.BUREAU, json={"year": year, "budget_fen": budget, "cap_fen": 1_500_000, "auto_approve": cfg.auto_approve})

    async def account(u: str) -> None:
        async def opened() -> bool:
            op, r = await api.call("vouchers", "POST", f"/v1/accounts/{year}", role=Role.USER, org=u, record=False)
            return r.status_code == 201 or op.code == "voucher.account_exists"

        await _eventually(f"account of {u}", opened, timeout_s=EVENTUALLY_S)

    await asyncio.gather(*(account(u) for u in users))
    # the year's redemption (R20): the evaluation year (no award budget: no award payouts here),
    # the claim window around today, and the units' bank details for their payouts
    await api.expect("evaluation", "POST", "/v1/cycles/", role=Role.BUREAU, json={"year": year, "award_budget_fen": 0})
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    window = {"opens_on": (today - timedelta(days=1)).isoformat(), "closes_on": (today + timedelta(days=2)).isoformat()}
    await api.expect("vouchers", "PUT", f"/v1/redemption/windows/{year}", role=Role.CENTER, json=window)
    for n, (uid, _) in enumerate([*acceptors, non_acceptor]):  # the non-acceptor's vouchers come from overturned appeals
        payee = {"bank_name": "中国工商银行许昌分行", "account_name": f"许昌测试单位{n}", "account_number": f"62220217080012{n:05d}"}
        await api.expect("payments", "PUT", f"/v1/payees/{uid}", role=Role.UNIT, org=uid, json=payee)
    w = World(api, cluster, year, cfg.auto_approve, acceptors, non_acceptor, users, rng)
    w.redemptions = Redemptions(w, random.Random(cfg.seed * 7 + 1), first_id=cfg.journeys)
    return w


async def inject_faults(
    cluster: Cluster, cfg: Config, rng: random.Random, flog: FaultLog, stop: asyncio.Event, busy: set[str], progress: Callable[[], int], total: int
) -> None:
    """Faults one after another on one lane, until ``stop``; ``busy`` holds the targets under a fault.
    Paced by ``progress()`` out of ``total`` journeys (order and claim journeys)."""
    weights = cfg.weights()
    names = sorted(weights)
    targets = ["registry", "vouchers", "payments", "registry", "vouchers", "payments", "evaluation"]
    while not stop.is_set():
        # paced by the workload: the next fault once its share of the journeys has started
        # (10% more faults than asked for, so the target is met before the last journeys)
        if progress() < (flog.total + len(busy) + 1) * total / (cfg.faults * 1.1):
            await asyncio.sleep(0.2)
            continue
        kind = rng.choices(names, weights=[weights[n] for n in names])[0]
        bus_missing = cfg.min_bus_faults - sum(n for k, n in flog.counts.items() if k.startswith("nats"))
        if bus_missing > 0 and cfg.faults - flog.total <= bus_missing + 1:
            kind = rng.choice([n for n in names if n.startswith("nats")])
        svc = rng.choice(targets)
        instance = rng.choice(cluster.instances[svc])
        if kind == "nats_store_full" and not (cluster.natsc and cluster.natsc.nodes[-1].tmpfs):  # no tmpfs here (say so once)
            if not any("nats_store_full" in e for e in flog.events):
                flog.events.append("nats_store_full skipped: no tmpfs could be mounted on this machine")
            continue
        if kind == "postgres_restart" and cluster.pg is None:  # no server of its own here (say so once)
            if not any("postgres_restart" in e for e in flog.events):
                flog.events.append(f"postgres_restart skipped: {PgServer.why_unavailable()}")
            continue
        target = "nats-server" if kind.startswith("nats") else ("postgres" if kind == "postgres_restart" else (svc if kind == "database" else instance))
        if target in busy:  # another lane is at it: one fault per target at a time
            await asyncio.sleep(0.1)
            continue
        busy.add(target)
        t0 = time.monotonic()
        what = target
        try:
            if kind == "kill":
                await cluster.kill_restart(instance)
            elif kind == "pause":
                await cluster.pause(instance, cfg.ack_wait_s * 1.5 + rng.random() * 2)
            elif kind == "nats":
                await cluster.restart_nats(down_s=0.5 + rng.random())
            elif kind == "postgres_restart":
                what = await cluster.restart_postgres(rng.choice(["fast", "immediate"]))
            elif kind.startswith("nats_"):
                assert cluster.natsc is not None
                what = await natsfaults.inject(cluster.natsc, kind, rng, flog.tally)
            else:
                await cluster.database_fault(svc, 2 + rng.random() * 2)
        except Exception as exc:  # noqa: BLE001 - a fault that could not be injected is reported, not counted
            flog.events.append(f"{kind} {what} failed: {exc!r}")
            log.warning("fault %s on %s failed: %r", kind, what, exc)
            await asyncio.sleep(1)
            continue
        finally:
            busy.discard(target)
        flog.counts[kind] += 1
        flog.events.append(f"{kind} {what} {time.monotonic() - t0:.1f}s")
        await asyncio.sleep(0.5 + rng.random())


async def run(cfg: Config, progress: Callable[[str], None] | None = None) -> tuple[Result, list[Journey | Claim], FaultLog]:
    say = progress or (lambda _m: None)
    rng = random.Random(cfg.seed)
    tmp = None
    if cfg.root is None:
        tmp = tempfile.TemporaryDirectory(prefix=f"xciss-faults-{cfg.backend}-")
        root = Path(tmp.name)
    else:
        root = cfg.root
    cluster = Cluster(root, cfg.backend, pg_url=cfg.pg_url, ack_wait_s=cfg.ack_wait_s, shape=cfg.shape)
    history = History()
    api = Api(cluster, history)
    journeys: list[Journey] = []
    flog = FaultLog()
    try:
        await cluster.start()
        say(f"cluster up under {root}")
        world = await setup_world(cluster, api, cfg, rng)
        say(f"world: {len(world.acceptors) + 1} units, {len(world.users)} users, programme {world.year} auto_approve={cfg.auto_approve}")

        stop = asyncio.Event()
        busy: set[str] = set()
        started, finished = [0], [0]

        red: Redemptions = world.redemptions
        # claim journeys follow the order journeys whose vouchers were used: about this many
        total = cfg.journeys + Redemptions.expected(cfg.journeys, used_share(PLANS))

        def progress() -> int:
            # every journey started, or the workload over (then the faults still missing come now)
            return total if drained.done() else min(started[0] + red.started, total - 1)

        sem = asyncio.Semaphore(cfg.concurrency)
        t0 = time.monotonic()

        async def one(i: int) -> None:
            async with sem:
                started[0] += 1
                j = new_journey(world, i)
                journeys.append(j)
                await run_journey(j, world)
                red.offer(j)
                finished[0] += 1
                if finished[0] % 100 == 0:
                    say(f"{finished[0]} journeys done, {flog.total} faults, {time.monotonic() - t0:.0f}s")

        async def workload() -> None:
            red.start()
            await asyncio.gather(*(one(i) for i in range(cfg.journeys)))
            say(f"order journeys done in {time.monotonic() - t0:.0f}s, {red.started} claims so far; the year's last claims")
            await red.drain()

        drained = asyncio.ensure_future(workload())
        tally_stop = asyncio.Event()
        tallying = asyncio.create_task(cluster.tally.run(tally_stop))
        lanes = [
            asyncio.create_task(inject_faults(cluster, cfg, random.Random(cfg.seed * 100 + i), flog, stop, busy, progress, total))
            for i in range(cfg.fault_parallelism)
        ]
        try:
            await drained
            # the target number of faults, even if the workload was quicker
            while flog.total < cfg.faults and not all(t.done() for t in lanes):
                await asyncio.sleep(0.2)
        finally:
            stop.set()
            for t in lanes:
                with contextlib.suppress(Exception):
                    await t
        say(f"workload done in {time.monotonic() - t0:.0f}s ({len(journeys)} order and {red.started} claim journeys); faults {dict(flog.counts)}; waiting for quiescence")
        await _all_running(cluster)
        quiet = await _quiescence(cluster, cfg.quiescence_timeout_s)
        tally_stop.set()
        await tallying
        await cluster.tally.scrape_all()
        result = Result(journeys=len(journeys) + red.started, faults=flog.total)
        if not quiet[0]:
            result.add("unfinished", f"no quiescence within {cfg.quiescence_timeout_s:.0f}s: {quiet[1]}")
        await count_bus(cluster, result, flog)
        ctx = await observe(world, journeys)
        await run_checks(ctx, result)
        dead = await cluster.dead_letters()
        if dead:
            result.add("unfinished", f"{dead} dead letter(s) parked")
        ambiguous = [op for op in history.ops if op.ambiguous]
        say(f"operations: {dict(history.counts())}; ambiguous: {Counter(op.name for op in ambiguous)}")
        return result, [*journeys, *red.claims], flog
    finally:
        await api.aclose()
        await cluster.close()
        if tmp is not None and not cfg.keep:
            tmp.cleanup()


async def count_bus(cluster: Cluster, result: Result, flog: FaultLog) -> None:
    """The bus counts of tests/faults/counts.py; an acknowledged event missing from its stream is lost."""
    missing, per_subject = await stream_audit(cluster)
    for m in missing:
        result.add("lost", m)
    scraped = cluster.tally.totals()
    result.extra.update(
        stream_missing=len(missing),
        relay_dedup=scraped["relay_dedup"],
        inbox_dedup=scraped["inbox_dedup"],
        redelivered=await redeliveries(cluster, per_subject),
    )
    if cluster.natsc is not None:
        result.extra["leader_changes"] = flog.tally["leader_changes"]


async def _all_running(cluster: Cluster) -> None:
    for p in cluster.procs.values():
        if not p.alive:
            p.start()
    await cluster.wait_ready(cluster.procs)


async def _quiescence(cluster: Cluster, timeout_s: float) -> tuple[bool, str]:
    deadline = time.monotonic() + timeout_s
    last = (False, "")
    quiet_in_a_row = 0
    while time.monotonic() < deadline:
        try:
            last = await cluster.quiescent()
        except (OSError, ApiError, asyncio.TimeoutError) as exc:
            last = (False, repr(exc))
        quiet_in_a_row = quiet_in_a_row + 1 if last[0] else 0
        if quiet_in_a_row >= 3:  # a relay may be between read and publish: quiet three times over
            return last
        await asyncio.sleep(0.5)
    return last


Runner = Callable[[Config], Awaitable[tuple[Result, list[Journey | Claim], FaultLog]]]
