"""The platform's NATS credentials: one nkey per identity.

An nkey is an Ed25519 key pair. The server's configuration holds only the
public key (``U…``) with the identity's permissions; the process holds the
seed (``SU…``) in a file and signs the server's nonce with it, so no secret
crosses the wire and the server's configuration reveals nothing.

A credentials directory holds ``<identity>.nk`` (the seed, 0600) for every
identity, and during a rotation ``<identity>.next.nk`` beside it; the
directory itself is 0700. ``xciss up`` and the tests make one under their data
directory; in Kubernetes each Deployment mounts only its own seed from a
Secret (``XCISS_NATS_NKEY_FILE``).
"""

from __future__ import annotations

import os
import secrets
import ssl
from pathlib import Path
from typing import Any

import msgspec
import nkeys

from services.runtime.bus_identity.permissions import inbox_prefix

SEED_SUFFIX = ".nk"
NEXT_SUFFIX = ".next.nk"


class BusAccess(msgspec.Struct, frozen=True, kw_only=True):
    """How one identity reaches the bus: the URL, its seed, its inbox prefix."""

    #: one server, or several of one cluster comma-separated (``nats://a:4222,nats://b:4222``):
    #: the client connects to any of them and moves to another when its server goes away
    url: str
    identity: str
    #: None: connect without credentials (a server without authorization)
    seed_file: Path | None = None
    #: the CA that signed the NATS servers' certificates (TLS); None: the system's
    tls_ca_file: Path | None = None

    @property
    def servers(self) -> list[str]:
        """The server URLs to try, in order (``url`` split at its commas)."""
        return [u.strip() for u in self.url.split(",") if u.strip()]

    @property
    def tls(self) -> bool:
        return any(u.startswith("tls://") for u in self.servers) or self.tls_ca_file is not None

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.tls:
            return None
        return ssl.create_default_context(cafile=str(self.tls_ca_file) if self.tls_ca_file else None)

    def connect_options(self) -> dict[str, Any]:
        """Keyword arguments for ``nats.connect`` (and FastStream's broker, less ``tls``)."""
        options: dict[str, Any] = {"inbox_prefix": inbox_prefix(self.identity)}
        if self.seed_file is not None:
            options["nkeys_seed"] = str(self.seed_file)
        context = self.ssl_context()
        if context is not None:
            options["tls"] = context
        return options


def new_seed() -> str:
    """A fresh user nkey seed (``SU…``)."""
    return nkeys.encode_seed(secrets.token_bytes(32), nkeys.PREFIX_BYTE_USER).decode()


def public_key(seed: str) -> str:
    return nkeys.from_seed(bytearray(seed.strip().encode())).public_key.decode()


def seed_path(directory: Path, identity: str, *, following: bool = False) -> Path:
    return directory / f"{identity}{NEXT_SUFFIX if following else SEED_SUFFIX}"


def write_secret(path: Path, text: str) -> None:
    """Write a file only its owner can read (created 0600, never world-readable for a moment)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    path.chmod(0o600)


def ensure_directory(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)


def ensure_seeds(directory: Path, identities: list[str]) -> list[str]:
    """Create the missing seeds; returns the identities that got a new one."""
    ensure_directory(directory)
    created = []
    for identity in identities:
        path = seed_path(directory, identity)
        if not path.exists():
            write_secret(path, new_seed() + "\n")
            created.append(identity)
    return created


def public_keys(directory: Path, identity: str) -> list[str]:
    """The identity's public keys: the current seed's and, during a rotation, the next one's."""
    keys = []
    for following in (False, True):
        path = seed_path(directory, identity, following=following)
        if path.exists():
            keys.append(public_key(path.read_text()))
    return keys


def begin_rotation(directory: Path, identity: str) -> str:
    """Step 1: a next seed beside the current one (both are authorized once the
    server configuration is rendered again and reloaded). Returns its public key."""
    path = seed_path(directory, identity, following=True)
    if not path.exists():
        write_secret(path, new_seed() + "\n")
    return public_key(path.read_text())


def finish_rotation(directory: Path, identity: str) -> str:
    """Step 3: the next seed becomes the current one and the old one is gone
    (render and reload again to stop authorizing the old key). Returns the new public key."""
    following = seed_path(directory, identity, following=True)
    if not following.exists():
        raise FileNotFoundError(f"no rotation under way for {identity}: {following} is missing")
    current = seed_path(directory, identity)
    following.replace(current)
    return public_key(current.read_text())
