"""Token keys (services/runtime/tokenkeys.py): Ed25519 key pairs, the JWKS every
process verifies with, who may hold the private key, and tokens no process
accepts (another key, HS256 with the old shared secret, ``alg: none``)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.runtime.roles import Role
from services.runtime.http.auth import TokenError, TokenVerifier, issue_token
from services.runtime.safety import configuration_problems
from services.runtime.settings import Settings
from tests.support.tokens import forgeries, jwks_file, keypair
from services.runtime.tokenkeys import (
    TokenKeyError,
    parse_jwks,
    public_jwk,
    thumbprint,
    token_key_problems,
)

def test_kid_is_the_rfc_7638_thumbprint() -> None:
    # RFC 8037, appendix A.2/A.3: the Ed25519 example key and its thumbprint
    x = base64.urlsafe_b64decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
    assert thumbprint(Ed25519PublicKey.from_public_bytes(x)) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


@pytest.mark.parametrize(
    ("member", "error"),
    [
        ({"d": "AAAA"}, "private key"),
        ({"kty": "oct", "k": "c2VjcmV0"}, "not an Ed25519"),
        ({"alg": "HS256"}, "not an Ed25519"),
        ({"kid": ""}, "no kid"),
        ({"use": "enc"}, "not a signing key"),
    ],
)
def test_a_jwks_with_anything_but_public_ed25519_keys_is_refused(member: dict[str, str], error: str) -> None:
    jwk = {**public_jwk(Ed25519PrivateKey.generate().public_key()), **member}
    with pytest.raises(TokenKeyError, match=error):
        parse_jwks(json.dumps({"keys": [jwk]}))


def test_a_repeated_kid_is_refused() -> None:
    jwk = public_jwk(Ed25519PrivateKey.generate().public_key())
    with pytest.raises(TokenKeyError, match="twice"):
        parse_jwks(json.dumps({"keys": [jwk, {**public_jwk(Ed25519PrivateKey.generate().public_key()), "kid": jwk["kid"]}]}))


def test_a_token_carries_its_kid_and_verifies_with_the_public_jwks_only(tmp_path: Path) -> None:
    signing, kid = keypair(tmp_path, "a")
    jwks = jwks_file(tmp_path, signing)
    issuer = Settings(data_dir=tmp_path / "issuer", mode="prod", jwt_signing_key_file=signing, jwt_jwks_file=jwks)
    verifier = Settings(data_dir=tmp_path / "verifier", mode="prod", jwt_jwks_file=jwks)
    token = issue_token(issuer, subject="alice", role=Role.CENTER, session_id="s1")
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": kid, "typ": "JWT"}
    p = TokenVerifier(verifier).verify(token)
    assert (p.subject, p.role, p.session_id) == ("alice", Role.CENTER, "s1")
    with pytest.raises(TokenError, match="no token signing key"):
        issue_token(verifier, subject="mallory", role=Role.BUREAU)


def test_tokens_not_signed_by_a_jwks_key_are_refused(tmp_path: Path) -> None:
    signing, kid = keypair(tmp_path, "a")
    verifier = TokenVerifier(Settings(data_dir=tmp_path, mode="prod", jwt_jwks_file=jwks_file(tmp_path, signing)))
    for name, token in forgeries(signing, kid).items():
        with pytest.raises(TokenError):
            verifier.verify(token)
            pytest.fail(f"accepted: {name}")


def test_a_changed_jwks_file_is_read_again_and_a_broken_one_keeps_the_last_keys(tmp_path: Path) -> None:
    a, _ = keypair(tmp_path, "a")
    b, _ = keypair(tmp_path, "b")
    jwks = jwks_file(tmp_path, a)
    verifier = TokenVerifier(Settings(data_dir=tmp_path, mode="prod", jwt_jwks_file=jwks))
    by_b = issue_token(Settings(data_dir=tmp_path, mode="prod", jwt_signing_key_file=b), subject="bob", role=Role.UNIT)
    with pytest.raises(TokenError, match="not in the JWKS"):
        verifier.verify(by_b)
    jwks_file(tmp_path, a, b)
    assert verifier.verify(by_b).subject == "bob"
    jwks.write_text("{not json")
    assert verifier.verify(by_b).subject == "bob"


def _prod(tmp_path: Path, **kw: object) -> Settings:
    return Settings(data_dir=tmp_path, mode="prod", field_keys="k1=MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=", pii_secret="p", **kw)  # type: ignore[arg-type]


def test_only_the_issuer_may_hold_the_signing_key(tmp_path: Path) -> None:
    a, _ = keypair(tmp_path, "a")
    jwks = jwks_file(tmp_path, a)
    holding = _prod(tmp_path, jwt_signing_key_file=a, jwt_jwks_file=jwks)
    assert token_key_problems(holding, "registry") == []
    for identity in ("vouchers", "evaluation", "payments", "gateway"):
        (problem,) = token_key_problems(holding, identity)
        assert f"{identity} holds the token signing key" in problem
        assert [p.code for p in configuration_problems(holding, identity)] == ["keys.token"]
        assert token_key_problems(_prod(tmp_path, jwt_jwks_file=jwks), identity) == []
    # the signing key inline (XCISS_JWT_SIGNING_KEY) is refused just the same
    inline = _prod(tmp_path, jwt_signing_key=a.read_text(), jwt_jwks_file=jwks)
    assert "vouchers holds the token signing key" in token_key_problems(inline, "vouchers")[0]


def test_the_issuer_needs_its_key_in_the_jwks_and_verifiers_need_the_jwks(tmp_path: Path) -> None:
    a, kid_a = keypair(tmp_path, "a")
    b, _ = keypair(tmp_path, "b")
    only_b = jwks_file(tmp_path, b, name="b.json")
    assert "(kid " + kid_a + ") is not in the JWKS" in token_key_problems(_prod(tmp_path, jwt_signing_key_file=a, jwt_jwks_file=only_b), "registry")[0]
    assert "no token verification keys" in token_key_problems(_prod(tmp_path, jwt_signing_key_file=a), "registry")[0]
    assert "holds no signing key" in token_key_problems(_prod(tmp_path, jwt_jwks_file=only_b), "registry")[0]
    assert "no token verification keys" in token_key_problems(_prod(tmp_path), "payments")[0]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"keys": [{**public_jwk(Ed25519PrivateKey.generate().public_key()), "d": "x"}]}))
    assert "private key" in token_key_problems(_prod(tmp_path, jwt_jwks_file=broken), "vouchers")[0]
    # a JWKS-only operator (the streams Job) is fine; with a key, the key must be published
    assert token_key_problems(_prod(tmp_path, jwt_jwks_file=only_b), "operator") == []
    assert token_key_problems(_prod(tmp_path, jwt_signing_key_file=a, jwt_jwks_file=only_b), "operator") != []


def test_dev_mode_checks_nothing_and_makes_its_keys(tmp_path: Path) -> None:
    dev = Settings(data_dir=tmp_path)
    assert configuration_problems(dev, "vouchers") == []
    token = issue_token(dev, subject="alice", role=Role.CENTER)
    assert TokenVerifier(dev).verify(token).subject == "alice"
    assert set(json.loads((tmp_path / "token-keys" / "jwks.json").read_text())) == {"keys"}


def test_registrys_worker_and_relay_sign_nothing_so_hold_no_key(tmp_path: Path) -> None:
    a, _ = keypair(tmp_path, "a")
    jwks = jwks_file(tmp_path, a)
    assert token_key_problems(_prod(tmp_path, jwt_jwks_file=jwks), "registry", signs=False) == []
    (problem,) = token_key_problems(_prod(tmp_path, jwt_signing_key_file=a, jwt_jwks_file=jwks), "registry", signs=False)
    assert "registry holds the token signing key" in problem
    codes = [p.code for p in configuration_problems(_prod(tmp_path, jwt_signing_key_file=a, jwt_jwks_file=jwks), "registry", signs_tokens=False)]
    assert codes == ["keys.token"]


def test_with_an_openid_connect_issuer_no_local_key_is_needed_and_none_may_leak(tmp_path: Path) -> None:
    a, _ = keypair(tmp_path, "a")
    oidc = {"oidc_jwks_url": "https://sso.example.gov.cn/jwks", "oidc_issuer": "https://sso.example.gov.cn", "oidc_audience": "xciss"}
    for identity in ("registry", "vouchers", "gateway"):
        assert token_key_problems(_prod(tmp_path, **oidc), identity) == []
    assert "vouchers holds the token signing key" in token_key_problems(_prod(tmp_path, jwt_signing_key_file=a, **oidc), "vouchers")[0]


async def test_a_verifier_holding_the_signing_key_refuses_to_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from services.runtime.safety import enforce

    a, _ = keypair(tmp_path, "a")
    settings = _prod(tmp_path, jwt_signing_key_file=a, jwt_jwks_file=jwks_file(tmp_path, a))
    await enforce(settings, "registry")  # the issuer starts
    with pytest.raises(SystemExit) as stopped:
        await enforce(settings, "payments")
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "[keys.token]: payments holds the token signing key" in err and "payments: refusing to start" in err
