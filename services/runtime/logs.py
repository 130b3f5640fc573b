"""How a process writes its log: plain lines for a person at a terminal, or one
JSON object per line for a log collector, with the trace and span of the
request or event being handled, so a log line leads to its trace.

``XCISS_LOG_FORMAT``: ``text`` (default) or ``json``; ``XCISS_LOG_LEVEL``
(``INFO``). Production sets ``json`` (deploy/base/config.env). Every record is
masked before any handler sees it (telemetry.install_log_masking).

A JSON line::

    {"time": "2026-12-03T06:41:02.118Z", "level": "WARNING", "logger": "xciss.outbox",
     "message": "registry relay: batch failed", "service": "registry",
     "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7",
     "code": "nats.sync_unverified", "exception": "Traceback …"}

``trace_id``/``span_id`` appear while a span is current (an HTTP request, a
consumed event, a relay batch); ``code`` when the record carries one
(``extra={"code": …}``).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime

import msgspec
from opentelemetry import trace

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: the ``extra=`` attributes a JSON line carries when a record has them
_EXTRA_KEYS = ("code", "service", "event_id", "subject")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def __init__(self, service: str | None = None):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if self.service:
            doc["service"] = self.service
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            doc["trace_id"] = format(ctx.trace_id, "032x")
            doc["span_id"] = format(ctx.span_id, "016x")
        for key in _EXTRA_KEYS:
            value = getattr(record, key, None)
            if value is not None:
                doc[key] = value if isinstance(value, (str, int, float, bool)) else str(value)
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            doc["exception"] = record.exc_text
        if record.stack_info:
            doc["stack"] = record.stack_info
        return msgspec.json.encode(doc).decode()


def log_format(env: Mapping[str, str]) -> str:
    value = (env.get("XCISS_LOG_FORMAT") or "text").strip().lower()
    if value not in FORMATS:
        raise ValueError(f"XCISS_LOG_FORMAT must be text or json, not {value!r}")
    return value


def configure_logging(env: Mapping[str, str] | None = None, service: str | None = None) -> None:
    """The root logger's one handler on standard error, in the configured format
    (replaces handlers set earlier; uvicorn's loggers propagate to it)."""
    env = os.environ if env is None else env
    fmt = log_format(env)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service) if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    level = logging.getLevelName(env.get("XCISS_LOG_LEVEL", "INFO").upper())
    root.setLevel(level)
    # httpx writes a line per request at INFO (the gateway's every upstream call, `xciss up`'s
    # readiness polls): only from DEBUG on
    logging.getLogger("httpx").setLevel(logging.DEBUG if level == logging.DEBUG else logging.WARNING)
