"""The bus plan of this platform, read from the services' specs: what each
service consumes, answers and asks (declared once, in its ``app.py``), and
the key-value buckets with their owners and readers (``bus/plan.py``)."""

from __future__ import annotations

from collections.abc import Sequence

from contracts.subjects import PRODUCERS
from services.runtime.bus.plan import BUCKETS
from services.runtime.bus_identity.permissions import BusPlan
from services.runtime.service import load_spec


def platform_plan(partners: Sequence[str] = ()) -> BusPlan:
    consumes: dict[str, tuple[str, ...]] = {}
    answers: dict[str, tuple[str, ...]] = {}
    asks: dict[str, tuple[str, ...]] = {}
    for service in PRODUCERS:
        spec = load_spec(service)
        consumes[service] = tuple(s.subject for s in spec.subscriptions())
        answers[service] = tuple(r.subject for r in spec.responders())
        asks[service] = tuple(spec.asks)
    return BusPlan(consumes=consumes, answers=answers, asks=asks, buckets=BUCKETS, partners=tuple(sorted(partners)))
