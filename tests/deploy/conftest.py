"""Rendering the kustomize overlays once per overlay (kubectl kustomize)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
OVERLAYS = ("dev", "prod")
#: production and the overlays built on it (they render the same objects, and more)
PROD_OVERLAYS = ("prod", "prod-monitoring", "prod-cnpg")


def kubectl() -> str:
    found = shutil.which("kubectl") or ("/usr/bin/kubectl" if Path("/usr/bin/kubectl").exists() else None)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("kubectl is required in CI to render deploy/overlays (kubectl kustomize)")
    pytest.skip("kubectl not installed: cannot render deploy/overlays with `kubectl kustomize`")


@functools.cache
def render(overlay: str) -> list[dict[str, Any]]:
    """The rendered documents (cached: treat them as read-only)."""
    out = subprocess.run(
        [kubectl(), "kustomize", str(DEPLOY / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, f"kubectl kustomize deploy/overlays/{overlay} failed:\n{out.stderr}"
    return [d for d in yaml.safe_load_all(out.stdout) if d]


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, render(request.param)


@pytest.fixture(scope="module")
def prod() -> list[dict[str, Any]]:
    return render("prod")


@pytest.fixture(scope="module")
def dev() -> list[dict[str, Any]]:
    return render("dev")


@pytest.fixture(scope="module", params=PROD_OVERLAYS)
def production(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    """Each production overlay: prod and those that add a component to it."""
    return request.param, render(request.param)


@pytest.fixture(scope="module", params=(*OVERLAYS, *PROD_OVERLAYS[1:]))
def every_overlay(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    """Every overlay there is: dev, prod and the production variants."""
    return request.param, render(request.param)
