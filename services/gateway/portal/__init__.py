"""The web portal (issue 9): server-rendered pages over the services' HTTP APIs."""

from services.gateway.portal.errors import portal_exception_handlers
from services.gateway.portal.routes import create_portal_handlers

__all__ = ["create_portal_handlers", "portal_exception_handlers"]
