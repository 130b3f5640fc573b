"""The Litestar application class every HTTP process builds (each service's API and
the gateway): Litestar without the plugins for libraries the platform does not use.

Litestar adds its pydantic plugins whenever pydantic can be imported, and its attrs
plugin whenever attrs can; both are installed here only as other libraries'
dependencies (FastStream's, in workers), and the platform's schemas are msgspec
Structs. Importing them cost an API process 11 MiB at rest (the registry's app:
101.1 → 89.8 MiB, measured in one process, 2026-12-06; issue 19, target 5). The
msgspec dependency-injection plugin Litestar adds first is kept.

``Litestar._get_default_plugins`` is a private method (Litestar 2.25): were a later
release to rename it, pydantic would be imported again, and
``tests/unit/test_process_footprint.py`` says so.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.plugins import PluginProtocol


class PlainLitestar(Litestar):
    """Litestar with its msgspec plugin and none for pydantic or attrs."""

    @staticmethod
    def _get_default_plugins(plugins: list[PluginProtocol]) -> list[PluginProtocol]:
        from litestar.plugins.core import MsgspecDIPlugin

        plugins.append(MsgspecDIPlugin())
        return plugins
