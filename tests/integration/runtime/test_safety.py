"""Refusing to run unsafe in prod mode (services/runtime/safety.py): each
refusal by its code, from settings alone and against real NATS servers (one
that admits anonymous clients, one that does not know the process's key),
and a real process that stops at start-up with exit code 2 before it serves."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import json

import msgspec
import pytest

from services.runtime import safety
from services.runtime.bus_identity.credentials import new_seed, write_secret
from services.command.natsserver import EmbeddedNats, port_open
from services.runtime.settings import Settings
from services.runtime.tokenkeys import generate_private_pem, jwks_of, load_private_pem
from tests.support.ports import free_port
from tests.support.tlscerts import TlsFiles, make_certificates


PEM = generate_private_pem()


@pytest.fixture
def certs(tmp_path: Path) -> TlsFiles:
    return make_certificates(tmp_path / "tls")


def safe(tmp_path: Path, certs: TlsFiles, **kw: object) -> Settings:
    """Production settings with nothing to refuse (the baseline each case changes one thing of)."""
    seed = tmp_path / "seed.nk"
    if not seed.exists():
        write_secret(seed, new_seed())
    base: dict[str, object] = dict(
        data_dir=tmp_path, mode="prod", nats_url="tls://nats:4222", nats_nkey_file=seed, nats_tls_ca_file=certs.ca,
        field_keys="k1=MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=", pii_secret="a-pii-key-of-production-0123456789",
        jwt_jwks=json.dumps(jwks_of([load_private_pem(PEM).public_key()])), trusted_proxies=("10.0.0.0/8",), demo=False,
    )
    base.update(kw)
    return Settings(**base)  # type: ignore[arg-type]


def codes(settings: Settings, identity: str = "payments") -> list[str]:
    return sorted(p.code for p in safety.configuration_problems(settings, identity))


def test_safe_production_settings_are_accepted_and_dev_mode_checks_nothing(tmp_path: Path, certs: TlsFiles) -> None:
    assert codes(safe(tmp_path, certs)) == []
    unsafe = safe(tmp_path, certs, nats_nkey_file=None, nats_url="nats://nats:4222", nats_tls_ca_file=None, field_keys="", pii_secret="", demo=True)
    assert codes(msgspec.structs.replace(unsafe, mode="dev")) == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"nats_nkey_file": None}, "bus.anonymous_client"),
        ({"nats_url": "nats://nats:4222", "nats_tls_ca_file": None}, "bus.no_tls"),
        ({"field_keys": ""}, "keys.field_missing"),
        ({"pii_secret": ""}, "keys.pii_missing"),
        ({"jwt_jwks": ""}, "keys.token"),
        ({"jwt_signing_key": PEM}, "keys.token"),  # a verifier holding the private key
        ({"demo": True}, "demo.on"),
        ({"trusted_proxies": ("0.0.0.0/0",)}, "proxies.too_wide"),
        ({"trusted_proxies": ("10.0.0.0/8", "203.0.0.0/16")}, "proxies.too_wide"),
        ({"trusted_proxies": ("2400:cb00::/32",)}, "proxies.too_wide"),
    ],
)
def test_each_unsafe_setting_is_refused_by_its_code(tmp_path: Path, certs: TlsFiles, change: dict[str, object], code: str) -> None:
    assert codes(safe(tmp_path, certs, **change)) == [code]


def test_a_public_proxy_as_narrow_as_a_24_is_trusted(tmp_path: Path, certs: TlsFiles) -> None:
    assert codes(safe(tmp_path, certs, trusted_proxies=("203.0.113.0/24", "2400:cb00:1::/64", "172.16.0.0/12"))) == []


def test_the_operators_tooling_is_checked_for_the_bus_only(tmp_path: Path, certs: TlsFiles) -> None:
    keyless = safe(tmp_path, certs, field_keys="", pii_secret="", jwt_jwks="")
    assert codes(keyless, "operator") == []
    assert codes(msgspec.structs.replace(keyless, nats_nkey_file=None), "operator") == ["bus.anonymous_client"]


@pytest.fixture
def open_bus(tmp_path: Path, certs: TlsFiles) -> Iterator[EmbeddedNats]:
    """A TLS server without authorization: it admits anybody."""
    server = EmbeddedNats(tmp_path / "open", free_port(), tls=(certs.cert, certs.key, certs.ca))
    server.start()
    yield server
    server.stop()


async def test_a_server_that_admits_anonymous_clients_is_refused(tmp_path: Path, certs: TlsFiles, open_bus: EmbeddedNats) -> None:
    settings = safe(tmp_path, certs, nats_url=f"tls://127.0.0.1:{open_bus.port}")
    found = await safety.problems_of(settings, "payments")
    assert [p.code for p in found] == ["bus.accepts_anonymous"]
    with pytest.raises(SystemExit) as stopped:
        await safety.enforce(settings, "payments")
    assert stopped.value.code == 2


async def test_a_key_the_server_does_not_know_is_refused_at_once(tmp_path: Path, certs: TlsFiles) -> None:
    server = EmbeddedNats(tmp_path / "js", free_port(), credentials_dir=tmp_path / "credentials", tls=(certs.cert, certs.key, certs.ca))
    server.start()
    try:
        settings = safe(tmp_path, certs, nats_url=f"tls://127.0.0.1:{server.port}")  # tmp_path/seed.nk is nobody's key
        assert [p.code for p in await safety.problems_of(settings, "payments")] == ["bus.refused"]
        known = msgspec.structs.replace(settings, nats_nkey_file=server.credentials_dir / "payments.nk")  # type: ignore[operator]
        assert await safety.problems_of(known, "payments") == []
    finally:
        server.stop()


def test_an_unsafe_process_stops_before_it_serves(tmp_path: Path, certs: TlsFiles, open_bus: EmbeddedNats) -> None:
    port = free_port()
    env = {
        **os.environ, "XCISS_MODE": "prod", "XCISS_DATA_DIR": str(tmp_path), "XCISS_NATS_URL": f"tls://127.0.0.1:{open_bus.port}",
        "XCISS_NATS_TLS_CA_FILE": str(certs.ca), "XCISS_NATS_NKEY_FILE": str(tmp_path / "seed.nk"), "XCISS_DEMO": "1",
        "XCISS_PAYMENTS_PORT": str(port), "XCISS_LOG_LEVEL": "WARNING",
    }
    write_secret(tmp_path / "seed.nk", new_seed())
    out = subprocess.run([sys.executable, "-m", "services.command.cli", "serve", "payments"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2, out.stderr
    for code in ("bus.accepts_anonymous", "keys.field_missing", "keys.pii_missing", "demo.on"):
        assert f"[{code}]" in out.stderr, out.stderr
    assert "refusing to start" in out.stderr
    assert not port_open("127.0.0.1", port)
