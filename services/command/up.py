"""``xciss up``: the whole platform on one machine.

Starts an embedded nats-server (unless ``XCISS_NATS_URL`` names one) with
the production permission table: the seeds of every identity are made under
``<data_dir>/nats-credentials`` (0700, files 0600) and each process is handed
only its own (``XCISS_NATS_NKEY_FILE``). Likewise the token keys: a key
pair under ``<data_dir>/token-keys``; registry gets the private key, every
process the JWKS (the gateway the private key too while the demo sign-in is
on). Then it migrates, declares the streams, runs each service (api + worker + relay) as
its own process and the gateway in front of them, waits until every
``/ready`` answers, prints the URLs, and on
Ctrl-C stops everything it started.

The bus plan, the migrations, the streams and the demo data run in a child
forked at the start (``forked_steps.py``): what they import (SQLAlchemy,
alembic, every service's spec) goes with the child, and the process that
stays to watch the others holds only what watching needs (issue 19, target 5).
The four service processes are forked from a forkserver that imports their
common stack meanwhile (``service_forks.py``; ``XCISS_UP_FORKS=0`` starts each
with an interpreter of its own, as the gateway always is).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import httpx

from services.command import service_forks
from services.command.forked_steps import ForkedSteps
from services.command.natsserver import EmbeddedNats, port_open
from services.command.service_forks import ForkedProcess, ServiceForks
from services.runtime.bus_identity.permissions import GATEWAY
from services.runtime.env import SettingsError
from services.runtime.settings import CREDENTIALS_DIRNAME, SERVICES, Settings
from services.runtime.tokenkeys import ISSUER, ensure_dev_keys


def up(settings: Settings, *, with_demo: bool = True, ready_timeout_s: float = 120.0) -> int:
    t0 = time.monotonic()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    nats = None
    if settings.nats_url is None:
        port = int(os.environ.get("XCISS_NATS_PORT", "4322"))
        if port_open("127.0.0.1", port):
            print(f"xciss: port {port} is taken; set XCISS_NATS_PORT or XCISS_NATS_URL", file=sys.stderr)
            return 2
    try:
        forking = service_forks.wanted(os.environ)
    except SettingsError as exc:
        print(f"xciss: configuration error: {exc}", file=sys.stderr)
        return 2
    children: list[subprocess.Popen[bytes] | ForkedProcess] = []
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    # handlers first and nats-server inside the try: it runs in its own session,
    # so a Ctrl-C while it starts must not leave it behind
    old_int = signal.signal(signal.SIGINT, _stop)
    old_term = signal.signal(signal.SIGTERM, _stop)
    steps = ForkedSteps()
    try:
        # the service processes' common stack is imported while the steps below run
        forks = ServiceForks(service_forks.preload_for(settings.database_url(s) for s in SERVICES)) if forking else None
        if settings.nats_url is None:
            credentials = settings.data_dir / CREDENTIALS_DIRNAME
            nats = EmbeddedNats(settings.data_dir / "nats", port, log_file=settings.data_dir / "nats-server.log", credentials_dir=credentials)
            steps.run(nats.render_config)  # the bus plan imports every service's spec
            nats.start(render=False)
            settings = _with(settings, nats_url=nats.url, nats_credentials_dir=credentials)
        steps.run(_migrate_and_declare, settings)
        env = {**os.environ, "XCISS_NATS_URL": settings.nats_url or "", "XCISS_PARENT_PID": str(os.getpid()), "XCISS_DATA_DIR": str(settings.data_dir)}
        env.pop("XCISS_NATS_CREDENTIALS_DIR", None)  # each process gets its own seed, not the directory
        # the portal offers demo sign-in with the demo data (XCISS_DEMO=0 turns it off)
        env.setdefault("XCISS_DEMO", "1" if with_demo else "0")
        demo_on = env["XCISS_DEMO"].strip().lower() in ("1", "true", "yes", "on")
        for s in SERVICES:
            own = process_env(env, settings, s, signs=s == ISSUER)
            children.append(forks.start(["run", s], own) if forks else subprocess.Popen([sys.executable, "-m", "services.command.cli", "run", s], env=own))
        gateway_env = process_env(env, settings, GATEWAY, signs=demo_on)  # the demo buttons sign tokens
        children.append(subprocess.Popen([sys.executable, "-m", "services.command.cli", "gateway"], env=gateway_env))
        if not _wait_ready(settings, ready_timeout_s, lambda: stopping or any(c.poll() is not None for c in children)):
            if stopping:  # Ctrl-C while starting
                return 0
            print("xciss: the platform did not become ready; stopping", file=sys.stderr)
            return 1
        gateway = f"http://{settings.http_host}:{settings.gateway_port}"
        demo_loaded, table = False, ""
        if with_demo:
            try:
                created, table = steps.run(_load_demo, settings, gateway)
                demo_loaded = True
                print(f"xciss: demo data {'loaded' if any(created.values()) else 'already there'} ({', '.join(f'{k} {v}' for k, v in created.items())})")
            except Exception as exc:  # noqa: BLE001 - the platform runs without its demo data
                print(f"xciss: demo data not loaded: {exc}", file=sys.stderr)
        steps.close()
        elapsed = time.monotonic() - t0
        print(f"\nxciss is up in {elapsed:.1f}s (data under {settings.data_dir})")
        print(f"  portal          {gateway}/   (sign in: {gateway}/signin{', demo accounts offered' if env['XCISS_DEMO'] in ('1', 'true', 'yes', 'on') else ''})")
        if demo_loaded:
            print(table)
        print(f"  gateway         {gateway}   (API /api/<service>/..., OpenAPI /api/openapi.json)")
        print(f"  NATS JetStream  {settings.nats_url}   (nkey identities; seeds under {settings.nats_credentials_dir or 'XCISS_NATS_*'})")
        for s in SERVICES:
            base = f"http://{settings.http_host}:{settings.port(s)}"
            print(f"  {s:<11}     {base}   (OpenAPI {base}/schema, ready {base}/ready)")
        print("  dev token:      xciss token --role center")
        print("Press Ctrl-C to stop.", flush=True)
        while not stopping:
            if any(c.poll() is not None for c in children):
                print("xciss: a service process exited; stopping the platform", file=sys.stderr)
                return 1
            time.sleep(0.2)
        return 0
    finally:
        steps.close()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for c in children:
            if c.poll() is None:
                c.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + settings.graceful_timeout_s + 10
        for c in children:
            try:
                c.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                c.kill()
                c.wait()
        if nats is not None:
            nats.stop()
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)
        print("xciss stopped.", flush=True)


def _migrate_and_declare(settings: Settings) -> None:
    from services.runtime.db.migrations import upgrade
    from services.runtime.service import declare_streams

    for s in SERVICES:
        upgrade(s, settings.database_url(s))
    asyncio.run(declare_streams(settings, SERVICES))


def _load_demo(settings: Settings, gateway: str) -> tuple[dict[str, int], str]:
    """The demo data through the gateway, the officers' accounts, and the table of the demo accounts."""
    from services.command.demo import create_officer_accounts, load_demo

    created = asyncio.run(load_demo(settings, gateway))
    created["officer_accounts"] = asyncio.run(create_officer_accounts(settings))
    return created, demo_table()


