"""A service's log level is the operator's (XCISS_LOG_LEVEL, set on the root
logger by the CLI), not Litestar's default logging config; an unhandled error
is still logged, with its traceback, and answered as a problem (500)."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
from litestar import get
from litestar.testing import TestClient

from services.runtime.http.auth import PUBLIC, access
from services.runtime.http.app import build_app
from services.runtime.settings import Settings


@get("/v1/boom", operation_id="boom", **access(PUBLIC))
async def boom() -> dict[str, str]:
    raise RuntimeError("the disk is on fire")


async def _dispose() -> None:
    return None


def test_the_root_level_holds_and_unhandled_errors_are_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = logging.getLogger()
    before = root.level
    root.setLevel(logging.WARNING)
    try:
        app = build_app("vouchers", Settings(data_dir=tmp_path), SimpleNamespace(dispose=_dispose), [boom])  # type: ignore[arg-type]
        with caplog.at_level(logging.WARNING), TestClient(app, raise_server_exceptions=False) as client:
            r = client.get("/v1/boom")
            assert root.level == logging.WARNING
        assert r.status_code == 500 and r.json()["code"] == "internal.error" and "fire" not in r.text
        logged = [rec for rec in caplog.records if rec.name == "xciss.http" and rec.levelno == logging.ERROR]
        # with its traceback (the masking filter may have rendered it into exc_text already)
        assert logged and "RuntimeError: the disk is on fire" in logging.Formatter().format(logged[0])
    finally:
        root.setLevel(before)
