"""OpenTelemetry: tracer set-up from the standard ``OTEL_*`` variables and the
helpers that carry one trace from an HTTP request through the outbox and the
bus to every consumer.

The standard variables decide (the OpenTelemetry SDK's environment
specification): ``OTEL_SDK_DISABLED=true`` turns tracing off;
``OTEL_TRACES_EXPORTER`` = ``none`` (the default here: a laptop exports
nothing), ``console`` or ``otlp`` (the ``otlp`` extra); for ``otlp``,
``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`` or ``OTEL_EXPORTER_OTLP_PROTOCOL`` =
``http/protobuf`` (default) or ``grpc``, and the exporter itself reads
``OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT``, ``…HEADERS``, ``…TIMEOUT``,
``…CERTIFICATE``. ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` name
the process; ``OTEL_TRACES_SAMPLER[_ARG]`` sample (the SDK reads them).

With tracing on, database statements (SQLAlchemy's instrumentation) and
outgoing HTTP calls (httpx's: the gateway's calls to the services) are spans
of the request or event that made them.

Logging: :func:`install_log_masking` (called by the ``xciss`` command and by
every service process) masks resident ID numbers, bank account numbers, bearer
tokens, JWTs, ``password=``/``secret=`` values, passwords inside URLs and the
configured keys in every log record, whichever handler writes it.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

log = logging.getLogger("xciss.telemetry")

TRACER_NAME = "xciss"


def configure_telemetry(service: str, env: Mapping[str, str] | None = None) -> None:
    """Install a tracer provider once per process (a second call is a no-op)."""
    env = os.environ if env is None else env
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return
    exporter = span_exporter(env)
    if exporter is None:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": env.get("OTEL_SERVICE_NAME", f"xciss-{service}")}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _instrument_clients()


def otlp_protocol(env: Mapping[str, str]) -> str:
    """The OTLP protocol for traces: the signal's variable, else the general one."""
    return (env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "http/protobuf").strip().lower()


def span_exporter(env: Mapping[str, str]) -> SpanExporter | None:
    """The exporter ``OTEL_TRACES_EXPORTER`` names, or None (tracing off, said in the log)."""
    name = env.get("OTEL_TRACES_EXPORTER", "none").strip().lower()
    if name in ("", "none"):
        return None
    if name == "console":
        return ConsoleSpanExporter()
    if name != "otlp":
        log.warning("unknown OTEL_TRACES_EXPORTER=%s (none, console or otlp); tracing disabled", name)
        return None
    protocol = otlp_protocol(env)
    try:
        if protocol == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

            return GrpcExporter()
        if protocol == "http/protobuf":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

            return HttpExporter()
    except ImportError:
        log.warning("OTEL_TRACES_EXPORTER=otlp (%s) but the otlp extra is not installed; tracing disabled", protocol)
        return None
    log.warning("OTEL_EXPORTER_OTLP_PROTOCOL=%s is not supported (grpc or http/protobuf); tracing disabled", protocol)
    return None


def _instrument_clients() -> None:
    """Spans for every SQLAlchemy engine created from now on (the instrumentation
    wraps ``sqlalchemy.ext.asyncio.create_async_engine``, which database.py looks
    up at call time) and every httpx request."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    for instrumentor in (HTTPXClientInstrumentor(), SQLAlchemyInstrumentor()):
        if not instrumentor.is_instrumented_by_opentelemetry:
            # 0.66b2 declares sqlalchemy < 2.1 though it works with 2.1's unchanged engine
            # events (tests/integration/runtime/test_tracing.py checks the statements' spans)
            instrumentor.instrument(skip_dep_check=True)


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def current_carrier() -> dict[str, str]:
    """The current trace context as W3C headers (stored with an outbox row)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def context_from(carrier: Mapping[str, str] | None) -> Context:
    return propagate.extract(dict(carrier or {}))


