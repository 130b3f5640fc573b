"""Password hashing with argon2id (``argon2.PasswordHasher``, the library's
RFC 9106 defaults). No password and no hash is ever logged, audited or
returned; the policy a new password must meet is ``domain/accounts.py``'s."""

from __future__ import annotations

import asyncio
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

#: argon2id with the library's RFC 9106 defaults; a change of parameters
#: rehashes each password at its owner's next successful login
HASHER = PasswordHasher()


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """What an unknown username's password is checked against, so that the refusal takes as long as a real check."""
    return HASHER.hash("xciss-dummy-password-for-unknown-usernames")


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(HASHER.hash, password)
