"""Suggest a route's line for ``services/<service>/api/operation_errors.py``:
the codes raised in the handler and in the functions it calls, followed
through the service's own modules (and the runtime's), read with ``ast``.

It is a first draft to review, not the truth: it finds more than a route
answers where actions share a function (``approve`` and ``reject``), and
less where a code is raised by an object's method it cannot resolve or
built at run time. The tables were first filled with it; the failing test
``tests/unit/test_operation_docs.py`` prints its suggestion for each
operation without a line.

    python -m tests.support.operation_errors_suggest vouchers [operationId ...]
"""

from __future__ import annotations

import ast
import inspect
import sys
import tempfile
import textwrap
import types
from pathlib import Path
from typing import Any

from services.runtime.http.error_catalogue import assigned_names, catalogue, error_classes, kept_codes, raised_codes
from services.runtime.http.operation_docs import generic_codes, operation_handlers

_MODULE_NAMES: dict[str, dict[str, list[ast.AST]]] = {}


def _codes_of(fn: Any, package: str, seen: set[Any], depth: int = 0) -> set[str]:
    fn = inspect.unwrap(fn)
    key = getattr(fn, "__code__", None)
    module = getattr(fn, "__module__", "") or ""
    if key is None or key in seen or depth > 6 or not module.startswith((package, "services.runtime")):
        return set()
    seen.add(key)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return set()
    if module not in _MODULE_NAMES:
        _MODULE_NAMES[module] = assigned_names(ast.parse(inspect.getsource(sys.modules[module])))
    classes = error_classes()
    names = {**_MODULE_NAMES[module], **assigned_names(tree)}
    out = {c for c, *_ in raised_codes(tree, classes, names=names)} | {c for c, *_ in kept_codes(tree, classes)}
    scope = fn.__globals__
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            out |= _codes_of_target(_resolve(node.func, scope, module), package, seen, depth)
    return out


def _resolve(func: ast.AST, scope: dict[str, Any], module: str) -> Any:
    if isinstance(func, ast.Name):
        return scope.get(func.id)
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        base = scope.get(func.value.id)
        if isinstance(base, types.ModuleType) or inspect.isclass(base):
            return getattr(base, func.attr, None)
        if func.value.id in ("self", "cls"):  # a method of a class of the same module
            for value in list(scope.values()):
                if inspect.isclass(value) and value.__module__ == module and func.attr in vars(value):
                    return vars(value)[func.attr]
    return None


def _codes_of_target(target: Any, package: str, seen: set[Any], depth: int) -> set[str]:
    if isinstance(target, staticmethod | classmethod):
        target = target.__func__
    if inspect.isfunction(target) or inspect.ismethod(target):
        return _codes_of(target, package, seen, depth + 1)
    if inspect.isclass(target):
        code = getattr(target, "code", None)
        if isinstance(code, str) and code in catalogue():
            return {code}
        init = vars(target).get("__init__")
        if target.__module__.startswith(package) and inspect.isfunction(init):
            return _codes_of(init, package, seen, depth + 1)
    return set()


def suggest(service: str, handler: Any) -> tuple[str, ...]:
    """The codes ``handler`` of ``service`` seems to answer beyond the generic ones."""
    generic = {*generic_codes(handler), "auth.forbidden", "request.not_found"}
    return tuple(sorted(_codes_of(handler.fn, f"services.{service}", set()) - generic))


def line(operation_id: str, codes: tuple[str, ...]) -> str:
    body = ", ".join(f'"{c}"' for c in codes) + ("," if len(codes) == 1 else "")
    return f'    "{operation_id}": ({body}),'


def main(argv: list[str]) -> None:
    from services.runtime.service import create_app, load_spec
    from services.runtime.settings import Settings

    service, wanted = argv[0], set(argv[1:])
    app = create_app(load_spec(service), Settings(data_dir=Path(tempfile.mkdtemp())))
    for handler in operation_handlers(app):
        if not wanted or handler.operation_id in wanted:
            print(line(handler.operation_id, suggest(service, handler)))


if __name__ == "__main__":
    main(sys.argv[1:])
