"""Every OpenAPI operation says who may call it and which error codes it
answers (issue 15): the roles from its ``access(...)`` declaration, its codes
from ``services/<svc>/api/operation_errors.py`` and the generic rules, each
code's status and meaning from the catalogue read from the source."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
from litestar import Litestar

from services.runtime import operation_errors as shared
from services.runtime.http.error_catalogue import CODE, ROOT, catalogue, scanned
from services.runtime.http.operation_docs import (
    ERRORS_HEADING,
    ROLE_NAMES,
    WHO_HEADING,
    generic_codes,
    operation_handlers,
    service_tables,
)
from services.runtime.service import create_app, load_spec
from services.runtime.settings import SERVICES, Settings
from tests.support.operation_errors_suggest import line, suggest


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Litestar]:
    return {s: create_app(load_spec(s), Settings(data_dir=tmp_path_factory.mktemp(s))) for s in SERVICES}


def _operations(app: Litestar) -> dict[str, str]:
    """operation id -> ``METHOD path``"""
    out = {}
    for route in app.routes:
        for h in getattr(route, "route_handlers", []):
            if h in list(operation_handlers(app)):
                out[h.operation_id] = f"{'/'.join(sorted(h.http_methods))} {route.path}"
    return out


def test_every_operation_has_an_entry_in_its_services_error_table(apps: dict[str, Litestar]) -> None:
    lacking, lines = [], []
    for service, app in apps.items():
        errors, _ = service_tables(service)
        handlers = {h.operation_id: h for h in operation_handlers(app)}
        for op, where in sorted(_operations(app).items()):
            if op not in errors:
                lacking.append(f"{service}: {op} ({where})")
                shared_route = inspect.unwrap(handlers[op].fn).__module__.startswith("services.runtime")
                table = "services/runtime/operation_errors.py" if shared_route else f"services/{service}/api/operation_errors.py"
                lines.append(f"# {table}\n{line(op, suggest(service, handlers[op]))}")
    assert not lacking, (
        "these operations have no line in services/<service>/api/operation_errors.py (ERRORS; "
        "`()` when they answer only the generic codes):\n  " + "\n  ".join(lacking)
        + "\n\nsuggested lines (tests/support/operation_errors_suggest.py; review them):\n" + "\n".join(lines)
    )


def test_no_stale_entries(apps: dict[str, Litestar]) -> None:
    stale = []
    runtime_ops = set(shared.ERRORS)
    for service, app in apps.items():
        ops = set(_operations(app))
        errors, _ = service_tables(service)
        stale += [f"{service}: {op}" for op in errors if op not in ops and op not in runtime_ops]
        stale += [f"runtime: {op} (missing in {service})" for op in runtime_ops if op not in ops]
    assert not stale, "operation ids in the error tables that no route has:\n  " + "\n  ".join(stale)


def test_every_declared_code_exists_in_the_source(apps: dict[str, Litestar]) -> None:
    unknown = []
    for service in apps:
        errors, extra = service_tables(service)
        codes = catalogue(extra)
        for op, declared in errors.items():
            unknown += [f"{service}: {op}: {c}" for c in declared if c not in codes]
            assert len(set(declared)) == len(declared), f"{service}: {op} repeats a code"
    assert not unknown, "declared codes that no source raises (typo, or a code that was removed):\n  " + "\n  ".join(unknown)


def test_each_description_names_who_may_call_and_every_error_code(apps: dict[str, Litestar]) -> None:
    for service, app in apps.items():
        errors, extra = service_tables(service)
        codes = catalogue(extra)
        doc = app.openapi_schema.to_schema()
        handlers = {h.operation_id: h for h in operation_handlers(app)}
        seen = 0
        for path, item in doc["paths"].items():
            for method, op in item.items():
                if not isinstance(op, dict) or "operationId" not in op:
                    continue
                seen += 1
                h = handlers[op["operationId"]]
                text = op.get("description") or ""
                assert WHO_HEADING in text and ERRORS_HEADING in text, (service, method, path)
                who = text.split(WHO_HEADING, 1)[1].split("\n", 1)[0]
                for role in h.opt["access"]:
                    zh, en = ROLE_NAMES[role]
                    assert zh in who and en in who, (service, op["operationId"], role, who)
                for code in (*generic_codes(h), *errors.get(op["operationId"], ())):
                    row = re.search(rf"^\| ([0-9, ]+) \| `{re.escape(code)}` \| (.*) \| (.*) \|$", text, re.M)
                    assert row, (service, op["operationId"], code)
                    assert int(row.group(1).split(",")[0]) == min(codes[code].statuses), (service, op["operationId"], code)
                    assert row.group(2).strip() or row.group(3).strip(), f"{code} has no meaning in the catalogue"
        assert seen >= 20, service


def test_public_operations_say_so_and_ask_no_token_errors(apps: dict[str, Litestar]) -> None:
    doc = apps["registry"].openapi_schema.to_schema()
    search = doc["paths"]["/v1/catalogue/instruments"]["get"]["description"]
    assert "任何人（无需登录） / anyone, no sign-in needed" in search
    assert "`auth.unauthenticated`" not in search and "`auth.forbidden`" not in search
    assert "| 429 | `request.rate_limited` |" in search


def test_a_settlement_lists_its_own_codes_with_status_and_meaning(apps: dict[str, Litestar]) -> None:
    doc = apps["payments"].openapi_schema.to_schema()
    text = doc["paths"]["/v1/settlements"]["post"]["description"]
    assert "用户、市科技创新公共服务中心 / user, center" in text
    assert "| 409 | `settlement.results_not_delivered` |" in text
    assert "| 503 | `command.timeout` |" in text
    assert "| 413 | `request.too_large` |" in text


def _raised_in_source() -> set[str]:
    """Every literal code in a ``DomainError("...``/``Conflict("...`` call, by a plain scan."""
    found = set()
    pattern = re.compile(r"\b(?:DomainError|Conflict|Forbidden|AuditError|CommandError)\(\s*\"([a-z0-9_.]+)\"")
    for f in ROOT.rglob("*.py"):
        if "gateway" in f.parts or "migrations" in f.parts:
            continue
        found |= {c for c in pattern.findall(f.read_text(encoding="utf-8")) if CODE.match(c)}
    return found


def test_the_catalogue_holds_every_code_the_source_raises() -> None:
    missing = _raised_in_source() - set(scanned())
    assert not missing, sorted(missing)
    entry = scanned()["voucher.expired"]
    assert entry.statuses == {409} and entry.message_zh and entry.message_en


def test_codes_built_from_a_table_come_from_that_table() -> None:
    _, extra = service_tables("vouchers")
    assert extra["voucher.budget_exhausted"] == (422, "本年度创新券预算已用完，停止申用", "the year's voucher budget is committed: applications have stopped")
    submit = service_tables("vouchers")[0]["submitApplication"]
    assert "voucher.budget_exhausted" in submit and "voucher.contract_already_used" in submit


def test_the_tables_stay_small_modules() -> None:
    for service in ("registry", "vouchers", "evaluation", "payments"):
        path = Path(ROOT, service, "api", "operation_errors.py")
        ast.parse(path.read_text(encoding="utf-8"))
        assert len(path.read_text(encoding="utf-8").splitlines()) < 400, path


def test_every_code_a_service_raises_is_declared_by_an_operation() -> None:
    """A new ``DomainError("x.y", ...)`` in a service is answered by some
    operation: the table says which (or ``NOT_HTTP`` lists it when only a
    consumer or a task raises it)."""
    import importlib

    undeclared = []
    for service in ("registry", "vouchers", "evaluation", "payments"):
        errors, extra = service_tables(service)
        module = importlib.import_module(f"services.{service}.api.operation_errors")
        declared = {c for codes in errors.values() for c in codes} | set(getattr(module, "NOT_HTTP", ()))
        for code, entry in catalogue(extra).items():
            places = [p for p in entry.places if p.startswith(f"services/{service}/")]
            if places and code not in declared:
                undeclared.append(f"{service}: {code} (raised at {places[0]})")
    assert not undeclared, (
        "codes raised in a service that no operation declares in services/<service>/api/operation_errors.py "
        "(add them to the operations that answer them, or to NOT_HTTP):\n  " + "\n  ".join(sorted(undeclared))
    )


def test_the_gateways_combined_document_keeps_the_descriptions(apps: dict[str, Litestar]) -> None:
    from services.gateway.openapi import combine

    doc = combine({s: app.openapi_schema.to_schema() for s, app in apps.items()})
    ops = [op for item in doc["paths"].values() for op in item.values() if isinstance(op, dict) and "operationId" in op]
    assert len(ops) >= 150
    assert all(WHO_HEADING in op["description"] and ERRORS_HEADING in op["description"] for op in ops)
    assert "| 422 | `voucher.budget_exhausted` | 本年度创新券预算已用完，停止申用 |" in doc["paths"]["/api/vouchers/v1/applications"]["post"]["description"]


def test_the_generic_codes_follow_the_operations_shape(apps: dict[str, Litestar]) -> None:
    """By rule, not by copy: a path parameter brings ``request.not_found``, an
    ``Idempotency-Key`` header its two codes, a body ``request.too_large``, a
    public route no ``auth.unauthenticated``."""
    idempotent = 0
    for service, app in apps.items():
        for path, item in app.openapi_schema.to_schema()["paths"].items():
            for method, op in item.items():
                if not isinstance(op, dict) or "operationId" not in op:
                    continue
                text = op["description"]
                header = any(p.get("name") == "Idempotency-Key" for p in op.get("parameters", []))
                idempotent += header
                assert ("{" in path) == ("`request.not_found`" in text), (service, method, path)
                assert header == ("`request.idempotency_key_invalid`" in text) == ("`request.idempotency_key_reused`" in text), (service, method, path)
                assert (method in ("post", "put", "patch")) == ("`request.too_large`" in text), (service, method, path)
                public = "anyone, no sign-in needed" in text
                assert public != ("`auth.unauthenticated`" in text) and public != ("`auth.forbidden`" in text), (service, method, path)
    assert idempotent >= 4



def test_one_code_has_one_status_across_the_platform(apps: dict[str, Litestar]) -> None:
    """A client matches on ``code``: every operation description of every
    service gives a code one and the same HTTP status (a conflict of interest is
    409 whether evaluation or vouchers refuses the expert; an empty upload 400
    in every service), and a service's ``CODES`` agrees with the source."""
    answered: dict[str, dict[str, set[str]]] = {}
    for service, app in apps.items():
        for item in app.openapi_schema.to_schema()["paths"].values():
            for op in item.values():
                if isinstance(op, dict) and "operationId" in op:
                    for status, code in re.findall(r"^\| ([0-9, ]+) \| `([a-z0-9_.]+)` \|", op["description"], re.M):
                        answered.setdefault(code, {}).setdefault(status, set()).add(f"{service}: {op['operationId']}")
    assert len(answered) >= 200
    split = [
        f"{code}: " + "; ".join(f"{status} in {', '.join(sorted(ops)[:3])}" for status, ops in sorted(statuses.items()))
        + f" (raised at {', '.join(sorted(set(scanned()[code].places))) if code in scanned() else 'CODES'})"
        for code, statuses in sorted(answered.items())
        if len(statuses) > 1 or "," in next(iter(statuses))
    ]
    for service in ("registry", "vouchers", "evaluation", "payments"):
        _, extra = service_tables(service)
        split += [f"{code}: {status} in {service}'s CODES, {sorted(scanned()[code].statuses)} in the source"
                  for code, (status, _, _) in extra.items() if code in scanned() and scanned()[code].statuses != {status}]
    assert not split, "codes answered with more than one status (choose one):\n  " + "\n  ".join(split)


def test_operations_are_described_when_the_first_document_is_built_and_only_then(tmp_path: Path) -> None:
    """The descriptions cost the registry's API 0.8 MiB of idle memory (issue 19, target 5):
    a process that is never asked for its document never builds them."""
    app = create_app(load_spec("payments"), Settings(data_dir=tmp_path))
    handlers = list(operation_handlers(app))
    assert handlers and not any(WHO_HEADING in (h.description or "") for h in handlers)
    settle = app.openapi_schema.to_schema()["paths"]["/v1/settlements"]["post"]["description"]
    assert WHO_HEADING in settle and "`settlement.results_not_delivered`" in settle
    assert all(WHO_HEADING in (h.description or "") for h in handlers)
    assert app.openapi_config.describe is None  # type: ignore[union-attr]  # once: a second document reads them as they are
    app.update_openapi_schema()
    assert app.openapi_schema.to_schema()["paths"]["/v1/settlements"]["post"]["description"] == settle
