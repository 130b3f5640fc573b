"""The event loop of the long-running processes (``xciss run``, ``serve``,
``worker``, ``relay``, ``gateway``) and the HTTP parser of their uvicorn.

uvloop (libuv) unless ``XCISS_EVENT_LOOP=asyncio``: the HTTP server, asyncpg
and nats-py all spend less time in a faster loop. HTTP is parsed by
httptools unless ``XCISS_HTTP_PARSER=h11`` (uvicorn's pure-Python parser). Measured
with ``bench/http_server.py`` (issue 19): a bare Litestar app answered about
3,600 req/s on the standard loop with h11 and about 8,000 with uvloop and
httptools, on two cores. Where uvloop cannot be installed (Windows), the
standard loop runs.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

T = TypeVar("T")

CHOICES = ("uvloop", "asyncio")
PARSERS = ("httptools", "h11")


def _one_of(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, "") or choices[0]
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def choice(env: Mapping[str, str] = os.environ) -> str:
    """The event loop (XCISS_EVENT_LOOP); raises ValueError on a bad value."""
    return _one_of(env, "XCISS_EVENT_LOOP", CHOICES)


def http_parser(env: Mapping[str, str] = os.environ) -> str:
    """uvicorn's ``http`` (XCISS_HTTP_PARSER): httptools, or h11 where it is not installed."""
    value = _one_of(env, "XCISS_HTTP_PARSER", PARSERS)
    if value == "httptools":
        try:
            import httptools  # noqa: F401
        except ImportError:
            return "h11"
    return value


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on the chosen loop."""
    if choice() == "uvloop":
        try:
            import uvloop
        except ImportError:
            return asyncio.run(main)
        return uvloop.run(main)
    return asyncio.run(main)


def running() -> str:
    """The running loop's kind, for the start-up line and the tests."""
    return "uvloop" if type(asyncio.get_running_loop()).__module__.startswith("uvloop") else "asyncio"
