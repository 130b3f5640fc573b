"""Production tokens from an external OpenID Connect issuer, verified with its
published keys (JWKS served here from loopback)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from services.runtime.roles import Role
from services.runtime.http.auth import TokenError, TokenVerifier
from services.runtime.settings import Settings


@pytest.fixture
def issuer():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield key, f"http://127.0.0.1:{server.server_port}/jwks.json"
    server.shutdown()


def _token(key, **claims: object) -> str:
    base = {"sub": "u-42", "role": "unit", "org": "unit-7", "iss": "https://sso.example.gov.cn", "aud": "xciss", "exp": int(time.time()) + 60}
    base.update(claims)
    return jwt.encode(base, key, algorithm="RS256", headers={"kid": "k1"})


def _settings(tmp_path: Path, url: str) -> Settings:
    return Settings(data_dir=tmp_path, mode="prod", oidc_jwks_url=url, oidc_issuer="https://sso.example.gov.cn", oidc_audience="xciss")


def test_token_from_the_external_issuer_is_accepted(issuer, tmp_path: Path) -> None:
    key, url = issuer
    p = TokenVerifier(_settings(tmp_path, url)).verify(_token(key))
    assert (p.subject, p.role, p.org) == ("u-42", Role.UNIT, "unit-7")


@pytest.mark.parametrize("claims", [{"iss": "https://evil.example"}, {"aud": "other"}, {"exp": int(time.time()) - 5}, {"role": "emperor"}, {"role": "anonymous"}])
def test_wrong_issuer_audience_expiry_or_role_is_refused(issuer, tmp_path: Path, claims: dict[str, object]) -> None:
    key, url = issuer
    with pytest.raises(TokenError):
        TokenVerifier(_settings(tmp_path, url)).verify(_token(key, **claims))


def test_token_signed_by_another_key_is_refused(issuer, tmp_path: Path) -> None:
    _, url = issuer
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(TokenError):
        TokenVerifier(_settings(tmp_path, url)).verify(_token(other))
