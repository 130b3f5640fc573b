"""Unit tests for services.registry.domain.prices (M11(4), R9)."""

from __future__ import annotations

import pytest

from services.registry.domain.listing import Funding
from services.registry.domain.prices import (
    MAX_PRICE_FEN,
    BillingUnit,
    PriceBasis,
    check_basis,
    check_price,
    is_fiscal,
    reason_required,
)
from services.runtime.errors import DomainError


def test_enums() -> None:
    assert [str(b) for b in BillingUnit] == ["per_sample", "per_hour", "per_machine_hour", "per_item"]
    assert [str(b) for b in PriceBasis] == ["cost_compensation", "negotiable"]


@pytest.mark.parametrize("funding", [Funding.fiscal_full, Funding.fiscal_part, "fiscal_full", "fiscal_part"])
def test_fiscal_instruments_charge_cost_compensation_only(funding: Funding | str) -> None:
    assert is_fiscal(funding)
    assert check_basis(funding, PriceBasis.cost_compensation) is PriceBasis.cost_compensation
    assert check_basis(funding, "cost_compensation") is PriceBasis.cost_compensation
    with pytest.raises(DomainError) as exc:
        check_basis(funding, PriceBasis.negotiable)
    assert exc.value.code == "price.fiscal_must_be_cost_compensation"
    assert exc.value.status == 422
    assert exc.value.details["basis"] == "negotiable"


@pytest.mark.parametrize("basis", list(PriceBasis))
def test_non_fiscal_instruments_may_use_either_basis(basis: PriceBasis) -> None:
    assert not is_fiscal(Funding.non_fiscal)
    assert check_basis(Funding.non_fiscal, basis) is basis
    assert check_basis("non_fiscal", str(basis)) is basis


@pytest.mark.parametrize(("funding", "basis"), [("state_owned", "cost_compensation"), ("non_fiscal", "free"), ("fiscal_full", "")])
def test_unknown_values_are_value_errors(funding: str, basis: str) -> None:
    with pytest.raises(ValueError):
        check_basis(funding, basis)


@pytest.mark.parametrize("fen", [0, 1, 12_345, MAX_PRICE_FEN])
def test_prices_are_non_negative_integer_fen(fen: int) -> None:
    assert check_price(fen) == fen


@pytest.mark.parametrize("bad", [-1, MAX_PRICE_FEN + 1, 1.5, 100.0, True, False, "100", None])
def test_bad_prices_are_refused(bad: object) -> None:
    with pytest.raises(DomainError) as exc:
        check_price(bad)
    assert exc.value.code == "price.invalid_amount"


def test_a_price_change_needs_a_reason() -> None:
    reason_required(100, 100, None)  # no price change: no reason needed
    reason_required(100, 120, "耗材涨价")
    for missing in (None, "", "   "):
        with pytest.raises(DomainError) as exc:
            reason_required(100, 120, missing)
        assert exc.value.code == "price.reason_required"
