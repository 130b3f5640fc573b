"""What the services can put in an audit entry's ``before`` and ``after``, read
from their code: every ``uow.audit(…, before=…, after=…)`` call of every module
under services/, each image followed to the msgspec structs it is made of
(``audit_image(x)``, a service's own ``audited(x)`` / ``_image(x)`` / ``unit_image(x)``,
``schemas.payout(row)``, a variable bound to one of those, a loop over a list of
them) and to the keys of the dicts written out (``{"status": …}``, a helper
returning one, ``{**image, "payout_ids": …}``). A struct's nested structs count
too (``Claim.items`` → ``ClaimItem``): the audit page names their fields as well.

An image it cannot follow is reported as ``unresolved`` ("file:line expression")
rather than guessed, so a new kind of image is seen by the test that uses this."""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
import typing
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec

from services.registry.audited import audited as iso_times
from services.runtime.audit_image import audit_image

ROOT = Path(__file__).resolve().parents[2]
#: functions that hand their first argument to the audit row as it is (made plain)
PASS_THROUGH = (audit_image, iso_times, msgspec.to_builtins, msgspec.structs.asdict)


@dataclass
class Images:
    structs: set[type[msgspec.Struct]] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)
    unresolved: list[str] = field(default_factory=list)


def is_struct(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, msgspec.Struct)


def _hints(fn: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except (TypeError, NameError):  # a builtin; a hint only a type checker resolves
        return {}


def _lookup(mod: ModuleType, node: ast.expr) -> Any:
    """The object a name or ``a.b.c`` refers to in ``mod``."""
    if isinstance(node, ast.Name):
        return getattr(mod, node.id, None)
    if isinstance(node, ast.Attribute):
        base = _lookup(mod, node.value)
        return None if base is None else getattr(base, node.attr, None)
    return None


def _binding(scope: ast.AST, use: ast.Name) -> tuple[str, ast.expr] | None:
    """The last binding of ``use`` before it in ``scope``: ("value", expression) for an
    assignment, ("element", iterable) for a ``for`` target (``zip``'s matching argument)."""
    found: list[tuple[int, tuple[str, ast.expr]]] = []
    for n in ast.walk(scope):
        targets = n.targets if isinstance(n, ast.Assign) else [n.target] if isinstance(n, ast.AnnAssign) else []
        value = getattr(n, "value", None)
        if targets and value is not None and n.lineno < use.lineno and any(isinstance(t, ast.Name) and t.id == use.id for t in targets):
            found.append((n.lineno, ("value", value)))
        if isinstance(n, ast.For) and n.lineno < use.lineno <= (n.end_lineno or 0):
            targets = [n.target] if isinstance(n.target, ast.Name) else list(getattr(n.target, "elts", []))
            for i, t in enumerate(targets):
                if isinstance(t, ast.Name) and t.id == use.id:
                    it = n.iter
                    if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "zip":
                        it = it.args[i]
                    found.append((n.lineno, ("element", it)))
    return max(found, key=lambda f: f[0])[1] if found else None


class _Reader:
    def __init__(self) -> None:
        self.found = Images()

    def _param_struct(self, mod: ModuleType, scope: Any, name: str) -> Any:
        if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        for a in [*scope.args.posonlyargs, *scope.args.args, *scope.args.kwonlyargs]:
            if a.arg == name and a.annotation is not None:
                t = eval(ast.unparse(a.annotation), vars(mod))  # the services' own annotations, as typing.get_type_hints would
                return t if is_struct(t) else None
        return None

    def struct_of(self, e: ast.expr, mod: ModuleType, scope: Any) -> Any:
        """The struct type ``e`` evaluates to, if it can tell (a parameter, a call's return)."""
        if isinstance(e, ast.Await):
            return self.struct_of(e.value, mod, scope)
        if isinstance(e, ast.Name):
            if (t := self._param_struct(mod, scope, e.id)) is not None:
                return t
            b = _binding(scope, e) if scope is not None else None
            return self.struct_of(b[1], mod, scope) if b and b[0] == "value" else None
        if isinstance(e, ast.Call):
            fn = _lookup(mod, e.func)
            ret = fn if is_struct(fn) else _hints(fn).get("return") if fn is not None else None
            return ret if is_struct(ret) else None
        return None

    def image(self, e: ast.expr, mod: ModuleType, scope: Any, where: str, depth: int = 0) -> None:
        """Note the structs and keys of the audited image ``e``."""
        out = self.found
        if depth > 8:
            out.unresolved.append(f"{where} {ast.unparse(e)}")
        elif isinstance(e, ast.Constant) and e.value is None:
            return
        elif isinstance(e, ast.Await):
            self.image(e.value, mod, scope, where, depth)
        elif isinstance(e, ast.IfExp):
            self.image(e.body, mod, scope, where, depth)
            self.image(e.orelse, mod, scope, where, depth)
        elif isinstance(e, ast.BinOp):  # {…} | {…}
            self.image(e.left, mod, scope, where, depth)
            self.image(e.right, mod, scope, where, depth)
        elif isinstance(e, ast.Dict):
            for k, v in zip(e.keys, e.values, strict=True):
                if k is None:  # {**image, …}
                    self.image(v, mod, scope, where, depth + 1)
                elif isinstance(k, ast.Constant) and isinstance(k.value, str):
                    out.keys.add(k.value)
                    self._value(v, mod, scope, where, depth)
                else:
                    out.unresolved.append(f"{where} {ast.unparse(e)}")
        elif isinstance(e, ast.DictComp):
            self._dict_comp(e, mod, scope, where, depth)
        elif isinstance(e, ast.Call):
            self._call(e, mod, scope, where, depth)
        elif isinstance(e, ast.Name) and (t := self._param_struct(mod, scope, e.id)) is not None:
            out.structs.add(t)
        elif isinstance(e, ast.Name) and scope is not None and (b := _binding(scope, e)) is not None:
            if b[0] == "value":
                self.image(b[1], mod, scope, where, depth + 1)
            else:
                self._element(b[1], mod, scope, where, depth + 1)
        else:
            out.unresolved.append(f"{where} {ast.unparse(e)}")

    def _call(self, e: ast.Call, mod: ModuleType, scope: Any, where: str, depth: int) -> None:
        fn = _lookup(mod, e.func)
        if fn is None:
            self.found.unresolved.append(f"{where} {ast.unparse(e)}")
        elif is_struct(fn):
            self.found.structs.add(fn)
        elif any(fn is p for p in PASS_THROUGH):
            self.image(e.args[0], mod, scope, where, depth + 1)
        elif is_struct(ret := _hints(fn).get("return")):
            self.found.structs.add(ret)
        elif is_struct(first := _hints(fn).get(next(iter(inspect.signature(fn).parameters), ""))):
            self.found.structs.add(first)  # a service's image of the struct it takes (``unit_image(unit)``)
        else:  # a helper building the dict (``snapshot(row)``): what it returns
            try:
                node = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]
            except (TypeError, OSError):  # not Python source (a builtin)
                self.found.unresolved.append(f"{where} {ast.unparse(e)}")
                return
            for r in ast.walk(node):
                if isinstance(r, ast.Return) and r.value is not None:
                    self.image(r.value, importlib.import_module(fn.__module__), node, f"{where} > {fn.__name__}", depth + 1)

    def _dict_comp(self, e: ast.DictComp, mod: ModuleType, scope: Any, where: str, depth: int) -> None:
        """``{k: … for k in ("a", "b")}``, ``{k: … for k in values}``, ``{k: v for k, v in values.items() …}``."""
        it = e.generators[0].iter if len(e.generators) == 1 else None
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr == "items":
            it = it.func.value
        if isinstance(it, ast.Tuple) and all(isinstance(c, ast.Constant) for c in it.elts):
            self.found.keys.update(str(c.value) for c in it.elts if isinstance(c, ast.Constant))
        elif isinstance(it, ast.Name) and scope is not None and (b := _binding(scope, it)) is not None and b[0] == "value":
            self.image(b[1], mod, scope, where, depth + 1)
        else:
            self.found.unresolved.append(f"{where} {ast.unparse(e)}")

    def _element(self, it: ast.expr, mod: ModuleType, scope: Any, where: str, depth: int) -> None:
        """An element of the list ``it`` (a comprehension, or a name bound to one)."""
        if isinstance(it, ast.ListComp):
            self.image(it.elt, mod, scope, where, depth + 1)
        elif isinstance(it, ast.Name) and (b := _binding(scope, it)) is not None and b[0] == "value":
            self._element(b[1], mod, scope, where, depth + 1)
        else:
            self.found.unresolved.append(f"{where} element of {ast.unparse(it)}")

    def _value(self, v: ast.expr, mod: ModuleType, scope: Any, where: str, depth: int) -> None:
        """A value inside an audited dict that is itself an object: a dict (``"evidence": evidence``),
        a struct (``"item": audit_image(…)``) or a struct's field (``"items": record.items``)."""
        if isinstance(v, ast.Name) and scope is not None and (b := _binding(scope, v)) is not None and b[0] == "value" and (
            isinstance(b[1], (ast.Dict, ast.DictComp)) or (isinstance(b[1], ast.Call) and any(_lookup(mod, b[1].func) is p for p in PASS_THROUGH))
        ):
            self.image(b[1], mod, scope, where, depth + 1)
        elif isinstance(v, ast.Call) and any(_lookup(mod, v.func) is p for p in PASS_THROUGH):
            self.image(v, mod, scope, where, depth + 1)
        elif isinstance(v, ast.Attribute) and (base := self.struct_of(v.value, mod, scope)) is not None:
            for f in msgspec.structs.fields(base):
                if f.name == v.attr:
                    _nested(f.type, self.found.structs)
        elif (t := self.struct_of(v, mod, scope)) is not None:
            self.found.structs.add(t)


