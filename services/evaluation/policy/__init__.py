"""Loading the evaluation policy file (indicator set and per-year parameters)."""

from __future__ import annotations

from pathlib import Path

from services.evaluation.domain.indicator_parsing import PolicyError, parse_policy
from services.evaluation.domain.indicators import IndicatorSet
from services.runtime.policyfile import load_policy_file
from services.runtime.settings import Settings

DEFAULT_FILE = Path(__file__).with_name("indicators-2023.yaml")


def load_policy(settings: Settings) -> IndicatorSet:
    """The indicator set of ``XCISS_EVALUATION_POLICY_FILE`` (default: the packaged
    2023 set). A missing or invalid file is a :class:`SettingsError` naming the problem."""
    return load_policy_file("XCISS_EVALUATION_POLICY_FILE", settings.evaluation_policy_file or DEFAULT_FILE, parse_policy, (PolicyError,))
