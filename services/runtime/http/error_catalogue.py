"""The catalogue of error codes: every stable ``code`` the source raises, with
its HTTP status and a short Chinese and English meaning.

There is no hand-kept list to fall out of date: the catalogue is read from
the source itself (``ast``), wherever a code is raised:

- ``DomainError("code", "中文", "English", status=...)`` and any subclass
  (``Conflict`` 409, ``Forbidden`` 403, a service's own error class with its
  ``status``), also ``super().__init__("code", ...)`` inside such a class; a
  message may be a name assigned once in the file (``zh = f"…"``), so words that
  two codes share are written once;
- ``NotFound("what", "中文名", ident)``: the code ``what.not_found`` (404);
- ``problem(status, "code", "中文", "English")`` (the HTTP layer's own answers);
- a code kept beside its messages for later use: a tuple or call holding the
  code, a Chinese and an English text (``_DUPLICATE = ("x.duplicate", "中文",
  "English")``, ``_field_error(field, "中文", "English", "x.invalid")``), a
  table ``{"x.y": ("中文", "English")}``, a ``{"code": ..., "message_zh": ...,
  "message_en": ...}`` dict, or an error class's ``code = "x.y"``. Such a code
  has the status written beside it, else its class's, else 404 for
  ``*.not_found`` and 422.

Codes built at run time from a table (``f"voucher.{check}"``) cannot be read
this way: the service lists them in its ``api/operation_errors.py``
(``CODES``), derived from that table, and :func:`catalogue` takes them in.

A message built with an f-string keeps its text with ``…`` for each value.
When one code is raised in several places, the first message (in file order)
is its meaning and every status it is raised with is kept.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from services.runtime.http import error_catalogue_cache

#: what a code looks like: dotted lower-case words (``voucher.expired``)
CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
#: the error classes of ``services.runtime.errors`` and their default status
BASE_STATUS = {"DomainError": 422, "Conflict": 409, "Forbidden": 403, "NotFound": 404}
ROOT = Path(__file__).resolve().parents[2]
#: the packages under ``services/`` whose codes an API answers with
PACKAGES = ("runtime", "registry", "vouchers", "evaluation", "payments")


@dataclass
class CodeEntry:
    code: str
    status: int
    message_zh: str
    message_en: str
    #: every status the code is raised with (usually one)
    statuses: set[int] = field(default_factory=set)
    #: where it is raised: ``services/vouchers/redemption.py:120``
    places: list[str] = field(default_factory=list)


def _text(node: ast.AST | None) -> str | None:
    """A string constant, or an f-string (or a sum of strings) with ``…`` for each value."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "…" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left), _text(node.right)
        if left is not None or right is not None:
            return (left or "…") + (right or "…")
    return None


def assigned_names(tree: ast.AST, nodes: list[ast.AST] | None = None) -> dict[str, list[ast.AST]]:
    """What each simple name is assigned in ``tree`` (module constants and locals)."""
    out: dict[str, list[ast.AST]] = {}
    for node in ast.walk(tree) if nodes is None else nodes:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            out.setdefault(node.targets[0].id, []).append(node.value)
    return out


def _message(node: ast.AST, names: dict[str, list[ast.AST]]) -> ast.AST:
    """A message argument; a name assigned one text in the file (the words written once
    for several codes) stands for that text."""
    if isinstance(node, ast.Name):
        texts = [v for v in names.get(node.id, []) if _text(v) is not None]
        if len(texts) == 1:
            return texts[0]
    return node


def _first_args(call: ast.Call, names: dict[str, list[ast.AST]]) -> list[list[ast.AST]]:
    """The positional arguments of ``call``, once per code it may carry: a
    constant, a name assigned a constant, either side of ``a if c else b``,
    or ``*NAME`` of a tuple ``(code, 中文, English)``; a message in a name
    assigned once is its text."""
    args = call.args
    if not args:
        return []
    first = args[0]
    if isinstance(first, ast.Starred) and isinstance(first.value, ast.Name):
        return [list(v.elts) + args[1:] for v in names.get(first.value.id, []) if isinstance(v, ast.Tuple)]
    options = [first]
    if isinstance(first, ast.Name):
        options = names.get(first.id, [])
    messages = [_message(a, names) for a in args[1:3]] + args[3:]
    out = []
    for option in options:
        branches = [option.body, option.orelse] if isinstance(option, ast.IfExp) else [option]
        out += [[b, *messages] for b in branches if _text(b) is not None]
    return out


