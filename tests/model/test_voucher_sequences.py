"""Explicit sequences of the voucher model's rules: defects the model found,
kept, and the steps of the test clock (issue 21) played out one by one, each
compared with the reference after every step."""

from __future__ import annotations

from tests.model.machine import VoucherMachine
from tests.model.world import World


def _machine() -> VoucherMachine:
    m = VoucherMachine()
    m.start(budget=10_000_000, start_day=1, specials=[False, False], fees=[1_000_000, 1_000_000])
    m.same_state()
    return m


def test_an_application_on_a_cancelled_order_is_not_approved(world: World) -> None:
    """Found by the model: an application submitted before its order was
    cancelled was still approved afterwards, issuing a voucher (and reserving
    budget and cap) for a cancelled order that revocation had already passed by."""
    m = _machine()
    order = next(iter(m.model.orders.values()))
    m.do_submit(order, order.user_id)
    m.same_state()
    app = next(iter(m.model.apps.values()))
    m.tick()
    m.do_cancel(order)
    m.same_state()
    m.tick()
    m.do_approve(app)  # 409 voucher.order_not_contracted, nothing reserved
    m.same_state()
    m.tick()
    m.do_reject(app)  # the center can still reject it
    m.do_appeal(app, app.user_id)
    m.do_decide(app, overturn=True)  # and an overturn cannot issue it either
    m.same_state()
    m.teardown()


def test_an_overturn_does_not_give_a_contract_a_second_voucher(world: World) -> None:
    """Found by the model: an overturned appeal set aside every check, R22's
    too, so a second order carrying a contract that already had a voucher got
    a second voucher. Now the second order's application is refused at
    submission (R22: one application per contract and parties), and an
    overturn re-runs every rule (R19(2))."""
    m = _machine()
    first = next(iter(m.model.orders.values()))
    m.tick()
    m.new_order(who=list(m.model.users).index(first.user_id), fee=2_000_000, unit="acceptor", same_contract_as=0)
    second = list(m.model.orders.values())[-1]
    assert second.contract == first.contract
    m.do_submit(first, first.user_id)
    a1 = list(m.model.apps.values())[-1]
    m.do_approve(a1)
    m.tick()
    m.do_submit(second, second.user_id)  # R22: the same contract and parties: refused at submission (409)
    assert list(m.model.apps.values())[-1] is a1
    m.same_state()
    assert len(m.model.vouchers) == 1
    m.teardown()


def test_another_unit_can_neither_use_nor_see_a_voucher(world: World) -> None:
    """Found by the long model run (a model defect): another unit's use is answered
    404, as if the voucher did not exist (issue 5), not 409; the voucher stays issued
    and the bound unit still uses it."""
    m = _machine()
    order = next(iter(m.model.orders.values()))
    m.do_submit(order, order.user_id)
    m.do_approve(next(iter(m.model.apps.values())))
    m.same_state()
    voucher = next(iter(m.model.vouchers.values()))
    m.tick()
    m.use(i=0, how="other_unit")  # asserts 404 voucher.not_found against the model
    m.same_state()
    assert voucher.status == "issued"
    m.use(i=0, how="bound")
    m.same_state()
    assert voucher.status == "used"
    m.teardown()



# --- the test clock's time steps (issue 21) ------------------------------------


def test_the_year_ends_with_vouchers_issued(world: World) -> None:
    """Two vouchers are issued in December; one is used on 31 December, the other
    is not. From 00:00 on 1 January (Asia/Shanghai) the unused one is refused at
    settlement (409 ``voucher.expired``) before any expiry run has voided it (R21);
    the run voids it and returns its reservation to the budget and the user's cap;
    the used one is not voided and its money stays committed. The next year's
    programme is separate: its own budget and caps, untouched by the old year's
    expiry run, and an application made now belongs to it."""
    m = _machine()
    first, second = list(m.model.orders.values())
    for order in (first, second):
        m.do_submit(order, order.user_id)
        app = m.model.app_of_order(order.order_id)
        assert app is not None
        m.do_approve(app)
    m.same_state()
    used, unused = list(m.model.vouchers.values())
    m.days_pass(days=40, go=0)  # to 22:00 on 31 December
    m.use(i=0, how="bound")
    m.same_state()
    assert used.status == "used"
    m.year_ends(go=0)
    m.same_state()
    m.use(i=1, how="bound")  # 409 voucher.expired, though no run has voided it yet
    m.same_state()
    assert unused.status == "issued" and m.model.committed == used.amount + unused.amount
    m.do_expiry()
    m.same_state()
    assert (used.status, unused.status) == ("used", "expired")
    assert m.model.committed == used.amount and m.model.users[second.user_id].accounts[m.model.year] == 0
    m.next_year_opens(budget=2_000_000)
    m.same_state()
    m.new_order(who=0, fee=10_000_000, unit="acceptor", same_contract_as=None)
    third = list(m.model.orders.values())[-1]
    m.do_submit(third, third.user_id)
    app = m.model.app_of_order(third.order_id)
    assert app is not None and app.year == m.model.year + 1
    assert app.amount == 2_000_000  # limited by the next year's budget, not by what is left of the old year's
    m.do_approve(app)
    m.do_expiry()  # voids nothing of the next year's
    m.same_state()
    nxt = m.model.programmes[m.model.year + 1]
    assert (nxt.committed, nxt.open) == (2_000_000, False) and m.model.committed == used.amount
    assert [v.status for v in m.model.vouchers.values()] == ["used", "expired", "issued"]
    m.teardown()


def test_an_application_pending_on_31_december_is_not_approved_after_it(world: World) -> None:
    """An application submitted on 31 December and still pending at midnight is not
    approved afterwards (409 ``voucher.year_ended``), not even once the next year's
    programme is open: DOMAIN "an application is decided within its year; a voucher
    is never issued already void" (R21: a voucher not used within its natural year
    is void). Nothing is reserved in either year. The center may still reject it,
    the user appeal and the bureau uphold; an overturn cannot issue it either. In the
    next year the contract cannot be applied for again (R22: once, whatever the outcome)."""
    m = _machine()
    order = next(iter(m.model.orders.values()))
    m.days_pass(days=40, go=0)  # to 22:00 on 31 December
    m.do_submit(order, order.user_id)
    app = m.model.app_of_order(order.order_id)
    assert app is not None and app.year == m.model.year
    m.year_ends(go=0)
    m.do_approve(app)  # 409 voucher.year_ended
    m.same_state()
    m.next_year_opens(budget=2_000_000)
    m.do_approve(app)  # still 409: never under the next year's budget either
    m.same_state()
    assert app.status == "submitted" and not m.model.vouchers
    m.tick()
    m.do_reject(app)
    m.do_appeal(app, app.user_id)
    m.do_decide(app, overturn=True)  # 409 voucher.year_ended
    m.same_state()
    m.do_decide(app, overturn=False)  # upheld
    m.tick()
    m.do_submit(order, order.user_id)  # 409 voucher.contract_already_used
    m.same_state()
    assert app.status == "rejected" and not m.model.vouchers
    assert all(p.committed == 0 for p in m.model.programmes.values())
    m.teardown()
