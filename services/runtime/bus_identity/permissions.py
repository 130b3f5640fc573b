"""Who may say what on the bus: the permission table, written once.

Every NATS connection of the platform authenticates as one *identity*: a
service (``registry``, ``vouchers``, ``evaluation``, ``payments``: its api,
worker and relay processes share it), the ``gateway``, the ``operator``
(``xciss streams``, ``xciss dlq``, the tests' set-up) or a partner
(``partner-<name>``). This module turns a :class:`BusPlan` — what each service
publishes, consumes, answers and asks, and which key-value buckets it owns or
reads — into the publish and subscribe allow-lists of each identity. The
server configuration of the laptop, the tests and the cluster is rendered from
it (``serverconfig.py``), so all three run the same table.

NATS matches permissions token by token (``*`` one token, ``>`` the rest), so
durable consumer names are spelled out, never given as prefixes.

=================== ==========================================================
identity            may
=================== ==========================================================
service S           publish its own events ``S.>`` and dead letters
                    ``deadletter.S.>``; declare and read its own stream;
                    create, read, pull and ack the durables it owns; read (not
                    change) the platform's other streams' info; ask the
                    commands it declares; answer ``cmd.S.>`` (responses only,
                    through ``allow_responses``); write the buckets it owns,
                    read those it reads; subscribe to its own inbox prefix
                    ``_INBOX_S`` only
gateway             its own rate-limit bucket; ``$JS.API.INFO``
operator            the JetStream API (declare streams, read and replay dead
                    letters) and republishing a dead letter's event; never
                    answers a command
partner-P           read its own consumers on the public subjects only
=================== ==========================================================
"""

from __future__ import annotations

import re

import msgspec

from contracts.partners import PUBLIC_SUBJECTS
from contracts.subjects import (
    DEADLETTER_PREFIX,
    DEADLETTER_STREAM,
    PRODUCERS,
    durable_name,
    producer_of,
    stream_name,
)

GATEWAY = "gateway"
OPERATOR = "operator"
PARTNER_PREFIX = "partner-"

PARTNER_NAME = re.compile(r"^[a-z][a-z0-9]{1,30}$")

JS_API = "$JS.API"


class Bucket(msgspec.Struct, frozen=True, kw_only=True):
    """A key-value bucket: one identity writes it, the readers only read."""

    name: str
    owner: str
    readers: tuple[str, ...] = ()

    @property
    def stream(self) -> str:
        return f"KV_{self.name}"


class BusPlan(msgspec.Struct, frozen=True, kw_only=True):
    """What each service does on the bus (built from the services' specs)."""

    #: service -> the event subjects its worker subscribes to
    consumes: dict[str, tuple[str, ...]]
    #: service -> the command subjects it answers (``cmd.<service>.…``)
    answers: dict[str, tuple[str, ...]] = {}
    #: service -> the command subjects it asks
    asks: dict[str, tuple[str, ...]] = {}
    buckets: tuple[Bucket, ...] = ()
    #: partner systems with NATS access (names without the prefix)
    partners: tuple[str, ...] = ()


class Permissions(msgspec.Struct, frozen=True, kw_only=True):
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    #: may publish to the reply subject of a request it received (responders)
    allow_responses: bool = False

    def server_block(self) -> dict[str, object]:
        """The ``permissions`` block of a server ``authorization`` user."""
        block: dict[str, object] = {
            "publish": {"allow": list(self.publish)},
            "subscribe": {"allow": list(self.subscribe)},
        }
        if self.allow_responses:
            block["allow_responses"] = {"max": 1, "expires": "1m"}
        return block


def inbox_prefix(identity: str) -> str:
    """Replies to an identity's requests (PubAcks, pulls, command answers)
    arrive under this prefix, which only that identity may subscribe to."""
    return f"_INBOX_{identity}"


def partner_identity(name: str) -> str:
    if not PARTNER_NAME.match(name):
        raise ValueError(f"partner name {name!r}: 2–31 lowercase letters or digits, starting with a letter")
    return f"{PARTNER_PREFIX}{name}"


def identities(plan: BusPlan) -> list[str]:
    """Every identity the plan knows, in a stable order."""
    return [*PRODUCERS, GATEWAY, OPERATOR, *(partner_identity(p) for p in plan.partners)]


def permissions(identity: str, plan: BusPlan) -> Permissions:
    if identity in PRODUCERS:
        return _service(identity, plan)
    if identity == GATEWAY:
        return _gateway(plan)
    if identity == OPERATOR:
        return _operator()
    if identity.startswith(PARTNER_PREFIX):
        return partner_permissions(identity.removeprefix(PARTNER_PREFIX))
    raise ValueError(f"unknown bus identity {identity!r}")


def consumer_api(stream: str, durable: str, filter_subject: str) -> list[str]:
    """Create (both API forms), read, pull and ack one durable consumer."""
    return [
        f"{JS_API}.CONSUMER.CREATE.{stream}.{durable}",
        f"{JS_API}.CONSUMER.CREATE.{stream}.{durable}.{filter_subject}",
        f"{JS_API}.CONSUMER.DURABLE.CREATE.{stream}.{durable}",
        f"{JS_API}.CONSUMER.INFO.{stream}.{durable}",
        f"{JS_API}.CONSUMER.MSG.NEXT.{stream}.{durable}",
        f"$JS.ACK.{stream}.{durable}.>",
    ]


