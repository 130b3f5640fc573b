"""The Litestar application class every HTTP process builds (each service's API and
the gateway): Litestar without the plugins for libraries the platform does not use,
resolving a handler's dependencies one after another.

Litestar adds its pydantic plugins whenever pydantic can be imported, and its attrs
plugin whenever attrs can; both are installed here only as other libraries'
dependencies (FastStream's, in workers), and the platform's schemas are msgspec
Structs. Importing them cost an API process 11 MiB at rest (the registry's app:
101.1 → 89.8 MiB, measured in one process, 2026-12-06; issue 19, target 5). The
msgspec dependency-injection plugin Litestar adds first is kept.

Litestar resolves the dependencies a handler names that do not depend on each other
concurrently, in an anyio task group a request. Every dependency here hands out an
object the app was built with (the database, the settings, a policy), so a handler
naming two or more paid a task group and its tasks for nothing: ~5% of a catalogue
search's time under load (py-spy), and without them a server answers 35–45% more
cached searches a second (bench/README.md, 2026-12-06; issue 19, target 3).
``SequentialDependencies`` makes each of them a batch of its own, in Litestar's order.

``Litestar._get_default_plugins`` is a private method (Litestar 2.25): were a later
release to rename it, pydantic would be imported again, and
``tests/unit/test_process_footprint.py`` says so; ``tests/unit/runtime/test_plain_litestar.py``
checks the dependencies' batches.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.plugins import PluginProtocol, ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute


class SequentialDependencies(ReceiveRoutePlugin):
    """Each handler's dependencies resolved one after another, not in a task group."""

    def receive_route(self, route: BaseRoute) -> None:
        if isinstance(route, HTTPRoute):
            for _, model in route.route_handler_map.values():
                model.dependency_batches = [{dependency} for batch in model.dependency_batches for dependency in batch]


class PlainLitestar(Litestar):
    """Litestar with its msgspec plugin and none for pydantic or attrs."""

    @staticmethod
    def _get_default_plugins(plugins: list[PluginProtocol]) -> list[PluginProtocol]:
        from litestar.plugins.core import MsgspecDIPlugin

        plugins.append(MsgspecDIPlugin())
        plugins.append(SequentialDependencies())
        return plugins
