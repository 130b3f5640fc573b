"""Payments tables (the ledger arrives with the orders-and-vouchers issue)."""

from __future__ import annotations

from services.runtime.database import new_metadata

metadata = new_metadata()
