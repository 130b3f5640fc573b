"""NATS credentials for partner systems: subscribe to the public subjects,
nothing else.

``xciss partners nats-config`` writes the ``authorization`` block for the
NATS servers. The platform's own processes get one user with every right.
Each partner gets a user that may

- subscribe to the public subjects (``contracts/partners.py``) in real time;
- create, read and pull *its own* JetStream consumers — one per public
  subject, named ``partner_<name>_<n>`` and filtered to that subject — so it
  can replay after an outage; it cannot touch the platform's consumers or
  another partner's, and cannot filter on an internal subject;
- never publish an event, never delete or change a stream.

NATS permissions match whole tokens, which is why each consumer name is
spelled out rather than given as a prefix.
"""

from __future__ import annotations

import json
import re

from contracts.partners import PUBLIC_SUBJECTS
from contracts.subjects import producer_of, stream_name

NAME = re.compile(r"^[a-z][a-z0-9]{1,30}$")


def consumer_name(partner: str, subject: str) -> str:
    return f"partner_{partner}_{PUBLIC_SUBJECTS.index(subject)}"


def partner_permissions(partner: str) -> dict[str, object]:
    if not NAME.match(partner):
        raise ValueError(f"partner name {partner!r}: 2–31 lowercase letters or digits, starting with a letter")
    publish = ["$JS.API.INFO"]
    for subject in PUBLIC_SUBJECTS:
        stream = stream_name(producer_of(subject))
        name = consumer_name(partner, subject)
        publish += [
            f"$JS.API.CONSUMER.CREATE.{stream}.{name}.{subject}",  # only with that filter
            f"$JS.API.CONSUMER.INFO.{stream}.{name}",
            f"$JS.API.CONSUMER.DELETE.{stream}.{name}",
            f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{name}",
            f"$JS.ACK.{stream}.{name}.>",
        ]
    return {
        "publish": {"allow": publish},
        "subscribe": {"allow": [*PUBLIC_SUBJECTS, "_INBOX.>"]},
        "allow_responses": True,
    }


def authorization_block(platform_user: str, platform_password: str, partners: dict[str, str]) -> str:
    """The ``authorization { users = [...] }`` block (JSON is valid NATS config)."""
    users: list[dict[str, object]] = [{"user": platform_user, "password": platform_password}]
    for name, password in sorted(partners.items()):
        users.append({"user": f"partner-{name}", "password": password, "permissions": partner_permissions(name)})
    return "authorization " + json.dumps({"users": users}, indent=2, ensure_ascii=False) + "\n"
