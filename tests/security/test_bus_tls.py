"""The bus over TLS (the production overlay's shape): a service works with
its own key through an encrypted connection, the start-up checks find
nothing to refuse, and neither plain text nor a server the CA did not sign
is accepted."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import msgspec
import nats
import pytest

from services.runtime import safety
from services.command.natsserver import EmbeddedNats
from tests.support.awards import payout_owed, publish_award
from tests.support.platform import Platform, running
from tests.support.ports import free_port
from tests.support.tlscerts import make_certificates


@pytest.fixture
def tls_nats(tmp_path: Path) -> Iterator[EmbeddedNats]:
    certs = make_certificates(tmp_path / "tls")
    server = EmbeddedNats(tmp_path / "js", free_port(), credentials_dir=tmp_path / "credentials", tls=(certs.cert, certs.key, certs.ca), log_file=tmp_path / "nats.log")
    server.start()
    yield server
    server.stop()


async def test_a_service_works_over_tls_and_nothing_else_gets_in(make_settings, tls_nats: EmbeddedNats, tmp_path: Path) -> None:
    assert tls_nats.tls is not None
    ca = tls_nats.tls[2]
    settings = await make_settings(["payments"], nats_url=f"tls://127.0.0.1:{tls_nats.port}", nats_credentials_dir=tls_nats.credentials_dir, nats_tls_ca_file=ca)
    assert settings.bus("payments").tls
    async with running(Platform(settings, ["payments"])) as p:
        unit = await publish_award(settings.bus("evaluation"), 2033)
        await payout_owed(p, unit)
    # in prod mode the bus is what the start-up checks want: an own key, encrypted, no anonymous client admitted
    prod = msgspec.structs.replace(settings, mode="prod")
    assert not [x for x in safety.configuration_problems(prod, "payments") if x.code.startswith("bus.")]
    assert await safety.bus_problems(prod.bus("payments")) == []

    seed = str(settings.bus("payments").seed_file)
    with pytest.raises(Exception):  # noqa: B017, PT011 - the server requires TLS: a plain-text client cannot even say who it is
        await nats.connect(tls_nats.url, connect_timeout=3, allow_reconnect=False, max_reconnect_attempts=0, nkeys_seed=seed)
    other = make_certificates(tmp_path / "other-ca")  # a server this CA did not sign (a man in the middle) is not trusted
    with pytest.raises(Exception, match="(?i)certificate"):
        await nats.connect(tls_nats.url, connect_timeout=3, allow_reconnect=False, max_reconnect_attempts=0, nkeys_seed=seed,
                           tls=ssl.create_default_context(cafile=str(other.ca)))
