"""Every HTTP app is a ``PlainLitestar`` (services/runtime/http/plain_litestar.py):
a handler's dependencies are resolved one after another, each before what
depends on it, without an anyio task group per request (issue 19: 35–45% more
cached catalogue searches a second, bench/README.md)."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import get
from litestar.di import Provide
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from services.runtime.http.plain_litestar import PlainLitestar


@get("/sum")
async def total(a: int, b: int, c: int, d: int) -> dict[str, int]:
    return {"a": a, "b": b, "c": c, "d": d}


def _app() -> PlainLitestar:
    async def c(a: int, b: int) -> int:  # depends on two others
        return a + b

    def d() -> int:  # a plain function, as most of the services' are (sync_to_thread=False)
        return 4

    return PlainLitestar(
        [total],
        dependencies={
            "a": Provide(lambda: 1, use_cache=True, sync_to_thread=False),
            "b": Provide(lambda: 2, use_cache=True, sync_to_thread=False),
            "c": Provide(c),
            "d": Provide(d, sync_to_thread=False),
        },
    )


def test_each_dependency_is_a_batch_of_its_own_after_what_it_needs() -> None:
    app = _app()
    (route,) = [r for r in app.routes if isinstance(r, HTTPRoute) and r.path == "/sum"]
    _, model = route.route_handler_map["GET"]
    order = [next(iter(batch)).key for batch in model.dependency_batches]
    assert all(len(batch) == 1 for batch in model.dependency_batches)
    assert sorted(order) == ["a", "b", "c", "d"] and order.index("c") > max(order.index("a"), order.index("b"))


def test_a_handler_gets_its_dependencies_without_a_task_group(monkeypatch: pytest.MonkeyPatch) -> None:
    import litestar._kwargs.kwargs_model as kwargs_model

    def no_task_group(*_: Any, **__: Any) -> Any:
        raise AssertionError("a task group was created to resolve dependencies")

    monkeypatch.setattr(kwargs_model, "create_task_group", no_task_group)
    with TestClient(_app()) as client:
        r = client.get("/sum")
    assert r.status_code == 200 and r.json() == {"a": 1, "b": 2, "c": 3, "d": 4}
