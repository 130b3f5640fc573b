"""The AsyncAPI 3 document for partner systems, generated from the Structs.

FastStream's generator cannot read msgspec Structs, so the schemas come from
``msgspec.json.schema_components``. ``xciss asyncapi`` writes the file; a test
fails when the checked-in copy is stale.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import yaml

from contracts.catalogue import ALL_EVENTS
from contracts.subjects import PRODUCERS, stream_name

DOCUMENT_PATH = Path(__file__).with_name("asyncapi.yaml")


def _key(subject: str) -> str:
    return subject.replace(".", "_")


def document() -> dict[str, Any]:
    refs, components = msgspec.json.schema_components(ALL_EVENTS, ref_template="#/components/schemas/{name}")
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for event, ref in zip(ALL_EVENTS, refs, strict=True):
        key = _key(event.subject)
        messages[key] = {
            "name": event.__name__,
            "title": event.__name__,
            "summary": event.summary,
            "contentType": "application/json",
            "headers": {
                "type": "object",
                "properties": {
                    "Nats-Msg-Id": {"type": "string", "description": "equals event_id; JetStream de-duplication key"},
                    "traceparent": {"type": "string", "description": "W3C trace context"},
                },
            },
            "payload": ref,
        }
        channels[key] = {
            "address": event.subject,
            "description": f"{event.summary} Stream `{stream_name(event.subject.split('.')[0])}`.",
            "messages": {event.__name__: {"$ref": f"#/components/messages/{key}"}},
        }
        operations[f"receive_{key}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{key}"},
            "summary": f"Subscribe to {event.subject}",
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "xciss platform events",
            "version": "1.0.0",
            "description": (
                "Facts published by the xciss services on NATS JetStream. One stream per producer "
                f"({', '.join(stream_name(p) for p in PRODUCERS)}); subjects read "
                "`<producer>.<aggregate>.<event>.v<major>`. Every event carries event_id (UUIDv7), "
                "occurred_at (UTC), producer, correlation_id and causation_id. Amounts are integer fen. "
                "Consumers must de-duplicate by event_id: delivery is at least once."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "nats": {"host": "nats:4222", "protocol": "nats", "description": "NATS JetStream (partner credentials may only subscribe)"}
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": components},
    }


def render() -> str:
    header = "# Generated from contracts/ by `xciss asyncapi`. Do not edit by hand.\n"
    return header + yaml.safe_dump(document(), sort_keys=True, allow_unicode=True, width=100)
