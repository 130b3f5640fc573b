"""Reading an HTTP response in a test: its JSON body once its status is the
expected one (the response text in the failure otherwise)."""

from __future__ import annotations

from typing import Any


async def ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()
