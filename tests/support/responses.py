"""Reading an HTTP response in a test: its JSON body once its status is the
expected one (otherwise the failure names the request, the status and the
response text)."""

from __future__ import annotations

from typing import Any


async def ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, (r.request.method, str(r.request.url), r.status_code, r.text)
    return r.json()
