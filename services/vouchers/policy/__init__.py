"""The vouchers' per-year programme defaults (``programme.yaml``, or the file
named by ``XCISS_VOUCHER_POLICY_FILE``): what a year opens with when the bureau
leaves a parameter out (R15, R16, R19(2))."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from services.runtime.policyfile import load_policy_file
from services.runtime.settings import Settings
from services.vouchers.domain.policy import ProgrammeDefaults

DEFAULT_FILE = Path(__file__).with_name("programme.yaml")


def _parse(doc: Any) -> ProgrammeDefaults:
    return msgspec.convert(doc, ProgrammeDefaults, strict=True)


def _load(path: Path) -> ProgrammeDefaults:
    return load_policy_file("XCISS_VOUCHER_POLICY_FILE", path, _parse, (msgspec.ValidationError, TypeError))


def packaged() -> ProgrammeDefaults:
    """The packaged file's numbers (Xuchang 2023)."""
    return _load(DEFAULT_FILE)


def load_programme_defaults(settings: Settings) -> ProgrammeDefaults:
    """The numbers of ``XCISS_VOUCHER_POLICY_FILE`` (default: the packaged
    Xuchang 2023 file). A missing or invalid file is a :class:`SettingsError` naming the problem."""
    return _load(settings.voucher_policy_file or DEFAULT_FILE)
