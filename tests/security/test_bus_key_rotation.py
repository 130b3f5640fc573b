"""docs/security.md, "Rotating a NATS key", followed step by step against a
running server and a running service: the service is never refused during
the rotation, and afterwards the old key is refused, even on a connection
that was open."""

from __future__ import annotations

import asyncio
import contextlib
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import msgspec
import nats
import pytest

from services.runtime.bus_identity.credentials import seed_path
from services.command.cli import main as xciss
from services.command.natsserver import EmbeddedNats
from tests.support.awards import payout_owed, publish_award
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.ports import free_port

IDENTITY = "payments"


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[EmbeddedNats]:
    server = EmbeddedNats(tmp_path / "js", free_port(), credentials_dir=tmp_path / "credentials", log_file=tmp_path / "nats.log")
    server.start()
    yield server
    server.stop()


def run(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exited:
        xciss(list(argv))
    assert exited.value.code == 0, out.getvalue()
    return out.getvalue()


def apply_server_config(server: EmbeddedNats, directory: Path) -> None:
    """Steps 2 and 4: render the authorization block and reload every server."""
    assert server.config_file is not None
    server.config_file.write_text(run("bus", "server-config", str(directory)))
    server.signal_reload()


async def connects(server: EmbeddedNats, seed: Path) -> bool:
    try:
        nc = await nats.connect(server.url, connect_timeout=3, allow_reconnect=False, max_reconnect_attempts=0, nkeys_seed=str(seed))
    except Exception as exc:  # noqa: BLE001
        assert "authorization violation" in str(exc).lower(), exc
        return False
    await nc.close()
    return True


async def test_a_key_is_rotated_without_refusing_the_service(make_settings, bus: EmbeddedNats, tmp_path: Path) -> None:
    directory = bus.credentials_dir
    assert directory is not None
    pod = tmp_path / "pod"  # what the identity's pods mount as their seed (the Secret xciss-nats-payments)
    pod.mkdir()
    shutil.copy(seed_path(directory, IDENTITY), pod / "seed.nk")
    old = tmp_path / "old.nk"
    shutil.copy(seed_path(directory, IDENTITY), old)
    settings = await make_settings(["payments"], nats_url=bus.url, nats_credentials_dir=directory, nats_nkey_file=pod / "seed.nk")

    async with running(Platform(settings, ["payments"])) as p:
        # 1. a next key beside the current one
        printed = run("bus", "rotate", "begin", IDENTITY, str(directory))
        assert "next public key" in printed
        following = seed_path(directory, IDENTITY, following=True)
        # 2. the servers accept both keys
        apply_server_config(bus, directory)

        async def both_keys_accepted() -> bool:
            return await connects(bus, old) and await connects(bus, following)

        await eventually(both_keys_accepted, timeout=10, what="the servers accept both keys")
        await payout_owed(p, await publish_award(bus.access("evaluation"), 2034))  # the running service was not refused
    # 3. the pods get the next key and restart one by one
    shutil.copy(following, pod / "seed.nk")
    async with running(Platform(settings, ["payments"])) as p:
        lingering = await nats.connect(bus.url, allow_reconnect=False, nkeys_seed=str(old))  # an old pod not yet gone
        closed = asyncio.Event()
        lingering._closed_cb = _set(closed)  # noqa: SLF001 - nats-py has no public setter after connect
        # 4. the next key becomes the only one
        run("bus", "rotate", "finish", IDENTITY, str(directory))
        apply_server_config(bus, directory)
        await asyncio.wait_for(closed.wait(), 10)  # the server closed the connection of the retired key
        assert not await connects(bus, old)
        assert await connects(bus, seed_path(directory, IDENTITY))
        assert msgspec.json.decode(run("bus", "permissions", IDENTITY))  # the identity's permissions are unchanged
        await payout_owed(p, await publish_award(bus.access("evaluation"), 2035))


def _set(event: asyncio.Event):  # noqa: ANN202
    async def cb() -> None:
        event.set()

    return cb
