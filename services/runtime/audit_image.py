"""A use case's result as the audit trail keeps it.

Use cases return msgspec structs (each service's ``schemas``); the audit trail
records the same struct, by its published field names, without what the record
does not own (what is audited on its own, or not at all)."""

from __future__ import annotations

from typing import Any

import msgspec


def audit_image(record: msgspec.Struct, *, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """``record`` as the audit trail keeps it: its fields by their published
    names, without ``leave_out``."""
    image: dict[str, Any] = msgspec.to_builtins(record)
    for name in leave_out:
        image.pop(name)
    return image
