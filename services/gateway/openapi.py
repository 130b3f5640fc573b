"""One OpenAPI document for web clients, combined from the services' own.

Each service's paths appear under ``/api/<service>``; operation ids and
component schemas get the service as a prefix (``registry_listUnits``,
``registry_UnitOut``) so two services may use the same names.
"""

from __future__ import annotations

import copy
from typing import Any


def _rename_refs(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str) and v.startswith("#/components/schemas/"):
                out[k] = "#/components/schemas/" + prefix + v.rsplit("/", 1)[1]
            else:
                out[k] = _rename_refs(v, prefix)
        return out
    if isinstance(node, list):
        return [_rename_refs(v, prefix) for v in node]
    return node


def combine(documents: dict[str, dict[str, Any]], *, title: str = "xciss platform API", version: str = "1.0.0") -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    security_schemes: dict[str, Any] = {}
    tags: list[dict[str, Any]] = []
    for service, doc in sorted(documents.items()):
        prefix = f"{service}_"
        doc = _rename_refs(copy.deepcopy(doc), prefix)
        for path, item in doc.get("paths", {}).items():
            for op in item.values():
                if isinstance(op, dict) and "operationId" in op:
                    op["operationId"] = prefix + op["operationId"]
                    op["tags"] = [service, *op.get("tags", [])]
            paths[f"/api/{service}{path}"] = item
        components = doc.get("components", {})
        for name, schema in components.get("schemas", {}).items():
            schemas[prefix + name] = schema
        security_schemes.update(components.get("securitySchemes", {}))
        tags.append({"name": service, "description": doc.get("info", {}).get("description", "")})
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": "Every service of the platform behind one origin: /api/<service>/..."},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": security_schemes},
        "security": [{"bearer": []}],
        "tags": tags,
    }
