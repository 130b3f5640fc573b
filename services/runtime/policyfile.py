"""Reading a policy file (YAML) named by a setting: the evaluation's indicator set
(``XCISS_EVALUATION_POLICY_FILE``), the registry's numbers
(``XCISS_REGISTRY_POLICY_FILE``) and the vouchers' programme defaults
(``XCISS_VOUCHER_POLICY_FILE``). Read again only when the file changes; a
missing, unreadable or invalid file is a :class:`SettingsError` naming the
setting, the file and the problem."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml

from services.runtime.env import SettingsError

T = TypeVar("T")


def load_policy_file(variable: str, path: Path, parse: Callable[[Any], T], invalid: tuple[type[Exception], ...]) -> T:
    """``parse`` of the YAML document at ``path`` (kept until the file changes);
    ``invalid``: the errors ``parse`` raises for a bad document."""
    try:
        mtime_ns = path.stat().st_mtime_ns
    except OSError as exc:
        raise SettingsError(f"{variable} {path}: {exc}") from exc
    return _parsed(variable, path, mtime_ns, parse, invalid)


@lru_cache(maxsize=16)
def _parsed(variable: str, path: Path, mtime_ns: int, parse: Callable[[Any], T], invalid: tuple[type[Exception], ...]) -> T:
    where = f"{variable} {path}"
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SettingsError(f"{where}: cannot read YAML: {exc}") from exc
    try:
        return parse(doc)
    except invalid as exc:
        raise SettingsError(f"{where}: {exc}") from exc
