"""Electronic vouchers over HTTP: use at settlement, refusal, expiry, listing (R16, R19(2), R21)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from services.runtime import clock
from services.runtime.roles import Role
from services.runtime.http.auth import access, principal_of
from services.runtime.errors import Forbidden
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.pagination import PageNumber, PageSize
from services.runtime.db.service_db import ServiceDatabase
from services.vouchers import issued
from services.vouchers.schemas import ExpiryRun, Voucher, VoucherPage

STAFF = (Role.CENTER, Role.BUREAU, Role.FINANCE, Role.SERVICE)


class VoucherUse(msgspec.Struct, forbid_unknown_fields=True):
    """The order being settled; the voucher must be bound to it."""

    order_id: Annotated[str, msgspec.Meta(min_length=1, max_length=36)]


class VoucherRefusal(msgspec.Struct, forbid_unknown_fields=True):
    """Why the bound unit refuses the voucher (R19(2)): no refusal without a reason."""

    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class VoucherController(Controller):
    path = "/v1/vouchers"
    tags = ["vouchers"]

    @post("/{voucher_id:str}/use", operation_id="useVoucher", status_code=200, **access(Role.UNIT, Role.SERVICE))
    async def use(self, request: Request, db: NamedDependency[ServiceDatabase], voucher_id: FromPath[str], data: JSONBody[VoucherUse]) -> Voucher:
        """At settlement, deduct the voucher: it must be issued, bound to this order and unit,
        and not expired; one atomic step (R19(2), R21). 409 ``voucher.not_bound``,
        ``voucher.expired`` or ``voucher.already_used`` otherwise."""
        p = principal_of(request)
        unit_id: str | None = None
        if p.role is Role.UNIT:
            if not p.org:
                raise Forbidden()
            unit_id = p.org
        return await issued.use_voucher(db, actor_of(request), correlation_of(request), voucher_id, order_id=data.order_id, unit_id=unit_id)

    @post("/{voucher_id:str}/refuse", operation_id="refuseVoucher", status_code=200, **access(Role.UNIT))
    async def refuse(self, request: Request, db: NamedDependency[ServiceDatabase], voucher_id: FromPath[str], data: JSONBody[VoucherRefusal]) -> Voucher:
        """The bound unit records why it refuses a valid voucher (R19(2): no refusal
        without good reason). The voucher stays issued; the refusal is shown to the
        user, the unit and staff. 404 for any other unit; 409 ``voucher.not_issued``."""
        p = principal_of(request)
        if not p.org:
            raise Forbidden()
        return await issued.refuse_voucher(db, actor_of(request), correlation_of(request), voucher_id, unit_id=p.org, reason=data.reason)

    @post("/expire", operation_id="expireVouchers", status_code=200, **access(Role.CENTER, Role.SERVICE))
    async def expire(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        as_of: datetime | None = Parameter(default=None, description="void as of this moment (ISO 8601 with zone, not in the future); default now"),
    ) -> ExpiryRun:
        """Void every issued voucher past its time as of `as_of` and release its reservation
        (R16, R21); the worker does this every `XCISS_VOUCHER_EXPIRY_INTERVAL_S`, an operator
        may run it for a given moment (e.g. 00:00 on 1 January, Asia/Shanghai, recorded as such).
        422 `as_of.naive` or `as_of.in_future` (field `as_of`)."""
        return await issued.run_expiry(db, clock.as_of(as_of), actor=actor_of(request), correlation_id=correlation_of(request))

    @get("/", operation_id="listVouchers", **access(Role.USER, Role.UNIT, *STAFF))
    async def index(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        status: str | None = Parameter(default=None, max_length=20),
        order_id: str | None = Parameter(default=None, max_length=36, description="only the vouchers of this order (the one presented on it)"),
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> VoucherPage:
        """Vouchers, newest first: a user its own, a unit those bound to it, staff all;
        `order_id` narrows them to one order's."""
        p = principal_of(request)
        user_id = unit_id = None
        if p.role in (Role.USER, Role.UNIT):
            if not p.org:
                raise Forbidden()
            if p.role is Role.USER:
                user_id = p.org
            else:
                unit_id = p.org
        return await issued.list_vouchers(db, user_id=user_id, unit_id=unit_id, status=status, page=page, page_size=page_size, order_id=order_id)

    @get("/{voucher_id:str}", operation_id="getVoucher", **access(Role.USER, Role.UNIT, *STAFF))
    async def read(self, request: Request, db: NamedDependency[ServiceDatabase], voucher_id: FromPath[str]) -> Voucher:
        """One voucher: its user, its unit, or staff."""
        p = principal_of(request)
        voucher = await issued.get_voucher(db, voucher_id)
        if (p.role is Role.USER and voucher.user_id != p.org) or (p.role is Role.UNIT and voucher.unit_id != p.org):
            raise Forbidden()
        return voucher
