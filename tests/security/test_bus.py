"""The bus as an attacker sees it (issue 14): every refusal the permission
table promises, tried against the embedded server as ``xciss up`` starts it
and against a 3-node JetStream cluster the test starts itself; and the two
attacks of the probe (a forged award, a forged answer to "use this voucher")
against the running payments service.

Each case prints its count of attempts and refusals; the counts are repeated
in the test run's summary ("bus attacks")."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import nats
import pytest
from sqlalchemy import func, select

from contracts import registry as ev
from contracts.commands import USE_VOUCHER
from contracts.envelope import encode
from contracts.evaluation import AwardApproved, CycleOpened
from contracts.subjects import DEADLETTER_STREAM, PRODUCERS, durable_name, stream_name
from services.payments.db.models import order_view, payouts, settlements
from services.runtime.roles import Role
from services.runtime.bus_identity.credentials import BusAccess, new_seed, write_secret
from services.runtime.bus_identity.permissions import GATEWAY, OPERATOR, inbox_prefix
from services.runtime.bus.plan import BUCKETS
from services.command.natsserver import EmbeddedNats
from tests.support.bus import Probe, probe
from tests.support.natscluster import NatsCluster
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.ports import free_port
from tests.support.vouchers import uid

#: "bus[kind] who: N attempts, N refused" lines for the run's summary
SUMMARY: list[str] = []

PARTNER = "partner-provincial"
#: who an attacker may have become: any identity but the one whose power it wants
ATTACKERS = (*PRODUCERS, GATEWAY, PARTNER)
ALL_IDENTITIES = (*ATTACKERS, OPERATOR)

Connect = Callable[[str, int], BusAccess]


@pytest.fixture(params=["embedded", "cluster"])
def secured_bus(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Connect]]:
    credentials = tmp_path / "credentials"
    if request.param == "embedded":  # exactly as `xciss up` starts it (services/command/up.py)
        server = EmbeddedNats(tmp_path / "js", free_port(), credentials_dir=credentials, partners=("provincial",), log_file=tmp_path / "nats.log")
        server.start()
        yield "embedded", lambda identity, node: server.access(identity)
        server.stop()
    else:
        cluster = NatsCluster(tmp_path / "cluster", credentials, partners=("provincial",))
        cluster.start()
        yield "cluster", cluster.access
        cluster.stop()


class Tally:
    """Attempts that must be refused, and allowed controls that must not be."""

    def __init__(self, who: str, p: Probe):
        self.who = who
        self.p = p
        self.attempts = 0
        self.refused = 0
        self.not_refused: list[str] = []

    async def _violation_for(self, subject: str, timeout: float) -> bool:
        def hits() -> list[Exception]:
            # nats-py lower-cases the server's "-ERR 'Permissions Violation for ... to "<subject>"'"
            return [e for e in self.p.errors if "permissions violation" in str(e).lower() and f'"{subject.lower()}"' in str(e).lower()]

        try:
            hit = await eventually(hits, timeout=timeout, interval=0.01)
        except AssertionError:
            return False
        for e in hit:
            self.p.errors.remove(e)
        return True

    async def publish(self, subject: str, *, allowed: bool = False) -> None:
        await self.p.nc.publish(subject, b'{"forged": true}')
        await self.p.nc.flush()
        await self._count(subject, allowed)

    async def subscribe(self, subject: str, *, allowed: bool = False) -> None:
        sub = await self.p.nc.subscribe(subject)
        await self.p.nc.flush()
        await self._count(subject, allowed)
        if allowed:
            await sub.unsubscribe()

    async def _count(self, subject: str, allowed: bool) -> None:
        if allowed:  # a control: the same connection may do what its identity may
            assert not await self._violation_for(subject, 0.3), f"{self.who} was refused {subject}, which it may do"
            return
        self.attempts += 1
        if await self._violation_for(subject, 5.0):
            self.refused += 1
        else:
            self.not_refused.append(subject)


async def _attack_as(identity: str, access: BusAccess) -> Tally:
    t = Tally(identity, await probe(access))
    try:
        for producer in PRODUCERS:  # speaking in another service's name
            if producer != identity:
                await t.publish(f"{producer}.award.approved.v1")
                await t.publish(f"deadletter.{producer}.forged")
        if identity in PRODUCERS:
            await t.publish(f"{identity}.probe.checked.v1", allowed=True)
        if identity != "vouchers":  # answering vouchers' command
            await t.subscribe(USE_VOUCHER)
            await t.subscribe("cmd.vouchers.>")
        for other in ALL_IDENTITIES:  # reading or answering into another's inbox
            if other != identity:
                await t.subscribe(f"{inbox_prefix(other)}.>")
                await t.publish(f"{inbox_prefix(other)}.forged-reply")
        await t.subscribe(f"{inbox_prefix(identity)}.mine", allowed=True)
        await t.subscribe("_INBOX.>")  # the default prefix belongs to nobody
        for bucket in BUCKETS:  # writing another's bucket
            if bucket.owner != identity:
                await t.publish(f"$KV.{bucket.name}.forged")
                await t.publish(f"$JS.API.STREAM.PURGE.{bucket.stream}")
                await t.publish(f"$JS.API.STREAM.DELETE.{bucket.stream}")
        for stream in [*(stream_name(p) for p in PRODUCERS), DEADLETTER_STREAM]:  # the streams themselves
            await t.publish(f"$JS.API.STREAM.PURGE.{stream}")
            await t.publish(f"$JS.API.STREAM.DELETE.{stream}")
            await t.publish(f"$JS.API.STREAM.MSG.DELETE.{stream}")
        # another service's durable consumer (taking its messages)
        victim = "payments" if identity != "payments" else "vouchers"
        durable = durable_name(victim, "evaluation.award.approved.v1")
        await t.publish(f"$JS.API.CONSUMER.MSG.NEXT.EVALUATION.{durable}")
        await t.publish(f"$JS.API.CONSUMER.DELETE.EVALUATION.{durable}")
    finally:
        await t.p.close()
    return t


async def test_each_identity_speaks_only_in_its_own_name(secured_bus: tuple[str, Connect]) -> None:
    kind, connect = secured_bus
    total = refused = 0
    failures: list[str] = []
    for node, identity in enumerate(ATTACKERS):  # spread over the cluster's nodes
        t = await _attack_as(identity, connect(identity, node))
        line = f"bus[{kind}] {identity}: {t.attempts} attempts, {t.refused} refused"
        print(line)
        SUMMARY.append(line)
        total, refused = total + t.attempts, refused + t.refused
        failures += [f"{identity} -> {s}" for s in t.not_refused]
    SUMMARY.append(f"bus[{kind}] all identities: {total} attempts, {refused} refused")
    assert not failures, f"not refused: {failures}"
    assert total > 150 and refused == total


async def test_nobody_connects_without_a_known_key(secured_bus: tuple[str, Connect], tmp_path: Path) -> None:
    kind, connect = secured_bus
    operator = connect("operator", 0)
    url = operator.url
    tls = {"tls": operator.ssl_context()} if operator.tls else {}
    stranger = tmp_path / "stranger.nk"
    write_secret(stranger, new_seed())
    attempts = {
        "anonymous": {},
        "a user and password": {"user": "xciss", "password": "xciss"},
        "a token": {"token": "xciss"},
        "an unknown nkey": {"nkeys_seed": str(stranger)},
    }
    refused = 0
    for how, options in attempts.items():
        try:
            nc = await nats.connect(url, connect_timeout=3, allow_reconnect=False, max_reconnect_attempts=0, error_cb=_ignore, **tls, **options)
        except Exception as exc:
            assert "authorization violation" in str(exc).lower(), (how, exc)
            refused += 1
        else:
            await nc.close()
            pytest.fail(f"{how} connected to the {kind} bus")
    if operator.tls:  # the production shape: a known key without TLS is refused too
        try:
            nc = await nats.connect(url, connect_timeout=3, allow_reconnect=False, max_reconnect_attempts=0, error_cb=_ignore, nkeys_seed=str(operator.seed_file))
        except Exception:  # noqa: BLE001 - the server requires TLS
            refused += 1
        else:
            await nc.close()
            pytest.fail(f"a plain-text connection reached the {kind} bus")
        attempts["the operator's key without TLS"] = {}
    line = f"bus[{kind}] connections without a known key or without TLS: {len(attempts)} attempts, {refused} refused"
    print(line)
    SUMMARY.append(line)
    # and every identity with its own key does connect
    for node, identity in enumerate(ALL_IDENTITIES):
        p = await probe(connect(identity, node))
        await p.close()


async def _ignore(exc: Exception) -> None:
    return None


# -- the probe's attacks against the running payments service -------------------------------


async def test_a_forged_award_makes_no_payout(make_settings) -> None:
    settings = await make_settings(["payments"])
    year = 2032
    async with running(Platform(settings, ["payments"])) as p:
        forged_unit, real_unit = uid(), uid()
        forged = AwardApproved(award_id=uid(), unit_id=forged_unit, year=year, grade="excellent", amount_fen=12_345_678_900, notice_id="n-forged")
        refused = 0
        for identity in ("registry", "vouchers", "payments", GATEWAY):
            t = Tally(identity, await probe(settings.bus(identity)))
            try:
                await t.publish(forged.subject)
                await t.p.nc.publish(forged.subject, encode(forged), headers={"Nats-Msg-Id": forged.event_id})
                await t.p.nc.flush()
            finally:
                await t.p.close()
            refused += t.refused
        # evaluation's own award arrives: the pipeline works, so the absence of the forged one means something
        cycle = CycleOpened(year=year, indicator_set_version=f"{year}.1", award_budget_fen=2_000_000_00, excellent_award_fen=5_000_000, good_award_fen=3_000_000)
        real = AwardApproved(award_id=uid(), unit_id=real_unit, year=year, grade="good", amount_fen=3_000_000, notice_id="n-real")
        nc = await nats.connect(**_options(settings.bus("evaluation")))
        try:
            js = nc.jetstream()
            for e in (cycle, real):
                await js.publish(e.subject, encode(e), headers={"Nats-Msg-Id": e.event_id})
        finally:
            await nc.close()
        db = p["payments"].db

        async def real_posted() -> bool:
            async with db.read() as s:
                return (await s.execute(select(func.count()).select_from(payouts).where(payouts.c.unit_id == real_unit))).scalar_one() == 1

        await eventually(real_posted)
        async with db.read() as s:
            assert (await s.execute(select(func.count()).select_from(payouts).where(payouts.c.unit_id == forged_unit))).scalar_one() == 0
        print(f"forged award: 4 attempts, {refused} refused; payouts for the forged unit: 0")
        SUMMARY.append(f"forged award (4 identities): 4 attempts, {refused} refused, 0 payouts")
        assert refused == 4


async def test_a_forged_voucher_answer_settles_nothing(make_settings) -> None:
    settings = await make_settings(["payments"])
    async with running(Platform(settings, ["payments"])) as p:
        user, unit, order, fee = uid(), uid(), uid(), 1_000_000
        facts = [
            ev.OrderContracted(order_id=order, version=3, user_id=user, unit_id=unit, instrument_ids=[uid()], status="contracted", amount_fen=fee,
                               testing_fee_fen=fee, purpose="research", contract_sha256="0" * 64, provincial_subsidy=False),
            ev.OrderResultsDelivered(order_id=order, version=6, user_id=user, unit_id=unit, instrument_ids=[uid()], status="results_delivered",
                                     amount_fen=fee, testing_fee_fen=fee, purpose="research", service_hours=4),
        ]
        nc = await nats.connect(**_options(settings.bus("registry")))  # registry's facts, in registry's name
        try:
            for e in facts:
                await nc.jetstream().publish(e.subject, encode(e), headers={"Nats-Msg-Id": e.event_id})
        finally:
            await nc.close()
        db = p["payments"].db

        async def order_seen() -> bool:
            async with db.read() as s:
                return (await s.execute(select(func.count()).select_from(order_view).where(order_view.c.order_id == order))).scalar_one() == 1

        await eventually(order_seen)
        # every identity but vouchers tries to answer "use this voucher" with a voucher worth ten million yuan
        answered: list[str] = []
        tallies = []
        for identity in ("registry", "evaluation", "payments", GATEWAY):
            t = Tally(identity, await probe(settings.bus(identity)))

            async def forge(msg, who=identity):  # noqa: ANN001
                answered.append(who)
                await msg.respond(b'{"ok": true, "amount_fen": 1000000000, "voucher_id": "forged-voucher", "year": 2026}')

            await t.p.nc.subscribe(USE_VOUCHER, cb=forge)
            await t.p.nc.flush()
            t.attempts += 1
            t.refused += await t._violation_for(USE_VOUCHER, 5.0)
            tallies.append(t)
        try:
            r = await p.call("payments", "POST", "/v1/settlements/", role=Role.USER, org=user, json={"order_id": order})
        finally:
            for t in tallies:
                await t.p.close()
        assert r.status_code == 503 and r.json()["code"] == "command.no_responders", r.text  # nobody may answer but vouchers
        assert answered == []
        async with db.read() as s:
            assert (await s.execute(select(func.count()).select_from(settlements).where(settlements.c.order_id == order))).scalar_one() == 0
        refused = sum(t.refused for t in tallies)
        print(f"forged voucher answer: 4 attempts, {refused} refused; settlements: 0")
        SUMMARY.append(f"forged voucher answer (4 identities): 4 attempts, {refused} refused, 0 settlements")
        assert refused == 4


def _options(access: BusAccess) -> dict[str, object]:
    return {"servers": access.url, "allow_reconnect": False, **access.connect_options()}
