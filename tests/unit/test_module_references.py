"""Every ``module.name`` a service writes resolves.

Python finds a missing module attribute only when the line runs; ruff does not
see it either. The review mend that folded ``cycle.by`` into ``Actor.label``
left six ``cy.by(actor)`` calls behind, and each became a 500 on an
evaluation endpoint (evidence upload, rectification, objections, provincial
awards, award approval) that only the integration suite reached. This test
reads every module under ``services/`` and checks each attribute read on an
imported ``services`` module exists.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _module_aliases(tree: ast.Module) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("services"):
            for name in node.names:
                full = f"{node.module}.{name.name}"
                if _is_package_or_module(full):
                    aliases[name.asname or name.name] = full
        elif isinstance(node, ast.Import):
            for name in node.names:
                if name.name.startswith("services") and name.asname:
                    aliases[name.asname] = name.name
    return aliases


def _is_package_or_module(dotted: str) -> bool:
    try:
        return importlib.util.find_spec(dotted) is not None
    except (ModuleNotFoundError, AttributeError):  # a class imported from a module, not a module
        return False


def missing_references(root: Path) -> list[str]:
    missing = []
    for path in sorted((root / "services").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = _module_aliases(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
                module = importlib.import_module(aliases[node.value.id])
                if not hasattr(module, node.attr):
                    missing.append(f"{path.relative_to(root)}:{node.lineno} {node.value.id}.{node.attr}")
    return missing


def test_every_module_attribute_a_service_reads_exists() -> None:
    assert missing_references(ROOT) == []


def test_the_check_finds_a_missing_attribute(tmp_path: Path) -> None:
    (tmp_path / "services").mkdir()
    (tmp_path / "services" / "broken.py").write_text("from services.evaluation import cycle as cy\n\ncy.by(None)\n", encoding="utf-8")
    assert missing_references(tmp_path) == ["services/broken.py:3 cy.by"]