def process_env(env: dict[str, str], settings: Settings, identity: str, *, signs: bool) -> dict[str, str]:
    """The environment of the process of one identity (a service, the gateway): its own
    NATS seed and the token keys it needs, the private key only if it signs."""
    return _own_token_keys(_own_seed(env, settings, identity), settings, signs)


def _own_seed(env: dict[str, str], settings: Settings, identity: str) -> dict[str, str]:
    """The environment of one process, with only its own NATS seed."""
    seed = settings.bus(identity).seed_file
    return {**env, "XCISS_NATS_NKEY_FILE": str(seed)} if seed is not None else env


def _own_token_keys(env: dict[str, str], settings: Settings, signs: bool) -> dict[str, str]:
    """The token keys of one process: the JWKS, and the private key only if it signs.
    Keys the environment names itself are passed on as they are."""
    if any(env.get(v) for v in ("XCISS_JWT_SIGNING_KEY", "XCISS_JWT_SIGNING_KEY_FILE", "XCISS_JWT_JWKS", "XCISS_JWT_JWKS_FILE")):
        return env
    signing, jwks = ensure_dev_keys(settings.data_dir)
    own = {**env, "XCISS_JWT_JWKS_FILE": str(jwks)}
    if signs:
        own["XCISS_JWT_SIGNING_KEY_FILE"] = str(signing)
    return own


def demo_table() -> str:
    """The demo accounts for the newcomer: usernames by role, and their one password."""
    from services.command.demo import demo_usernames
    from services.gateway.portal.demo_accounts import DEMO_PASSWORD

    lines = [f"  demo accounts   (password for all: {DEMO_PASSWORD})"]
    lines += [f"    {username:<18}{role}" for username, role in demo_usernames()]
    return "\n".join(lines)


def _fully_ready(r: httpx.Response) -> bool:
    """Ready with every dependency connected: an API's ``/ready`` is 200 on its
    database alone and only reports NATS; a starting platform waits for both."""
    return r.status_code == 200 and all(v == "ok" for v in r.json().get("checks", {}).values())


def _wait_ready(settings: Settings, timeout_s: float, abort: object) -> bool:
    deadline = time.monotonic() + timeout_s
    urls = {s: f"http://{settings.http_host}:{settings.port(s)}/ready" for s in SERVICES}
    urls["gateway"] = f"http://{settings.http_host}:{settings.gateway_port}/ready"
    pending = set(urls)
    with httpx.Client(timeout=1.0) as client:
        while pending and time.monotonic() < deadline:
            if abort():  # type: ignore[operator]
                return False
            for s in list(pending):
                try:
                    if _fully_ready(client.get(urls[s])):
                        pending.discard(s)
                except (httpx.HTTPError, ValueError):
                    pass
            time.sleep(0.1)
    return not pending


def _with(settings: Settings, **changes: object) -> Settings:
    import msgspec

    return msgspec.structs.replace(settings, **changes)