def _bucket_read(bucket: Bucket) -> list[str]:
    return [
        f"{JS_API}.STREAM.INFO.{bucket.stream}",
        f"{JS_API}.DIRECT.GET.{bucket.stream}.>",
        f"{JS_API}.STREAM.MSG.GET.{bucket.stream}",
    ]


def _bucket_write(bucket: Bucket) -> list[str]:
    return [
        *_bucket_read(bucket),
        f"{JS_API}.STREAM.CREATE.{bucket.stream}",
        # its replicas kept as configured (XCISS_STREAM_REPLICAS) on a bucket made with fewer
        f"{JS_API}.STREAM.UPDATE.{bucket.stream}",
        f"$KV.{bucket.name}.>",
        # listing keys (a purge of every key) runs an ordered consumer
        f"{JS_API}.CONSUMER.CREATE.{bucket.stream}.>",
        f"{JS_API}.CONSUMER.DELETE.{bucket.stream}.>",
    ]


def _buckets(identity: str, plan: BusPlan) -> list[str]:
    out: list[str] = []
    for b in plan.buckets:
        if b.owner == identity:
            out += _bucket_write(b)
        elif identity in b.readers:
            out += _bucket_read(b)
    return out


def _service(service: str, plan: BusPlan) -> Permissions:
    own = stream_name(service)
    publish = [
        f"{service}.>",
        f"{DEADLETTER_PREFIX}.{service}.>",
        f"{JS_API}.INFO",
        f"{JS_API}.STREAM.NAMES",
        f"{JS_API}.STREAM.CREATE.{own}",
        f"{JS_API}.STREAM.UPDATE.{own}",
        # the shared dead-letter stream: created by whoever comes first, changed only by the operator
        f"{JS_API}.STREAM.CREATE.{DEADLETTER_STREAM}",
        # stream info (not messages) for the safety checks and the lag metrics
        *(f"{JS_API}.STREAM.INFO.{stream_name(p)}" for p in PRODUCERS),
        f"{JS_API}.STREAM.INFO.{DEADLETTER_STREAM}",
    ]
    for subject in plan.consumes.get(service, ()):
        publish += consumer_api(stream_name(producer_of(subject)), durable_name(service, subject), subject)
    publish += plan.asks.get(service, ())
    publish += _buckets(service, plan)
    answers = plan.answers.get(service, ())
    for subject in answers:
        if not subject.startswith(f"cmd.{service}."):
            raise ValueError(f"{service} may answer only cmd.{service}.… subjects, not {subject}")
    subscribe = [f"{inbox_prefix(service)}.>", *answers]
    return Permissions(publish=_unique(publish), subscribe=_unique(subscribe), allow_responses=bool(answers))


def _gateway(plan: BusPlan) -> Permissions:
    publish = [f"{JS_API}.INFO", *_buckets(GATEWAY, plan)]
    return Permissions(publish=_unique(publish), subscribe=(f"{inbox_prefix(GATEWAY)}.>",))


def _operator() -> Permissions:
    """Operator tooling: the JetStream API, and republishing a dead letter's
    event on its own subject (``xciss dlq replay``). Its seed stays with the
    operators and the streams Job; no long-running process holds it."""
    # $JS.SNAPSHOT.>: acknowledging a backup's chunks and sending a restore's (docs/operations.md, "Backups");
    # $KV.XCISS_CLOCK.>: ``xciss clock set|advance|reset`` (the test clock, dev and staging)
    publish = [f"{JS_API}.>", "$JS.SNAPSHOT.>", "$KV.XCISS_CLOCK.>", *(f"{p}.>" for p in PRODUCERS)]
    return Permissions(publish=tuple(publish), subscribe=(f"{inbox_prefix(OPERATOR)}.>",))


def partner_consumer_name(partner: str, subject: str) -> str:
    return f"partner_{partner}_{PUBLIC_SUBJECTS.index(subject)}"


def partner_permissions(partner: str) -> Permissions:
    """A partner reads the public subjects live, or replays them through its
    own durable consumers (``partner_<name>_<n>``, one per public subject,
    filtered to it); it never publishes an event nor touches a stream."""
    identity = partner_identity(partner)
    publish = [f"{JS_API}.INFO"]
    for subject in PUBLIC_SUBJECTS:
        stream = stream_name(producer_of(subject))
        name = partner_consumer_name(partner, subject)
        publish += [
            f"{JS_API}.CONSUMER.CREATE.{stream}.{name}.{subject}",  # only with that filter
            f"{JS_API}.CONSUMER.INFO.{stream}.{name}",
            f"{JS_API}.CONSUMER.DELETE.{stream}.{name}",
            f"{JS_API}.CONSUMER.MSG.NEXT.{stream}.{name}",
            f"$JS.ACK.{stream}.{name}.>",
        ]
    return Permissions(publish=tuple(publish), subscribe=(*PUBLIC_SUBJECTS, f"{inbox_prefix(identity)}.>"))


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
