"""The HTTP side of a service: the app factory, authentication and sessions,
problem responses, request checks, idempotency keys, operation docs and the
runtime's own routes (audit trail, test clock, metrics)."""
