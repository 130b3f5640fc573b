"""The long-running processes' event loop and HTTP parser (services/runtime/eventloop.py)."""

from __future__ import annotations

import asyncio

import pytest

from services.runtime import eventloop


async def _kind() -> str:
    return eventloop.running()


def test_uvloop_is_the_default_and_asyncio_can_be_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XCISS_EVENT_LOOP", raising=False)
    assert eventloop.run(_kind()) == "uvloop"
    monkeypatch.setenv("XCISS_EVENT_LOOP", "asyncio")
    assert eventloop.run(_kind()) == "asyncio"


def test_httptools_parses_http_unless_h11_is_chosen() -> None:
    assert eventloop.http_parser({}) == "httptools"
    assert eventloop.http_parser({"XCISS_HTTP_PARSER": "h11"}) == "h11"


@pytest.mark.parametrize(("name", "fn"), [("XCISS_EVENT_LOOP", eventloop.choice), ("XCISS_HTTP_PARSER", eventloop.http_parser)])
def test_a_misspelt_choice_is_refused_with_the_variable_named(name: str, fn: object) -> None:
    with pytest.raises(ValueError, match=f"{name} must be one of"):
        fn({name: "libuv"})  # type: ignore[operator]


def test_the_standard_loop_still_runs_a_coroutine() -> None:
    assert asyncio.run(_kind()) == "asyncio"
