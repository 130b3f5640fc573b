"""Fields encrypted at rest: round trip, binding to the field, key rotation, masks."""

from __future__ import annotations

import base64
import os

import pytest

from services.runtime.crypto import FieldCipher, FieldCipherError, mask_account, mask_id_number
from services.runtime.settings import Settings


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def test_round_trip_and_no_plaintext_in_token() -> None:
    cipher = FieldCipher.from_config(f"k1={_key()}")
    token = cipher.encrypt("6222021234567890123", "unit.bank_account")
    assert "6222021234567890123" not in token and token.startswith("k1:")
    assert cipher.decrypt(token, "unit.bank_account") == "6222021234567890123"
    # a fresh nonce each time: equal plaintexts do not give equal tokens
    assert cipher.encrypt("6222021234567890123", "unit.bank_account") != token


def test_token_is_bound_to_its_field_and_key() -> None:
    cipher = FieldCipher.from_config(f"k1={_key()}")
    token = cipher.encrypt("410102199001011234", "team.leader_id")
    with pytest.raises(FieldCipherError):
        cipher.decrypt(token, "unit.bank_account")
    with pytest.raises(FieldCipherError):
        FieldCipher.from_config(f"k1={_key()}").decrypt(token, "team.leader_id")


def test_rotation_reads_old_tokens_and_writes_with_the_new_key() -> None:
    old = _key()
    token = FieldCipher.from_config(f"k1={old}").encrypt("x", "f")
    rotated = FieldCipher.from_config(f"k2={_key()},k1={old}")
    assert rotated.decrypt(token, "f") == "x"
    assert rotated.encrypt("x", "f").startswith("k2:")
    with pytest.raises(FieldCipherError):
        FieldCipher.from_config(f"k2={_key()}").decrypt(token, "f")


def test_bad_key_configuration_is_refused() -> None:
    with pytest.raises(FieldCipherError):
        FieldCipher.from_config("k1=" + base64.urlsafe_b64encode(b"short").decode())
    with pytest.raises(FieldCipherError):
        FieldCipher.from_config("nokey")
    with pytest.raises(FieldCipherError):
        FieldCipher.from_config("")


def test_dev_mode_key_is_stable_and_prod_requires_keys(tmp_path) -> None:
    dev = Settings(data_dir=tmp_path)
    token = dev.field_cipher().encrypt("secret", "f")
    assert Settings(data_dir=tmp_path).field_cipher().decrypt(token, "f") == "secret"
    with pytest.raises(ValueError):
        Settings(data_dir=tmp_path / "p", mode="prod").field_cipher()


def test_masks() -> None:
    assert mask_account("6222 0212 3456 7890 123") == "*" * 15 + "0123"
    assert mask_account("123") == "***"
    assert mask_id_number("410102199001011234") == "410102********1234"

