"""The portal's own 404 and 500 pages: a visitor who mistypes an address, or meets
an unexpected failure, reads a Chinese page (English with ``?lang=en``) with the
site's navigation, never the raw problem JSON; the API (``/api/...``) and the
gateway's own endpoints keep answering RFC 9457 problem details."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
from litestar import Request, Response

from services.gateway.portal import csrf
from services.gateway.portal.core import Ctx, Portal
from services.gateway.portal.messages import page_text, problem_text
from services.gateway.upstreams import Upstreams
from services.runtime.http.problems import EXCEPTION_HANDLERS
from services.runtime.settings import Settings

log = logging.getLogger("xciss.portal")

#: paths that answer machines: their errors stay problem details
API_PREFIXES = ("/api/", "/schema", "/health", "/ready", "/metrics")


def is_page(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    return not any(path == p.rstrip("/") or path.startswith(p) for p in API_PREFIXES)


def portal_exception_handlers(settings: Settings, upstreams: Upstreams, client: Callable[[], httpx.AsyncClient]) -> dict[Any, Any]:
    """The gateway's exception handlers with the portal's pages in front of them."""
    portal = Portal(settings, upstreams, client)

    def handler(base: Callable[[Request[Any, Any, Any], Any], Response[Any]]) -> Callable[[Request[Any, Any, Any], Any], Response[Any]]:
        def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
            answer = base(request, exc)  # logs what it logs; its status and headers stand
            if not is_page(request):
                return answer
            try:
                ctx = Ctx(portal, request)
                status = answer.status_code
                if csrf.refused(exc):  # a form without the token its cookie signs: stale, or sent from another site
                    page = ctx.render("error.html", status=status, error=ctx.t("csrf_failed"), detail=None, code="portal.csrf", page_status=status)
                    page.headers.update({k: v for k, v in answer.headers.items() if k.lower().startswith("x-correlation")})
                    return page
                missing = status in (404, 405)
                error = ctx.t("not_found") if missing else (page_text("failed", ctx.lang) if status >= 500 else problem_text(answer.content if isinstance(answer.content, dict) else {}, status, ctx.lang))
                detail = page_text("not_found", ctx.lang) if missing else None
                page = ctx.render("error.html", status=status, error=error, detail=detail, code=None, page_status=status)
            except Exception:  # noqa: BLE001 - the page itself failed: the problem stands
                log.exception("the portal's error page failed")
                return answer
            page.headers.update({k: v for k, v in answer.headers.items() if k.lower().startswith(("retry-after", "ratelimit", "x-correlation"))})
            return page

        return handle

    return {kind: handler(base) for kind, base in EXCEPTION_HANDLERS.items()}
