"""The keys of locally issued tokens: an Ed25519 key pair (EdDSA, RFC 8037).

Only the issuer holds the private key: registry, whose sign-in issues login
tokens, and an operator's ``xciss token`` / ``xciss keys`` on the machine that
holds the key. Every process verifies with public keys only, a JWKS
(RFC 7517) in which each key carries a ``kid``; a token names its key in its
header's ``kid``. During a rotation the JWKS holds two keys, so tokens signed
with either verify, and no session ends (docs/security.md, "Token keys").

Settings (services/runtime/settings.py):

- ``XCISS_JWT_SIGNING_KEY_FILE`` (or ``XCISS_JWT_SIGNING_KEY``): the private key,
  PEM (PKCS#8). Its ``kid`` is its RFC 7638 thumbprint.
- ``XCISS_JWT_JWKS_FILE`` (or ``XCISS_JWT_JWKS``): ``{"keys": [...]}``, public
  Ed25519 keys only (a private part is refused).

Files are read again when they change (a Kubernetes Secret or ConfigMap
update), so a rotation needs no restart; a file that no longer parses keeps
the keys last read, and says so in the log.

Dev mode without either setting (the laptop, the tests): a key is generated
once under ``<data_dir>/token-keys`` (0700, files 0600) with its JWKS beside it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.runtime.settings import SERVICES, Settings

log = logging.getLogger("xciss.tokenkeys")

ALGORITHM = "EdDSA"
#: the identity that signs login tokens; ``operator`` may also hold the key (``xciss token``)
ISSUER = "registry"
OPERATOR = "operator"
DEV_DIRNAME = "token-keys"
SIGNING_FILENAME = "signing.pem"
JWKS_FILENAME = "jwks.json"

T = TypeVar("T")


class TokenKeyError(ValueError):
    """A key or a JWKS that cannot be used; the message says why."""


# -- keys ---------------------------------------------------------------------


def generate_private_pem() -> str:
    """A new Ed25519 private key, PEM (PKCS#8, unencrypted: the file's mode protects it)."""
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def load_private_pem(text: str | bytes) -> Ed25519PrivateKey:
    raw = text.encode() if isinstance(text, str) else text
    try:
        key = serialization.load_pem_private_key(raw, password=None)
    except (ValueError, TypeError) as exc:
        raise TokenKeyError(f"not an unencrypted PEM private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise TokenKeyError(f"the signing key must be Ed25519, not {type(key).__name__}")
    return key


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def thumbprint(public: Ed25519PublicKey) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256, base64url): the key's ``kid``."""
    members = {"crv": "Ed25519", "kty": "OKP", "x": _b64url(_raw(public))}
    return _b64url(hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest())


def public_jwk(public: Ed25519PublicKey, kid: str | None = None) -> dict[str, str]:
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(_raw(public)), "kid": kid or thumbprint(public), "alg": ALGORITHM, "use": "sig"}


def jwks_of(publics: Iterable[Ed25519PublicKey]) -> dict[str, list[dict[str, str]]]:
    return {"keys": [public_jwk(p) for p in publics]}


