"""The endpoint × role × other-organisation access matrix.

Generated from the services' OpenAPI documents, so a new endpoint is in the
matrix the day it is added. For every operation, path parameters are filled
with *organisation A*'s objects and a body is synthesised from the request
schema (ids in it pointing at A's objects too); the operation is then called
with a token of every role acting for *another* organisation (B). A cell is:

- ``deny``  401/403/404: the caller was kept out;
- ``ok``    2xx where that is right: a city-wide role (center, bureau,
  finance, service), a public endpoint, or a list that shows nothing of A's;
- ``LEAK``  2xx for an intruder on a non-public operation naming A's object,
  or any 2xx whose body carries one of A's private ids;
- ``400``   the request was refused as invalid before anyone's rights were
  weighed (inconclusive; listed so the synthesiser can be taught the body);
- ``n/a``   not called (a write by a city-wide role would change A's world),
  or a path parameter the matrix has no object for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from services.runtime.roles import Role

#: roles that act for one organisation (or nobody) and must never see another's
INTRUDERS: tuple[Role, ...] = (
    Role.ANONYMOUS,
    Role.USER,
    Role.UNIT,
    Role.DEPARTMENT,
    Role.EXPERT,
    Role.PARTNER,
    Role.SYSADMIN,
    Role.SECADMIN,
    Role.AUDITOR,
)
#: city-wide business roles: they see every organisation's records by design
STAFF: tuple[Role, ...] = (Role.CENTER, Role.BUREAU, Role.FINANCE, Role.SERVICE)

WRITE = {"post", "put", "patch", "delete"}

#: valid values for fields a schema alone cannot describe (a catalogue, a code list)
HINTS: dict[str, Any] = {"category": "分析仪器", "county_code": "411002"}


@dataclass
class Operation:
    service: str
    method: str
    path: str
    operation_id: str
    public: bool
    body_schema: dict[str, Any] | None
    params: list[str] = field(default_factory=list)
    #: required query parameters and their schemas
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the body is a raw upload, not JSON
    upload: bool = False


def operations(service: str, doc: dict[str, Any], public_ops: set[str]) -> list[Operation]:
    ops = []
    for path, item in doc["paths"].items():
        if path in ("/health", "/ready", "/metrics"):
            continue
        for method, op in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            body = None
            content = (op.get("requestBody") or {}).get("content", {})
            if "application/json" in content:
                body = content["application/json"].get("schema")
            query = {q["name"]: q.get("schema", {}) for q in op.get("parameters", []) if q.get("in") == "query" and q.get("required")}
            upload = bool(content) and "application/json" not in content
            ops.append(
                Operation(service, method, path, op.get("operationId", ""), op.get("operationId", "") in public_ops, body, re.findall(r"{(\w+)}", path), query, upload)
            )
    return ops


def _resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def synthesise(schema: dict[str, Any] | None, doc: dict[str, Any], ids: dict[str, str], name: str = "", depth: int = 0) -> Any:
    """A small valid instance of ``schema``; a property named like one of A's
    ids (``order_id``, ``unit_id``, ...) gets A's object."""
    if schema is None or depth > 6:
        return None
    schema = _resolve(schema, doc)
    if name in ids:
        return ids[name]
    if name in HINTS:
        return HINTS[name]
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return synthesise(schema["allOf"][0], doc, ids, name, depth + 1)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [s for s in schema[key] if _resolve(s, doc).get("type") != "null"] or schema[key]
            return synthesise(options[0], doc, ids, name, depth + 1)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        # every property it can fill (optional ones too: a rule such as "a
        # cancellation needs a reason" must not answer before the rights check)
        props = schema.get("properties", {})
        filled = {k: synthesise(v, doc, ids, k, depth + 1) for k, v in props.items()}
        return {k: v for k, v in filled.items() if v is not None or k in schema.get("required", [])}
    if kind == "array":
        n = max(1, schema.get("minItems", 1))
        return [synthesise(schema.get("items", {}), doc, ids, name.removesuffix("s"), depth + 1) for _ in range(n)]
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), int(schema.get("exclusiveMinimum", 0)) + 1, 1) if schema.get("maximum", 10**12) >= 1 else schema.get("maximum")
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date":
            return "2026-06-01"
        if fmt == "date-time":
            return "2026-06-01T08:00:00Z"
        if "pattern" in schema:
            return None  # unknown: leave it out and let the service say so
        return "矩阵测试" + "x" * max(0, schema.get("minLength", 0) - 4)
    return None


#: operations a role reads city-wide by design: the audit administrator reads
#: every organisation's audit trail (and nothing else of theirs); the system
#: and security administrators see every local account, and the security
#: administrator locks and unlocks them (three-officer separation, docs/security.md)
CITY_WIDE_FOR: dict[str, tuple[Role, ...]] = {
    "/v1/audit": (Role.AUDITOR,),
    "/v1/accounts": (Role.SYSADMIN, Role.SECADMIN),
    "/v1/accounts/{account_id}/unlock": (Role.SECADMIN,),
    "/v1/accounts/{account_id}/disable": (Role.SECADMIN,),
    "/v1/accounts/{account_id}/enable": (Role.SECADMIN,),
}


def verdict(role: Role, op: Operation, status: int, body: str, private_ids: Iterable[str]) -> str:
    leaked = [i for i in private_ids if i in body]
    if 200 <= status < 300 and role in CITY_WIDE_FOR.get(op.path, ()):
        return "ok"
    if status in (401, 403, 404):
        return "deny"
    if status in (400, 422) and role in INTRUDERS and op.method in WRITE and op.params:
        # refused as invalid — but an intruder must be refused for who it is;
        # whether validation or authorization came first, nothing was changed
        return "400"
    if 200 <= status < 300:
        if role in STAFF:
            return "ok"
        if leaked:
            return "LEAK"
        names_a_private_object = any(p != "year" for p in op.params)
        if names_a_private_object and not op.public:
            return "LEAK"
        return "ok"
    if status == 409:
        # a state rule answered before the caller's rights were weighed: it
        # changes nothing, but tells an outsider something about A's object
        return "409" if role in INTRUDERS else "ok"
    if status in (400, 422):
        return "ok" if role in STAFF or not op.params else "400"
    if status >= 500:
        return "500"
    return str(status)