def _name(func: ast.AST) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _int(node: ast.AST | None) -> int | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, int) else None


def _error_classes(defs: list[ast.ClassDef]) -> dict[str, int]:
    """Every class deriving (by name) from ``DomainError``, with its status."""
    classes = dict(BASE_STATUS)
    changed = True
    while changed:
        changed = False
        for node in defs:
            bases = [b for b in (_name(x) for x in node.bases) if b in classes]
            if node.name in classes or not bases:
                continue
            status = classes[bases[0]]
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "status" for t in stmt.targets):
                    status = _int(stmt.value) or status
                elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id == "status":
                    status = _int(stmt.value) or status
            classes[node.name] = status
            changed = True
    return classes


def raised_codes(
    node: ast.AST, classes: dict[str, int], names: dict[str, list[ast.AST]] | None = None, nodes: list[ast.AST] | None = None
) -> list[tuple[str, int, str, str, int]]:
    """``(code, status, zh, en, line)`` for every error raised under ``node``
    (``names``: what the names it uses are assigned, default those in ``node``;
    ``nodes``: ``node`` already walked)."""
    found: list[tuple[str, int, str, str, int]] = []
    nodes = list(ast.walk(node)) if nodes is None else nodes
    names = assigned_names(node, nodes) if names is None else names
    owner: dict[int, str] = {}  # a call inside an error class (its ``super().__init__``)
    for n in nodes:
        if isinstance(n, ast.ClassDef) and n.name in classes:
            owner |= {id(c): n.name for c in ast.walk(n) if isinstance(c, ast.Call)}
    for n in nodes:
        if isinstance(n, ast.Call):
            for args in _first_args(n, names) or [n.args]:
                hit = _code_of(n, args, classes, owner.get(id(n)))
                if hit is not None:
                    found.append((*hit, n.lineno))
    return found


def _code_of(call: ast.Call, args: list[ast.AST], classes: dict[str, int], cls: str | None) -> tuple[str, int, str, str] | None:
    name = _name(call.func)
    status_kw = next((_int(k.value) for k in call.keywords if k.arg == "status"), None)
    if name == "NotFound" and args and (what := _text(args[0])) and "…" not in what:
        zh = _text(args[1]) if len(args) > 1 else None
        return f"{what}.not_found", 404, f"{zh or what}不存在", f"the {what.replace('_', ' ')} does not exist"
    if name == "problem" and len(args) >= 4 and (status := _int(args[0])):
        code, zh, en = (_text(a) for a in args[1:4])
        if code and CODE.match(code) and zh is not None and en is not None:
            return code, status, zh, en
        return None
    if name == "__init__" and isinstance(call.func, ast.Attribute) and cls in classes:
        status = classes[cls]
    elif name in classes:
        status = classes[name]
    else:
        return None
    if not args or not (code := _text(args[0])) or not CODE.match(code):
        return None
    zh = _text(args[1]) if len(args) > 1 else None
    en = _text(args[2]) if len(args) > 2 else None
    return code, status_kw or status, zh or "", en or ""


CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def kept_codes(tree: ast.AST, classes: dict[str, int], nodes: list[ast.AST] | None = None) -> list[tuple[str, int, str, str, int]]:
    """Codes kept beside their messages (tuples, calls, tables, class attributes)."""
    found: list[tuple[str, int, str, str, int]] = []
    for node in ast.walk(tree) if nodes is None else nodes:
        if isinstance(node, ast.ClassDef) and node.name in classes:
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "code" for t in stmt.targets):
                    code = _text(stmt.value)
                    if code and CODE.match(code):
                        doc = (ast.get_docstring(node) or "").split("\n")[0]
                        found.append((code, classes[node.name], "", doc, stmt.lineno))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            # ``def _field_error(field, zh, en, code="x.invalid")``: the code its callers mostly give
            for default in node.args.defaults:
                code = _text(default)
                if code and CODE.match(code):
                    found.append((code, 422, "", (ast.get_docstring(node) or "").split("\n")[0], node.lineno))
        elif isinstance(node, ast.Dict):
            keys = [_text(k) if k is not None else None for k in node.keys]
            if {"code", "message_zh", "message_en"} <= set(keys):
                parts = dict(zip(keys, (_text(v) for v in node.values), strict=True))
                if parts["code"] and CODE.match(parts["code"]):
                    found.append((parts["code"], _default_status(parts["code"]), parts["message_zh"] or "", parts["message_en"] or "", node.lineno))
                continue
            for k, v in zip(keys, node.values, strict=True):
                if k and CODE.match(k) and isinstance(v, ast.Tuple) and len(v.elts) >= 2:
                    zh, en = _text(v.elts[0]), _text(v.elts[1])
                    if zh and en and CJK.search(zh):
                        found.append((k, _default_status(k), zh, en, node.lineno))
        elif isinstance(node, (ast.Tuple, ast.List, ast.Call)):
            items = node.args if isinstance(node, ast.Call) else node.elts
            texts = [t for t in (_text(i) for i in items) if t is not None]
            codes = [t for t in texts if CODE.match(t)]
            zh = [t for t in texts if CJK.search(t)]
            en = [t for t in texts if t not in codes and not CJK.search(t) and " " in t]
            if len(codes) == 1 and zh and en:
                status = next((n for n in (_int(i) for i in items) if n and 400 <= n < 600), None)
                if isinstance(node, ast.Call):
                    status = next((_int(k.value) for k in node.keywords if k.arg == "status"), status)
                found.append((codes[0], status or _default_status(codes[0]), zh[0], en[0], node.lineno))
    return found


