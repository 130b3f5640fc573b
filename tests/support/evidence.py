"""Evidence files for evaluation applications (R14(2)): a unit uploads its
self-evaluation report (自评报告) and names it on the application."""

from __future__ import annotations

import uuid
from typing import Any

from services.runtime.roles import Role
from tests.support.platform import Platform


def report_pdf() -> bytes:
    return b"%PDF-1.7\n% self-evaluation report " + uuid.uuid4().hex.encode() + b"\n" + b"s" * 500


async def upload(p: Platform, unit: str, kind: str = "self_assessment", data: bytes | None = None, filename: str = "自评报告.pdf") -> Any:
    return await p.call(
        "evaluation", "POST", "/v1/evaluation-documents", role=Role.UNIT, org=unit,
        params={"kind": kind, "filename": filename}, content=report_pdf() if data is None else data, headers={"Content-Type": "application/octet-stream"},
    )


async def documents(p: Platform, unit: str) -> list[str]:
    """A freshly uploaded self-evaluation report, as the ``documents`` of an application."""
    r = await upload(p, unit)
    assert r.status_code == 201, r.text
    return [r.json()["document_id"]]
