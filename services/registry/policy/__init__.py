"""The registry's per-year policy numbers (``registry.yaml``, or the file named
by ``XCISS_REGISTRY_POLICY_FILE``): listing (M5, M11(3)), voucher acceptance
(R18) and the complaint handling deadline (M11(6)), each with defaults and
per-year changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from services.registry.domain.complaints import ComplaintPolicies
from services.registry.domain.listing import ListingPolicies, ListingPolicyError
from services.registry.domain.parties import AcceptancePolicies
from services.runtime.policyfile import load_policy_file
from services.runtime.settings import Settings

DEFAULT_FILE = Path(__file__).with_name("registry.yaml")


class RegistryPolicies(msgspec.Struct, frozen=True, kw_only=True):
    """The file's three sections; each picks its year with ``for_year``."""

    listing: ListingPolicies
    acceptance: AcceptancePolicies
    complaints: ComplaintPolicies


def _parse(doc: Any) -> RegistryPolicies:
    return msgspec.convert(doc, RegistryPolicies, strict=True)


def _load(path: Path) -> RegistryPolicies:
    return load_policy_file("XCISS_REGISTRY_POLICY_FILE", path, _parse, (ListingPolicyError, msgspec.ValidationError, TypeError))


def packaged() -> RegistryPolicies:
    """The packaged file's numbers (Xuchang 2023)."""
    return _load(DEFAULT_FILE)


def load_registry_policies(settings: Settings) -> RegistryPolicies:
    """The numbers of ``XCISS_REGISTRY_POLICY_FILE`` (default: the packaged
    Xuchang 2023 file). A missing or invalid file is a :class:`SettingsError` naming the problem."""
    return _load(settings.registry_policy_file or DEFAULT_FILE)
