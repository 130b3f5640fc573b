"""The portal's forms are guarded by Litestar's own CSRF middleware (issue 17: the
ecosystem's tool instead of a hand-written token).

Litestar's scheme is a double-submit cookie: a GET without the cookie gets one
holding a random token signed with HMAC-SHA256; every form carries the same
token in the field ``_csrf_token``; a POST whose field (or ``X-CSRFToken``
header) and cookie are not the same validly signed token is refused before any
handler runs. The secret is derived from the PII key, which every gateway replica
shares, so a form rendered by one replica is accepted by another.

The machines' paths (the API, whose tokens travel in the Authorization header
and never as cookies, the OpenAPI schema, health and metrics) are not guarded.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from litestar import Request
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import PermissionDeniedException
from litestar.utils.scope.state import ScopeState

from services.runtime.settings import Settings

#: the cookie holding the signed token (httponly: no script of the page reads it)
COOKIE = "xciss_csrf"
#: Litestar's form field for the token (fixed by Litestar)
FIELD = "_csrf_token"
#: the detail of Litestar's refusal (``litestar/middleware/csrf.py``)
REFUSAL = "CSRF token verification failed"
#: paths that answer machines, never guarded by a form token
UNGUARDED = ("^/api/", "^/schema", "^/health$", "^/ready$", "^/metrics")


def csrf_config(settings: Settings) -> CSRFConfig:
    """The middleware's configuration: the cookie is Secure when the portal is
    reached over HTTPS (``XCISS_PUBLIC_URL``), httponly, SameSite=Lax."""
    secret = hmac.new(settings.pii_key().encode(), b"xciss portal csrf v1", hashlib.sha256).hexdigest()
    secure = (settings.public_url or "").lower().startswith("https://")
    return CSRFConfig(secret=secret, cookie_name=COOKIE, cookie_secure=secure, cookie_httponly=True, cookie_samesite="lax", exclude=list(UNGUARDED))


def token(request: Request[Any, Any, Any]) -> str:
    """The token this request's forms carry: what the middleware admitted or issued;
    on an error page after a refused POST, the cookie's (possibly none)."""
    issued = ScopeState.from_scope(request.scope).csrf_token
    return issued if isinstance(issued, str) else request.cookies.get(COOKIE, "")


def refused(exc: BaseException) -> bool:
    """Whether ``exc`` is the middleware's refusal of a POST without a valid token."""
    return isinstance(exc, PermissionDeniedException) and exc.detail == REFUSAL
