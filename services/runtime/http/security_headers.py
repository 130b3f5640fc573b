"""Security headers on every HTTP response of the services and the gateway.

- ``Content-Security-Policy``: an API answer (JSON, a download) may load
  nothing and be framed by nobody; a portal page loads its own stylesheet
  only (the portal has no scripts and no inline styles), posts its forms to
  itself and is framed by nobody; the OpenAPI viewers under ``/schema`` load
  their scripts and styles from the CDNs Litestar names.
- ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` (for browsers
  without ``frame-ancestors``) and ``Referrer-Policy: no-referrer`` (no page's
  address, which can carry an object's id, leaves for another site).

A header already on the response is kept: the gateway passes what a service
answered through unchanged.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

_CDNS = "https://cdn.jsdelivr.net https://unpkg.com https://cdn.redoc.ly"
DOCS_CSP = (
    f"default-src 'none'; script-src 'self' 'unsafe-inline' {_CDNS}; style-src 'self' 'unsafe-inline' {_CDNS} https://fonts.googleapis.com; "
    f"font-src https://fonts.gstatic.com data:; img-src 'self' data: {_CDNS}; connect-src 'self'; worker-src blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def policy_for(path: str, content_type: str) -> str:
    """The CSP of a response: by what it is (an HTML page or not) and where (the API viewers)."""
    if not content_type.lower().startswith("text/html"):
        return API_CSP
    if path == "/schema" or path.startswith("/schema/"):
        return DOCS_CSP
    return PAGE_CSP


async def add_security_headers(message: Message, scope: Scope) -> None:
    """A ``before_send`` hook: it sees every response the app sends, those of
    unknown paths (404 before any middleware runs) included."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in COMMON.items():
        if name not in headers:
            headers[name] = value
    if "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = policy_for(scope.get("path", ""), headers.get("Content-Type") or "")
