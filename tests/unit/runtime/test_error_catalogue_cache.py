"""The error catalogue's cache (services/runtime/http/error_catalogue_cache.py):
the same catalogue as a scan, and never a stale one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.runtime.http import error_catalogue, error_catalogue_cache


@pytest.fixture
def cache_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "catalogue.json"
    monkeypatch.setattr(error_catalogue_cache, "FILE", path)
    error_catalogue.scanned.cache_clear()
    yield path
    error_catalogue.scanned.cache_clear()


def _no_scan(_packages: object) -> None:
    raise AssertionError("scanned the source although the cache was current")


def test_a_second_start_reads_the_same_catalogue_from_the_cache(cache_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scanned = error_catalogue.scanned()
    assert cache_file.exists() and "voucher.account_exists" in scanned
    error_catalogue.scanned.cache_clear()
    monkeypatch.setattr(error_catalogue, "_scan", _no_scan)
    assert error_catalogue.scanned() == scanned


def test_a_changed_source_or_a_broken_file_is_scanned_again(cache_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scanned = error_catalogue.scanned()
    real_scan, calls = error_catalogue._scan, []

    def counting(packages: tuple[str, ...]) -> dict[str, error_catalogue.CodeEntry]:
        calls.append(packages)
        return real_scan(packages)

    monkeypatch.setattr(error_catalogue, "_scan", counting)
    # a source file changed since: its digest differs
    monkeypatch.setattr(error_catalogue_cache, "digest", lambda files, root: "another digest")
    error_catalogue.scanned.cache_clear()
    assert error_catalogue.scanned() == scanned and len(calls) == 1
    cache_file.write_text("{not json")
    error_catalogue.scanned.cache_clear()
    assert error_catalogue.scanned() == scanned and len(calls) == 2


def test_an_unwritable_place_only_costs_the_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(error_catalogue_cache, "FILE", tmp_path / "missing-dir" / "catalogue.json")
    error_catalogue.scanned.cache_clear()
    try:
        assert "voucher.account_exists" in error_catalogue.scanned()
    finally:
        error_catalogue.scanned.cache_clear()
