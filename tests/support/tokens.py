"""Tokens an attacker could make without the platform's signing key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.runtime.tokenkeys import generate_private_pem, jwks_of, signer_of, thumbprint

#: the claims of a bureau officer's token: what a forger wants
CLAIMS = {"sub": "mallory", "role": "bureau", "iss": "xciss", "aud": "xciss"}
#: the HS256 secret every pod used to hold (tests/conftest.py, before the key pair)
OLD_SHARED_SECRET = b"test-secret-key-that-is-long-enough-for-hs256"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forgeries(signing: Path, kid: str, claims: dict[str, object] | None = None) -> dict[str, str]:
    """Name → token, each claiming ``claims`` (a bureau officer) for ten minutes;
    ``signing`` is the genuine private key (only its public half and kid are used,
    except for a token that leaves out its kid)."""
    body = {**(claims or CLAIMS), "exp": int(time.time()) + 600}
    stranger = Ed25519PrivateKey.generate()
    genuine = signer_of(signing.read_text()).key
    public_raw = genuine.public_key().public_bytes_raw()

    def hs256(secret: bytes) -> str:
        signing_input = f"{_b64(json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': kid}).encode())}.{_b64(json.dumps(body).encode())}"
        return f"{signing_input}.{_b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"

    return {
        "another key, its own kid": jwt.encode(body, stranger, algorithm="EdDSA", headers={"kid": thumbprint(stranger.public_key())}),
        "another key, the genuine kid": jwt.encode(body, stranger, algorithm="EdDSA", headers={"kid": kid}),
        "the genuine key without a kid": jwt.encode(body, genuine, algorithm="EdDSA"),
        "HS256 with the old shared secret": hs256(OLD_SHARED_SECRET),
        "HS256 keyed with the public key": hs256(public_raw),
        "alg none": f"{_b64(json.dumps({'alg': 'none', 'kid': kid}).encode())}.{_b64(json.dumps(body).encode())}.",
    }


def keypair(tmp_path: Path, name: str) -> tuple[Path, str]:
    """A new signing key written to ``<name>.pem``, and its kid."""
    pem = generate_private_pem()
    path = tmp_path / f"{name}.pem"
    path.write_text(pem)
    return path, signer_of(pem).kid


def jwks_file(tmp_path: Path, *pems: Path, name: str = "jwks.json") -> Path:
    """A JWKS file publishing the public halves of the ``pems``."""
    path = tmp_path / name
    path.write_text(json.dumps(jwks_of(signer_of(p.read_text()).key.public_key() for p in pems)))
    return path
