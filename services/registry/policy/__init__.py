"""Loading the registry's listing rules (``listing.yaml``: defaults and per-year changes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from services.registry.domain.listing import ListingPolicies, ListingPolicyError
from services.runtime.policyfile import load_policy_file
from services.runtime.settings import Settings

DEFAULT_FILE = Path(__file__).with_name("listing.yaml")


def _parse(doc: Any) -> ListingPolicies:
    return msgspec.convert(doc, ListingPolicies, strict=True)


def _load(path: Path) -> ListingPolicies:
    return load_policy_file("XCISS_LISTING_POLICY_FILE", path, _parse, (ListingPolicyError, msgspec.ValidationError, TypeError))


def packaged() -> ListingPolicies:
    """The packaged file's rules (Xuchang 2023)."""
    return _load(DEFAULT_FILE)


def load_listing_policies(settings: Settings) -> ListingPolicies:
    """The listing rules of ``XCISS_LISTING_POLICY_FILE`` (default: the packaged
    Xuchang 2023 file). A missing or invalid file is a :class:`SettingsError` naming the problem."""
    return _load(settings.listing_policy_file or DEFAULT_FILE)