def _default_status(code: str) -> int:
    return 404 if code.endswith(".not_found") else 422


def _sources(packages: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for package in packages:
        files += sorted((ROOT / package).rglob("*.py"))
    return [f for f in files if "migrations" not in f.parts]


@cache
def _parsed(packages: tuple[str, ...]) -> list[tuple[Path, ast.Module, list[ast.AST]]]:
    """Each source file, parsed and walked once."""
    out = []
    for f in _sources(packages):
        tree = ast.parse(f.read_text(encoding="utf-8"), filename=str(f))
        out.append((f, tree, list(ast.walk(tree))))
    return out


@cache
def scanned(packages: tuple[str, ...] = PACKAGES) -> dict[str, CodeEntry]:
    """The codes the source of ``services/<package>`` raises or keeps, by code
    (from ``error_catalogue_cache`` when no scanned file changed since)."""
    key = error_catalogue_cache.digest(_sources(packages), ROOT.parent) + "|" + ",".join(packages)
    hit = error_catalogue_cache.load(key)
    if hit is not None:
        return {e.code: CodeEntry(e.code, e.status, e.message_zh, e.message_en, set(e.statuses), list(e.places)) for e in hit}
    out = _scan(packages)
    error_catalogue_cache.store(key, [
        error_catalogue_cache.CachedCode(e.code, e.status, e.message_zh, e.message_en, sorted(e.statuses), e.places) for e in out.values()
    ])
    return out


def _scan(packages: tuple[str, ...]) -> dict[str, CodeEntry]:
    parsed = _parsed(packages)
    classes = error_classes(packages)
    out: dict[str, CodeEntry] = {}
    for kept in (False, True):  # raised first: their status is certain
        for path, tree, nodes in parsed:
            where = path.relative_to(ROOT.parent).as_posix()
            found = kept_codes(tree, classes, nodes) if kept else raised_codes(tree, classes, nodes=nodes)
            for code, status, zh, en, line in found:
                entry = out.get(code)
                if entry is None:
                    entry = out[code] = CodeEntry(code, status, zh, en)
                if not kept or not entry.statuses:
                    entry.statuses.add(status)
                entry.places.append(f"{where}:{line}")
                if (not entry.message_en and en) or (not entry.message_zh and zh):
                    entry.message_zh, entry.message_en = entry.message_zh or zh, entry.message_en or en
    return out


def catalogue(extra: dict[str, tuple[int, str, str]] | None = None) -> dict[str, CodeEntry]:
    """The one catalogue: the scanned codes and a service's ``CODES``
    (``code -> (status, 中文, English)``) for the codes it builds at run time."""
    out = dict(scanned())
    for code, (status, zh, en) in (extra or {}).items():
        entry = out.get(code)
        if entry is None:
            out[code] = CodeEntry(code, status, zh, en, {status}, ["CODES"])
        elif not (entry.message_zh and entry.message_en):  # a field error's messages are written where it is raised
            out[code] = CodeEntry(code, entry.status, entry.message_zh or zh, entry.message_en or en, entry.statuses, entry.places)
    return out


@cache
def error_classes(packages: tuple[str, ...] = PACKAGES) -> dict[str, int]:
    """The error classes (by name) with their default status."""
    return _error_classes([n for _, _, nodes in _parsed(packages) for n in nodes if isinstance(n, ast.ClassDef)])
