"""Encryption at rest for personal and financial fields (PIPL; 等保 2.0).

Bank account numbers and identity numbers are stored only as AES-256-GCM
tokens: ``<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>``. The associated data
names the field (``"unit.bank_account"``), so a token copied into another
column does not decrypt. Keys come from settings (``XCISS_FIELD_KEYS``:
``kid=base64key,...``, the first is current); older keys stay listed to read
what they wrote, so a key can be rotated without rewriting every row at once.

Responses and logs show only masked forms (:func:`mask_account`,
:func:`mask_id_number`).
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class FieldCipherError(ValueError):
    pass


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FieldCipher:
    def __init__(self, keys: Mapping[str, bytes], current: str):
        if current not in keys:
            raise FieldCipherError(f"current key {current!r} is not among the keys")
        for kid, key in keys.items():
            if len(key) != 32:
                raise FieldCipherError(f"field key {kid!r} must be 32 bytes (AES-256), not {len(key)}")
            if ":" in kid or not kid:
                raise FieldCipherError(f"field key id {kid!r} must be non-empty without ':'")
        self._keys = {kid: AESGCM(key) for kid, key in keys.items()}
        self.current = current

    @classmethod
    def from_config(cls, spec: str) -> FieldCipher:
        """``k2=<base64 key>,k1=<base64 key>``: the first key encrypts."""
        keys: dict[str, bytes] = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            kid, sep, value = part.partition("=")
            if not sep:
                raise FieldCipherError("XCISS_FIELD_KEYS entries read kid=base64key")
            keys[kid.strip()] = _b64d(value.strip())
        if not keys:
            raise FieldCipherError("XCISS_FIELD_KEYS names no key")
        return cls(keys, next(iter(keys)))

    @classmethod
    def derived(cls, secret: str) -> FieldCipher:
        """A single key derived from a dev secret (dev mode only)."""
        return cls({"dev": hashlib.sha256(b"xciss-field-key\x00" + secret.encode()).digest()}, "dev")

    def encrypt(self, plaintext: str, field: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self.current].encrypt(nonce, plaintext.encode("utf-8"), field.encode("utf-8"))
        return f"{self.current}:{_b64e(nonce + sealed)}"

    def decrypt(self, token: str, field: str) -> str:
        kid, sep, body = token.partition(":")
        if not sep or kid not in self._keys:
            raise FieldCipherError("unknown field key id; was the key removed from XCISS_FIELD_KEYS?")
        raw = _b64d(body)
        try:
            plain = self._keys[kid].decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], field.encode("utf-8"))
        except InvalidTag as exc:
            raise FieldCipherError(f"the token does not decrypt as {field!r}") from exc
        return plain.decode("utf-8")


def mask_account(number: str) -> str:
    """``6222021234567890123`` -> ``**************0123``."""
    digits = number.replace(" ", "")
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_id_number(number: str) -> str:
    """A resident ID number keeps its first 6 and last 4 characters."""
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]
