"""The log a collector reads (issue 20): one JSON object per line with the
trace and span of the work that wrote it, masked like every record; and the
standard OTEL_* variables deciding the trace exporter."""

from __future__ import annotations

import io
import json
import logging

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter

from services.runtime import logs, telemetry


def _line(fmt: logging.Formatter, emit) -> str:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(fmt)
    logger = logging.getLogger("xciss.test.logs")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return out.getvalue()


def test_a_json_line_carries_the_trace_and_span_it_was_written_in() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("POST /v1/orders") as span:
        text = _line(logs.JsonFormatter("registry"), lambda log: log.warning("order %s refused", "o-1", extra={"code": "order.not_found"}))
    (line,) = text.splitlines()
    doc = json.loads(line)
    ctx = span.get_span_context()
    assert doc["trace_id"] == format(ctx.trace_id, "032x") and doc["span_id"] == format(ctx.span_id, "016x")
    assert (doc["level"], doc["logger"], doc["message"], doc["service"], doc["code"]) == ("WARNING", "xciss.test.logs", "order o-1 refused", "registry", "order.not_found")
    assert doc["time"].endswith("Z")
    # outside any span: no ids, and a traceback stays inside the one line
    def fail(log: logging.Logger) -> None:
        try:
            raise RuntimeError("database down")
        except RuntimeError:
            log.exception("relay batch failed")

    (line,) = _line(logs.JsonFormatter(), fail).splitlines()
    doc = json.loads(line)
    assert "trace_id" not in doc and "RuntimeError: database down" in doc["exception"]


def test_json_lines_are_masked_like_every_record() -> None:
    telemetry.install_log_masking()
    text = _line(logs.JsonFormatter(), lambda log: log.info("login with password=hunter2hunter and id 410102199003071234"))
    doc = json.loads(text)
    assert "hunter2hunter" not in doc["message"] and "199003071234" not in doc["message"]


def test_the_format_is_a_setting_with_a_clear_refusal() -> None:
    assert logs.log_format({}) == "text" and logs.log_format({"XCISS_LOG_FORMAT": "JSON"}) == "json"
    with pytest.raises(ValueError, match="XCISS_LOG_FORMAT must be text or json"):
        logs.log_format({"XCISS_LOG_FORMAT": "xml"})
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    try:
        logs.configure_logging({"XCISS_LOG_FORMAT": "json", "XCISS_LOG_LEVEL": "warning"}, service="vouchers")
        (handler,) = root.handlers
        assert isinstance(handler.formatter, logs.JsonFormatter) and root.level == logging.WARNING
        logs.configure_logging({"XCISS_LOG_LEVEL": "INFO"})
        assert not logging.getLogger("httpx").isEnabledFor(logging.INFO), "no line per HTTP request at INFO"
        logs.configure_logging({"XCISS_LOG_LEVEL": "DEBUG"})
        assert logging.getLogger("httpx").isEnabledFor(logging.INFO)
    finally:
        logging.getLogger("httpx").setLevel(logging.NOTSET)
        root.handlers[:] = before[0]
        root.setLevel(before[1])


def test_the_standard_otel_variables_choose_the_exporter(caplog: pytest.LogCaptureFixture) -> None:
    assert telemetry.span_exporter({}) is None  # a laptop exports nothing
    assert isinstance(telemetry.span_exporter({"OTEL_TRACES_EXPORTER": "console"}), ConsoleSpanExporter)
    assert isinstance(telemetry.span_exporter({"OTEL_TRACES_EXPORTER": "otlp"}), HttpExporter)
    assert isinstance(telemetry.span_exporter({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}), GrpcExporter)
    # the signal's own variable wins over the general one
    env = {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}
    assert isinstance(telemetry.span_exporter(env), HttpExporter)
    with caplog.at_level(logging.WARNING, logger="xciss.telemetry"):
        assert telemetry.span_exporter({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}) is None
        assert telemetry.span_exporter({"OTEL_TRACES_EXPORTER": "zipkin"}) is None
    assert "http/json is not supported" in caplog.text and "unknown OTEL_TRACES_EXPORTER=zipkin" in caplog.text


def test_otel_sdk_disabled_installs_no_tracer(monkeypatch: pytest.MonkeyPatch) -> None:
    installed: list[object] = []
    monkeypatch.setattr(telemetry.trace, "set_tracer_provider", installed.append)
    monkeypatch.setattr(telemetry.trace, "get_tracer_provider", lambda: object())
    telemetry.configure_telemetry("registry", {"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "console"})
    assert installed == []
    monkeypatch.setattr(telemetry, "_instrument_clients", lambda: None)
    telemetry.configure_telemetry("registry", {"OTEL_TRACES_EXPORTER": "console"})
    assert len(installed) == 1 and isinstance(installed[0], TracerProvider)
