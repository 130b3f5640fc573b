"""Token keys across the platform: registry signs, every other service and the
gateway verify with the public JWKS only; a token no JWKS key signed is a 401
everywhere; the key rotation of docs/security.md ("Token keys rotation"),
followed step by step, ends no session."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import msgspec
import pytest

from services.gateway.app import create_app as create_gateway
from services.registry import accounts
from services.runtime.roles import Role
from services.command.cli import build_parser
from services.runtime.db.unit_of_work import Actor
from services.runtime.service import load_spec
from services.runtime.settings import SERVICES, Settings
from tests.support.asgi import LifespanClient
from tests.support.platform import Platform, RunningService, running
from tests.support.tokens import forgeries

PASSWORD = "Qiyu-Secret-2026"


def xciss(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run one ``xciss`` command as the runbook says; its standard output."""
    capsys.readouterr()
    args = build_parser().parse_args(list(argv))
    assert args.fn(args) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def publish(path: Path, text: str) -> None:
    """Replace a mounted file whole, as a ConfigMap or Secret update does."""
    tmp = path.with_name(f".{path.name}.new")
    tmp.write_text(text)
    os.replace(tmp, path)


def split(settings: Settings, services: list[str], signing: Path, jwks: Path) -> Platform:
    """Registry holds the private key; the other services get the JWKS only."""
    issuer = msgspec.structs.replace(settings, jwt_signing_key_file=signing, jwt_jwks_file=jwks)
    verifier = msgspec.structs.replace(settings, jwt_jwks_file=jwks)
    p = Platform(issuer, ["registry"])
    for s in services:
        if s != "registry":
            p.services[s] = RunningService(load_spec(s), verifier)
    return p


def gateway_of(p: Platform, settings: Settings) -> LifespanClient:
    mounts = {f"http://{s}.local": httpx.ASGITransport(app=p[s]._lifespan.app) for s in p.services}  # type: ignore[union-attr]

    class ByHost(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            return await mounts[f"http://{request.url.host}"].handle_async_request(request)

    return LifespanClient(create_gateway(settings, transport=ByHost(), upstreams={s: f"http://{s}.local" for s in p.services}), "http://gateway.local")


async def statuses(p: Platform, gw: LifespanClient | None, token: str) -> dict[str, int]:
    """What each service (and the gateway in front of it) answers an auditor's token on its audit trail."""
    headers = {"Authorization": f"Bearer {token}"}
    out: dict[str, int] = {}
    for s in p.services:
        out[s] = (await p.call(s, "GET", "/v1/audit/", headers=headers)).status_code
        if gw is not None:
            out[f"gateway/{s}"] = (await gw.get(f"/api/{s}/v1/audit/", headers=headers)).status_code
    return out


def keys_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path, str]:
    """Install: a private key for registry's Secret and the JWKS for everyone's ConfigMap."""
    vault = tmp_path / "vault"
    vault.mkdir()
    kid = xciss(capsys, "keys", "token-generate", str(vault / "a.pem")).strip()
    secret = tmp_path / "secret"
    secret.mkdir()
    shutil.copy(vault / "a.pem", secret / "signing.pem")
    jwks = tmp_path / "jwks.json"
    publish(jwks, xciss(capsys, "keys", "token-jwks", str(vault / "a.pem")))
    return secret / "signing.pem", jwks, kid


async def test_a_token_no_jwks_key_signed_is_refused_by_every_service_and_the_gateway(make_settings, tmp_path: Path, capsys) -> None:
    signing, jwks, kid = keys_dir(tmp_path, capsys)
    settings = await make_settings(list(SERVICES))
    auditor = forgeries(signing, kid, {"sub": "mallory", "role": "auditor", "iss": "xciss", "aud": "xciss"})
    async with running(split(settings, list(SERVICES), signing, jwks), worker=False, relay=False) as p:
        async with gateway_of(p, msgspec.structs.replace(settings, jwt_jwks_file=jwks)) as gw:
            genuine = await statuses(p, gw, p.token(Role.AUDITOR))
            assert set(genuine.values()) == {200}, genuine
            for name, token in auditor.items():
                refused = await statuses(p, gw, token)
                assert set(refused.values()) == {401}, f"{name}: {refused}"
            r = await p.call("vouchers", "GET", "/v1/audit/", headers={"Authorization": f"Bearer {auditor['HS256 with the old shared secret']}"})
            assert r.json()["code"] == "auth.invalid_token" and "HS256" in r.json()["message_en"]


