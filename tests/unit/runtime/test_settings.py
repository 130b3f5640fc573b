from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from services.runtime.roles import Role
from services.runtime.http.auth import TokenError, TokenVerifier, issue_token
from services.runtime.pool_settings import PoolSettings
from services.runtime.db.engine import create_engine
from services.runtime.settings import Settings, SettingsError


def test_defaults_put_each_service_in_its_own_sqlite_file(tmp_path: Path) -> None:
    s = Settings.from_env({"XCISS_DATA_DIR": str(tmp_path)})
    assert s.database_url("registry") == f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    assert s.database_url("vouchers") != s.database_url("registry")
    assert [s.port(x) for x in ("registry", "vouchers", "evaluation", "payments")] == [8101, 8102, 8103, 8104]
    assert s.nats_url is None


def test_an_unset_variable_gives_the_field_default(tmp_path: Path) -> None:
    """Each setting's default has one home, its field: ``from_env`` with nothing set
    builds what ``Settings(...)`` in code builds, but for the portal's cache, which a
    process turns on (5 s) and settings built in code (the tests') leave off."""
    from_env = msgspec.structs.asdict(Settings.from_env({"XCISS_DATA_DIR": str(tmp_path)}))
    in_code = msgspec.structs.asdict(Settings(data_dir=tmp_path.resolve()))
    differ = {k: (from_env[k], in_code[k]) for k in in_code if from_env[k] != in_code[k]}
    assert differ == {"portal_cache_s": (5.0, 0.0)}


def test_environment_overrides(tmp_path: Path) -> None:
    s = Settings.from_env(
        {
            "XCISS_DATA_DIR": str(tmp_path),
            "XCISS_PAYMENTS_DATABASE_URL": "postgresql+asyncpg://p@db/payments",
            "XCISS_VOUCHERS_PORT": "9000",
            "XCISS_NATS_URL": "nats://nats:4222",
            "XCISS_CONSUMER_BACKOFF": "1,5,30",
            "XCISS_CONSUMER_BATCH": "40",
            "XCISS_OUTBOX_BATCH": "250",
        }
    )
    assert s.database_url("payments") == "postgresql+asyncpg://p@db/payments"
    assert s.port("vouchers") == 9000
    assert s.nats_url == "nats://nats:4222"
    assert s.consumer_backoff_s == (1.0, 5.0, 30.0)
    assert s.consumer_batch == 40
    assert s.outbox_batch == 250


