"""Loading the evaluation policy file (indicator set and per-year parameters)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from services.evaluation.domain.indicators import IndicatorSet, PolicyError, parse_policy
from services.runtime.settings import Settings, SettingsError

DEFAULT_FILE = Path(__file__).with_name("indicators-2023.yaml")


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int) -> IndicatorSet:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SettingsError(f"XCISS_EVALUATION_POLICY_FILE {path}: cannot read YAML: {exc}") from exc
    try:
        return parse_policy(doc)
    except PolicyError as exc:
        raise SettingsError(f"XCISS_EVALUATION_POLICY_FILE {path}: {exc}") from exc


def load_policy(settings: Settings) -> IndicatorSet:
    """The indicator set of ``XCISS_EVALUATION_POLICY_FILE`` (default: the packaged
    2023 set). A missing or invalid file is a :class:`SettingsError` naming the problem."""
    path = settings.evaluation_policy_file or DEFAULT_FILE
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise SettingsError(f"XCISS_EVALUATION_POLICY_FILE {path}: {exc}") from exc
    return _load(path, mtime)
