"""Bearer tokens (JWT) carrying the caller's role and organisation, and the
guards with which every endpoint declares who may call it.

Locally issued tokens are EdDSA (Ed25519): registry's sign-in (and the
operator's ``xciss token``) sign with the private key, every process verifies
with the public keys of a JWKS, by the token's ``kid`` (``tokenkeys.py``);
production can instead verify RS/ES tokens from an external OpenID Connect
issuer's JWKS (``XCISS_OIDC_JWKS_URL``). No other algorithm is accepted:
not HS256, not ``none``.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

import jwt
import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from services.runtime.http.problems import problem_responses
from services.runtime.settings import Settings
from services.runtime.roles import Role
from services.runtime.tokenkeys import ALGORITHM, TokenKeyError, token_keys


#: Marker for endpoints anybody may call, the public included.
PUBLIC = "public"


class Principal(msgspec.Struct, frozen=True):
    subject: str
    role: Role
    org: str | None = None
    name: str | None = None
    #: the login session (``sid`` claim) of a token issued by ``POST /v1/sessions``;
    #: None for service and development tokens, which no session list revokes
    session_id: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.role is not Role.ANONYMOUS


ANONYMOUS = Principal(subject="anonymous", role=Role.ANONYMOUS)


class TokenError(Exception):
    pass


class RevocationCheck(Protocol):
    async def is_revoked(self, session_id: str) -> bool: ...


#: how many verified local tokens a process remembers (the oldest is forgotten first)
VERIFIED_TOKENS_KEPT = 4096


class _Verified(msgspec.Struct, frozen=True):
    """A local token whose signature and claims were checked: its principal
    while ``exp`` has not passed and its ``kid`` still names ``key``."""

    principal: Principal
    exp: float
    kid: str
    key: Any


class TokenVerifier:
    """Checks a bearer token. A locally issued token checked once is
    remembered by its exact text (``VERIFIED_TOKENS_KEPT``): a client sends the
    same token with every request, and the signature check and claim parsing
    were a quarter of a request's CPU (bench/README, "Where a rush request's
    CPU goes").
    A remembered token is accepted only before its ``exp`` and while the JWKS
    still holds the key it was checked with (a removed or replaced key
    refuses it at once); revocation is asked on every request."""

    def __init__(self, settings: Settings, revocations: RevocationCheck | None = None):
        self.settings = settings
        self.revocations = revocations
        self._jwks = jwt.PyJWKClient(settings.oidc_jwks_url) if settings.oidc_jwks_url else None
        self._verified: dict[str, _Verified] = {}

    async def authenticate(self, token: str) -> Principal:
        """``verify``, then refuse a token whose login session was revoked
        (logout, a disabled or locked account) in the shared revocation list."""
        principal = self.verify(token)
        if principal.session_id is not None and self.revocations is not None and await self.revocations.is_revoked(principal.session_id):
            raise TokenError("the session has ended (logged out or revoked)")
        return principal

    def _public_key(self, kid: str) -> Any:
        try:
            return token_keys(self.settings).public_key(kid)
        except TokenKeyError as exc:
            raise TokenError(f"the token keys do not load: {exc}") from exc

    def _local_key(self, token: str) -> tuple[str, Any]:
        """The ``kid`` a locally issued token names and its public key, from the JWKS."""
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise TokenError(f"algorithm {header.get('alg')!r} is not accepted (only {ALGORITHM})")
        kid = header.get("kid")
        if not kid:
            raise TokenError("the token names no key (kid)")
        key = self._public_key(kid)
        if key is None:
            raise TokenError(f"the token's key {kid!r} is not in the JWKS")
        return kid, key

    def _remembered(self, token: str) -> Principal | None:
        seen = self._verified.get(token)
        if seen is None:
            return None
        if time.time() < seen.exp and self._public_key(seen.kid) == seen.key:
            return seen.principal
        del self._verified[token]  # expired, or its key left the JWKS: checked in full again
        return None

    def _remember(self, token: str, verified: _Verified) -> None:
        while len(self._verified) >= VERIFIED_TOKENS_KEPT:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = verified

    def _claims(self, token: str) -> tuple[dict[str, Any], str, Any]:
        """The checked claims of ``token``, and the ``kid`` and key that verified it
        (the kid is empty for an OpenID Connect issuer's token)."""
        s = self.settings
        required = {"require": ["exp", "sub"]}
        try:
            if self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
                claims = jwt.decode(token, key, algorithms=["RS256", "ES256", "PS256"], audience=s.oidc_audience, issuer=s.oidc_issuer, options=required)
                return claims, "", key
            kid, key = self._local_key(token)
            return jwt.decode(token, key, algorithms=[ALGORITHM], audience=s.jwt_audience, issuer=s.jwt_issuer, options=required), kid, key
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from exc

    def _principal(self, claims: dict[str, Any], local: bool) -> Principal:
        s = self.settings
        try:
            role = Role(claims.get(s.role_claim, ""))
        except ValueError as exc:
            raise TokenError(f"unknown role {claims.get(s.role_claim)!r}") from exc
        if role is Role.ANONYMOUS:
            raise TokenError("a token cannot carry the anonymous role")
        org = claims.get(s.org_claim)
        # only our own login sessions are revocable; an OIDC issuer's ``sid`` is its own business
        sid = claims.get("sid") if local else None
        return Principal(
            subject=str(claims["sub"]),
            role=role,
            org=str(org) if org is not None else None,
            name=claims.get("name"),
            session_id=str(sid) if sid is not None else None,
        )

    def verify(self, token: str) -> Principal:
        local = self._jwks is None
        if local and (known := self._remembered(token)) is not None:
            return known
        claims, kid, key = self._claims(token)
        principal = self._principal(claims, local)
        if local:  # exp passed PyJWT's check, which reads it as int(exp)
            self._remember(token, _Verified(principal, float(claims["exp"]), kid, key))
        return principal


def issue_token(
    settings: Settings,
    *,
    subject: str,
    role: Role | str,
    org: str | None = None,
    name: str | None = None,
    ttl_s: int = 8 * 3600,
    session_id: str | None = None,
    now: int | None = None,
) -> str:
    """A locally signed token: login sessions (registry), development and
    service-to-service use. Only a process holding the signing key can."""
    now = int(time.time()) if now is None else now
    claims: dict[str, Any] = {
        "sub": subject,
        settings.role_claim: str(Role(role)),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_s,
    }
    if org is not None:
        claims[settings.org_claim] = org
    if name is not None:
        claims["name"] = name
    if session_id is not None:
        claims["sid"] = session_id
    try:
        signer = token_keys(settings).signer()
    except TokenKeyError as exc:
        raise TokenError(str(exc)) from exc
    return jwt.encode(claims, signer.key, algorithm=ALGORITHM, headers={"kid": signer.kid})


def access(*roles: Role | str, errors: tuple[int, ...] = (), responses: dict[int, Any] | None = None) -> dict[str, Any]:
    """Keyword arguments for a route decorator: who may call the endpoint.

    ``@get("/x", operation_id="x", **access(Role.CENTER, Role.BUREAU))`` or
    ``**access(PUBLIC)``. The declared roles are kept in ``opt["access"]`` so a
    test can check that every endpoint declares them. The route's OpenAPI
    entry documents the problem responses it can give (400, 401, 403, 404,
    409, 422, 429 and ``errors``, e.g. 413 and 415 for an upload) and any
    further ``responses`` (``problems.replayed``: an idempotent repeat's 200).
    """
    if not roles:
        raise ValueError("declare at least one role or PUBLIC")
    names = tuple(str(r) for r in roles)
    if PUBLIC in names:
        return {"opt": {"access": (PUBLIC,)}, "guards": [], "responses": {**problem_responses(*errors, public=True), **(responses or {})}}
    allowed = frozenset(Role(r) for r in names)

    # async: Litestar runs a plain function guard in its thread pool, a thread hop on every request
    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        principal: Principal = connection.scope.get("user") or ANONYMOUS
        if not principal.authenticated:
            raise NotAuthorizedException("authentication required")
        if principal.role not in allowed:
            raise PermissionDeniedException(f"role {principal.role} may not call this endpoint")

    return {"opt": {"access": names}, "guards": [guard], "responses": {**problem_responses(*errors), **(responses or {})}}


def principal_of(connection: ASGIConnection) -> Principal:
    return connection.scope.get("user") or ANONYMOUS
