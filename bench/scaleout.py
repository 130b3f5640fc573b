"""Benchmark: consumer throughput with one and with two worker processes.

Set-up (the bench's own process): an embedded ``nats-server -js`` on a free
port with the streams declared, and a fresh PostgreSQL database for vouchers,
migrated (``--admin-url`` names the server; the database is dropped at the end).

For each worker count W (1, then 2): the REGISTRY stream and the vouchers
read-model tables are emptied, W ``xciss worker vouchers`` processes start
(real OS processes, each with ``/metrics`` on its own port), and once all W
are pulling from the durable ``vouchers-registry_user_registered-v1`` the bench
publishes N ``registry.user.registered.v1`` contract events with
``Nats-Msg-Id``. The clock runs from the first publish until the workers' own
``xciss_consumer_messages_total{outcome="handled"}`` counters add up to N
(polled every 0.1 s; probes cached for 60 s, so polling costs no JetStream or database queries); each handled event is one transaction: inbox row plus
the ``user_view`` row. Printed: events/s per W, the ratio, and the split
between the workers. After each run the database is checked: N ``user_view``
rows and N inbox rows (each event handled once).

    .venv/bin/python bench/scaleout.py
    .venv/bin/python bench/scaleout.py --events 4000 --admin-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contracts import registry as ev  # noqa: E402
from contracts.envelope import encode  # noqa: E402
from services.runtime.db.migrations import upgrade  # noqa: E402
from services.command.natsserver import EmbeddedNats, free_port  # noqa: E402
from services.runtime.bus.connect import connect_nats  # noqa: E402
from services.runtime.bus_identity.credentials import BusAccess  # noqa: E402
from services.runtime.service import declare_streams  # noqa: E402
from services.runtime.settings import Settings  # noqa: E402

DURABLE = "vouchers-registry_user_registered-v1"


async def handled(port: int) -> float:
    try:
        async with httpx.AsyncClient(timeout=5.0) as client:
            text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    except httpx.HTTPError:
        return -1.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "xciss_consumer_messages_total" and s.labels.get("durable") == DURABLE and s.labels.get("outcome") == "handled":
                return s.value
    return 0.0


async def run(workers: int, n: int, nats_url: str, db_url: str, admin_dsn: str, tmp: Path) -> tuple[float, list[float]]:
    conn = await asyncpg.connect(admin_dsn.rsplit("/", 1)[0] + "/" + db_url.rsplit("/", 1)[1])
    await conn.execute("TRUNCATE user_view, inbox")
    nc = await connect_nats(BusAccess(url=nats_url, identity="bench-scaleout"), "bench-scaleout")  # the embedded server has no authorization
    js = nc.jetstream()
    try:
        await js.delete_stream("REGISTRY")
    except Exception:
        pass
    await declare_streams(Settings(data_dir=tmp, nats_url=nats_url), ["registry"])
    env = {
        **os.environ,
        "XCISS_NATS_URL": nats_url,
        "XCISS_DATA_DIR": str(tmp),
        "XCISS_VOUCHERS_DATABASE_URL": db_url,
        "XCISS_METRICS_CACHE_S": "60",  # lag probes are not needed here; the handled counter is live
        "XCISS_LOG_LEVEL": "WARNING",
        "XCISS_PARENT_PID": str(os.getpid()),
    }
    ports = [free_port() for _ in range(workers)]
    procs = [
        subprocess.Popen([sys.executable, "-m", "services.command.cli", "worker", "vouchers"], env={**env, "XCISS_METRICS_PORT": str(p)})
        for p in ports
    ]
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                info = await js.consumer_info("REGISTRY", DURABLE)
                if (info.num_waiting or 0) >= workers and all([await handled(p) >= 0 for p in ports]):
                    break
            except Exception:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("workers did not start")
            await asyncio.sleep(0.1)
        events = [
            ev.UserRegistered(user_id=f"u-{uuid.uuid4().hex[:12]}", version=1, name=f"许昌企业{i}", kind="enterprise", credit_code=None, in_xuchang=True, verified=False)
            for i in range(n)
        ]
        t0 = time.perf_counter()
        for i in range(0, n, 200):
            await asyncio.gather(*(js.publish(ev.UserRegistered.subject, encode(e), headers={"Nats-Msg-Id": e.event_id}) for e in events[i : i + 200]))
        while True:
            split = [await handled(p) for p in ports]
            if sum(split) >= n:
                break
            await asyncio.sleep(0.1)
        elapsed = time.perf_counter() - t0
        rows = await conn.fetchval("SELECT count(*) FROM user_view")
        inbox = await conn.fetchval("SELECT count(*) FROM inbox WHERE consumer = $1", DURABLE)
        assert rows == n and inbox == n and sum(split) == n, (rows, inbox, split)
        return elapsed, split
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(60)
        await nc.close()
        await conn.close()


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--admin-url", default=os.environ.get("XCISS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = ap.parse_args()
    admin = args.admin_url.replace("postgresql+asyncpg://", "postgresql://")
    name = f"xciss_bench_scale_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    db_url = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + name
    tmp = Path(tempfile.mkdtemp(prefix="xciss-bench-scale-"))
    server = EmbeddedNats(tmp / "nats", free_port())
    server.start()
    try:
        await asyncio.to_thread(upgrade, "vouchers", db_url)
        await declare_streams(Settings(data_dir=tmp, nats_url=server.url), ["registry", "vouchers", "evaluation", "payments"])
        print(f"{args.events} events, os.cpu_count()={os.cpu_count()}, load average {os.getloadavg()[0]:.1f} before the runs")
        results = {}
        for w in (1, 2):
            elapsed, split = await run(w, args.events, server.url, db_url, admin, tmp)
            results[w] = args.events / elapsed
            shares = " / ".join(f"{int(s)}" for s in split)
            print(f"workers={w}  {elapsed:6.2f} s  {results[w]:8.1f} events/s  per worker: {shares}")
        print(f"2 workers / 1 worker: {results[2] / results[1]:.2f}x   (load average {os.getloadavg()[0]:.1f} after)")
    finally:
        server.stop()
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
