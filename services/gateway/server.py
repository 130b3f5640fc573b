"""Running the gateway process (``xciss gateway``)."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import uvicorn

from services.gateway.app import create_app
from services.runtime import eventloop, heap, safety
from services.runtime.bus_identity.permissions import GATEWAY
from services.runtime.settings import Settings
from services.runtime.telemetry import configure_telemetry


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[no-untyped-def]
        yield  # this process owns its signals


async def run_gateway(settings: Settings, stop: asyncio.Event | None = None) -> None:
    configure_telemetry("gateway")
    await safety.enforce(settings, GATEWAY)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    # log_config=None: uvicorn's loggers propagate to the root handler (XCISS_LOG_FORMAT, services/runtime/logs.py)
    config = uvicorn.Config(
        create_app(settings), host=settings.http_host, port=settings.gateway_port, log_level="warning", log_config=None, lifespan="on", access_log=False,
        http=eventloop.http_parser(),
    )
    server = _Server(config)
    heap.freeze_before_serving()  # the start-up heap's collection stalls no request (services/runtime/heap.py)
    serving = asyncio.create_task(server.serve())
    stopping = asyncio.create_task(stop.wait())
    freezing = asyncio.create_task(heap.freeze_when_started(server))  # services/runtime/heap.py
    await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    await serving
    stopping.cancel()
    freezing.cancel()
