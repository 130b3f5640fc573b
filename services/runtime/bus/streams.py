"""Declaring JetStream streams. Only a stream's owner declares it; consumers
bind to it without declaring (``declare=False``)."""

from __future__ import annotations

import logging

from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from contracts.subjects import (
    DEADLETTER_PREFIX,
    DEADLETTER_STREAM,
    stream_name,
    stream_subjects,
)
from services.runtime.settings import Settings

log = logging.getLogger("xciss.streams")


def producer_stream_config(producer: str, settings: Settings) -> StreamConfig:
    return StreamConfig(
        name=stream_name(producer),
        description=f"Events published by the {producer} service",
        subjects=stream_subjects(producer),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        num_replicas=settings.stream_replicas,
        duplicate_window=settings.duplicate_window_s,
        discard=DiscardPolicy.OLD,
    )


def deadletter_stream_config(settings: Settings) -> StreamConfig:
    return StreamConfig(
        name=DEADLETTER_STREAM,
        description="Messages a consumer gave up on, with the error; replay with `xciss dlq replay`",
        subjects=[f"{DEADLETTER_PREFIX}.>"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        num_replicas=settings.stream_replicas,
        duplicate_window=settings.duplicate_window_s,
    )


async def ensure_stream(js: JetStreamContext, config: StreamConfig, *, may_update: bool = True) -> None:
    """Create the stream, or update it when its subjects or limits changed
    (only its owner may: others log that it differs and leave it)."""
    try:
        info = await js.stream_info(config.name)
    except NotFoundError:
        await js.add_stream(config)
        log.info("stream %s created", config.name)
        return
    current = info.config
    if (
        sorted(current.subjects or []) != sorted(config.subjects or [])
        or current.duplicate_window != config.duplicate_window
        or current.num_replicas != config.num_replicas
    ):
        if not may_update:
            log.warning("stream %s differs from this process's settings; `xciss streams` updates it", config.name)
            return
        await js.update_stream(config)
        log.info("stream %s updated", config.name)


async def ensure_service_streams(js: JetStreamContext, service: str, settings: Settings, *, may_update_shared: bool = True) -> None:
    """What a service owns: its own stream (and the shared dead-letter stream,
    which only the operator changes)."""
    await ensure_stream(js, producer_stream_config(service, settings))
    await ensure_stream(js, deadletter_stream_config(settings), may_update=may_update_shared)
