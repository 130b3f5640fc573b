"""The web portal: server-rendered pages in Chinese (English on ``?lang=en``),
plain forms, a session cookie holding the signed-in user's token, a CSRF
token in every form. Every page talks to the services over HTTP only.

The pages by who uses them: ``public`` (anybody), ``session`` (signing in and
out), ``recovery`` (self-service sign-up, the registration's status, password
reset), ``orders`` (orders, vouchers, registration), ``unit`` (a unit's own
pages), ``staff`` (bureau, center, finance, departments, experts), ``bookings``
(instrument time: the week, bookings, a unit's schedule), ``notifications``
(the notices of bookings, one booking's page), ``complaints`` (filing, reading and
deciding complaints), ``complaint_policy`` (the bureau's handling deadline), ``guide`` (the
public 办事指南 and the policy text), ``officers`` and
``audit_trail`` (the accounts and the audit trail of the three officers),
``instrument_photos`` (an instrument's photos: the image, the unit's upload page); ``instrument_edit``
(the unit's form for an instrument's public text); ``programme`` (the year's voucher
programme: its terms, the bureau's opening form); what they
share is in ``core``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from services.gateway.portal import affiliations, audit_trail, blacklist, bookings, complaint_policy, complaints, guide, instrument_edit, instrument_links, instrument_photos, notifications, officers, orders, own_password, programme, public, recovery, rectification, session, staff, staff_evaluation, staff_vouchers, supervision, synonyms, unit, voucher_acceptance, workspace
from services.gateway.portal.core import Kit, Portal, money, yuan_to_fen
from services.gateway.upstreams import Upstreams
from services.runtime.settings import Settings

__all__ = ["create_portal_handlers", "money", "yuan_to_fen"]


def create_portal_handlers(settings: Settings, upstreams: Upstreams, client: Callable[[], httpx.AsyncClient]) -> list[Any]:
    kit = Kit(Portal(settings, upstreams, client))
    return [*public.handlers(kit), *instrument_photos.handlers(kit), *instrument_edit.handlers(kit), *instrument_links.handlers(kit), *session.handlers(kit), *recovery.handlers(kit), *orders.handlers(kit), *unit.handlers(kit), *bookings.handlers(kit), *notifications.handlers(kit), *staff.handlers(kit), *staff_evaluation.handlers(kit), *rectification.handlers(kit), *staff_vouchers.handlers(kit), *programme.handlers(kit), *supervision.handlers(kit), *blacklist.handlers(kit), *affiliations.handlers(kit), *voucher_acceptance.handlers(kit), *synonyms.handlers(kit), *officers.handlers(kit), *own_password.handlers(kit), *audit_trail.handlers(kit), *workspace.handlers(kit), *complaint_policy.handlers(kit), *complaints.handlers(kit), *guide.handlers(kit)]
