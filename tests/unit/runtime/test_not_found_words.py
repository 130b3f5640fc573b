"""A record not found is said without its id (issue 17: '订单不存在：<uuid>' reached pages): the
words say what is missing, ``details.id`` which one, for whoever needs it."""

from __future__ import annotations

from services.runtime.errors import NotFound


def test_a_not_found_names_what_is_missing_and_keeps_the_id_apart() -> None:
    ident = "019b3e7a-6b27-714e-bf1e-5350c5280c7b"
    e = NotFound("payment_order", "付款单", ident)
    assert (e.code, e.status) == ("payment_order.not_found", 404)
    assert (e.message_zh, e.message_en) == ("付款单不存在", "the payment order does not exist")
    assert e.details == {"id": ident} and ident not in e.message_zh + e.message_en
