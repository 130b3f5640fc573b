"""Settings from environment variables, read once and passed into factories.

Nothing reads the environment at import time: ``Settings.from_env()`` is called
by the command line (or by a test with its own mapping).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import msgspec

from services.runtime.bus_identity.credentials import BusAccess, seed_path
from services.runtime.city import City, load_city, packaged_city, with_prefix_setting
from services.runtime.client_address import DEFAULT_TRUSTED
from services.runtime.pool_settings import PoolSettings
from services.runtime.crypto import FieldCipher
from services.runtime.env import (
    SettingsError,
    password_of,
    without_password,
    env_path,
    env_text,
    env_text_or_default,
    env_optional,
    env_int,
    env_positive,
    env_non_negative,
    env_bool,
    env_networks,
    env_float,
    env_addresses,
    env_origins,
)

SERVICES: tuple[str, ...] = ("registry", "vouchers", "evaluation", "payments")

DEFAULT_PORTS: dict[str, int] = {"registry": 8101, "vouchers": 8102, "evaluation": 8103, "payments": 8104}
GATEWAY_PORT = 8100
#: where ``xciss up`` keeps the NATS credentials under the data directory
CREDENTIALS_DIRNAME = "nats-credentials"


#: dev: the laptop and the tests; staging: production's checks, the test clock allowed; prod
MODES = ("dev", "staging", "prod")


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    data_dir: Path
    #: None means "start an embedded nats-server" for ``xciss up``.
    nats_url: str | None = None
    #: a directory of nkey seeds, ``<identity>.nk`` each (XCISS_NATS_CREDENTIALS_DIR): the
    #: laptop and the tests; in dev mode ``<data_dir>/nats-credentials`` when it exists
    nats_credentials_dir: Path | None = None
    #: this process's own nkey seed (XCISS_NATS_NKEY_FILE): a Kubernetes pod mounts only its own
    nats_nkey_file: Path | None = None
    #: the CA of the NATS servers' TLS certificates (XCISS_NATS_TLS_CA_FILE); a ``tls://`` URL uses TLS too
    nats_tls_ca_file: Path | None = None
    database_urls: dict[str, str] = {}
    http_host: str = "127.0.0.1"
    http_ports: dict[str, int] = msgspec.field(default_factory=lambda: dict(DEFAULT_PORTS))
    #: "dev" allows the token command's default key and the demo helpers; "staging"
    #: is production's checks with the test clock allowed; "prod" refuses the test clock
    mode: str = "dev"
    #: the token issuer's Ed25519 private key, PEM (XCISS_JWT_SIGNING_KEY or, better,
    #: XCISS_JWT_SIGNING_KEY_FILE): registry only (services/runtime/tokenkeys.py)
    jwt_signing_key: str = ""
    jwt_signing_key_file: Path | None = None
    #: the public keys every process verifies tokens with, a JWKS with ``kid``s
    #: (XCISS_JWT_JWKS or XCISS_JWT_JWKS_FILE); two keys during a rotation
    jwt_jwks: str = ""
    jwt_jwks_file: Path | None = None
    pii_secret: str = ""
    #: AES-256-GCM keys for personal and financial fields: ``kid=base64key,...``
    field_keys: str = ""
    jwt_issuer: str = "xciss"
    jwt_audience: str = "xciss"
    #: Production: verify tokens with an external OpenID Connect issuer's keys.
    oidc_jwks_url: str | None = None
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    role_claim: str = "role"
    org_claim: str = "org"
    #: per process and database: connections kept open, extra ones under load, how long a
    #: request waits for one; and whether the URL is a transaction pooler (PgBouncer
    #: ``pool_mode = transaction``: no prepared statements survive a transaction there).
    #: docs/operations.md, "Connections", has the budget.
    db_pool_size: int = 10
    db_max_overflow: int = 10
    db_pool_timeout_s: float = 30.0
    db_transaction_pooler: bool = False
    # messaging
    stream_replicas: int = 1
    duplicate_window_s: float = 120.0
    outbox_poll_s: float = 0.1
    #: outbox rows a relay publishes and records per transaction (XCISS_OUTBOX_BATCH). On SQLite
    #: each batch waits for the one write lock behind the service's own writers: at 100 rows a
    #: voucher rush's events fell seconds behind their answers (bench/README.md, "Voucher rush")
    outbox_batch: int = 500
    publish_timeout_s: float = 5.0
    consumer_ack_wait_s: float = 30.0
    consumer_max_attempts: int = 5
    consumer_backoff_s: tuple[float, ...] = (0.5, 2.0, 10.0, 30.0, 60.0)
    consumer_batch: int = 100
    graceful_timeout_s: float = 15.0
    #: ``/metrics`` port of processes without the API (``xciss worker|relay``); None: not served
    metrics_port: int | None = None
    #: scrape-time probes (outbox, consumer lag, service figures) run at most this often
    metrics_cache_s: float = 5.0
    #: the NATS monitoring endpoint (``http://nats:8222``): lets the start-up checks read server settings
    nats_monitor_url: str | None = None
    #: the city file (XCISS_CITY_FILE); None = the packaged services/runtime/city-xuchang.yaml
    city_file: Path | None = None
    #: the city: its name, division prefix and counties (services/runtime/city.py), read from
    #: ``city_file`` by ``from_env``; settings built in code get the packaged Xuchang
    city: City = msgspec.field(default_factory=packaged_city)
    #: how often a vouchers worker voids vouchers past their time
    voucher_expiry_interval_s: float = 60.0
    #: JSON file with extra official working-day calendar years (XCISS_CALENDAR_FILE)
    calendar_file: Path | None = None
    #: where a service keeps uploaded documents: None = under data_dir, or
    #: ``s3://bucket[/prefix]`` (XCISS_DOCUMENT_STORE) with the S3 settings below
    document_store_url: str | None = None
    s3_endpoint: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_region: str = "us-east-1"
    s3_secure: bool = True
    # gateway
    gateway_port: int = GATEWAY_PORT
    #: where the gateway reaches each service (XCISS_<SVC>_URL: one address or several,
    #: comma-separated, spread round-robin); default: this host's port
    upstream_urls: dict[str, tuple[str, ...]] = {}
    gateway_max_body_bytes: int = 20_000_000
    gateway_rate_limit_per_minute: int = 600
    gateway_timeout_s: float = 30.0
    #: web origins whose pages may call the API from a browser (XCISS_CORS_ALLOW_ORIGINS,
    #: comma-separated); none by default: only the portal, on the gateway's own origin
    cors_allow_origins: tuple[str, ...] = ()
    #: the evaluation's indicator set and per-year parameters (XCISS_EVALUATION_POLICY_FILE);
    #: None = the packaged services/evaluation/policy/indicators-2023.yaml
    evaluation_policy_file: Path | None = None
    #: the registry's policy numbers by year: listing, voucher acceptance, complaints
    #: (XCISS_REGISTRY_POLICY_FILE); None = services/registry/policy/registry.yaml
    registry_policy_file: Path | None = None
    #: the vouchers' programme defaults by year (XCISS_VOUCHER_POLICY_FILE); None = services/vouchers/policy/programme.yaml
    voucher_policy_file: Path | None = None
    #: how often an evaluation worker finalizes notices whose window has closed
    notice_finalize_interval_s: float = 300.0
    #: how often a process reads the test clock (dev and staging only; services/runtime/bus/testclock.py)
    clock_poll_s: float = 1.0
    # local accounts (registry) and sessions
    #: lifetime of a login token (XCISS_SESSION_TTL_S); revoked sessions are refused until then
    session_ttl_s: int = 8 * 3600
    #: consecutive wrong passwords that lock an account (XCISS_LOGIN_MAX_FAILURES) ...
    login_max_failures: int = 5
    #: ... for this long (XCISS_LOGIN_LOCK_MINUTES)
    login_lock_minutes: int = 15
    #: login attempts per minute per username and per client address, across replicas
    login_rate_limit_per_minute: int = 10
    #: proxies whose ``X-Forwarded-For`` is believed (XCISS_TRUSTED_PROXIES: addresses or
    #: networks, comma-separated); loopback by default, the cluster's pod network in Kubernetes
    trusted_proxies: tuple[str, ...] = tuple(DEFAULT_TRUSTED.split(","))
    #: how long an ``Idempotency-Key`` is remembered (and replayed), in hours
    idempotency_retention_h: float = 24.0
    #: the longest session of use of an instrument the usage log accepts, in hours (issue 16)
    usage_max_session_h: int = 24
    #: the portal offers demo sign-in (one account per role) (XCISS_DEMO); ``xciss up`` sets it
    demo: bool = False
    #: seconds the portal keeps its public pages (home, catalogue, an instrument) as rendered
    #: for visitors without a session (XCISS_PORTAL_CACHE_S, 5 for a process; 0: off, the
    #: default of settings built in code, e.g. the tests')
    portal_cache_s: float = 0.0
    #: instrument rows in one ledger import (XCISS_IMPORT_MAX_ROWS); reading stops beyond it
    import_max_rows: int = 20_000
    # outgoing mail (registry: password reset); no XCISS_SMTP_HOST: mails are logged, not sent (dev)
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "noreply@xciss.local"
    #: STARTTLS before signing in to the SMTP server (XCISS_SMTP_STARTTLS)
    smtp_starttls: bool = True
    #: the portal's address as people reach it, for links in mails and calendar feed addresses (XCISS_PUBLIC_URL);
    #: None: http://127.0.0.1:<gateway port>
    public_url: str | None = None
    #: a password-reset link works once, this long (XCISS_PASSWORD_RESET_TTL_MINUTES)
    password_reset_ttl_minutes: int = 30
    #: reset requests and self-service sign-ups per hour per client address (and per e-mail)
    recovery_rate_limit_per_hour: int = 10
    #: how often a registry worker retries mails not yet sent (XCISS_MAIL_RETRY_INTERVAL_S)
    mail_retry_interval_s: float = 30.0
    #: how often a registry worker runs its notice passes (XCISS_NOTICE_INTERVAL_S): the reminders of
    #: tomorrow's bookings, the scheduled notices now due (voucher expiry, appeal window, listing
    #: deadline), the listing reminders' backfill
    notice_interval_s: float = 300.0

    #: fields never shown in a repr or a log line
    SECRET_FIELDS: ClassVar[frozenset[str]] = frozenset({"jwt_signing_key", "pii_secret", "field_keys", "s3_secret_key", "s3_access_key", "smtp_password"})

    def __repr__(self) -> str:
        """Secrets as ``***``, database and NATS URLs without their passwords."""
        shown = []
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if name in self.SECRET_FIELDS:
                value = "***" if value else value
            elif name == "database_urls":
                value = {k: without_password(v) for k, v in value.items()}
            elif name == "nats_url" and value:
                value = without_password(value)
            shown.append(f"{name}={value!r}")
        return f"Settings({', '.join(shown)})"

    __str__ = __repr__

    def secret_values(self) -> list[str]:
        """The configured secrets, for the log filter to mask wherever they appear."""
        values = [getattr(self, n) or "" for n in sorted(self.SECRET_FIELDS)]
        # a PEM key shows in a log line one base64 line at a time
        values += [line.strip() for line in self.jwt_signing_key.splitlines() if line.strip() and not line.startswith("-----")]
        values += [part.partition("=")[2].strip() for part in self.field_keys.split(",")]
        for url in [*self.database_urls.values(), self.nats_url or ""]:
            password = password_of(url)
            if password:
                values.append(password)
        return [v for v in values if v]

    @property
    def city_division_prefix(self) -> str:
        """The city's division prefix (R4): its file's, which XCISS_CITY_DIVISION_PREFIX may only repeat."""
        return self.city.division_prefix

    def db_pool(self) -> PoolSettings:
        return PoolSettings(self.db_pool_size, self.db_max_overflow, self.db_pool_timeout_s, self.db_transaction_pooler)

    def database_url(self, service: str) -> str:
        if service in self.database_urls:
            return self.database_urls[service]
        return f"sqlite+aiosqlite:///{self.data_dir / f'{service}.db'}"

    def bus(self, identity: str) -> BusAccess:
        """How ``identity`` (a service, ``gateway`` or ``operator``) reaches NATS."""
        if not self.nats_url:
            raise SettingsError("XCISS_NATS_URL is required")
        seed = self.nats_nkey_file
        if seed is None:
            directory = self.nats_credentials_dir
            if directory is None and self.mode == "dev" and (self.data_dir / CREDENTIALS_DIRNAME).is_dir():
                directory = self.data_dir / CREDENTIALS_DIRNAME
            if directory is not None:
                seed = seed_path(directory, identity)
                if not seed.exists():
                    raise SettingsError(f"no NATS credentials for {identity!r}: {seed} is missing")
        return BusAccess(url=self.nats_url, identity=identity, seed_file=seed, tls_ca_file=self.nats_tls_ca_file)

    def port(self, service: str) -> int:
        return self.http_ports.get(service, DEFAULT_PORTS.get(service, 8100))

    def upstream_addresses(self, service: str) -> tuple[str, ...]:
        return self.upstream_urls.get(service) or (f"http://127.0.0.1:{self.port(service)}",)

    def pii_key(self) -> str:
        """Key for digests of personal identifiers (``XCISS_PII_KEY``)."""
        return self._secret(self.pii_secret, "XCISS_PII_KEY", "dev-pii.key")

    def field_cipher(self) -> FieldCipher:
        """The cipher for fields encrypted at rest (``XCISS_FIELD_KEYS``;
        dev mode derives one key from a random secret under the data directory)."""
        if self.field_keys:
            return FieldCipher.from_config(self.field_keys)
        return FieldCipher.derived(self._secret("", "XCISS_FIELD_KEYS", "dev-field.key"))

    def _secret(self, value: str, variable: str, dev_file: str) -> str:
        if value:
            return value
        if self.mode != "dev":
            raise SettingsError(f"{variable} is required outside dev mode")
        path = self.data_dir / dev_file
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        get = env.get
        d = _DEFAULTS  # each setting's default has one home: its field above
        data_dir = Path(get("XCISS_DATA_DIR", ".xciss")).resolve()
        db_urls = {s: get(f"XCISS_{s.upper()}_DATABASE_URL", "") for s in SERVICES}
        ports = {s: env_int(env, f"XCISS_{s.upper()}_PORT", DEFAULT_PORTS[s]) for s in SERVICES}
        mode = get("XCISS_MODE", "dev")
        if mode not in MODES:
            raise SettingsError(f"XCISS_MODE must be dev, staging or prod, not {mode!r}")
        backoff = get("XCISS_CONSUMER_BACKOFF")
        city_file = env_path(env, "XCISS_CITY_FILE")
        city = with_prefix_setting(load_city(city_file), get("XCISS_CITY_DIVISION_PREFIX"), city_file)
        return cls(
            data_dir=data_dir,
            database_urls={k: v for k, v in db_urls.items() if v},
            http_ports=ports,
            mode=mode,
            consumer_backoff_s=tuple(float(x) for x in backoff.split(",")) if backoff else d.consumer_backoff_s,
            metrics_port=env_int(env, "XCISS_METRICS_PORT", 0) or None,
            city_file=city_file,
            city=city,
            upstream_urls={s: env_addresses(env, f"XCISS_{s.upper()}_URL") for s in SERVICES if get(f"XCISS_{s.upper()}_URL", "").strip(" ,")},
            cors_allow_origins=env_origins(env, "XCISS_CORS_ALLOW_ORIGINS"),
            trusted_proxies=env_networks(env, "XCISS_TRUSTED_PROXIES", DEFAULT_TRUSTED),
            portal_cache_s=env_float(env, "XCISS_PORTAL_CACHE_S", 5.0),  # a process caches; the field (settings built in code) does not
            public_url=(get("XCISS_PUBLIC_URL") or "").rstrip("/") or None,
            # XCISS_BOOKING_REMINDER_INTERVAL_S: its name until 2026-12 (it set all three passes), still read
            notice_interval_s=env_float(env, "XCISS_NOTICE_INTERVAL_S", env_float(env, "XCISS_BOOKING_REMINDER_INTERVAL_S", d.notice_interval_s)),
            **{field: read(env, variable(field), getattr(d, field)) for read, fields in READ_ALIKE for field in fields},
        )


#: the settings read alike: each from one variable (:func:`variable`) by one reader, which
#: names the variable when it refuses a value and gives the field's default when it is unset.
#: ``Settings.from_env`` reads the others itself.
READ_ALIKE: tuple[tuple[Callable[[Mapping[str, str], str, Any], Any], tuple[str, ...]], ...] = (
    (env_text, ("http_host", "jwt_signing_key", "jwt_jwks", "pii_secret", "field_keys", "jwt_issuer", "jwt_audience", "role_claim", "org_claim")),
    (env_text_or_default, ("s3_region", "smtp_from")),
    (env_optional, (
        "nats_url", "oidc_jwks_url", "oidc_issuer", "oidc_audience", "nats_monitor_url", "document_store_url",
        "s3_endpoint", "s3_access_key", "s3_secret_key", "smtp_host", "smtp_user", "smtp_password",
    )),
    (env_path, (
        "nats_credentials_dir", "nats_nkey_file", "nats_tls_ca_file", "jwt_signing_key_file", "jwt_jwks_file",
        "calendar_file", "evaluation_policy_file", "registry_policy_file", "voucher_policy_file",
    )),
    (env_int, (
        "stream_replicas", "consumer_max_attempts", "gateway_port", "gateway_max_body_bytes", "gateway_rate_limit_per_minute",
        "session_ttl_s", "login_max_failures", "login_lock_minutes", "login_rate_limit_per_minute", "smtp_port",
    )),
    (env_positive, (
        "db_pool_size", "outbox_batch", "consumer_batch", "usage_max_session_h", "import_max_rows",
        "password_reset_ttl_minutes", "recovery_rate_limit_per_hour",
    )),
    (env_non_negative, ("db_max_overflow",)),
    (env_float, (
        "db_pool_timeout_s", "duplicate_window_s", "outbox_poll_s", "consumer_ack_wait_s", "graceful_timeout_s", "metrics_cache_s",
        "voucher_expiry_interval_s", "gateway_timeout_s", "notice_finalize_interval_s", "clock_poll_s", "idempotency_retention_h",
        "mail_retry_interval_s",
    )),
    (env_bool, ("db_transaction_pooler", "s3_secure", "demo", "smtp_starttls")),
)

#: the variables not named ``XCISS_`` + their field's name in capitals
VARIABLES: dict[str, str] = {
    "pii_secret": "XCISS_PII_KEY",
    "role_claim": "XCISS_OIDC_ROLE_CLAIM",
    "org_claim": "XCISS_OIDC_ORG_CLAIM",
    "document_store_url": "XCISS_DOCUMENT_STORE",
}


def variable(field: str) -> str:
    """The environment variable a setting read alike is read from."""
    return VARIABLES.get(field, f"XCISS_{field.upper()}")


#: the fields' plain defaults, by name: what ``Settings.from_env`` takes for a variable that is not set
_DEFAULTS = SimpleNamespace(**{f.name: f.default for f in msgspec.structs.fields(Settings) if f.default is not msgspec.NODEFAULT})
