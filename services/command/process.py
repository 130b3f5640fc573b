"""Running a service's processes: ``api`` (HTTP), ``worker`` (consumers) and
``relay`` (outbox), alone (containers) or together (``xciss up``).

SIGINT/SIGTERM stop intake first (HTTP and consumer pulls), let in-flight
handlers finish, then stop the relay after its current batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator, Sequence
from typing import Any

import nats
import nats.errors
import nats.js.errors

from contracts.subjects import PRODUCERS
from services.runtime import metrics as runtime_metrics
from services.runtime import eventloop, heap, safety
from services.runtime.bus import natscheck, testclock
from services.runtime.bus.connect import connect_nats
from services.runtime.bus.plan import BUCKETS
from services.runtime.service import (
    NatsHandle,
    create_app,
    create_database,
    create_metrics,
    create_relay,
    create_worker,
    declare_streams,
    load_spec,
    tables_spec,
)
from services.runtime.settings import Settings
from services.runtime.telemetry import configure_telemetry, install_log_masking
from services.runtime.tokenkeys import ISSUER

log = logging.getLogger("xciss.process")

ROLES = ("api", "worker", "relay")


def _quiet_server(config: Any) -> Any:
    """uvicorn without its own signal handling: this process owns the signals.
    (uvicorn and the app are imported only by a process that serves HTTP.)"""
    import uvicorn

    class _QuietServer(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return _QuietServer(config)


async def run_service(service: str, settings: Settings, roles: Sequence[str] = ROLES, stop: asyncio.Event | None = None) -> None:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown process role(s): {', '.join(sorted(unknown))}")
    install_log_masking(settings.secret_values())
    configure_telemetry(service)
    # only registry's API signs tokens (sign-in); its worker and relay verify nothing
    await safety.enforce(settings, service, signs_tokens=service == ISSUER and "api" in roles)
    # a relay alone needs the service's tables only, not its routes and handlers (app.py)
    spec = load_spec(service) if set(roles) != {"relay"} else tables_spec(service)
    db = create_database(spec, settings)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    tasks: dict[str, asyncio.Task[None]] = {}
    metrics = create_metrics(spec, settings)
    relay = create_relay(spec, settings, db, metrics) if "relay" in roles else None
    worker = create_worker(spec, settings, db, metrics) if "worker" in roles else None
    server = None
    relay_stop, worker_stop, metrics_stop = asyncio.Event(), asyncio.Event(), asyncio.Event()
    checking: asyncio.Task[None] | None = None
    if relay is not None or worker is not None:
        checking = asyncio.create_task(_check_nats(service, settings), name=f"{service}-natscheck")
    if "api" in roles:
        app = create_app(spec, settings, db, metrics)
        # log_config=None: uvicorn's loggers propagate to the root handler (XCISS_LOG_FORMAT, services/runtime/logs.py)
        import uvicorn

        config = uvicorn.Config(
            app, host=settings.http_host, port=settings.port(service), log_level="warning", log_config=None, lifespan="on", access_log=False,
            http=eventloop.http_parser(),
        )
        server = _quiet_server(config)
        heap.freeze_before_serving()  # the start-up heap's collection stalls no request (runtime/heap.py)
        tasks["api"] = asyncio.create_task(server.serve(), name=f"{service}-api")
    if relay is not None:
        await _declare_own_stream(settings, service)
        tasks["relay"] = asyncio.create_task(relay.run(relay_stop), name=f"{service}-relay")
    if worker is not None:
        tasks["worker"] = asyncio.create_task(worker.run(worker_stop), name=f"{service}-worker")
    clock_follower = None
    if "api" not in roles and "worker" in roles and testclock.allowed(settings) and settings.nats_url:
        # a worker's periodic tasks (expiry, notice finalisation) follow the test clock too (the API's app has its own)
        clock_nats = NatsHandle(settings.bus(service), f"xciss-{service}-clock")
        await clock_nats.start()
        clock_follower = testclock.ClockFollower(lambda: clock_nats.nc, settings.clock_poll_s, f"{service}-worker")
        await clock_follower.start()
    if "api" not in roles and settings.metrics_port:
        # without the API, /metrics (and /health, /ready: the database answers) get a port of their own
        serving = runtime_metrics.serve_metrics(metrics, settings.http_host, settings.metrics_port, metrics_stop, ready=db.ping)
        tasks["metrics"] = asyncio.create_task(serving, name=f"{service}-metrics")

    # what start-up built lives as long as the process: full collections walk the rest only (runtime/heap.py)
    freezing = asyncio.create_task(heap.freeze_when_started(server), name=f"{service}-heap")
    stop_task = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stop_task, *tasks.values()], return_when=asyncio.FIRST_COMPLETED)
    failed = [t for t in done if t is not stop_task]
    for t in failed:
        log.error("%s: %s stopped unexpectedly: %r", service, t.get_name(), t.exception())

    # orderly shutdown: intake first, then in-flight work, then the relay
    if server is not None:
        server.should_exit = True
    worker_stop.set()
    if "worker" in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(tasks["worker"], timeout=settings.graceful_timeout_s + 5)
    relay_stop.set()
    metrics_stop.set()
    if checking is not None and not checking.done():
        checking.cancel()
    for t in tasks.values():
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(t, timeout=settings.graceful_timeout_s)
    stop_task.cancel()
    freezing.cancel()
    if clock_follower is not None:
        await clock_follower.stop()
        await clock_nats.stop()
    await db.dispose()
    if failed:
        raise SystemExit(1)


async def _declare_own_stream(settings: Settings, service: str) -> None:
    """The relay's stream, declared before it publishes. A NATS cluster electing a leader
    answers with timeouts or 503s: a process restarted then waits it out instead of
    exiting; any other refusal (permissions, a conflicting stream) still stops it."""
    delay = 0.2
    while True:
        try:
            await declare_streams(settings, [service], identity=service)
            return
        except nats.js.errors.APIError as exc:
            if exc.code != 503:
                raise
            reason: BaseException = exc
        except (TimeoutError, nats.errors.NoRespondersError) as exc:  # nats' TimeoutError is one too
            reason = exc
        log.warning("%s: cannot declare its stream yet (%s); retrying in %.1fs", service, type(reason).__name__, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)


async def _check_nats(service: str, settings: Settings) -> None:
    """The NATS safety checks, once per process, beside start-up (never blocking it)."""
    assert settings.nats_url
    try:
        nc = await connect_nats(settings.bus(service), f"xciss-{service}-check")
        try:
            # the buckets are a constant of the bus plan: reading the whole platform plan would import every service
            readable = [b.stream for b in BUCKETS if service in (b.owner, *b.readers)]
            findings = await natscheck.check(nc, settings, PRODUCERS, service, readable)
        finally:
            await nc.close()
        runtime_metrics.record_nats_findings(service, [f.code for f in findings if f.unsafe])
    except asyncio.CancelledError:
        raise
    except Exception:
        log.warning("%s: NATS safety checks could not run", service, exc_info=True)
