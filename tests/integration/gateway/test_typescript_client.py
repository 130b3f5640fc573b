"""The combined OpenAPI document is good enough to generate a typed client from
(issue 17, web clients): openapi-typescript turns the gateway's
``/api/openapi.json`` into TypeScript types, and the TypeScript compiler checks
``clients/typescript/src/`` (sign in, search the catalogue, apply for a voucher
with openapi-fetch) against them. A client that sends a field the API does not
take, or reads one it does not answer, is refused by the compiler.

The packages are pinned in ``clients/typescript/package-lock.json`` and
installed by ``make client-deps`` (``make test`` and ``make check`` run it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from services.runtime.settings import SERVICES
from tests.support.platform import Platform, running
from tests.support.portal import gateway

CLIENT = Path(__file__).resolve().parents[3] / "clients" / "typescript"
BIN = CLIENT / "node_modules" / ".bin"


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, env=os.environ | {"NO_COLOR": "1"})


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """The client's sources beside the types generated for them, with the pinned packages."""
    assert (BIN / "tsc").exists() and (BIN / "openapi-typescript").exists(), "the client's packages are missing: run `make client-deps`"
    work = tmp_path / "client"
    shutil.copytree(CLIENT / "src", work / "src", ignore=shutil.ignore_patterns("xciss-api.d.ts"))
    shutil.copy(CLIENT / "tsconfig.json", work / "tsconfig.json")
    (work / "node_modules").symlink_to(CLIENT / "node_modules", target_is_directory=True)
    return work


def _types_from(doc: dict[str, object], work: Path) -> str:
    (work / "openapi.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    generated = _run([str(BIN / "openapi-typescript"), "openapi.json", "-o", "src/xciss-api.d.ts"], work)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    return (work / "src" / "xciss-api.d.ts").read_text(encoding="utf-8")


def _type_check(work: Path) -> subprocess.CompletedProcess[str]:
    return _run([str(BIN / "tsc"), "--noEmit", "-p", "."], work)


@pytest.mark.slow  # two TypeScript compilations of 30,000 lines of types: about a minute
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the document does not depend on the database
async def test_a_typescript_client_generated_from_the_combined_openapi_type_checks(make_settings, workdir: Path) -> None:
    settings = await make_settings(list(SERVICES))
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p, gateway(p) as gw:
        r = await gw.get("/api/openapi.json")
        assert r.status_code == 200
        doc = r.json()
    types = _types_from(doc, workdir)
    for path in ('"/api/registry/v1/sessions"', '"/api/registry/v1/catalogue/instruments"', '"/api/vouchers/v1/applications"'):
        assert path in types
    checked = _type_check(workdir)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # the compiler refuses a body field the API does not take and an answer field it does not give
    wrong = (workdir / "src" / "client.ts").read_text(encoding="utf-8")
    wrong = wrong.replace("body: { order_id: orderId }", "body: { order: orderId }", 1).replace("data.application_id", "data.application_number", 1)
    assert wrong != (workdir / "src" / "client.ts").read_text(encoding="utf-8")
    (workdir / "src" / "client.ts").write_text(wrong, encoding="utf-8")
    refused = _type_check(workdir)
    assert refused.returncode != 0
    assert "'order'" in refused.stdout and "application_number" in refused.stdout, refused.stdout
