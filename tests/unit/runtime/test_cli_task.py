"""``xciss task``: operators run a service's named task; an unknown one is refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _xciss(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XCISS_")}
    env["XCISS_DATA_DIR"] = str(tmp_path)
    return subprocess.run([sys.executable, "-m", "services.command.cli", *args], env=env, capture_output=True, text=True, timeout=120)


def test_registry_reindex_search_task(tmp_path: Path) -> None:
    assert _xciss(tmp_path, "migrate", "registry").returncode == 0
    done = _xciss(tmp_path, "task", "registry", "reindex-search")
    assert done.returncode == 0, done.stderr
    assert "registry reindex-search: 0" in done.stdout  # an empty registry: nothing to index
    refused = _xciss(tmp_path, "task", "registry", "no-such-task")
    assert refused.returncode == 2 and "reindex-search" in refused.stderr