def _nested(t: Any, into: set[type[msgspec.Struct]]) -> None:
    """``t`` and the structs its fields hold (``list[ClaimItem] | None`` …), into ``into``."""
    if is_struct(t):
        if t in into:
            return
        into.add(t)
        for f in msgspec.structs.fields(t):
            _nested(f.type, into)
    for arg in typing.get_args(t):
        _nested(arg, into)


def _enclosing(tree: ast.Module, call: ast.Call) -> ast.AST | None:
    inside = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.lineno <= call.lineno <= (n.end_lineno or 0)]
    return max(inside, key=lambda n: n.lineno) if inside else None


def audited_images() -> Images:
    """The structs (with their nested ones) and dict keys the services' audit calls record."""
    reader = _Reader()
    for path in sorted((ROOT / "services").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if ".audit(" not in source:
            continue
        rel = path.relative_to(ROOT)
        mod = importlib.import_module(".".join(rel.with_suffix("").parts))
        tree = ast.parse(source)
        for n in ast.walk(tree):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "audit":
                for kw in n.keywords:
                    if kw.arg in ("before", "after"):
                        reader.image(kw.value, mod, _enclosing(tree, n), f"{rel}:{n.lineno}")
    structs: set[type[msgspec.Struct]] = set()
    for s in reader.found.structs:
        _nested(s, structs)
    reader.found.structs = structs
    return reader.found
