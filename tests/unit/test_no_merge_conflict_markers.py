"""No file of the platform keeps a merge's conflict markers: a template with them
renders the markers and both sides to people (the unit's redemption page did, for a
moment, after two branches changed one table)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^(<{7} |>{7} |={7}$)", re.MULTILINE)
SUFFIXES = {".py", ".html", ".css", ".js", ".md", ".yaml", ".yml", ".toml", ".json", ".txt", ".ini", ".mako"}


def test_no_file_keeps_conflict_markers() -> None:
    marked = [
        str(path.relative_to(ROOT))
        for top in ("services", "contracts", "tests", "docs", "deploy", "bench")
        for path in (ROOT / top).rglob("*")
        if path.suffix in SUFFIXES and path.is_file() and "node_modules" not in path.parts and MARKER.search(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert marked == [], f"conflict markers left in: {marked}"
