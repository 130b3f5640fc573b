"""The bus plan of this platform, read from the services' specs: what each
service consumes, answers and asks (declared once, in its ``app.py``), and
the key-value buckets with their owners and readers."""

from __future__ import annotations

from collections.abc import Sequence

from contracts.subjects import PRODUCERS
from services.runtime.bus.permissions import GATEWAY, Bucket, BusPlan

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


def platform_plan(partners: Sequence[str] = ()) -> BusPlan:
    from services.runtime.service import load_spec  # the specs import the runtime

    consumes: dict[str, tuple[str, ...]] = {}
    answers: dict[str, tuple[str, ...]] = {}
    asks: dict[str, tuple[str, ...]] = {}
    for service in PRODUCERS:
        spec = load_spec(service)
        consumes[service] = tuple(s.subject for s in spec.subscriptions())
        answers[service] = tuple(r.subject for r in spec.responders())
        asks[service] = tuple(spec.asks)
    return BusPlan(consumes=consumes, answers=answers, asks=asks, buckets=BUCKETS, partners=tuple(sorted(partners)))


def bucket_owner(bucket: str) -> str | None:
    return next((b.owner for b in BUCKETS if b.name == bucket), None)