# -- no personal data and no secret in a log line ----------------------------

#: an 18-character resident ID number: 6-digit area, birth date, 3 digits, check
_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])(\d{6})(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}([\dXx])(?![0-9A-Za-z])")
#: a bank card or account: 16–30 digits on their own (or 4-digit groups with spaces)
_LONG_DIGITS = re.compile(r"(?<![\w./+-])(?:\d{16,30}|\d{4}(?: \d{4}){3,6}(?: \d{1,4})?)(?![\w-]|\.\d)")
#: 12–15 digits only where a label says it is an account (timestamps in ms stay)
_LABELLED_ACCOUNT = re.compile(r"(?i)((?:account|acct|card|bank|iban|账号|账户|卡号)[\w ]{0,20}?[:=：]?\s*[\"']?)(\d{12,15})(?!\d)")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")
#: an instrument recorder's secret token (``xr_`` and 43 URL-safe characters), wherever it appears
_RECORDER_TOKEN = re.compile(r"\bxr_[A-Za-z0-9_-]{20,}")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
#: ``password=…``, ``"secret": "…"``, ``private_key=…``, ``s3_secret_key: …``
_KEY_VALUE = re.compile(
    r"(?i)((?<![A-Za-z0-9])[\"']?(?:[A-Za-z0-9]+_)*"
    r"(?:password|passwd|pwd|secret_key|secret|token|api_key|apikey|access_key|private_key|pii_key|field_keys|credentials)"
    r"[\"']?\s*[=:]\s*)"
    r"(\"[^\"]*\"|'[^']*'|[^\s,;&)}\]]+)"
)
_URL_PASSWORD = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/?#\s@]*:)[^@\s/]+@")

_extra_secrets: set[str] = set()
_lock = threading.Lock()


def _mask_id(m: re.Match[str]) -> str:
    return m.group(1) + "********" + m.group(0)[-4:]


def _mask_digits(m: re.Match[str]) -> str:
    digits = m.group(0).replace(" ", "")
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_text(text: str) -> str:
    """``text`` with personal identifiers, accounts and secrets masked."""
    for secret in _extra_secrets:
        if secret in text:
            text = text.replace(secret, "***")
    text = _URL_PASSWORD.sub(r"\1***@", text)
    text = _BEARER.sub(r"\1 ***", text)
    text = _RECORDER_TOKEN.sub("xr_***", text)
    text = _JWT.sub("***", text)
    text = _KEY_VALUE.sub(lambda m: m.group(1) + ("***" if not m.group(2).startswith(("\"", "'")) else m.group(2)[0] + "***" + m.group(2)[0]), text)
    text = _RESIDENT_ID.sub(_mask_id, text)
    text = _LONG_DIGITS.sub(_mask_digits, text)
    text = _LABELLED_ACCOUNT.sub(lambda m: m.group(1) + "*" * (len(m.group(2)) - 4) + m.group(2)[-4:], text)
    return text


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Render the message with its arguments, mask it, and mask a traceback."""
    if getattr(record, "_xciss_masked", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep what there is
        message = f"{record.msg} {record.args!r}"
    record.msg, record.args = mask_text(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_text(record.exc_text)
        record.exc_info = None  # the masked text is the traceback now
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)
    record._xciss_masked = True
    return record


class MaskingFilter(logging.Filter):
    """A filter for a handler or a logger: masks, never drops."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


_factory_installed = False


def install_log_masking(secrets: Iterable[str] = ()) -> None:
    """Mask every log record of this process at creation (a record factory,
    so handlers added later, uvicorn's included, get masked records too).
    ``secrets``: configured values (keys, passwords) masked wherever they appear."""
    global _factory_installed
    with _lock:
        _extra_secrets.update(s for s in secrets if s and len(s) >= 6)
        if _factory_installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return mask_record(previous(*args, **kwargs))

        logging.setLogRecordFactory(factory)
        _factory_installed = True