def parse_jwks(text: str | bytes) -> dict[str, Ed25519PublicKey]:
    """``kid`` → public key. Strict: every member must be a public Ed25519 key
    with its own ``kid`` (a private part, another key type or algorithm, a
    repeated ``kid`` is an error, never skipped)."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise TokenKeyError(f"the JWKS is not JSON ({exc})") from exc
    keys = doc.get("keys") if isinstance(doc, dict) else None
    if not isinstance(keys, list):
        raise TokenKeyError('the JWKS must be an object with a "keys" list')
    out: dict[str, Ed25519PublicKey] = {}
    for i, jwk in enumerate(keys):
        if not isinstance(jwk, dict):
            raise TokenKeyError(f"JWKS key {i} is not an object")
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenKeyError(f"JWKS key {i} has no kid")
        if "d" in jwk:
            raise TokenKeyError(f"JWKS key {kid!r} holds a private key: publish public keys only")
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or jwk.get("alg", ALGORITHM) != ALGORITHM:
            raise TokenKeyError(f"JWKS key {kid!r} is not an Ed25519 (EdDSA) key")
        if jwk.get("use", "sig") != "sig":
            raise TokenKeyError(f"JWKS key {kid!r} is not a signing key (use={jwk.get('use')!r})")
        if kid in out:
            raise TokenKeyError(f"JWKS key id {kid!r} appears twice")
        try:
            x = base64.urlsafe_b64decode(str(jwk.get("x", "")) + "==")
            out[kid] = Ed25519PublicKey.from_public_bytes(x)
        except ValueError as exc:
            raise TokenKeyError(f"JWKS key {kid!r}: {exc}") from exc
    return out


@dataclass(frozen=True)
class Signer:
    kid: str
    key: Ed25519PrivateKey


def signer_of(pem: str | bytes) -> Signer:
    key = load_private_pem(pem)
    return Signer(kid=thumbprint(key.public_key()), key=key)


# -- files that may change ------------------------------------------------------


class _Watched(Generic[T]):
    """A file's parsed content, parsed again when the file changes (mtime, size, inode)."""

    def __init__(self, path: Path, parse: Callable[[bytes], T]):
        self.path = path
        self.parse = parse
        self._stamp: tuple[int, int, int] | None = None
        self._value: T | None = None
        self._error: str | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        try:
            st = os.stat(self.path)
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError as exc:
            return self._keep(f"{self.path}: {exc.strerror or exc}")
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    try:
                        self._value, self._error = self.parse(self.path.read_bytes()), None
                    except (OSError, TokenKeyError) as exc:
                        self._stamp = stamp
                        return self._keep(f"{self.path}: {exc}")
                    self._stamp = stamp
        if self._value is None:
            raise TokenKeyError(self._error or f"{self.path}: unreadable")
        return self._value

    def _keep(self, error: str) -> T:
        if error != self._error:
            self._error = error
            if self._value is not None:
                log.error("token keys: %s; keeping the keys read before", error)
        if self._value is None:
            raise TokenKeyError(error)
        return self._value


# -- one process's keys -------------------------------------------------------------


class TokenKeys:
    """The signing key (issuer only) and the verification JWKS of one process."""

    def __init__(self, *, signing_pem: str = "", signing_file: Path | None = None, jwks: str = "", jwks_file: Path | None = None):
        self._signer: Signer | None = signer_of(signing_pem) if signing_pem else None
        self._signer_file = _Watched(signing_file, signer_of) if signing_file else None
        self._jwks: dict[str, Ed25519PublicKey] | None = parse_jwks(jwks) if jwks else None
        self._jwks_file = _Watched(jwks_file, parse_jwks) if jwks_file else None

    @property
    def holds_signing_key(self) -> bool:
        return self._signer is not None or self._signer_file is not None

    @property
    def has_jwks(self) -> bool:
        return self._jwks is not None or self._jwks_file is not None

    def signer(self) -> Signer:
        """The key to sign with; TokenKeyError when this process holds none."""
        if self._signer_file is not None:
            return self._signer_file.get()
        if self._signer is None:
            raise TokenKeyError("this process holds no token signing key (only the issuer, registry, does)")
        return self._signer

    def verification_keys(self) -> dict[str, Ed25519PublicKey]:
        """``kid`` → public key; without a configured JWKS, the signing key's own public half."""
        if self._jwks_file is not None:
            return self._jwks_file.get()
        if self._jwks is not None:
            return self._jwks
        if self.holds_signing_key:
            s = self.signer()
            return {s.kid: s.key.public_key()}
        return {}

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        try:
            return self.verification_keys().get(kid)
        except TokenKeyError as exc:
            log.error("token keys: %s", exc)
            return None

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The JWKS as published (``GET /v1/.well-known/jwks.json``)."""
        return {"keys": [public_jwk(key, kid) for kid, key in self.verification_keys().items()]}


def ensure_dev_keys(data_dir: Path) -> tuple[Path, Path]:
    """The laptop's key pair under ``<data_dir>/token-keys`` (made once, safely
    when several processes start together): the private key and its JWKS."""
    directory = data_dir / DEV_DIRNAME
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    directory.chmod(0o700)
    signing, jwks = directory / SIGNING_FILENAME, directory / JWKS_FILENAME
    if not signing.exists():
        _create_once(signing, generate_private_pem())
    if not jwks.exists():
        pub = signer_of(signing.read_bytes()).key.public_key()
        _create_once(jwks, json.dumps(jwks_of([pub]), indent=2) + "\n")
    return signing, jwks


def _create_once(path: Path, text: str) -> None:
    """Write ``path`` (0600) unless another process got there first: whole or not at all."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


