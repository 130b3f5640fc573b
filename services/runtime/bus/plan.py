"""The key-value buckets of this platform with their owners and readers; the
rest of the bus plan is read from the services' specs (``runtime/platform.py``)."""

from __future__ import annotations

from contracts.subjects import PRODUCERS
from services.runtime.bus_identity.permissions import GATEWAY, Bucket

#: revoked sessions and login counters: registry writes, every service reads
SESSIONS_BUCKET = "XCISS_SESSIONS"
#: the gateway's shared rate-limit counters
GATEWAY_LIMITS_BUCKET = "XCISS_GATEWAY_LIMITS"

#: the test clock's simulated time (dev and staging): registry's operator API
#: writes it, and the operator (``xciss clock``); every process reads it
CLOCK_BUCKET = "XCISS_CLOCK"

BUCKETS: tuple[Bucket, ...] = (
    Bucket(name=SESSIONS_BUCKET, owner="registry", readers=PRODUCERS),
    Bucket(name=GATEWAY_LIMITS_BUCKET, owner=GATEWAY),
    Bucket(name=CLOCK_BUCKET, owner="registry", readers=(*PRODUCERS, GATEWAY)),
)


def bucket_owner(bucket: str) -> str | None:
    return next((b.owner for b in BUCKETS if b.name == bucket), None)
