"""The audit trail as an auditor meets it: every decision is a row of a hash
chain; `xciss audit verify` finds the first edited, deleted, inserted or
reordered row; old rows can be pruned only past 180 days and the rest still
verifies; only the audit administrator reads it over HTTP. Both databases."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import delete, insert, select, text, update

from contracts.registry import UnitApproved
from services.runtime.db import audit_chain as audit
from services.command import cli
from services.runtime.roles import Role
from services.runtime.db.unit_of_work import Actor
from services.runtime.service import create_database, load_spec
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import SERVICES, Settings
from tests.support.codes import credit_code
from tests.support.platform import Platform, running

CENTER = Actor(subject="center-wang", role="center")


async def _decide(db: ServiceDatabase, i: int, actor: Actor = CENTER) -> None:
    async with db.unit_of_work(actor, correlation_id=f"corr-{i}") as uow:
        await uow.audit("thing.approve", "thing", f"t{i}", reason=f"材料齐全 {i}", before={"status": "submitted"}, after={"status": "approved", "amount_fen": 1000 * i})


async def _verify(db: ServiceDatabase) -> audit.Verification:
    async with db.read() as s:
        return await audit.verify(s, db.metadata)


async def _sql(db: ServiceDatabase, stmt: Any) -> None:
    async with db.sessions() as s, s.begin():
        await s.execute(stmt)


@pytest.fixture
async def registry_db(make_settings: Callable[..., Awaitable[Settings]]) -> Any:
    settings = await make_settings(["registry"])
    db = create_database(load_spec("registry"), settings)
    try:
        yield settings, db
    finally:
        await db.dispose()


async def test_concurrent_decisions_form_one_unbroken_chain(registry_db: Any) -> None:
    _, db = registry_db

    async def two(i: int) -> None:
        async with db.unit_of_work(CENTER) as uow:
            await uow.audit("thing.submit", "thing", f"t{i}", after={"i": i})
            await uow.audit("thing.approve", "thing", f"t{i}", before={"i": i}, after={"i": i, "ok": True})

    await asyncio.gather(*(two(i) for i in range(30)))
    result = await _verify(db)
    assert result.ok, result.summary("registry")
    assert (result.rows, result.first_seq, result.last_seq) == (60, 1, 60)
    log = db.metadata.tables["audit_log"]
    async with db.read() as s:
        rows = (await s.execute(select(log.c.seq, log.c.object_id, log.c.action).order_by(log.c.seq))).all()
    # a transaction's rows are adjacent and in the order they were recorded
    for first, second in zip(rows[::2], rows[1::2], strict=True):
        assert (first.action, second.action) == ("thing.submit", "thing.approve") and first.object_id == second.object_id


async def test_a_failed_transaction_leaves_no_gap(registry_db: Any) -> None:
    _, db = registry_db
    await _decide(db, 1)
    with pytest.raises(RuntimeError):
        async with db.unit_of_work(CENTER) as uow:
            await uow.audit("thing.approve", "thing", "t-lost")
            raise RuntimeError("the use case failed")
    await _decide(db, 2)
    result = await _verify(db)
    assert result.ok and (result.rows, result.last_seq) == (2, 2)


async def test_a_bulk_unit_of_work_keeps_each_requests_actor_correlation_and_trace(registry_db: Any) -> None:
    """Many requests decided in one transaction (vouchers' batches): each
    share's events and audit rows carry its own actor, correlation id and
    trace; they are written at commit, or not at all."""
    _, db = registry_db
    await _decide(db, 1)
    woken: list[int] = []
    db.on_events.append(lambda: woken.append(1))
    shares = [(Actor(subject=f"user-{i}", role="user"), f"corr-b{i}", {"traceparent": f"00-{i:032x}-{i:016x}-01"}) for i in range(1, 4)]

    async def batch(fail: bool) -> None:
        async with db.unit_of_work(bulk=True) as uow:
            for actor, corr, carrier in shares:
                share = uow.on_behalf_of(actor, corr, carrier=carrier)
                unit = f"unit-{corr}"
                await share.emit(UnitApproved(unit_id=unit, version=1, name="单位", credit_code=credit_code(), kind="enterprise", status="approved"))
                await share.audit("unit.approve", "unit", unit, after={"status": "approved"})
            if fail:
                raise RuntimeError("the batch failed")

    with pytest.raises(RuntimeError):
        await batch(fail=True)
    assert woken == []
    await batch(fail=False)
    assert woken == [1]

    result = await _verify(db)
    assert result.ok and (result.rows, result.last_seq) == (4, 4), result.summary("registry")
    log, outbox = db.metadata.tables["audit_log"], db.metadata.tables["outbox"]
    async with db.read() as s:
        audited = (await s.execute(select(log.c.actor, log.c.correlation_id, log.c.object_id).where(log.c.seq > 1).order_by(log.c.seq))).all()
        events = (await s.execute(select(outbox.c.payload, outbox.c.headers).order_by(outbox.c.id))).all()
    assert [tuple(r) for r in audited] == [(a.subject, corr, f"unit-{corr}") for a, corr, _ in shares]
    sent = [(msgspec.json.decode(payload)["correlation_id"], headers) for payload, headers in events]
    assert sent == [(corr, carrier) for _, corr, carrier in shares]


def _rehash(row: dict[str, Any]) -> str:
    return audit.row_hash(row)


async def _row(db: ServiceDatabase, seq: int) -> dict[str, Any]:
    log = db.metadata.tables["audit_log"]
    async with db.read() as s:
        return dict((await s.execute(select(log).where(log.c.seq == seq))).mappings().one())


TAMPERING = ["edit_reason", "edit_after", "delete_middle", "delete_last", "change_hash", "swap_rows", "forge_appended_row"]


@pytest.mark.parametrize("tamper", TAMPERING)
async def test_verify_finds_the_first_tampered_row(registry_db: Any, tamper: str) -> None:
    _, db = registry_db
    for i in range(1, 7):
        await _decide(db, i)
    assert (await _verify(db)).ok
    log = db.metadata.tables["audit_log"]
    expected: tuple[int, str]
    if tamper == "edit_reason":
        await _sql(db, update(log).where(log.c.seq == 3).values(reason="已改"))
        expected = (3, "edited")
    elif tamper == "edit_after":
        await _sql(db, update(log).where(log.c.seq == 4).values(after={"status": "approved", "amount_fen": 999_999}))
        expected = (4, "edited")
    elif tamper == "delete_middle":
        await _sql(db, delete(log).where(log.c.seq == 3))
        expected = (3, "deleted")
    elif tamper == "delete_last":
        await _sql(db, delete(log).where(log.c.seq == 6))
        expected = (6, "deleted")
    elif tamper == "change_hash":
        await _sql(db, update(log).where(log.c.seq == 2).values(row_hash="f" * 64))
        expected = (2, "edited")
    elif tamper == "swap_rows":  # rows 2 and 3 exchange places
        await _sql(db, update(log).where(log.c.seq == 2).values(seq=-2))
        await _sql(db, update(log).where(log.c.seq == 3).values(seq=2))
        await _sql(db, update(log).where(log.c.seq == -2).values(seq=3))
        expected = (2, "reordered")
    else:  # a well-formed row appended behind the application's back
        last = await _row(db, 6)
        forged = {k: v for k, v in last.items() if k != "id"} | {"seq": 7, "prev_hash": last["row_hash"], "actor": "intruder", "object_id": "t-forged"}
        forged["row_hash"] = _rehash(forged)
        await _sql(db, insert(log).values(**forged))
        expected = (7, "inserted")
    result = await _verify(db)
    assert not result.ok
    assert result.broken is not None and (result.broken.seq, result.broken.kind) == expected, result.summary("registry")
    assert "TAMPERED" in result.summary("registry")


async def _cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, *argv: str) -> int:
    monkeypatch.setenv("XCISS_DATA_DIR", str(settings.data_dir))
    for s in SERVICES:
        monkeypatch.delenv(f"XCISS_{s.upper()}_DATABASE_URL", raising=False)
    for s, url in settings.database_urls.items():
        monkeypatch.setenv(f"XCISS_{s.upper()}_DATABASE_URL", url)

    def run() -> int:
        with pytest.raises(SystemExit) as info:
            cli.main(list(argv))
        return int(info.value.code or 0)

    return await asyncio.to_thread(run)


async def test_the_verify_command_summarises_or_names_the_broken_row(registry_db: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    settings, db = registry_db
    for i in range(1, 4):
        await _decide(db, i)
    assert await _cli(settings, monkeypatch, "audit", "verify", "registry") == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("registry: audit chain intact: 3 rows, seq 1..3")
    log = db.metadata.tables["audit_log"]
    await _sql(db, update(log).where(log.c.seq == 2).values(actor="someone-else"))
    assert await _cli(settings, monkeypatch, "audit", "verify", "registry") == 1
    out = capsys.readouterr().out
    assert "TAMPERED at seq 2" in out and "edited" in out


async def _old_rows(db: ServiceDatabase, ages_days: list[int]) -> None:
    now = datetime.now(UTC)
    rows = [
        {"at": now - timedelta(days=d), "actor": "center-li", "actor_role": "center", "action": "thing.approve", "object_type": "thing", "object_id": f"old{k}",
         "reason": None, "before": None, "after": {"k": k}, "correlation_id": None}
        for k, d in enumerate(ages_days)
    ]
    async with db.sessions() as s, s.begin():
        await audit.append(s, db.metadata, rows)


async def test_prune_retention_edge_is_180_days(registry_db: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The policy edge: a date 179 days back is refused, 180 days back is allowed."""
    settings, db = registry_db
    await _old_rows(db, [400, 20])
    today = datetime.now(UTC).date()
    assert await _cli(settings, monkeypatch, "audit", "prune", "registry", "--before", (today - timedelta(days=179)).isoformat()) == 1
    assert "180 days" in capsys.readouterr().err
    assert (await _verify(db)).rows == 2
    assert await _cli(settings, monkeypatch, "audit", "prune", "registry", "--before", (today - timedelta(days=180)).isoformat()) == 0
    assert "pruned 1 audit rows" in capsys.readouterr().out
    assert (await _verify(db)).ok


async def test_prune_keeps_180_days_and_the_rest_still_verifies(registry_db: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    settings, db = registry_db
    await _old_rows(db, [400, 390, 300, 250, 20])
    await _decide(db, 1)
    today = datetime.now(UTC).date()
    # younger than 180 days: refused, nothing deleted
    assert await _cli(settings, monkeypatch, "audit", "prune", "registry", "--before", (today - timedelta(days=100)).isoformat()) == 1
    assert "180 days" in capsys.readouterr().err
    assert (await _verify(db)).rows == 6
    # 280 days ago: the three oldest rows go, the prune is recorded in the chain
    before = (today - timedelta(days=280)).isoformat()
    assert await _cli(settings, monkeypatch, "audit", "prune", "registry", "--before", before) == 0
    assert "pruned 3 audit rows through seq 3" in capsys.readouterr().out
    result = await _verify(db)
    assert result.ok, result.summary("registry")
    assert (result.anchor_seq, result.first_seq, result.last_seq, result.rows) == (3, 4, 7, 4)
    prune_row = await _row(db, 7)
    assert prune_row["action"] == "audit.prune" and prune_row["after"]["rows"] == 3 and prune_row["actor_role"] == "operator"
    # tampering after a prune is still found, and a broken chain is never pruned
    log = db.metadata.tables["audit_log"]
    await _sql(db, delete(log).where(log.c.seq == 4))
    result = await _verify(db)
    assert result.broken is not None and (result.broken.seq, result.broken.kind) == (4, "deleted")
    assert await _cli(settings, monkeypatch, "audit", "prune", "registry", "--before", (today - timedelta(days=200)).isoformat()) == 1
    assert "does not verify" in capsys.readouterr().err


async def test_the_auditor_reads_and_filters_the_trail(make_settings: Callable[..., Awaitable[Settings]]) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        r = await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json={"name": "许昌某研究院", "kind": "institute", "credit_code": credit_code()})
        unit_id = r.json()["unit_id"]
        r = await p.call("registry", "POST", f"/v1/units/{unit_id}/reject", role=Role.BUREAU, json={"reason": "缺少共享制度材料"})
        assert r.status_code == 200
        await _decide(p["registry"].db, 1)

        r = await p.call("registry", "GET", "/v1/audit", role=Role.AUDITOR)
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["total"] == 3 and [e["seq"] for e in page["items"]] == [3, 2, 1]  # newest first
        assert page["items"][1]["prev_hash"] == page["items"][2]["row_hash"]

        r = await p.call("registry", "GET", "/v1/audit", role=Role.AUDITOR, params={"object_type": "unit", "object_id": unit_id})
        assert [e["action"] for e in r.json()["items"]] == ["unit.reject", "unit.apply"]
        reject = r.json()["items"][0]
        assert reject["actor"] == "test-bureau" and reject["actor_role"] == "bureau" and reject["reason"] == "缺少共享制度材料"
        assert reject["before"]["status"] == "applied" and reject["after"]["status"] == "rejected"
        assert reject["correlation_id"]

        r = await p.call("registry", "GET", "/v1/audit", role=Role.AUDITOR, params={"actor": "center-wang", "action": "thing.approve"})
        assert [e["object_id"] for e in r.json()["items"]] == ["t1"]
        later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
        r = await p.call("registry", "GET", "/v1/audit", role=Role.AUDITOR, params={"since": later})
        assert r.json()["total"] == 0
        r = await p.call("registry", "GET", "/v1/audit", role=Role.AUDITOR, params={"until": later, "page": 2, "page_size": 2})
        assert r.json()["total"] == 3 and [e["seq"] for e in r.json()["items"]] == [1]
        r = await p.call("registry", "GET", "/v1/audit", role=Role.AUDITOR, params={"since": "2026-01-01T00:00:00"})
        assert r.status_code == 400


async def test_only_the_audit_administrator_reads_the_trail_on_every_service(make_settings: Callable[..., Awaitable[Settings]]) -> None:
    settings = await make_settings(list(SERVICES))
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        for service in SERVICES:
            assert (await p.call(service, "GET", "/v1/audit")).status_code == 401
            assert (await p.call(service, "GET", "/v1/audit", role=Role.AUDITOR)).status_code == 200
            for role in Role:
                if role in (Role.AUDITOR, Role.ANONYMOUS):
                    continue
                r = await p.call(service, "GET", "/v1/audit", role=role, org="some-org")
                assert r.status_code == 403 and r.json()["code"] == "auth.forbidden", (service, role)


async def test_the_auditor_reads_the_chains_verification_over_http(make_settings: Callable[..., Awaitable[Settings]]) -> None:
    """``GET /v1/audit/verification``: the check `xciss audit verify` runs, for the
    auditor only; a row edited behind the application's back is named by its seq."""
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        db = p["registry"].db
        for i in range(1, 5):
            await _decide(db, i)
        r = await p.call("registry", "GET", "/v1/audit/verification", role=Role.AUDITOR)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["ok"] is True and body["entries_checked"] == 4 and (body["first_seq"], body["last_seq"]) == (1, 4)
        assert body["broken_seq"] is None and body["broken_kind"] is None
        for role in (Role.SYSADMIN, Role.SECADMIN, Role.BUREAU):
            r = await p.call("registry", "GET", "/v1/audit/verification", role=role)
            assert r.status_code == 403 and r.json()["code"] == "auth.forbidden", role
        assert (await p.call("registry", "GET", "/v1/audit/verification")).status_code == 401

        log = db.metadata.tables["audit_log"]
        await _sql(db, update(log).where(log.c.seq == 3).values(reason="已改"))
        r = await p.call("registry", "GET", "/v1/audit/verification", role=Role.AUDITOR)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["ok"] is False and (body["broken_seq"], body["broken_kind"]) == (3, "edited"), body
        assert body["entries_checked"] == 2 and "row_hash" in body["broken_detail"]

        await _sql(db, delete(log).where(log.c.seq == 3))
        body = (await p.call("registry", "GET", "/v1/audit/verification", role=Role.AUDITOR)).json()
        assert body["ok"] is False and (body["broken_seq"], body["broken_kind"]) == (3, "deleted"), body


async def test_the_migration_chains_rows_written_before_it(backend: str, tmp_path: Path, pg_databases: Any) -> None:
    """Rows written before the chain existed get a valid chain in id order."""
    from alembic.script import ScriptDirectory

    from services.runtime.db.migrations import alembic_config, upgrade

    if backend == "postgres":
        name = f"xt_{pg_databases.run_id}_auditmig"
        await pg_databases._exec(f'CREATE DATABASE "{name}"')
        pg_databases.created.append(name)
        url = pg_databases.admin_url.replace("postgresql://", "postgresql+asyncpg://", 1).rsplit("/", 1)[0] + f"/{name}"
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'payments.db'}"
    script = ScriptDirectory.from_config(alembic_config("payments", url))
    ours = next(r for r in script.walk_revisions() if (r.doc or "").startswith("audit hash chain"))
    await asyncio.to_thread(upgrade, "payments", url, str(ours.down_revision))
    db = ServiceDatabase("payments", url, load_spec("payments").metadata)
    try:
        at = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
        async with db.sessions() as s, s.begin():
            for i in range(3):
                await s.execute(
                    text(
                        "INSERT INTO audit_log (at, actor, actor_role, action, object_type, object_id, reason, \"before\", \"after\", correlation_id) "
                        "VALUES (:at, 'finance-zhao', 'finance', 'payment.record', 'settlement', :oid, NULL, NULL, :after, 'c')"
                    ),
                    {"at": at + timedelta(seconds=i) if backend == "postgres" else (at + timedelta(seconds=i)).strftime("%Y-%m-%d %H:%M:%S.%f"),
                     "oid": f"s{i}", "after": f'{{"amount_fen": {i}, "memo": "第{i}笔"}}'},
                )
        await db.dispose()
        await asyncio.to_thread(upgrade, "payments", url)
        db = ServiceDatabase("payments", url, load_spec("payments").metadata)
        result = await _verify(db)
        assert result.ok and (result.rows, result.last_seq) == (3, 3), result.summary("payments")
        await _decide(db, 9)  # new decisions continue the migrated chain
        result = await _verify(db)
        assert result.ok and result.last_seq == 4
        first = await _row(db, 1)
        assert first["prev_hash"] == audit.GENESIS and first["object_id"] == "s0"
    finally:
        await db.dispose()
