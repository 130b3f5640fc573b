"""One trace from an HTTP request through the outbox relay to every consumer."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from services.runtime.auth import Role
from tests.support.codes import credit_code
from tests.support.platform import Platform, eventually, running

_exporter = InMemorySpanExporter()


def _install() -> InMemorySpanExporter:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
        provider.add_span_processor(SimpleSpanProcessor(_exporter))
    _exporter.clear()
    return _exporter


async def test_one_trace_from_request_to_every_consumer(make_settings) -> None:
    exporter = _install()
    services = ["registry", "vouchers", "evaluation"]
    settings = await make_settings(services)
    async with running(Platform(settings, services)) as p:
        trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
        r = await p.call(
            "registry",
            "POST",
            "/v1/units/",
            role=Role.UNIT,
            json={"name": "许昌电气研究所", "kind": "institute", "credit_code": credit_code()},
            headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"},
        )
        assert r.status_code == 201

        def consumers_done():
            spans = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CONSUMER and s.name.startswith("registry.unit.applied")]
            return spans if len(spans) == 2 else None

        consumer_spans = await eventually(consumers_done)
    spans = exporter.get_finished_spans()
    server = [s for s in spans if s.kind is SpanKind.SERVER and s.name == "POST /v1/units"]
    producer = [s for s in spans if s.kind is SpanKind.PRODUCER and s.name == "registry.unit.applied.v1 publish"]
    assert len(server) == 1 and len(producer) == 1
    ids = {format(s.context.trace_id, "032x") for s in [*server, *producer, *consumer_spans]}
    assert ids == {trace_id}
    assert producer[0].parent.span_id == server[0].context.span_id
    assert {s.parent.span_id for s in consumer_spans} == {producer[0].context.span_id}
    assert {s.attributes["messaging.consumer.group.name"] for s in consumer_spans} == {
        "vouchers-registry_unit_applied-v1",
        "evaluation-registry_unit_applied-v1",
    }
