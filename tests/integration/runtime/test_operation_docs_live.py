"""What a client reads in an operation's OpenAPI description is what it gets
(issue 15): the problem codes the registry answers to real mistakes are each
listed in the description of the operation that answered them, with their
status, and the roles it names are the ones let through."""

from __future__ import annotations

import re
from typing import Any

from services.runtime.roles import Role
from tests.support.codes import credit_code
from tests.support.platform import Platform, running


def _operation(doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    """The operation of ``doc`` that serves ``method path`` (templates matched segment by segment)."""
    want = path.split("?")[0].rstrip("/").split("/")
    for template, item in doc["paths"].items():
        parts = template.rstrip("/").split("/")
        if len(parts) == len(want) and all(p == w or p.startswith("{") for p, w in zip(parts, want, strict=True)):
            if method.lower() in item:
                return item[method.lower()]
    raise AssertionError(f"no operation for {method} {path}")


def _listed(op: dict[str, Any], status: int, code: str) -> bool:
    return re.search(rf"^\| (?:[0-9]+, )*{status}(?:, [0-9]+)* \| `{re.escape(code)}` \|", op["description"], re.M) is not None


async def test_the_codes_answered_are_the_codes_described(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        doc = (await p.call("registry", "GET", "/schema/openapi.json")).json()
        code = credit_code()
        bad = code[:-1] + ("0" if code[-1] != "0" else "1")
        unit = {"name": "许昌学院", "kind": "university", "credit_code": code}
        assert (await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json=unit)).status_code == 201
        cases: list[tuple[str, str, dict[str, Any]]] = [
            ("POST", "/v1/units/", {}),  # no token
            ("POST", "/v1/units/", {"role": Role.USER}),  # a role the route does not let through
            ("POST", "/v1/units/", {"role": Role.UNIT, "json": {**unit, "credit_code": bad}}),
            ("POST", "/v1/units/", {"role": Role.UNIT, "json": {**unit, "kind": "castle"}}),
            ("POST", "/v1/units/", {"role": Role.UNIT, "json": unit}),  # the same credit code again
            ("GET", "/v1/units/nope", {"role": Role.CENTER}),
            ("POST", "/v1/units/nope/approve", {"role": Role.CENTER, "json": {}}),
            ("GET", "/v1/instruments/nope", {"role": Role.CENTER}),
            ("POST", "/v1/sessions", {"json": {"username": "nobody", "password": "Wrong-Pass-2026"}}),
            ("POST", "/v1/units/", {"role": Role.UNIT, "json": unit, "headers": {"Idempotency-Key": "k" * 201}}),
        ]
        seen = set()
        for method, path, kw in cases:
            r = await p.call("registry", method, path, **kw)
            assert r.status_code >= 400, (method, path, r.text)
            answered = r.json()["code"]
            op = _operation(doc, method, path)
            assert _listed(op, r.status_code, answered), (method, path, r.status_code, answered, op["description"])
            seen.add(answered)
        assert {"auth.unauthenticated", "auth.forbidden", "registry.credit_code_invalid", "request.invalid", "unit.duplicate_credit_code", "unit.not_found", "request.idempotency_key_invalid"} <= seen, seen


async def test_the_roles_described_are_the_roles_let_through(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        doc = (await p.call("registry", "GET", "/schema/openapi.json")).json()
        op = _operation(doc, "GET", "/v1/users/")
        who = op["description"].split("Who may call:**", 1)[1].split("\n", 1)[0]
        for role in (Role.USER, Role.UNIT, Role.CENTER, Role.BUREAU, Role.AUDITOR, Role.PARTNER):
            r = await p.call("registry", "GET", "/v1/users/", role=role, org="org-1")
            described = re.search(rf"\b{role.value}\b", who.split(" / ", 1)[1]) is not None
            assert (r.status_code != 403) == described, (role, r.status_code, who)


async def test_the_other_services_answer_what_they_describe(make_settings) -> None:
    services = ["vouchers", "evaluation", "payments"]
    settings = await make_settings(services)
    async with running(Platform(settings, services), worker=False, relay=False) as p:
        docs = {s: (await p.call(s, "GET", "/schema/openapi.json")).json() for s in services}
        opened = await p.call("vouchers", "POST", "/v1/programmes/", role=Role.BUREAU, json={"year": 2026, "budget_fen": 100_000_000})
        assert opened.status_code == 201, opened.text
        cases: list[tuple[str, str, str, dict[str, Any]]] = [
            ("vouchers", "POST", "/v1/programmes/", {"role": Role.BUREAU, "json": {"year": 2026, "budget_fen": 100_000_000}}),
            ("vouchers", "GET", "/v1/programmes/2031", {"role": Role.CENTER}),
            ("vouchers", "POST", "/v1/programmes/", {"role": Role.FINANCE, "json": {"year": 2027, "budget_fen": 1}}),
            ("evaluation", "GET", "/v1/notices/nope", {}),
            ("evaluation", "GET", "/v1/cycles/2026", {"role": Role.CENTER}),
            ("payments", "GET", "/v1/settlements/nope", {"role": Role.FINANCE}),
            ("payments", "POST", "/v1/settlements", {"role": Role.USER, "org": "u1", "json": {"order_id": "nope", "extra": 1}}),
        ]
        seen = set()
        for service, method, path, kw in cases:
            r = await p.call(service, method, path, **kw)
            assert r.status_code >= 400, (service, method, path, r.text)
            answered = r.json()["code"]
            op = _operation(docs[service], method, path)
            assert _listed(op, r.status_code, answered), (service, method, path, r.status_code, answered, op["description"])
            seen.add(answered)
        assert {"voucher.programme_exists", "auth.forbidden", "settlement.not_found", "request.invalid"} <= seen, seen
