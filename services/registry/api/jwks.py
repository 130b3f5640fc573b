"""The public keys of registry's tokens (JWKS, RFC 7517), for partners and
anyone else who verifies a token the platform issued."""

from __future__ import annotations

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency

from services.runtime.http.auth import PUBLIC, access
from services.runtime.settings import Settings
from services.runtime.tokenkeys import token_keys


class PublicKey(msgspec.Struct):
    kty: str
    crv: str
    x: str
    kid: str
    alg: str
    use: str


class KeySet(msgspec.Struct):
    keys: list[PublicKey]


@get("/v1/.well-known/jwks.json", operation_id="tokenKeys", tags=["sessions"], **access(PUBLIC))
async def jwks(settings: NamedDependency[Settings]) -> Response[KeySet]:
    """The public keys that verify the platform's tokens (EdDSA, Ed25519), each
    with the ``kid`` a token names in its header. During a key rotation two
    keys are listed. Public keys only: nothing here signs a token."""
    doc = token_keys(settings).jwks()
    body = KeySet(keys=[PublicKey(**k) for k in doc["keys"]])
    return Response(body, headers={"Cache-Control": "public, max-age=300"})
