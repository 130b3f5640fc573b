"""iCalendar feeds and notifications over HTTP (issue 16).

The unit owning an instrument creates, lists, rotates and revokes its feeds;
the secret URL (``/v1/calendar/{secret}.ics``) is shown once, on creation or
rotation. The feed itself is public: the secret is the credential, and an
unknown, rotated-away or revoked secret is 404. A user or a unit reads its
own organisation's notifications and marks them read."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from services.registry import calendar_feeds, message_centre
from services.registry.schemas.calendar_feeds import CalendarFeed, CalendarFeedSecret
from services.registry.schemas.notifications import Notification, NotificationPage
from services.runtime.http.auth import PUBLIC, access
from services.runtime.roles import Role
from services.runtime.errors import NotFound
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.pagination import PageNumber, PageSize
from services.runtime.db.service_db import ServiceDatabase

#: Litestar adds ``; charset=utf-8`` to a text type: the answer is ``text/calendar; charset=utf-8``
ICS_MEDIA_TYPE = "text/calendar"


class FeedRequest(msgspec.Struct, forbid_unknown_fields=True):
    #: a name for the unit's own use ("前台日历")
    label: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class CalendarFeedController(Controller):
    path = "/v1/instruments/{instrument_id:str}/calendar-feeds"
    tags = ["instrument time"]

    @post("/", operation_id="createCalendarFeed", status_code=201, **access(Role.UNIT))
    async def create(self, request: Request, db: NamedDependency[ServiceDatabase], instrument_id: FromPath[str], data: JSONBody[FeedRequest]) -> CalendarFeedSecret:
        """The owner unit creates an iCalendar feed of the instrument; ``url_path`` (``/v1/calendar/{secret}.ics``) is shown only now."""
        return await calendar_feeds.create_feed(db, actor_of(request), correlation_of(request), instrument_id, label=data.label)

    @get("/", operation_id="listCalendarFeeds", **access(Role.UNIT))
    async def list_(self, request: Request, db: NamedDependency[ServiceDatabase], instrument_id: FromPath[str]) -> list[CalendarFeed]:
        """The instrument's feeds, live and revoked (never their secrets)."""
        return await calendar_feeds.list_feeds(db, actor_of(request), instrument_id)

    @post("/{feed_id:str}/rotate", operation_id="rotateCalendarFeed", status_code=200, **access(Role.UNIT))
    async def rotate(self, request: Request, db: NamedDependency[ServiceDatabase], instrument_id: FromPath[str], feed_id: FromPath[str]) -> CalendarFeedSecret:
        """A new secret URL for the feed; the old one answers 404 from now on."""
        return await calendar_feeds.rotate_feed(db, actor_of(request), correlation_of(request), instrument_id, feed_id)

    @post("/{feed_id:str}/revoke", operation_id="revokeCalendarFeed", status_code=200, **access(Role.UNIT))
    async def revoke(self, request: Request, db: NamedDependency[ServiceDatabase], instrument_id: FromPath[str], feed_id: FromPath[str]) -> CalendarFeed:
        """Revoke the feed: its URL answers 404 from now on."""
        return await calendar_feeds.revoke_feed(db, actor_of(request), correlation_of(request), instrument_id, feed_id)


class CalendarController(Controller):
    tags = ["instrument time"]

    @get("/v1/calendar/{feed_file:str}", operation_id="getCalendarFeed", **access(PUBLIC), media_type=ICS_MEDIA_TYPE)
    async def feed(self, db: NamedDependency[ServiceDatabase], feed_file: FromPath[str]) -> Response[bytes]:
        """The instrument's bookings (requested: TENTATIVE, confirmed and used: CONFIRMED; cancelled
        and declined absent) and downtime from 30 days back to 90 days ahead, as iCalendar (RFC 5545,
        UTC). ``feed_file`` is ``{secret}.ics``; an unknown, rotated-away or revoked secret: 404."""
        secret = feed_file.removesuffix(".ics")
        if secret == feed_file or not 0 < len(secret) <= 100:
            raise NotFound("calendar_feed", "日历订阅", "…")
        body = await calendar_feeds.read_feed(db, secret)
        return Response(body, media_type=ICS_MEDIA_TYPE, headers={"Cache-Control": "private, max-age=300"})


#: who has a message centre: a user's or unit's organisation, and the city-wide staff roles (their role's notices)
READERS = (Role.USER, Role.UNIT, Role.CENTER, Role.BUREAU, Role.FINANCE)


class NotificationController(Controller):
    path = "/v1/notifications"
    tags = ["notifications"]

    @get("/", operation_id="listNotifications", **access(*READERS))
    async def list_(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        unread: bool = Parameter(default=False, description="only the unread ones"),
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> NotificationPage:
        """The caller's organisation's notifications (a staff role's: its role's), newest first, with the unread count."""
        return await message_centre.list_notifications(db, actor_of(request), unread=unread, page=page, page_size=page_size)

    @post("/{notification_id:str}/read", operation_id="readNotification", status_code=200, **access(*READERS))
    async def read(self, request: Request, db: NamedDependency[ServiceDatabase], notification_id: FromPath[str]) -> Notification:
        """Mark one of the organisation's notifications read (again: unchanged); anybody else's: 404."""
        return await message_centre.mark_read(db, actor_of(request), notification_id)
