"""A token checked once is remembered (services/runtime/http/auth.py,
``TokenVerifier``): the same text is not checked again, yet it stops being
accepted the moment it expires, its key leaves the JWKS or its login session
is revoked, and a token one character away is checked in full."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest

from services.runtime.http import auth
from services.runtime.http.auth import TokenError, TokenVerifier, issue_token
from services.runtime.roles import Role
from services.runtime.settings import Settings
from tests.support.tokens import forgeries, jwks_file, keypair


def _verifier_and_issuer(tmp_path: Path) -> tuple[TokenVerifier, Settings, Path, Path]:
    signing, _ = keypair(tmp_path, "a")
    jwks = jwks_file(tmp_path, signing)
    issuer = Settings(data_dir=tmp_path / "issuer", mode="prod", jwt_signing_key_file=signing, jwt_jwks_file=jwks)
    return TokenVerifier(Settings(data_dir=tmp_path / "verifier", mode="prod", jwt_jwks_file=jwks)), issuer, signing, jwks


def _count_signature_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    checked: list[str] = []
    real = jwt.decode

    def counting(token: str, *a: object, **kw: object) -> object:
        checked.append(token)
        return real(token, *a, **kw)

    monkeypatch.setattr(auth.jwt, "decode", counting)
    return checked


def test_the_same_token_is_checked_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    verifier, issuer, _, _ = _verifier_and_issuer(tmp_path)
    checked = _count_signature_checks(monkeypatch)
    alice = issue_token(issuer, subject="alice", role=Role.CENTER, org="c1", session_id="s1")
    bob = issue_token(issuer, subject="bob", role=Role.UNIT, org="u1")
    for _ in range(3):
        assert verifier.verify(alice) == auth.Principal("alice", Role.CENTER, "c1", session_id="s1")
        assert verifier.verify(bob).subject == "bob"
    assert checked == [alice, bob]


def test_a_remembered_token_is_refused_once_it_expires(tmp_path: Path) -> None:
    verifier, issuer, _, _ = _verifier_and_issuer(tmp_path)
    # exp is whole seconds: issued so that it ends at the next second but one
    token = issue_token(issuer, subject="alice", role=Role.CENTER, ttl_s=2, now=int(time.time()))
    assert verifier.verify(token).subject == "alice"
    time.sleep(max(0.0, jwt.decode(token, options={"verify_signature": False})["exp"] - time.time()) + 0.05)
    with pytest.raises(TokenError, match="expired"):
        verifier.verify(token)


def test_a_remembered_token_is_refused_once_its_key_leaves_the_jwks(tmp_path: Path) -> None:
    verifier, issuer, signing, _ = _verifier_and_issuer(tmp_path)
    token = issue_token(issuer, subject="alice", role=Role.CENTER)
    assert verifier.verify(token).subject == "alice"
    other, _ = keypair(tmp_path, "b")
    jwks_file(tmp_path, other)  # the operator retires key a: the JWKS holds b alone
    with pytest.raises(TokenError, match="not in the JWKS"):
        verifier.verify(token)
    jwks_file(tmp_path, signing, other)
    assert verifier.verify(token).subject == "alice"


def test_a_forgery_beside_a_remembered_token_is_still_refused(tmp_path: Path) -> None:
    verifier, issuer, signing, _ = _verifier_and_issuer(tmp_path)
    token = issue_token(issuer, subject="mallory", role=Role.BUREAU)
    assert verifier.verify(token).role is Role.BUREAU
    kid = jwt.get_unverified_header(token)["kid"]
    for name, forged in {**forgeries(signing, kid), "one character changed": token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]}.items():
        with pytest.raises(TokenError):
            verifier.verify(forged)
            pytest.fail(f"accepted: {name}")


class _Revoked:
    def __init__(self) -> None:
        self.ids: set[str] = set()

    async def is_revoked(self, session_id: str) -> bool:
        return session_id in self.ids


async def test_revocation_is_asked_on_every_request_with_a_remembered_token(tmp_path: Path) -> None:
    _, issuer, _, jwks = _verifier_and_issuer(tmp_path)
    revoked = _Revoked()
    verifier = TokenVerifier(Settings(data_dir=tmp_path / "v", mode="prod", jwt_jwks_file=jwks), revoked)
    token = issue_token(issuer, subject="alice", role=Role.CENTER, session_id="s1")
    assert (await verifier.authenticate(token)).subject == "alice"
    revoked.ids.add("s1")
    with pytest.raises(TokenError, match="session has ended"):
        await verifier.authenticate(token)


def test_the_memory_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    verifier, issuer, _, _ = _verifier_and_issuer(tmp_path)
    monkeypatch.setattr(auth, "VERIFIED_TOKENS_KEPT", 3)
    checked = _count_signature_checks(monkeypatch)
    tokens = [issue_token(issuer, subject=f"u{i}", role=Role.UNIT) for i in range(5)]
    for t in tokens:
        verifier.verify(t)
    assert len(verifier._verified) == 3
    verifier.verify(tokens[-1])  # remembered
    verifier.verify(tokens[0])  # forgotten first: checked again
    assert checked == [*tokens, tokens[0]]
