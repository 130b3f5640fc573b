"""Loading the registry's listing rules (``listing.yaml``: defaults and per-year changes)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import msgspec
import yaml

from services.registry.domain.listing import ListingPolicies, ListingPolicyError
from services.runtime.settings import Settings, SettingsError

DEFAULT_FILE = Path(__file__).with_name("listing.yaml")


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int) -> ListingPolicies:
    where = f"XCISS_LISTING_POLICY_FILE {path}"
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SettingsError(f"{where}: cannot read YAML: {exc}") from exc
    try:
        return msgspec.convert(doc, ListingPolicies, strict=True)
    except ListingPolicyError as exc:
        raise SettingsError(f"{where}: {exc}") from exc
    except (msgspec.ValidationError, TypeError) as exc:
        raise SettingsError(f"{where}: {exc}") from exc


def packaged() -> ListingPolicies:
    """The packaged file's rules (Xuchang 2023)."""
    return _load(DEFAULT_FILE, DEFAULT_FILE.stat().st_mtime_ns)


def load_listing_policies(settings: Settings) -> ListingPolicies:
    """The listing rules of ``XCISS_LISTING_POLICY_FILE`` (default: the packaged
    Xuchang 2023 file). A missing or invalid file is a :class:`SettingsError` naming the problem."""
    path = settings.listing_policy_file or DEFAULT_FILE
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise SettingsError(f"XCISS_LISTING_POLICY_FILE {path}: {exc}") from exc
    return _load(path, mtime)
