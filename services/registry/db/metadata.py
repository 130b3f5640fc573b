"""The registry's one ``MetaData``: every table module of ``services/registry/db``
registers its tables on it, so one alembic history covers them all
(``db/models.py`` imports every table module, and the app and the migrations'
env take the whole ``metadata`` from there)."""

from __future__ import annotations

from services.runtime.db.schema import add_idempotency_table, new_metadata

metadata = new_metadata()
#: ``Idempotency-Key`` of the creating POSTs (orders, documents, units, users)
idempotency_keys = add_idempotency_table(metadata)
