"""No personal data and no secret in a log line: what the runtime's masking
hides, what it leaves readable, and that start-up never shows a key."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.runtime.settings import Settings
from services.runtime.telemetry import MaskingFilter, install_log_masking, mask_text
from services.runtime.tokenkeys import generate_private_pem
from tests.support.polling import eventually
from tests.support.ports import free_port

ID_NUMBER = "41100219900101002X"
CARD = "6222021234567890123"
#: a token signing key, and the base64 line that would show if the PEM were logged
PEM = generate_private_pem()
PEM_BODY = PEM.splitlines()[1]
TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTEiLCJyb2xlIjoidXNlciJ9.c2lnbmF0dXJlLWJ5dGVz"
RECORDER_TOKEN = "xr_" + "Q2hvb3NlIGEgcmVjb3JkZXIgdG9rZW4gbGlrZSB0aGlz"


@contextlib.contextmanager
def captured(level: int = logging.INFO) -> Iterator[io.StringIO]:
    install_log_masking()
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def test_personal_data_tokens_and_passwords_are_masked_in_messages_and_args() -> None:
    log = logging.getLogger("xciss.test.masking")
    with captured() as out:
        log.info("team leader %s registered with card %s", ID_NUMBER, CARD)
        log.info("payout to account 6222 0212 3456 7890 123 confirmed")
        log.info("corporate account_number=411002001234 (short account, labelled)")
        log.warning("request had Authorization: Bearer %s", TOKEN)
        log.warning("a recorder sent Authorization: Recorder %s", RECORDER_TOKEN)
        log.warning("token in a query: ?access_token=%s&x=1", TOKEN)
        log.info("connecting with password=hunter2! and secret: 'abc def'")
        log.info('payload {"password": "p@ss word", "name": "张三"}')
        log.info("XCISS_JWT_SECRET=%s", "jwt-secret-from-env")
        log.error("database postgresql+asyncpg://xciss:db-pass-123@db:5432/registry unreachable")
    text = out.getvalue()
    for secret in (ID_NUMBER, CARD, "6222 0212 3456", "411002001234", TOKEN, "hunter2!", "abc def", "p@ss word", "jwt-secret-from-env", "db-pass-123", RECORDER_TOKEN):
        assert secret not in text, secret
    assert "411002********002X" in text  # the same mask as API responses: first 6, last 4
    assert "***************0123" in text and "********1234" in text
    assert "Recorder xr_***" in text
    assert "Bearer ***" in text and "password=***" in text and "postgresql+asyncpg://xciss:***@db:5432/registry" in text
    assert "张三" in text  # names are not identifiers; the line stays readable


def test_ids_times_and_amounts_stay_readable() -> None:
    line = (
        "order 3f2504e0-4f89-11d3-9a0c-305e82c33013 event 123e4567-e89b-12d3-a456-426614174000 "
        "at 2026-11-27T15:37:06.123456+00:00 (1764257826123 ms) amount_fen=300000 seq=10582 "
        "credit code 91411002000000001Y ratio 0.12345678901234567891 hash 3e444bd8479bff99550a408f62d6d502"
    )
    assert mask_text(line) == line


def test_a_traceback_is_masked_too() -> None:
    log = logging.getLogger("xciss.test.masking")
    with captured() as out:
        try:
            raise ConnectionError(f"cannot reach nats://relay:nats-pass-9@nats:4222 for leader {ID_NUMBER}")
        except ConnectionError:
            log.exception("relay failed")
    text = out.getvalue()
    assert "Traceback" in text and "ConnectionError" in text
    assert "nats-pass-9" not in text and ID_NUMBER not in text


def test_the_filter_masks_a_record_made_elsewhere() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "card %s", (CARD,), None)
    assert MaskingFilter().filter(record) is True
    assert record.getMessage() == "card ***************0123"


def test_settings_never_show_their_secrets(tmp_path: Path) -> None:
    env = {
        "XCISS_DATA_DIR": str(tmp_path),
        "XCISS_JWT_SIGNING_KEY": PEM,
        "XCISS_PII_KEY": "pii-key-value-0123456789",
        "XCISS_FIELD_KEYS": "k2=MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=,k1=YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY=",
        "XCISS_REGISTRY_DATABASE_URL": "postgresql+asyncpg://xciss:db-password-42@db:5432/registry",
        "XCISS_NATS_URL": "nats://svc:nats-password-42@nats:4222",
        "XCISS_S3_SECRET_KEY": "s3-secret-value-42",
    }
    s = Settings.from_env(env)
    shown = f"{s!r} {s} {[s]}"
    for name in ("XCISS_PII_KEY", "XCISS_S3_SECRET_KEY"):
        assert env[name] not in shown
    assert PEM_BODY not in shown and "PRIVATE KEY" not in shown
    for key in ("MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=", "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY=", "db-password-42", "nats-password-42"):
        assert key not in shown
    assert "postgresql+asyncpg://xciss:***@db:5432/registry" in shown and "jwt_issuer='xciss'" in shown


async def test_starting_a_service_logs_no_secret(tmp_path: Path) -> None:
    """Start-up with every secret configured and NATS unreachable (the
    connection errors and their tracebacks are logged while it retries): no
    key and no password reaches the log, and after start-up a configured
    secret is masked wherever it appears, URLs included."""
    from services.command.process import run_service

    secrets = {"jwt_signing_key": PEM, "pii_secret": "startup-pii-secret-0123456789", "s3_secret_key": "startup-s3-secret"}
    settings = Settings(
        data_dir=tmp_path,
        nats_url=f"nats://relay:startup-nats-pass@127.0.0.1:{free_port()}",
        database_urls={"registry": "postgresql+asyncpg://xciss:startup-db-pass@127.0.0.1:1/registry"},
        field_keys="k1=MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=",
        **secrets,
    )
    log = logging.getLogger("xciss.test.masking")
    with captured() as out:
        task = asyncio.create_task(run_service("registry", settings, ["relay"], asyncio.Event()))
        try:
            # the relay declares its streams first, retrying the connection
            await eventually(lambda: "NATS error" in out.getvalue(), timeout=60, what="a logged NATS connection retry")
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        log.info("settings %r", settings)
        log.info("raw %s %s %s", secrets["pii_secret"], PEM_BODY, "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=")
        log.warning("NATS at %s not reachable", settings.nats_url)
    text = out.getvalue()
    assert "NATS error" in text and "Connect call failed" in text  # start-up did log its retries
    assert "raw *** *** ***" in text and "nats://relay:***@127.0.0.1" in text
    for value in [*secrets.values(), PEM_BODY, "startup-nats-pass", "startup-db-pass", "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE="]:
        assert value not in text, value


@pytest.mark.parametrize("line", ["password=", "Bearer", "account 1234"])
def test_fragments_without_a_value_pass_unchanged(line: str) -> None:
    assert mask_text(line) == line
