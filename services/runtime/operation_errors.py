"""The error codes of the operations every service has (``build_app`` adds
them): operation id -> codes, beside the generic ones
(:mod:`services.runtime.http.operation_docs`)."""

ERRORS: dict[str, tuple[str, ...]] = {
    "health": (),
    "ready": (),
    "listAuditEntries": ("request.naive_time",),
    "verifyAuditChain": (),
    "readClock": (),
}
