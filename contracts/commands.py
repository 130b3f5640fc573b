"""Commands: requests that can be refused, sent as NATS request/reply (never
events). Only the owning service answers a command subject.

Command subjects live under ``cmd.<service>.`` and never under a producer's
event namespace: a stream capturing ``vouchers.>`` would otherwise take the
request and answer it with a PubAck before the responder could."""

from __future__ import annotations

import msgspec

#: vouchers alone decides a voucher's state; payments asks it at settlement
USE_VOUCHER = "cmd.vouchers.use_voucher.v1"


class UseVoucher(msgspec.Struct, frozen=True, kw_only=True):
    #: None: the asker knows of no voucher for the order (its read model may
    #: lag); vouchers then uses the order's own issued voucher if there is one,
    #: answers ``voucher.application_pending`` while an application on the
    #: order awaits a decision, and ``voucher.none`` when there is neither
    voucher_id: str | None = None
    order_id: str
    unit_id: str
    #: idempotency: the same settlement asking twice gets the same answer
    settlement_id: str


class UseVoucherReply(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    amount_fen: int = 0
    #: a stable error code when not ok, e.g. voucher.expired
    code: str | None = None
    message_zh: str | None = None
    message_en: str | None = None
    #: the voucher used, and its programme year (when ok)
    voucher_id: str | None = None
    year: int | None = None
