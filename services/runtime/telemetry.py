"""OpenTelemetry: tracer set-up from the standard ``OTEL_*`` variables and the
helpers that carry one trace from an HTTP request through the outbox and the
bus to every consumer.

Exporters: ``OTEL_TRACES_EXPORTER`` = ``none`` (default), ``console`` or
``otlp`` (needs the ``otlp`` extra). ``OTEL_SERVICE_NAME`` overrides the name.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

log = logging.getLogger("xciss.telemetry")

TRACER_NAME = "xciss"


def configure_telemetry(service: str, env: Mapping[str, str] | None = None) -> None:
    """Install a tracer provider once per process (a second call is a no-op)."""
    env = os.environ if env is None else env
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    exporter_name = env.get("OTEL_TRACES_EXPORTER", "none").strip().lower()
    if exporter_name in ("", "none"):
        return
    provider = TracerProvider(resource=Resource.create({"service.name": env.get("OTEL_SERVICE_NAME", f"xciss-{service}")}))
    if exporter_name == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    elif exporter_name == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                OTLPSpanExporter,
            )
        except ImportError:
            log.warning("OTEL_TRACES_EXPORTER=otlp but the otlp extra is not installed; tracing disabled")
            return
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        log.warning("unknown OTEL_TRACES_EXPORTER=%s; tracing disabled", exporter_name)
        return
    trace.set_tracer_provider(provider)


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def current_carrier() -> dict[str, str]:
    """The current trace context as W3C headers (stored with an outbox row)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def context_from(carrier: Mapping[str, str] | None) -> Context:
    return propagate.extract(dict(carrier or {}))
