"""The portal's public pages as last rendered, for visitors without a session.

Home, the catalogue and an instrument's page are the same for every anonymous
visitor of one address and language for a few seconds (``XCISS_PORTAL_CACHE_S``):
the portal keeps each rendered page that long, keyed by its path and query as sent,
the language and the simulated time, and answers from memory meanwhile. A request
with a session cookie is never answered from here and never fills it. The one
thing of the visitor's own in such a page, the CSRF token of its forms, is put back
per request; its cookies are set per request too. Once a page's time is up, the
next request renders it again while the others still get the kept one (so a page is
at most one rendering older than the period). A page not kept yet is rendered once
too: the requests that come while its first rendering is under way wait for it
(``bench/front_door.py`` measured sixteen concurrent first renderings of one
instrument's page at 340-590 ms each, against a few ms for one). Browsers are told to ask again
each time (``Cache-Control: private, no-cache``): a visitor who signs in sees the
signed-in page at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

#: stands for the visitor's CSRF token in a kept page
SLOT = "\x00csrf\x00"
NOT_STORED = "private, no-store"
REVALIDATE = "private, no-cache"


def now() -> float:
    return time.monotonic()


class PageCache:
    def __init__(self, ttl_s: float, *, max_pages: int = 2048, clock: Callable[[], float] | None = None, wait_s: float = 5.0):
        self.ttl_s, self.max_pages, self.wait_s = ttl_s, max_pages, wait_s
        self.clock = clock or (lambda: now())
        self._pages: dict[str, tuple[float, str]] = {}
        self._rendering: set[str] = set()
        #: the first rendering of a page not kept yet, awaited by the requests meanwhile
        self._first: dict[str, asyncio.Future[None]] = {}

    async def fetch(self, key: str, csrf: str) -> str | None:
        """The kept page (:meth:`_kept`), waiting for a page's first rendering if one is under way: the
        kept page, or None: render it, then :meth:`put` (or :meth:`drop`). A waiter whose
        rendering failed, was not kept or took longer than ``wait_s`` renders its own."""
        html = self._kept(key, csrf)
        if html is not None or self.ttl_s <= 0 or key in self._pages:
            return html
        first = self._first.get(key)
        if first is None:
            self._first[key] = asyncio.get_running_loop().create_future()
            return None
        try:
            await asyncio.wait_for(asyncio.shield(first), self.wait_s)
        except TimeoutError:
            return None
        kept = self._pages.get(key)
        return None if kept is None else kept[1].replace(SLOT, csrf)

    def _rendered(self, key: str) -> None:
        first = self._first.pop(key, None)
        if first is not None and not first.done():
            first.set_result(None)

    def _kept(self, key: str, csrf: str) -> str | None:
        """The page kept under ``key`` with ``csrf`` in its forms, or None: render it, then
        :meth:`put` (or :meth:`drop` when it failed). A page past its time is still answered
        while one request renders it again, so a busy page is rendered once per period."""
        kept = self._pages.get(key)
        if kept is None:
            return None
        if kept[0] <= self.clock():
            if key in self._rendering:
                return kept[1].replace(SLOT, csrf)
            self._rendering.add(key)
            return None
        return kept[1].replace(SLOT, csrf)

    def put(self, key: str, html: str, csrf: str) -> None:
        self._rendering.discard(key)
        if self.ttl_s <= 0:
            self._rendered(key)
            return
        if len(self._pages) >= self.max_pages:
            now = self.clock()
            self._pages = {k: v for k, v in self._pages.items() if v[0] > now or k in self._rendering}
            while len(self._pages) >= self.max_pages:  # the oldest go first
                self._pages.pop(next(iter(self._pages)))
        self._pages[key] = (self.clock() + self.ttl_s, html.replace(csrf, SLOT))
        self._rendered(key)

    def drop(self, key: str) -> None:
        """The page could not be rendered as kept (an error): nothing of it is answered again."""
        self._rendering.discard(key)
        self._pages.pop(key, None)
        self._rendered(key)