@pytest.mark.parametrize("env", [{"XCISS_VOUCHERS_PORT": "eighty"}, {"XCISS_MODE": "production"}, {"XCISS_OUTBOX_POLL_S": "fast"}, {"XCISS_CONSUMER_BATCH": "0"}, {"XCISS_OUTBOX_BATCH": "0"}])
def test_malformed_settings_name_the_variable(env: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env({"XCISS_DATA_DIR": str(tmp_path), **env})
    assert next(iter(env)) in str(info.value)


def test_production_signs_nothing_without_a_signing_key(tmp_path: Path) -> None:
    s = Settings.from_env({"XCISS_DATA_DIR": str(tmp_path), "XCISS_MODE": "prod"})
    with pytest.raises(TokenError, match="no token signing key"):
        issue_token(s, subject="alice", role=Role.CENTER)
    assert not (tmp_path / "token-keys").exists()


def test_dev_key_is_created_once_and_reused(tmp_path: Path) -> None:
    token = issue_token(Settings.from_env({"XCISS_DATA_DIR": str(tmp_path)}), subject="alice", role=Role.CENTER)
    again = Settings.from_env({"XCISS_DATA_DIR": str(tmp_path), "XCISS_JWT_AUDIENCE": "xciss"})  # another process of the laptop
    assert TokenVerifier(again).verify(token).subject == "alice"
    assert (tmp_path / "token-keys").stat().st_mode & 0o077 == 0
    assert (tmp_path / "token-keys" / "signing.pem").stat().st_mode & 0o077 == 0


def test_token_round_trip_and_expiry(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    p = TokenVerifier(s).verify(issue_token(s, subject="alice", role=Role.CENTER, org="center"))
    assert (p.subject, p.role, p.org) == ("alice", Role.CENTER, "center")
    with pytest.raises(TokenError):
        TokenVerifier(s).verify(issue_token(s, subject="alice", role=Role.CENTER, ttl_s=-1))
    other = Settings(data_dir=tmp_path, jwt_audience="someone-else")
    with pytest.raises(TokenError):
        TokenVerifier(s).verify(issue_token(other, subject="alice", role=Role.CENTER))


def test_the_ledger_import_row_limit_is_a_deployment_setting(tmp_path: Path) -> None:
    assert Settings.from_env({"XCISS_DATA_DIR": str(tmp_path)}).import_max_rows == 20_000
    assert Settings.from_env({"XCISS_DATA_DIR": str(tmp_path), "XCISS_IMPORT_MAX_ROWS": "5000"}).import_max_rows == 5000
    for bad in ("0", "-1", "lots"):
        with pytest.raises(SettingsError, match="XCISS_IMPORT_MAX_ROWS"):
            Settings.from_env({"XCISS_DATA_DIR": str(tmp_path), "XCISS_IMPORT_MAX_ROWS": bad})


def test_database_pools_are_settings_and_a_transaction_pooler_turns_the_statement_cache_off() -> None:
    s = Settings.from_env({"XCISS_DB_POOL_SIZE": "3", "XCISS_DB_MAX_OVERFLOW": "0", "XCISS_DB_POOL_TIMEOUT_S": "2.5", "XCISS_DB_TRANSACTION_POOLER": "yes"})
    assert s.db_pool() == PoolSettings(size=3, max_overflow=0, timeout_s=2.5, transaction_pooler=True) and s.db_pool().most == 3
    assert Settings.from_env({}).db_pool().most == 20
    for name, bad in (("XCISS_DB_POOL_SIZE", "0"), ("XCISS_DB_MAX_OVERFLOW", "-1"), ("XCISS_DB_POOL_SIZE", "ten"), ("XCISS_DB_TRANSACTION_POOLER", "maybe")):
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({name: bad})
    url = "postgresql+asyncpg://postgres@127.0.0.1:6432/x"
    pooled = create_engine(url, pool=s.db_pool())
    direct = create_engine(url, pool=PoolSettings(size=3, max_overflow=0))
    try:
        assert (pooled.pool.size(), pooled.pool._max_overflow, pooled.pool._timeout) == (3, 0, 2.5)
        args = s.db_pool().connect_args()
        assert args["statement_cache_size"] == 0 and args["prepared_statement_cache_size"] == 0
        names = {args["prepared_statement_name_func"]() for _ in range(3)}
        assert len(names) == 3, "each prepared statement is named uniquely"
        assert PoolSettings().connect_args() == {}
    finally:
        pooled.sync_engine.dispose()
        direct.sync_engine.dispose()


def test_the_cors_allow_list_is_origins_or_nothing(tmp_path: Path) -> None:
    base = {"XCISS_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(base).cors_allow_origins == ()
    s = Settings.from_env(base | {"XCISS_CORS_ALLOW_ORIGINS": " https://a.example.cn, http://localhost:5173,https://a.example.cn "})
    assert s.cors_allow_origins == ("https://a.example.cn", "http://localhost:5173")


@pytest.mark.parametrize("origin", ["*", "https://*.example.cn", "https://a.example.cn/app", "a.example.cn", "ftp://a.example.cn", "https://A.example.cn", "https://u@a.example.cn"])
def test_a_cors_origin_that_is_not_one_origin_is_refused(origin: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="XCISS_CORS_ALLOW_ORIGINS"):
        Settings.from_env({"XCISS_DATA_DIR": str(tmp_path), "XCISS_CORS_ALLOW_ORIGINS": origin})


class _Asked(dict[str, str]):
    """An environment that records every variable read from it."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return super().__contains__(key)


def _configure_table() -> set[str]:
    """The variables named in the first column of docs/operations.md's "Configure" table."""
    text = (Path(__file__).resolve().parents[3] / "docs" / "operations.md").read_text(encoding="utf-8")
    section = text.split("\n## Configure\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for cell in rows for name in re.findall(r"`([A-Z0-9_<>]+)`", cell)}


def test_every_variable_the_settings_read_is_in_the_operators_table(tmp_path: Path) -> None:
    """An operator finds every setting in one place: each variable ``Settings.from_env`` reads
    is a row of docs/operations.md's "Configure" table (a service's own, as ``XCISS_<SERVICE>_…``)."""
    from services.runtime.settings import SERVICES

    env = _Asked({"XCISS_DATA_DIR": str(tmp_path)})
    Settings.from_env(env)
    each_service = rf"^XCISS_(?:{'|'.join(s.upper() for s in SERVICES)})_(PORT|DATABASE_URL|URL)$"
    read = {re.sub(each_service, r"XCISS_<SERVICE>_\1", name) for name in env.asked}
    assert len(read) > 60  # the recorder saw the reads
    assert sorted(read - _configure_table()) == []


def test_each_setting_read_alike_takes_its_variable(tmp_path: Path) -> None:
    """Setting one variable of ``READ_ALIKE`` changes its field, and only that field."""
    from services.runtime import settings as module

    value = {"env_text": "x", "env_text_or_default": "x", "env_optional": "x", "env_path": str(tmp_path / "p"), "env_int": "7", "env_positive": "7", "env_non_negative": "3", "env_float": "2.5"}
    base = msgspec.structs.asdict(Settings.from_env({"XCISS_DATA_DIR": str(tmp_path)}))
    for read, fields in module.READ_ALIKE:
        for field in fields:
            raw = value.get(read.__name__) or ("false" if base[field] else "true")
            got = msgspec.structs.asdict(Settings.from_env({"XCISS_DATA_DIR": str(tmp_path), module.variable(field): raw}))
            assert [k for k in got if got[k] != base[k]] == [field], (field, module.variable(field))
