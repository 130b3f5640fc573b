"""What a long-running process imports is memory it holds until it ends (issue 19,
target 5: ≤ 100 MiB a process at rest; ``bench/memory.py`` charges each package).
A process leaves out the libraries it does not use: the gateway holds no database
(SQLAlchemy alone is about 20 MiB); a service process makes no HTTP calls (httpx
brings its command line's rich and pygments along, 7-8 MiB) but when it reads the
NATS monitoring endpoint, and imports httpx only then."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: what a service process imports before it runs a role: the command and the four services' ``app`` modules
SERVICE_PROCESS = "services.command.cli, services.command.process, " + ", ".join(f"services.{s}.app" for s in ("registry", "vouchers", "evaluation", "payments"))


def _imported(modules: str, packages: set[str]) -> str:
    probe = f"import sys; import {modules}; print(sorted({{m.split('.')[0] for m in sys.modules}} & {packages!r}))"
    return subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def test_the_gateway_process_imports_no_database_library() -> None:
    assert _imported("services.command.cli, services.gateway.server", {"sqlalchemy", "aiosqlite", "asyncpg", "alembic"}) == "[]"


def test_a_service_process_imports_no_http_client() -> None:
    assert _imported(SERVICE_PROCESS, {"httpx", "rich", "pygments"}) == "[]"


def test_a_relay_process_imports_neither_the_http_stack_nor_faststream() -> None:
    """``xciss relay SERVICE`` (its own Deployment) loads the service's tables only
    (``tables_spec``), not its routes and handlers: no Litestar, uvicorn, FastStream."""
    probe = (
        "services.command.cli, services.command.process, services.runtime.service; "
        "[services.runtime.service.tables_spec(s) for s in ('registry', 'vouchers', 'evaluation', 'payments')]"
    )
    assert _imported(probe, {"litestar", "uvicorn", "faststream", "fast_depends", "pydantic"}) == "[]"


def test_an_api_process_imports_no_faststream() -> None:
    """FastStream (and its dependency injection) is imported by the worker that builds its
    broker; an API process declares its subscriptions without it."""
    assert _imported(SERVICE_PROCESS, {"faststream", "fast_depends"}) == "[]"


def test_an_http_app_imports_neither_pydantic_nor_attrs() -> None:
    """Litestar adds its pydantic and attrs plugins whenever those libraries can be
    imported (they are installed as FastStream's dependencies); the platform's
    schemas are msgspec Structs, so every app is a ``PlainLitestar`` without them
    (11 MiB of an API process at rest)."""
    probe = (
        "pathlib, tempfile, services.runtime.service as s, services.gateway.app as g, services.runtime.settings as c; "
        "settings = c.Settings(data_dir=pathlib.Path(tempfile.mkdtemp())); "
        "[s.create_app(s.load_spec(n), settings) for n in ('registry', 'vouchers', 'evaluation', 'payments')]; "
        "g.create_app(settings)"
    )
    assert _imported(probe, {"pydantic", "pydantic_core", "attr", "attrs"}) == "[]"


def test_a_worker_imports_no_token_library() -> None:
    """A worker verifies and signs no token: the services' ``app`` modules (what a
    worker or relay imports) leave PyJWT out (2.6 MiB). The registry's worker had
    it through the idempotency prune and the password reset's session ends."""
    assert _imported(SERVICE_PROCESS, {"jwt"}) == "[]"


def test_what_the_forkserver_preloads_is_what_every_service_process_imports_anyway() -> None:
    """``xciss up`` forks its service processes from a forkserver that imported
    ``service_forks.PRELOAD`` (start-up, issue 19 target 5); a module there that one
    service does not import would sit in that service's memory for nothing."""
    services = ("registry", "vouchers", "evaluation", "payments")
    # what a service process (all three roles, as under `xciss up`) has imported once it serves
    serving = (
        "import sys, pathlib, tempfile; "
        "import services.command.cli, services.command.process, services.runtime.service as s, services.runtime.settings as c; "
        "import uvicorn, uvloop, faststream.nats, services.runtime.bus.consumers, services.runtime.bus.relay; "
        "settings = c.Settings(data_dir=pathlib.Path(tempfile.mkdtemp())); "
        "spec = s.load_spec(sys.argv[1]); s.create_app(spec, settings); s.create_database(spec, settings); "
        "print(' '.join(sorted(sys.modules)))"
    )
    preload = "import sys; from services.command.service_forks import PRELOAD; before = set(sys.modules); [__import__(m) for m in PRELOAD]; print(' '.join(sorted(set(sys.modules) - before)))"

    def modules(*argv: str) -> set[str]:
        return set(subprocess.run([sys.executable, "-c", *argv], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split())

    preloaded = modules(preload)
    assert len(preloaded) > 500, preloaded  # the stack, not a handful
    for service in services:
        extra = sorted(preloaded - modules(serving, service))
        assert not extra, (service, extra[:20])
