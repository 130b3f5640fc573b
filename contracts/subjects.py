"""Stream and subject names, composed in one place.

Subjects read ``<producer>.<aggregate>.<past-tense-event>.v<major>``. Each
producer owns one stream capturing ``<producer>.>``; only the owner declares it.
"""

from __future__ import annotations

PRODUCERS: tuple[str, ...] = ("registry", "vouchers", "evaluation", "payments")

#: Dead letters of every consumer: ``deadletter.<service>.<durable>``.
DEADLETTER_STREAM = "DEADLETTER"
DEADLETTER_PREFIX = "deadletter"


def stream_name(producer: str) -> str:
    """``registry`` -> ``REGISTRY``."""
    if producer not in PRODUCERS:
        raise ValueError(f"unknown producer {producer!r}")
    return producer.upper()


def stream_subjects(producer: str) -> list[str]:
    return [f"{producer}.>"]


def subject(producer: str, aggregate: str, event: str, major: int = 1) -> str:
    return f"{producer}.{aggregate}.{event}.v{major}"


def producer_of(subject_: str) -> str:
    return subject_.split(".", 1)[0]


def durable_name(consumer: str, subject_: str) -> str:
    """``vouchers`` + ``registry.user.verified.v1`` -> ``vouchers-registry_user_verified-v1``.

    Durable names may not contain dots; the major version stays visible so a
    breaking change gets a new durable instead of silently reusing the old one.
    """
    *body, major = subject_.split(".")
    return f"{consumer}-{'_'.join(body)}-{major}"


def deadletter_subject(service: str, durable: str) -> str:
    return f"{DEADLETTER_PREFIX}.{service}.{durable}"
