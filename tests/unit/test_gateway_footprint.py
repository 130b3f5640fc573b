"""The gateway holds no database (issue 19, target 5: ≤ 100 MiB a process at rest).
SQLAlchemy alone is about 20 MiB of a process's memory (``bench/memory.py``); the
gateway's process must not import it, through the shared HTTP code or otherwise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_gateway_process_imports_no_database_library() -> None:
    probe = "import sys; import services.command.cli, services.gateway.server; print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'aiosqlite', 'asyncpg', 'alembic'}))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
