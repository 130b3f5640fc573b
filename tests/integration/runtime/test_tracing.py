"""One trace from an HTTP request through the outbox relay to every consumer."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from services.runtime import telemetry
from services.runtime.roles import Role
from tests.support.codes import credit_code
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.ports import free_port

_exporter = InMemorySpanExporter()


def _install() -> InMemorySpanExporter:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
        provider.add_span_processor(SimpleSpanProcessor(_exporter))
    _exporter.clear()
    return _exporter


@pytest.fixture
def instrumented() -> Iterator[InMemorySpanExporter]:
    """Tracing on as configure_telemetry turns it on: database and HTTP-client spans
    too; switched off afterwards, so the rest of the suite makes no such spans."""
    exporter = _install()
    telemetry._instrument_clients()
    try:
        yield exporter
    finally:
        HTTPXClientInstrumentor().uninstrument()
        SQLAlchemyInstrumentor().uninstrument()
        exporter.clear()


async def test_one_trace_from_request_to_every_consumer(make_settings, instrumented: InMemorySpanExporter) -> None:
    exporter = instrumented
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
        unit_id = r.json()["unit_id"]
        exporter.clear()
        # one operation, one span name: the route's template, whatever the id
        assert (await p.call("registry", "GET", f"/v1/units/{unit_id}", role=Role.UNIT)).status_code in (200, 403, 404)
        # an outgoing call over the network (the gateway's calls to the services): here to a
        # closed port, so it fails, and its span says so
        closed = free_port()
        async with httpx.AsyncClient() as client:
            with contextlib.suppress(httpx.HTTPError):
                await client.get(f"http://127.0.0.1:{closed}/ready")
        by_name = {s.name: s for s in exporter.get_finished_spans()}
        (read,) = [s for s in by_name.values() if s.kind is SpanKind.SERVER and s.name.startswith("GET /v1/units/")]
        assert unit_id not in read.name and read.name == f"GET {read.attributes['http.route']}" and "{" in read.name
        # its database statements are its children (SQLAlchemy's instrumentation)
        statements = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CLIENT and s.parent and s.parent.span_id == read.context.span_id]
        assert statements and all(s.attributes.get("db.system") or s.attributes.get("db.system.name") for s in statements), [s.name for s in statements]
        outgoing = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CLIENT and any(str(closed) in str(v) for v in s.attributes.values())]
        assert len(outgoing) == 1 and outgoing[0].status.status_code is StatusCode.ERROR, [(s.name, dict(s.attributes)) for s in exporter.get_finished_spans()]
        exporter.clear()
        r = await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json={"name": "许昌电气研究所", "kind": "institute", "credit_code": credit_code()}, headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})
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
