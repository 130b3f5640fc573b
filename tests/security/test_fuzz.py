"""Schemathesis over every service's OpenAPI document (issue 5, "Fuzzing").

Every operation of registry, vouchers, evaluation and payments is called with
generated requests — valid ones and, as often, invalid ones (wrong types,
overlong strings, NUL bytes, huge numbers, bad dates) — carrying a token of a
role the operation admits (its ``access(...)`` declaration; anonymous for a
public one). Path parameters are organisation A's real objects (the access
matrix's world) half of the time, generated values otherwise. Each response is
checked for

- ``not_a_server_error``: no 5xx, whatever the input;
- ``status_code_conformance``: the status code is one the operation documents;
- ``content_type_conformance`` and ``response_schema_conformance``: the body is
  what the document says it is.

Requests go through the services' in-process ASGI clients on the test's event
loop (where their workers and relays run); hypothesis drives generation in a
thread. ``XCISS_FUZZ_EXAMPLES`` (default 10) sets the examples per operation
(twice that when its path names objects of A's), ``XCISS_FUZZ_SEED`` the seed
(default 5, so a run is repeatable; ``random`` for a fresh one each run). A
per-service summary is printed at the end of the run; findings are collected,
not shrunk, and listed (three examples each) when the test fails.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from services.runtime.http.auth import PUBLIC
from services.runtime.roles import Role
from services.runtime.settings import SERVICES
from tests.support.platform import Platform, running
from tests.support.world_a import world_a

EXAMPLES = int(os.environ.get("XCISS_FUZZ_EXAMPLES", "10"))
SEED = os.environ.get("XCISS_FUZZ_SEED", "5")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SUMMARY: list[str] = []  # read by tests/conftest.py's terminal summary

#: the caller for an operation, most privileged first: a city-wide role sees
#: every object, so the generated request reaches the handler's deeper paths
PREFERENCE = (Role.CENTER, Role.BUREAU, Role.FINANCE, Role.SERVICE, Role.UNIT, Role.USER, Role.DEPARTMENT, Role.EXPERT, Role.PARTNER, Role.SECADMIN, Role.SYSADMIN, Role.AUDITOR)

#: findings not fixed yet, each with its reason, keyed by (service, operation
#: id, failure) — the failure as reported: ServerError, UndefinedStatusCode,
#: UndefinedContentType, JsonSchemaError, ... Empty: the fuzz finds nothing.
ALLOWED: dict[tuple[str, str, str], str] = {}


@dataclass
class Tally:
    operations: int = 0
    cases: int = 0
    failed: int = 0
    #: (operation id, failure) -> up to three examples
    failures: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))


def _access(p: Platform, service: str) -> dict[str, tuple[str, ...]]:
    app = p[service]._lifespan.app  # type: ignore[union-attr]
    found: dict[str, tuple[str, ...]] = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler.operation_id, str):
                found[handler.operation_id] = tuple(handler.opt.get("access") or ())
    return found


def _caller(roles: tuple[str, ...], ids: dict[str, str]) -> tuple[Role | None, str | None]:
    if not roles or PUBLIC in roles:
        return None, None
    role = next(r for r in PREFERENCE if r.value in roles)
    org = {Role.UNIT: ids["unit_id"], Role.USER: ids["user_id"], Role.DEPARTMENT: "dept-a", Role.EXPERT: "expert-a", Role.PARTNER: "partner-a"}.get(role)
    return role, org


def _httpx_kwargs(case: Any) -> dict[str, Any]:
    """The requests-style keyword arguments schemathesis prepares, for httpx."""
    kw = case.as_transport_kwargs(base_url="")
    out: dict[str, Any] = {"headers": {k: v for k, v in kw["headers"].items() if k.lower() != "authorization"}, "params": kw.get("params")}
    if "json" in kw:
        out["content"] = json.dumps(kw["json"]).encode()
        out["headers"].setdefault("Content-Type", "application/json")
    elif isinstance(kw.get("data"), str | bytes):
        out["content"] = kw["data"].encode() if isinstance(kw["data"], str) else kw["data"]
    elif kw.get("data") is not None or kw.get("files"):
        out["data"], out["files"] = kw.get("data"), kw.get("files")
    if kw.get("cookies"):
        out["cookies"] = kw["cookies"]
    return out


def _fuzz_operation(op: Any, send: Any, ids: dict[str, str], tally: Tally) -> None:
    operation_id = op.definition.raw.get("operationId", op.label)
    names = [getattr(p, "name", None) for p in op.path_parameters]
    fixed = {n: ids[n] for n in names if n in ids}
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    strategies = [st.one_of(*(op.as_strategy(generation_mode=m) for m in modes))]
    if fixed and len(fixed) == len(names):
        strategies.append(st.one_of(*(op.as_strategy(generation_mode=m, path_parameters=fixed) for m in modes)))
    for strategy in strategies:

        @hypothesis.settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )
        @given(case=strategy)
        def run(case: Any) -> None:
            response = send(case)
            tally.cases += 1
            try:
                case.validate_response(response, checks=CHECKS)
            except FailureGroup as group:
                tally.failed += 1
                for failure in group.exceptions:
                    key = (operation_id, type(failure).__name__)
                    if len(tally.failures[key]) < 3:
                        body = response.text[:300]
                        tally.failures[key].append(f"{op.label}: {case.method} {case.formatted_path} query={case.query} body={case.body!r:.300} -> {response.status_code} {response.headers.get('content-type')} {body}")

        (run if SEED == "random" else hypothesis.seed(int(SEED))(run))()


# the fuzz runs on SQLite (it is about the HTTP layer); the integration tests cover PostgreSQL
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("service", SERVICES)
async def test_schemathesis_finds_nothing(service: str, make_settings, backend: str) -> None:
    started = time.monotonic()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    settings = await make_settings(list(SERVICES))
    loop = asyncio.get_running_loop()
    async with running(Platform(settings, SERVICES)) as p:
        ids = await world_a(p)
        doc = (await p.call(service, "GET", "/schema/openapi.json")).json()
        schema = schemathesis.openapi.from_dict(doc)
        access = _access(p, service)
        tally = Tally()

        def send_sync(role: Role | None, org: str | None) -> Any:
            def send(case: Any) -> httpx.Response:
                kw = _httpx_kwargs(case)
                coro = p.call(service, case.method, case.formatted_path, role=role, org=org, **kw)
                return asyncio.run_coroutine_threadsafe(coro, loop).result(60)

            return send

        ops = [r.ok() for r in schema.get_all_operations()]
        ops = [op for op in ops if op.path not in ("/health", "/ready", "/metrics")]

        def fuzz_all() -> None:
            for op in ops:
                tally.operations += 1
                role, org = _caller(access.get(op.definition.raw.get("operationId", ""), ()), ids)
                _fuzz_operation(op, send_sync(role, org), ids, tally)

        await asyncio.to_thread(fuzz_all)

    unexpected = {k: v for k, v in tally.failures.items() if (service, k[0], k[1]) not in ALLOWED}
    line = (
        f"fuzz {service}: {tally.operations} operations, {tally.cases} cases, {tally.failed} failing cases, "
        f"{len(tally.failures)} distinct findings ({len(unexpected)} not allow-listed), {time.monotonic() - started:.0f}s"
    )
    SUMMARY.append(line)
    print(line)
    report = "\n".join(f"  {op} [{check}]\n" + "\n".join(f"      {x}" for x in examples) for (op, check), examples in sorted(unexpected.items()))
    assert not unexpected, f"schemathesis found {len(unexpected)} problems in {service}:\n{report}"
