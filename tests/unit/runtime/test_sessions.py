"""The revocation list and the login limiter on a store; the verifier refuses
revoked sessions and leaves tokens without a session alone."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from litestar.stores.memory import MemoryStore

from services.runtime.roles import Role
from services.runtime.http.auth import TokenError, TokenVerifier, issue_token
from services.runtime.http.sessions import Revocations, WindowLimiter
from services.runtime.settings import Settings


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path)


async def test_revoked_session_is_refused_and_other_tokens_pass(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    revocations = Revocations(MemoryStore())
    verifier = TokenVerifier(s, revocations)
    token = issue_token(s, subject="alice", role=Role.CENTER, session_id="sid-1")
    service = issue_token(s, subject="svc", role=Role.SERVICE)
    assert (await verifier.authenticate(token)).session_id == "sid-1"
    await revocations.revoke("sid-1", time.time() + 60)
    with pytest.raises(TokenError, match="session"):
        await verifier.authenticate(token)
    assert (await verifier.authenticate(service)).session_id is None
    other = issue_token(s, subject="alice", role=Role.CENTER, session_id="sid-2")
    assert (await verifier.authenticate(other)).subject == "alice"


def test_token_lifetime_edge(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    now = int(time.time())
    verifier = TokenVerifier(s)
    assert verifier.verify(issue_token(s, subject="a", role=Role.CENTER, ttl_s=30, now=now - 29)).subject == "a"
    with pytest.raises(TokenError):
        verifier.verify(issue_token(s, subject="a", role=Role.CENTER, ttl_s=30, now=now - 31))


async def test_window_limiter_allows_exactly_the_limit() -> None:
    limiter = WindowLimiter(MemoryStore(), limit=3, window_s=3600)
    assert [await limiter.hit("user:a") for _ in range(3)] == [None, None, None]
    reset = await limiter.hit("user:a")
    assert reset is not None and 1 <= reset <= 3600
    assert await limiter.hit("user:b") is None


def test_session_settings_from_the_environment(tmp_path: Path) -> None:
    s = Settings.from_env({"XCISS_DATA_DIR": str(tmp_path)})
    assert (s.session_ttl_s, s.login_max_failures, s.login_lock_minutes, s.login_rate_limit_per_minute) == (8 * 3600, 5, 15, 10)
    s = Settings.from_env(
        {
            "XCISS_DATA_DIR": str(tmp_path),
            "XCISS_SESSION_TTL_S": "900",
            "XCISS_LOGIN_MAX_FAILURES": "3",
            "XCISS_LOGIN_LOCK_MINUTES": "30",
            "XCISS_LOGIN_RATE_LIMIT_PER_MINUTE": "20",
        }
    )
    assert (s.session_ttl_s, s.login_max_failures, s.login_lock_minutes, s.login_rate_limit_per_minute) == (900, 3, 30, 20)
