"""The ``xciss`` command.

    xciss up                      the whole platform on this machine
    xciss migrate [SERVICE ...]   run alembic migrations
    xciss streams [--check]       declare every stream (a Kubernetes Job runs this);
                                  --check: the NATS safety checks
    xciss run SERVICE             api + worker + relay of one service in one process
    xciss gateway                 the gateway in front of the services (port 8100)
    xciss bus keys|server-config|permissions|rotate|k8s-secrets   NATS identities (services/command/bus.py)
    xciss serve|worker|relay SERVICE   one process role (containers)
    xciss token --role ROLE       a bearer token, signed with the token key (the issuer's)
    xciss keys token-generate|token-jwks|token-check   the token keys (services/command/tokenkeys.py)
    xciss dlq list | replay       inspect and replay dead letters
    xciss clock show|set|advance|reset   the test clock (dev, staging; services/command/clock.py)
    xciss task SERVICE NAME       an operator task, e.g. `registry reindex-search`
    xciss asyncapi [--check]      (re)generate contracts/asyncapi.yaml
    xciss makemigration SERVICE -m MESSAGE
    xciss audit verify [SERVICE ...]   check the audit hash chains (exit 1 on tamper)
    xciss audit prune SERVICE --before DATE   drop audit rows older than 180+ days
    xciss accounts create --username U --role ROLE [--org ORG] --password-stdin
                                  a local account (the first sysadmin, secadmin, auditor)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from services.command import bus as bus_cli
from services.command import clock as testclock_cli
from services.command import tokenkeys as tokenkeys_cli
from services.runtime import eventloop
from services.runtime.bus import testclock
from services.runtime.settings import SERVICES, Settings, SettingsError

if TYPE_CHECKING:
    from services.runtime.safety import Problem


def _settings() -> Settings:
    try:
        eventloop.choice(), eventloop.http_parser()
        return Settings.from_env()
    except (SettingsError, ValueError) as exc:
        print(f"xciss: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


def _services(names: Sequence[str]) -> list[str]:
    chosen = list(names) or list(SERVICES)
    bad = [n for n in chosen if n not in SERVICES]
    if bad:
        print(f"xciss: unknown service(s) {', '.join(bad)}; choose from {', '.join(SERVICES)}", file=sys.stderr)
        raise SystemExit(2)
    return chosen


def cmd_migrate(args: argparse.Namespace) -> int:
    from services.runtime.db.migrations import upgrade

    settings = _settings()
    for s in _services(args.services):
        upgrade(s, settings.database_url(s))
        print(f"{s}: migrated ({_redact(settings.database_url(s))})")
    return 0


def cmd_streams(args: argparse.Namespace) -> int:
    from services.runtime.service import declare_streams

    settings = _settings()
    if not settings.nats_url:
        print("xciss: XCISS_NATS_URL is required", file=sys.stderr)
        return 2
    services = _services(args.services)
    from services.runtime import safety

    if args.check:  # a diagnosis: the start-up refusals are reported with the NATS findings
        start_up = asyncio.run(safety.problems_of(settings, "operator")) if settings.mode != "dev" else []
    else:
        asyncio.run(safety.enforce(settings, "operator"))
    asyncio.run(declare_streams(settings, services))
    print("streams declared")
    if args.check:
        return _check_streams(settings, start_up)
    return 0


def _check_streams(settings: Settings, start_up: Sequence[Problem]) -> int:
    """``xciss streams --check``: the start-up refusals (``safety.py``) and the NATS
    safety checks; non-zero in prod mode when anything is unsafe."""
    from contracts.subjects import PRODUCERS
    from services.runtime.bus import natscheck
    from services.runtime.bus.connect import connect_nats

    async def run() -> list[natscheck.Finding]:
        nc = await connect_nats(settings.bus("operator"), "xciss-streams-check")
        try:
            return await natscheck.check(nc, settings, PRODUCERS, "xciss streams")
        finally:
            await nc.close()

    findings = asyncio.run(run())
    for p in start_up:
        print(f"UNSAFE {p.code}: {p.message}")
    for f in findings:
        print(f"{'UNSAFE' if f.unsafe else 'UNVERIFIED'} {f.code}: {f.message}")
    unsafe = len(start_up) + sum(f.unsafe for f in findings)
    if not findings and not start_up:
        print("NATS checks passed")
    if unsafe and settings.mode != "dev":
        print(f"xciss: {unsafe} unsafe setting(s) in {settings.mode} mode", file=sys.stderr)
        return 1
    return 0


def _run_roles(service: str, roles: Sequence[str]) -> int:
    from services.command.process import run_service

    settings = _settings()
    _services([service])

    async def main() -> None:
        stop = asyncio.Event()
        parent = os.environ.get("XCISS_PARENT_PID")
        if parent:
            asyncio.create_task(_watch_parent(int(parent), stop))
        await run_service(service, settings, roles, stop)

    eventloop.run(main())
    return 0


async def _watch_parent(pid: int, stop: asyncio.Event) -> None:
    """Under ``xciss up``: stop when the parent is gone, so nothing is orphaned."""
    while not stop.is_set():
        if os.getppid() != pid:
            stop.set()
            return
        await asyncio.sleep(0.5)


def cmd_gateway(args: argparse.Namespace) -> int:
    """The gateway in front of the services (``services/gateway``)."""
    from services.gateway.server import run_gateway

    settings = _settings()

    async def main() -> None:
        stop = asyncio.Event()
        parent = os.environ.get("XCISS_PARENT_PID")
        if parent:
            asyncio.create_task(_watch_parent(int(parent), stop))
        await run_gateway(settings, stop)

    eventloop.run(main())
    return 0


def cmd_dlq(args: argparse.Namespace) -> int:
    from services.runtime.bus import deadletters

    settings = _settings()
    if not settings.nats_url:
        print("xciss: XCISS_NATS_URL is required", file=sys.stderr)
        return 2
    if args.dlq_cmd == "list":
        rows = asyncio.run(deadletters.list_dead_letters(settings.bus("operator")))
        if not rows:
            print("no dead letters")
        for r in rows:
            print(f"{r.seq}\t{r.consumer}\t{r.subject}\tattempts={r.attempts}\tevent={r.event_id}\t{r.error}")
        return 0
    seqs = None if args.all else [int(s) for s in args.seq]
    if seqs is None and not args.all:
        print("xciss: give sequence numbers or --all", file=sys.stderr)
        return 2
    n = asyncio.run(deadletters.replay(settings.bus("operator"), seqs))
    print(f"replayed {n} message(s)")
    return 0


def cmd_asyncapi(args: argparse.Namespace) -> int:
    from contracts.asyncapi import DOCUMENT_PATH, render

    text = render()
    if args.check:
        current = DOCUMENT_PATH.read_text(encoding="utf-8") if DOCUMENT_PATH.exists() else ""
        if current != text:
            print(f"{DOCUMENT_PATH} is stale: run `xciss asyncapi`", file=sys.stderr)
            return 1
        print(f"{DOCUMENT_PATH} is up to date")
        return 0
    DOCUMENT_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {DOCUMENT_PATH}")
    return 0


def cmd_makemigration(args: argparse.Namespace) -> int:
    from services.runtime.db.migrations import revision, upgrade

    _services([args.service])
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'scratch.db'}"
        upgrade(args.service, url)
        revision(args.service, url, args.message)
    return 0


def cmd_task(args: argparse.Namespace) -> int:
    from services.runtime.service import create_database, load_spec

    settings = _settings()
    spec = load_spec(_services([args.service])[0])
    tasks = spec.tasks()
    if args.name not in tasks:
        print(f"xciss: {args.service} has no task {args.name!r}; tasks: {', '.join(sorted(tasks)) or 'none'}", file=sys.stderr)
        return 2

    async def run() -> object:
        db = create_database(spec, settings)
        try:
            await testclock.follow_once(settings, spec.name)
            return await tasks[args.name](db)
        finally:
            await db.dispose()

    print(f"{args.service} {args.name}: {asyncio.run(run())}")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from services.command import audit

    settings = _settings()
    if args.audit_cmd == "verify":
        return asyncio.run(audit.verify_services(settings, _services(args.services), out=print))
    try:
        before = audit.parse_before(args.before)
    except ValueError as exc:
        print(f"xciss: --before: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(audit.prune_service(settings, _services([args.service])[0], before, out=print, err=lambda m: print(m, file=sys.stderr)))


def cmd_accounts(args: argparse.Namespace) -> int:
    from services.command import accounts

    return accounts.create_from_stdin(_settings(), args)


def cmd_up(args: argparse.Namespace) -> int:
    from services.command.up import up

    return up(_settings(), with_demo=not args.no_demo)


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="xciss", description="Xuchang research-instrument sharing platform")
    sub = p.add_subparsers(dest="cmd", required=True)
    up_p = sub.add_parser("up", help="run the whole platform on this machine")
    up_p.add_argument("--no-demo", action="store_true", help="do not load the demo data (and offer no demo sign-in in the portal)")
    up_p.set_defaults(fn=cmd_up)
    m = sub.add_parser("migrate", help="run database migrations")
    m.add_argument("services", nargs="*")
    m.set_defaults(fn=cmd_migrate)
    st = sub.add_parser("streams", help="declare the JetStream streams")
    st.add_argument("services", nargs="*")
    st.add_argument("--check", action="store_true", help="then run the NATS safety checks (non-zero exit when unsafe in prod mode)")
    st.set_defaults(fn=cmd_streams)
    for name, roles, help_ in (
        ("run", ("api", "worker", "relay"), "api, worker and relay in one process"),
        ("serve", ("api",), "the HTTP API"),
        ("worker", ("worker",), "the event consumers"),
        ("relay", ("relay",), "the outbox relay"),
    ):
        sp = sub.add_parser(name, help=help_)
        sp.add_argument("service", choices=SERVICES)
        sp.set_defaults(fn=lambda a, roles=roles: _run_roles(a.service, roles))
    gw = sub.add_parser("gateway", help="the gateway: one origin for web clients (port 8100)")
    gw.set_defaults(fn=cmd_gateway)
    bus_cli.add_parser(sub)
    tokenkeys_cli.add_parser(sub)
    testclock_cli.add_parser(sub)
    tk = sub.add_parser("task", help="run an operator task of a service (e.g. registry reindex-search)")
    tk.add_argument("service", choices=SERVICES)
    tk.add_argument("name")
    tk.set_defaults(fn=cmd_task)
    t = sub.add_parser("token", help="issue a bearer token (needs the token signing key; dev: the data directory's)")
    t.add_argument("--role", required=True)
    t.add_argument("--org", default=None, help="organisation id (unit, user, department code)")
    t.add_argument("--sub", default=None, help="subject (account name)")
    t.add_argument("--name", default=None)
    t.add_argument("--ttl", type=int, default=8 * 3600, help="lifetime in seconds")
    t.set_defaults(fn=tokenkeys_cli.cmd_token)
    d = sub.add_parser("dlq", help="dead letters")
    dsub = d.add_subparsers(dest="dlq_cmd", required=True)
    dsub.add_parser("list")
    r = dsub.add_parser("replay")
    r.add_argument("seq", nargs="*")
    r.add_argument("--all", action="store_true")
    d.set_defaults(fn=cmd_dlq)
    a = sub.add_parser("asyncapi", help="generate the AsyncAPI document from contracts/")
    a.add_argument("--check", action="store_true", help="fail if the checked-in document is stale")
    a.set_defaults(fn=cmd_asyncapi)
    au = sub.add_parser("audit", help="verify or prune the audit hash chains")
    asub = au.add_subparsers(dest="audit_cmd", required=True)
    av = asub.add_parser("verify", help="recompute each service's audit chain; exit 1 at the first broken row")
    av.add_argument("services", nargs="*")
    ap = asub.add_parser("prune", help="delete audit rows older than --before (at least 180 days ago), keeping the chain verifiable")
    ap.add_argument("service", choices=SERVICES)
    ap.add_argument("--before", required=True, help="YYYY-MM-DD (00:00 UTC) or an ISO 8601 time with zone")
    au.set_defaults(fn=cmd_audit)
    ac = sub.add_parser("accounts", help="local accounts (the first administrators)")
    acsub = ac.add_subparsers(dest="accounts_cmd", required=True)
    acc = acsub.add_parser("create", help="create a local account of any role (sysadmin, secadmin, auditor included)")
    acc.add_argument("--username", required=True)
    acc.add_argument("--role", required=True)
    acc.add_argument("--org", default=None, help="organisation id (unit, user, department code)")
    acc.add_argument("--display-name", default=None)
    acc.add_argument("--password-stdin", action="store_true", help="read the password from the first line of standard input")
    ac.set_defaults(fn=cmd_accounts)
    mm = sub.add_parser("makemigration", help="autogenerate a migration for a service")
    mm.add_argument("service", choices=SERVICES)
    mm.add_argument("-m", "--message", required=True)
    mm.set_defaults(fn=cmd_makemigration)
    return p


def main(argv: Sequence[str] | None = None) -> None:
    from services.runtime.logs import configure_logging
    from services.runtime.telemetry import install_log_masking

    install_log_masking()  # no personal data, token or password in a log line
    args = build_parser().parse_args(argv)
    try:  # text for a terminal, JSON lines with trace ids for a collector (XCISS_LOG_FORMAT)
        configure_logging(service=getattr(args, "service", None))
    except ValueError as exc:
        raise SystemExit(f"xciss: {exc}") from None
    raise SystemExit(args.fn(args))


if __name__ == "__main__":
    main()
