"""The catalogue search's per-process cache: result pages (and suggestions),
the ratings shown beside them and the synonym dictionary of one database,
valid for one index generation (``search_state.generation``, bumped by every
change of the index and of the dictionary, and by every rating). A cached value is served only while the generation it was
computed at is the current one, as last read from the database at most
:data:`GENERATION_TTL_S` ago (see docs/architecture.md, "Catalogue search")."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from typing import Any

from sqlalchemy import select

from services.registry.db.search_models import search_state
from services.registry.db.search_models import search_synonyms
from services.registry.domain.synonyms import Dictionary, Entry
from services.runtime.db.service_db import ServiceDatabase

#: how long a process trusts the generation it last read before reading it again
GENERATION_TTL_S = 0.25
#: cached result pages per database, per process
CACHE_SIZE = 4096


async def rows(db: ServiceDatabase, stmt: Any) -> list[Any]:
    async with db.read() as s:
        return list((await s.execute(stmt)).mappings().all())


async def load_dictionary(db: ServiceDatabase) -> Dictionary:
    found = await rows(db, select(search_synonyms).order_by(search_synonyms.c.canonical_key))
    return Dictionary(Entry(r["id"], r["canonical"], tuple(r["synonyms"])) for r in found)


class Cache:
    """Result pages and the dictionary of one database, valid for one index generation."""

    def __init__(self) -> None:
        self.generation: int | None = None
        self.checked_at = float("-inf")
        self.pages: OrderedDict[Any, Any] = OrderedDict()
        self.dictionary: Dictionary | None = None
        self._checking: asyncio.Future[int] | None = None

    async def current_generation(self, db: ServiceDatabase) -> int:
        if self.generation is not None and time.monotonic() - self.checked_at < GENERATION_TTL_S:
            return self.generation
        if self._checking is not None:  # one reader per process refreshes it
            return await asyncio.shield(self._checking)
        self._checking = asyncio.get_running_loop().create_future()
        try:
            started = time.monotonic()
            found = await rows(db, select(search_state.c.generation).where(search_state.c.id == 1))
            gen = int(found[0]["generation"]) if found else 0
            if gen != self.generation:
                self.pages.clear()
                self.dictionary = None
                self.generation = gen
            self.checked_at = started
            self._checking.set_result(gen)
            return gen
        except BaseException as exc:
            self._checking.set_exception(exc)
            self._checking.exception()  # retrieved: no "never retrieved" warning
            raise
        finally:
            self._checking = None

    async def get(self, db: ServiceDatabase, key: Any, compute: Any, *, keep: bool = True) -> Any:
        """The cached value of ``key`` at the current generation, or ``compute(dictionary)``'s
        (``keep`` False: computed every time, with the dictionary still cached)."""
        gen = await self.current_generation(db)
        hit = self.pages.get(key) if keep else None
        if hit is not None:
            self.pages.move_to_end(key)
            return hit
        dictionary = self.dictionary
        if dictionary is None:
            dictionary = await load_dictionary(db)
            if self.generation == gen:
                self.dictionary = dictionary
        result = await compute(dictionary)
        if keep and self.generation == gen:  # not invalidated meanwhile
            self.pages[key] = result
            if len(self.pages) > CACHE_SIZE:
                self.pages.popitem(last=False)
        return result
