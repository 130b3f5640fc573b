"""Values as an audit row stores them (JSON): times as ISO 8601 text."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def audited(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with each ``datetime`` as ISO 8601 text, the rest as it is."""
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items()}
