"""``xciss bus backup`` / ``restore`` against a real nats-server: a stream
with its messages and a consumer's progress comes back as it was saved."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

from services.runtime.bus.backup import (
    META_FILE,
    BackupError,
    backup_all,
    restore_all,
    restore_stream,
)
from services.command.natsserver import EmbeddedNats
from tests.support.ports import free_port

STREAM = "BKTEST"
MESSAGES = 300
#: about 300 KB in all (random bytes: s2 cannot shrink them): more than two of the 128 KiB chunks, so flow control and the short last chunk are exercised
BODY = 1000


@pytest.fixture
def server(tmp_path: Path, bus_credentials: Path) -> Iterator[EmbeddedNats]:
    s = EmbeddedNats(tmp_path / "store", free_port(), credentials_dir=bus_credentials, log_file=tmp_path / "nats.log")
    s.start()
    yield s
    s.stop()


@pytest.fixture
async def operator(server: EmbeddedNats) -> AsyncIterator[nats.NATS]:
    access = server.access("operator")
    nc = await nats.connect(access.url, **access.connect_options())
    yield nc
    await nc.close()


async def _fill(nc: nats.NATS) -> None:
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name=STREAM, subjects=["registry.bktest.>"]))
    for i in range(MESSAGES):
        await js.publish(f"registry.bktest.{i % 7}", f"{i:06d}".encode() + random.randbytes(BODY - 6), headers={"Nats-Msg-Id": f"m{i}"})
    # the operator may not acknowledge ($JS.ACK): a consumer without acknowledgements moves on delivery
    sub = await js.pull_subscribe("registry.bktest.>", durable="reader", stream=STREAM, config=ConsumerConfig(ack_policy=AckPolicy.NONE))
    assert len(await sub.fetch(100, timeout=5)) == 100


async def test_a_stream_and_its_consumer_come_back_from_a_backup(operator: nats.NATS, tmp_path: Path) -> None:
    await _fill(operator)
    js = operator.jetstream()
    saved = await backup_all(operator, tmp_path / "backup", [STREAM])
    assert [(b.stream, b.messages) for b in saved] == [(STREAM, MESSAGES)]
    assert saved[0].bytes_written > 2 * 128 * 1024
    meta = json.loads((tmp_path / "backup" / STREAM / META_FILE).read_text())
    assert meta["config"]["name"] == STREAM and meta["state"]["messages"] == MESSAGES

    await js.delete_stream(STREAM)
    assert await restore_all(operator, tmp_path / "backup") == [STREAM]

    info = await js.stream_info(STREAM)
    assert info.state.messages == MESSAGES
    assert (await js.get_msg(STREAM, 1)).data[:6] == b"000000"
    assert (await js.get_msg(STREAM, MESSAGES)).data[:6] == f"{MESSAGES - 1:06d}".encode()
    reader = await js.consumer_info(STREAM, "reader")
    assert reader.delivered.stream_seq == 100 and reader.num_pending == MESSAGES - 100


async def test_restoring_over_a_stream_that_exists_is_refused_and_changes_nothing(operator: nats.NATS, tmp_path: Path) -> None:
    await _fill(operator)
    await backup_all(operator, tmp_path / "backup", [STREAM])
    with pytest.raises(BackupError, match="restore of BKTEST: .*already"):
        await restore_stream(operator, tmp_path / "backup" / STREAM)
    assert (await operator.jetstream().stream_info(STREAM)).state.messages == MESSAGES


def test_the_operator_backs_up_and_restores_with_the_command_line(server: EmbeddedNats, bus_credentials: Path, tmp_path: Path) -> None:
    """``xciss bus backup`` / ``restore`` as an operator runs them: the operator's seed, the server's URL."""
    access = server.access("operator")

    async def as_operator(fn: Callable[[nats.NATS], Awaitable[object]]) -> object:
        nc = await nats.connect(access.url, **access.connect_options())
        try:
            return await fn(nc)
        finally:
            await nc.close()

    env = {k: v for k, v in os.environ.items() if not k.startswith("XCISS_")}
    env.update(XCISS_NATS_URL=server.url, XCISS_NATS_NKEY_FILE=str(bus_credentials / "operator.nk"), XCISS_DATA_DIR=str(tmp_path / "data"))

    def xciss(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "services.command.cli", "bus", *args], env=env, capture_output=True, text=True, timeout=60, check=False)

    asyncio.run(as_operator(_fill))
    saved = xciss("backup", str(tmp_path / "backup"), "--stream", STREAM)
    assert saved.returncode == 0, saved.stderr
    assert STREAM in saved.stdout and f"{MESSAGES} messages" in saved.stdout
    refused = xciss("restore", str(tmp_path / "backup"))
    assert refused.returncode == 1 and "restore of BKTEST" in refused.stderr and "already" in refused.stderr
    asyncio.run(as_operator(lambda nc: nc.jetstream().delete_stream(STREAM)))
    restored = xciss("restore", str(tmp_path / "backup"))
    assert restored.returncode == 0 and f"restored {STREAM}" in restored.stdout, restored.stderr
    info = asyncio.run(as_operator(lambda nc: nc.jetstream().stream_info(STREAM)))
    assert info.state.messages == MESSAGES  # type: ignore[attr-defined]