_cache: dict[tuple[Any, ...], TokenKeys] = {}
_cache_lock = threading.Lock()


def token_keys(settings: Settings) -> TokenKeys:
    """The keys ``settings`` name (one object per configuration, kept for the process)."""
    configured = bool(settings.jwt_signing_key or settings.jwt_signing_key_file or settings.jwt_jwks or settings.jwt_jwks_file)
    key = (settings.mode, settings.data_dir, settings.jwt_signing_key, settings.jwt_signing_key_file, settings.jwt_jwks, settings.jwt_jwks_file)
    with _cache_lock:
        found = _cache.get(key)
        if found is None:
            if not configured and settings.mode == "dev":
                signing, jwks = ensure_dev_keys(settings.data_dir)
                found = TokenKeys(signing_file=signing, jwks_file=jwks)
            else:
                found = TokenKeys(
                    signing_pem=settings.jwt_signing_key,
                    signing_file=settings.jwt_signing_key_file,
                    jwks=settings.jwt_jwks,
                    jwks_file=settings.jwt_jwks_file,
                )
            _cache[key] = found
        return found


def token_key_problems(settings: Settings, identity: str, *, signs: bool | None = None) -> list[str]:
    """What is wrong with this process's token keys for its identity (the
    start-up check of ``safety.py``, code ``keys.token``): the issuer must
    hold a signing key whose public key is in the JWKS; any other process
    must not hold a signing key, and needs the JWKS to verify (unless it
    verifies an OpenID Connect issuer's tokens). ``signs``: whether this
    process issues tokens (registry's API does, its worker and relay do not);
    by default the issuer's identity does."""
    try:
        keys = token_keys(settings)
    except TokenKeyError as exc:
        return [f"the token keys do not load: {exc}"]
    out: list[str] = []
    issuer = identity == ISSUER if signs is None else signs
    may_sign = issuer or identity == OPERATOR
    if keys.holds_signing_key and not may_sign:
        out.append(
            f"{identity} holds the token signing key (XCISS_JWT_SIGNING_KEY[_FILE]): only the issuer ({ISSUER}'s API) may; "
            "give this process the public JWKS (XCISS_JWT_JWKS_FILE) only"
        )
        return out
    if settings.oidc_jwks_url:  # tokens come from the OpenID Connect issuer: no local key is needed
        return out
    if not keys.has_jwks and (identity in SERVICES or identity == "gateway" or keys.holds_signing_key):
        out.append("no token verification keys: set XCISS_JWT_JWKS_FILE to the JWKS (docs/security.md, 'Token keys')")
        return out
    if issuer and not keys.holds_signing_key:
        out.append(f"{ISSUER} issues login tokens but holds no signing key: set XCISS_JWT_SIGNING_KEY_FILE")
        return out
    try:
        verifying = keys.verification_keys()
        if keys.holds_signing_key:
            signer = keys.signer()
            mine = verifying.get(signer.kid)
            if mine is None or _raw(mine) != _raw(signer.key.public_key()):
                out.append(f"the signing key (kid {signer.kid}) is not in the JWKS: tokens it signs would be refused; add its public key first")
        elif not verifying and keys.has_jwks:
            out.append("the JWKS holds no key")
    except TokenKeyError as exc:
        out.append(f"the token keys do not load: {exc}")
    return out