async def test_registry_publishes_its_jwks_and_a_partner_verifies_a_login_with_it(make_settings, tmp_path: Path, capsys) -> None:
    signing, jwks, kid = keys_dir(tmp_path, capsys)
    settings = await make_settings(["registry"])
    async with running(split(settings, ["registry"], signing, jwks), worker=False, relay=False) as p:
        async with gateway_of(p, msgspec.structs.replace(settings, jwt_jwks_file=jwks)) as gw:
            direct = await p.call("registry", "GET", "/v1/.well-known/jwks.json")
            via = await gw.get("/api/registry/v1/.well-known/jwks.json")
        assert direct.status_code == via.status_code == 200 and direct.json() == via.json()
        assert [k["kid"] for k in direct.json()["keys"]] == [kid] and "d" not in direct.json()["keys"][0]
        token = await login(p, await auditor_account(p))
        key = jwt.PyJWKSet.from_dict(direct.json())[jwt.get_unverified_header(token)["kid"]]
        assert jwt.decode(token, key, algorithms=["EdDSA"], audience="xciss")["role"] == "auditor"


async def auditor_account(p: Platform) -> str:
    username = f"aud-{uuid.uuid4().hex[:10]}"
    await accounts.create_account(
        p["registry"].db, Actor(subject="cli:test", role="operator"), None, username=username, password=PASSWORD, role=Role.AUDITOR, org=None, display_name="审计员"
    )
    return username


async def login(p: Platform, username: str) -> str:
    n = uuid.uuid4().int
    r = await p.call("registry", "POST", "/v1/sessions/", json={"username": username, "password": PASSWORD}, headers={"X-Forwarded-For": f"10.{n % 250}.{(n >> 8) % 250}.1"})
    assert r.status_code == 201, r.text
    token: str = r.json()["token"]
    return token


def kid_of(token: str) -> Any:
    return jwt.get_unverified_header(token)["kid"]


async def test_the_documented_rotation_ends_no_session(make_settings, tmp_path: Path, capsys) -> None:
    runbook = (Path(__file__).resolve().parents[3] / "docs" / "security.md").read_text(encoding="utf-8")
    for command in ("xciss keys token-generate", "xciss keys token-jwks", "--drop"):
        assert command in runbook.split("### Token keys rotation", 1)[1], command
    signing, jwks, kid_a = keys_dir(tmp_path, capsys)
    vault = tmp_path / "vault"
    settings = await make_settings(["registry", "vouchers", "payments"])
    services = ["registry", "vouchers", "payments"]
    async with running(split(settings, services, signing, jwks), worker=False, relay=False) as p:
        username = await auditor_account(p)
        session_a = await login(p, username)
        assert kid_of(session_a) == kid_a
        everywhere_ok = dict.fromkeys(services, 200)
        assert await statuses(p, None, session_a) == everywhere_ok

        # step 1: a new key; its public half joins the JWKS everywhere (the issuer still signs with the old)
        kid_b = xciss(capsys, "keys", "token-generate", str(vault / "b.pem")).strip()
        publish(jwks, xciss(capsys, "keys", "token-jwks", str(jwks), str(vault / "b.pem")))
        published = (await p.call("registry", "GET", "/v1/.well-known/jwks.json")).json()
        assert {k["kid"] for k in published["keys"]} == {kid_a, kid_b}
        assert await statuses(p, None, session_a) == everywhere_ok
        assert kid_of(await login(p, username)) == kid_a

        # step 2: the issuer signs with the new key; sessions signed with the old go on
        publish(signing, (vault / "b.pem").read_text())
        session_b = await login(p, username)
        assert kid_of(session_b) == kid_b
        assert await statuses(p, None, session_b) == everywhere_ok
        assert await statuses(p, None, session_a) == everywhere_ok

        # step 3 (a session lifetime later): the old public key leaves the JWKS
        publish(jwks, xciss(capsys, "keys", "token-jwks", str(jwks), f"--drop={kid_a}"))  # a kid may begin with "-"
        assert await statuses(p, None, session_b) == everywhere_ok
        assert await statuses(p, None, session_a) == dict.fromkeys(services, 401)
        published = (await p.call("registry", "GET", "/v1/.well-known/jwks.json")).json()
        assert [k["kid"] for k in published["keys"]] == [kid_b]


async def test_a_registry_without_the_signing_key_refuses_sign_in_and_records_no_session(make_settings, tmp_path: Path, capsys) -> None:
    _, jwks, _ = keys_dir(tmp_path, capsys)
    settings = msgspec.structs.replace(await make_settings(["registry"]), jwt_jwks_file=jwks)  # the public keys only
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        username = await auditor_account(p)
        r = await p.call("registry", "POST", "/v1/sessions/", json={"username": username, "password": PASSWORD}, headers={"X-Forwarded-For": "10.9.8.7"})
        assert r.status_code == 503 and r.json()["code"] == "session.signing_unavailable", r.text
        assert r.json()["message_zh"] and r.json()["message_en"]
        sessions = p["registry"].db.metadata.tables["sessions"]
        async with p["registry"].db.read() as s:
            assert (await s.execute(sessions.select())).all() == []
