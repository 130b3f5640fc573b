"""The Hypothesis state machine of the voucher model: its rules drive the
running vouchers service (``world.py``) and the reference (``reference.py``)
alike, and after every step it compares the two."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

import httpx
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from contracts import registry as ev
from services.runtime.clock import POLICY_ZONE
from services.runtime.roles import Role
from services.vouchers.db.models import (
    order_view,
    unit_view,
    user_view,
)
from tests.model import reference as ref
from tests.model.world import (
    BEFORE_YEAR_END,
    FEES,
    IDX,
    World,
    diff,
    order_event,
    pick,
    policy_time,
    unit_event,
)
from tests.support.vouchers import uid


class VoucherMachine(RuleBasedStateMachine):
    """One example: one programme year (and, after its end, the next), its users, orders, applications and vouchers."""

    def __init__(self) -> None:
        super().__init__()
        assert World.current is not None
        self.w = World.current
        self.m: ref.Model | None = None

    # --- plumbing -----------------------------------------------------------

    def call(self, method: str, path: str, role: Role, org: str | None = None, json: Any = None) -> httpx.Response:
        if self.m is not None:
            policy_time(self.m.now)  # re-anchored before each request: the service's now trails the model's by one request at most
        return self.w.run(self.w.p.call("vouchers", method, path, role=role, org=org, json=json))

    def tick(self, delta: timedelta = timedelta(seconds=1)) -> None:
        assert self.m is not None
        self.m.now += delta
        policy_time(self.m.now)
        self.w.steps += 1

    def expect(self, r: httpx.Response, a: ref.Answer, what: str) -> dict[str, Any]:
        body = r.json() if r.content else {}
        self.w.outcomes[f"{what.split()[0]}:{r.status_code}:{body.get('code') or ''}"] += 1
        assert r.status_code == a.status, f"{what}: service answered {r.status_code} {r.text}, model {a}"
        if a.code is not None:
            assert body.get("code") == a.code, f"{what}: service code {body.get('code')!r}, model {a.code!r}"
        return body

    @property
    def model(self) -> ref.Model:
        assert self.m is not None
        return self.m

    # --- set-up of an example ------------------------------------------------

    @initialize(budget=st.one_of(st.sampled_from([1, 300_000, 5_000_001, 12_000_000]), st.integers(1, 20_000_000)),
                start_day=st.integers(1, 28), specials=st.lists(st.booleans(), min_size=2, max_size=2), fees=st.lists(FEES, min_size=2, max_size=3))
    def start(self, budget: int, start_day: int, specials: list[bool], fees: list[int]) -> None:
        self.w.examples += 1
        year = self.w.year()
        self.m = ref.Model(year=year, budget=budget, now=datetime(year, 12, start_day, 9, 0, tzinfo=POLICY_ZONE))
        policy_time(self.m.now)
        self.acceptor, self.refuser, self.other_unit = uid(), uid(), uid()
        events = [unit_event(self.acceptor, True), unit_event(self.refuser, False), unit_event(self.other_unit, True)]
        waits = [(unit_view, "unit_id", u, 2) for u in (self.acceptor, self.refuser, self.other_unit)]
        self.w.run(self.w.publish(events, waits))
        r = self.call("POST", "/v1/programmes/", Role.BUREAU, json={"year": year, "budget_fen": budget})
        assert r.status_code == 201, r.text
        for special in specials:
            self._new_user(special)
        for k, fee in enumerate(fees):
            self._new_order(k, fee, "acceptor", None)

    def _new_user(self, special: bool) -> None:
        m = self.model
        user_id = uid()
        e = ev.UserVerified(user_id=user_id, version=2, name=f"企业{user_id[:4]}", kind="enterprise", classes=["high_tech"],
                            special_classes=["gazelle"] if special else [], in_xuchang=True, verified=True)
        self.w.run(self.w.publish([e], [(user_view, "user_id", user_id, 2)]))
        m.users[user_id] = ref.User(user_id, special)
        for year in m.programmes:  # the first year's account (late, after its end, too) and the next year's once open
            self._activate(user_id, year)

    def _activate(self, user_id: str, year: int) -> None:
        m = self.model
        r = self.call("POST", f"/v1/accounts/{year}", Role.USER, org=user_id)
        assert r.status_code == 201, r.text
        assert r.json()["cap_fen"] == m.users[user_id].cap, r.text
        m.activate(user_id, year)

    def _new_order(self, who: int, fee: int, unit: str, same_contract_as: int | None) -> None:
        m = self.model
        order_id = uid()
        existing = list(m.orders.values())
        contract = pick(existing, same_contract_as).contract if same_contract_as is not None and existing else hashlib.sha256(order_id.encode()).hexdigest()
        o = ref.Order(order_id, pick(list(m.users), who), self.acceptor if unit == "acceptor" else self.refuser, fee, contract, unit == "acceptor")
        self.w.run(self.w.publish([order_event(o)], [(order_view, "order_id", order_id, 3)]))
        m.orders[order_id] = o

    # --- registry facts -----------------------------------------------------

    @precondition(lambda self: len(self.model.users) < 4)
    @rule(special=st.booleans())
    def new_user(self, special: bool) -> None:
        self.tick()
        self._new_user(special)

    @precondition(lambda self: len(self.model.orders) < 12)
    @rule(who=IDX, fee=FEES, unit=st.sampled_from(["acceptor", "acceptor", "acceptor", "refuser"]), same_contract_as=st.none() | IDX)
    def new_order(self, who: int, fee: int, unit: str, same_contract_as: int | None) -> None:
        """A contracted order; sometimes on a contract another order already carries (R22)."""
        self.tick()
        self._new_order(who, fee, unit, same_contract_as)

    @precondition(lambda self: any(o.status == "contracted" and not self._used(o.order_id) for o in self.model.orders.values()))
    @rule(i=IDX, go=st.integers(0, 2))
    def cancel_order(self, i: int, go: int) -> None:
        """Registry cancels an order before service: its voucher is revoked and released."""
        if go:
            return  # rarer than the other rules
        self.tick()
        m = self.model
        self.do_cancel(pick([o for o in m.orders.values() if o.status == "contracted" and not self._used(o.order_id)], i))

    def do_cancel(self, o: ref.Order) -> None:
        m = self.model
        self.w.run(self.w.publish([order_event(o, cancelled=True)], [(order_view, "order_id", o.order_id, 4)]))
        m.cancel_order(o.order_id)

    def _pending(self) -> list[ref.Application]:
        return [a for a in self.model.apps.values() if a.status == "submitted"] * 3

    def _used(self, order_id: str) -> bool:
        return any(v.order_id == order_id and v.status == "used" for v in self.model.vouchers.values())

    # --- the user and the center ----------------------------------------------

    @precondition(lambda self: bool(self.model.orders))
    @rule(i=IDX, as_other=st.integers(0, 5))
    def submit_more(self, i: int, as_other: int) -> None:
        self.submit(i, as_other)  # a second rule: submissions are the heart of it

    @precondition(lambda self: bool(self.model.apps))
    @rule(i=IDX)
    def approve_more(self, i: int) -> None:
        self.approve(i)

    @precondition(lambda self: bool(self.model.orders))
    @rule(i=IDX, as_other=st.integers(0, 5))
    def submit(self, i: int, as_other: int) -> None:
        self.tick()
        m = self.model
        fresh = [o for o in m.orders.values() if m.app_of_order(o.order_id) is None]
        order = pick(fresh + fresh + list(m.orders.values()), i)  # mostly orders without an application yet
        users = list(m.users)
        by = order.user_id if as_other else pick([u for u in users if u != order.user_id] or users, i)  # 1 in 6 by someone else
        self.do_submit(order, by)

    def do_submit(self, order: ref.Order, by: str) -> None:
        m = self.model
        a = m.submit(order.order_id, by)
        r = self.call("POST", "/v1/applications/", Role.USER, org=by, json={"order_id": order.order_id})
        body = self.expect(r, a, f"submit {order.order_id}")
        if a.status == 201:
            assert body["status"] == "submitted", body
            assert (body["amount_fen"], tuple(body["failures"])) == (a.amount, a.failures), (body, a)
            app = m.record_submission(body["application_id"], order.order_id, a.amount or 0)
            if app.year != m.year:
                self.w.outcomes["time:submitted_in_next_year"] += 1

    @precondition(lambda self: bool(self.model.apps))
    @rule(i=IDX)
    def approve(self, i: int) -> None:
        self.tick()
        m = self.model
        self.do_approve(pick(self._pending() + list(m.apps.values()), i))

    def do_approve(self, app: ref.Application) -> None:
        m = self.model
        a = m.approve(app.app_id)
        r = self.call("POST", f"/v1/applications/{app.app_id}/approve", Role.CENTER, json={})
        body = self.expect(r, a, f"approve {app.app_id}")
        if a.status == 200:
            assert body["status"] == "approved" and body["amount_fen"] == a.amount and body["voucher_id"], (body, a)
            m.approved(app.app_id, a.amount or 0, body["voucher_id"])
        elif a.status == 422:
            assert [f["code"] for f in body["details"]["failures"]] == list(a.failures or (a.code,)), (body, a)

    @precondition(lambda self: bool(self.model.apps))
    @rule(i=IDX)
    def reject(self, i: int) -> None:
        self.tick()
        m = self.model
        self.do_reject(pick(self._pending() + list(m.apps.values()), i))

    def do_reject(self, app: ref.Application) -> None:
        a = self.model.reject(app.app_id)
        r = self.call("POST", f"/v1/applications/{app.app_id}/reject", Role.CENTER, json={"reason": "不符合条件"})
        self.expect(r, a, f"reject {app.app_id}")

    @precondition(lambda self: any(a.status == "rejected" for a in self.model.apps.values()))
    @rule(i=IDX, as_other=st.integers(0, 5))
    def appeal(self, i: int, as_other: int) -> None:
        self.tick()
        m = self.model
        app = pick([a for a in m.apps.values() if a.status == "rejected"] + list(m.apps.values()), i)
        self.do_appeal(app, app.user_id if as_other else pick([u for u in m.users if u != app.user_id] or list(m.users), i))

    def do_appeal(self, app: ref.Application, by: str) -> None:
        a = self.model.appeal(app.app_id, by)
        r = self.call("POST", f"/v1/applications/{app.app_id}/appeal", Role.USER, org=by, json={"reason": "请求复议"})
        self.expect(r, a, f"appeal {app.app_id}")

    @precondition(lambda self: any(a.status == "appealed" for a in self.model.apps.values()))
    @rule(i=IDX, overturn=st.booleans())
    def decide_appeal(self, i: int, overturn: bool) -> None:
        self.tick()
        m = self.model
        self.do_decide(pick([a for a in m.apps.values() if a.status == "appealed"] + list(m.apps.values())[:1], i), overturn)

    def do_decide(self, app: ref.Application, overturn: bool) -> None:
        m = self.model
        a = m.overturn(app.app_id) if overturn else m.uphold(app.app_id)
        r = self.call("POST", f"/v1/applications/{app.app_id}/appeal/decide", Role.BUREAU,
                      json={"outcome": "overturn" if overturn else "uphold", "reason": "复议决定"})
        body = self.expect(r, a, f"{'overturn' if overturn else 'uphold'} {app.app_id}")
        if overturn and a.status == 200:
            assert body["status"] == "approved" and body["amount_fen"] == a.amount and body["voucher_id"], (body, a)
            m.approved(app.app_id, a.amount or 0, body["voucher_id"])

    # --- the unit at settlement -------------------------------------------------

    @precondition(lambda self: bool(self.model.vouchers))
    @rule(i=IDX, how=st.sampled_from(["bound", "bound", "bound", "other_order", "other_unit"]))
    def use(self, i: int, how: str) -> None:
        """Only at the bound unit, for the bound order (R21): another user's order, or another unit, is refused."""
        self.tick()
        m = self.model
        v = pick(list(m.vouchers.values()), i)
        unit_id, order_id = v.unit_id, v.order_id
        if how == "other_order":
            others = [o.order_id for o in m.orders.values() if o.order_id != v.order_id]
            order_id = pick(others, i) if others else uid()
        elif how == "other_unit":
            unit_id = self.other_unit
        a = m.use(v.voucher_id, unit_id, order_id)
        r = self.call("POST", f"/v1/vouchers/{v.voucher_id}/use", Role.UNIT, org=unit_id, json={"order_id": order_id})
        body = self.expect(r, a, f"use {v.voucher_id} ({how})")
        if a.status == 200:
            assert body["status"] == "used" and body["amount_fen"] == a.amount

    # --- the bureau, finance and the calendar -----------------------------------

    @rule(delta=st.integers(-3_000_000, 6_000_000), below=st.booleans(), go=st.integers(0, 3))
    def change_budget(self, delta: int, below: bool, go: int) -> None:
        """Raise or cut the budget; sometimes below what is committed (refused)."""
        if go:
            return  # rarer than the other rules
        self.tick()
        m = self.model
        budget = max(m.committed + delta, 0) if not below else max(m.committed - 1 - abs(delta) % 1000, 0)  # the first year's
        a = m.change_budget(budget)
        r = self.call("PATCH", f"/v1/programmes/{m.year}/budget", Role.FINANCE, json={"budget_fen": budget, "reason": "预算调整"})
        self.expect(r, a, f"budget {budget}")

    @precondition(lambda self: not self.model.year_over())
    @rule(days=st.integers(1, 16), go=st.integers(0, 2))
    def days_pass(self, days: int, go: int) -> None:
        """Time passes within the year (appeal windows close); only ``year_ends`` crosses midnight on 31 December."""
        if go:
            return
        m = self.model
        later = min(m.now + timedelta(days=days), ref.year_end(m.year) - BEFORE_YEAR_END)
        self.tick(max(later - m.now, timedelta(seconds=1)))

    @rule(go=st.integers(0, 5))
    def run_expiry(self, go: int) -> None:
        """The scheduler's expiry run; past 00:00 on 1 January it voids every
        issued voucher of the year and releases its reservation."""
        if go < (4 if self.model.year_over() else 5):
            return  # rarely before the year ends (it voids nothing then), now and then after (Hypothesis draws 0 most)
        self.do_expiry()

    def do_expiry(self) -> None:
        self.tick()
        m = self.model
        n = m.expire()
        r = self.call("POST", "/v1/vouchers/expire", Role.CENTER)
        # earlier examples' years may still hold vouchers past their time: at least this year's are counted
        assert r.status_code == 200 and r.json()["expired"] >= n, (r.text, n)
        self.w.outcomes[f"time:expiry_run:{'voided' if n else 'none'}"] += 1

    @precondition(lambda self: not self.model.year_over() and (bool(self.model.vouchers) or any(a.status == "submitted" for a in self.model.apps.values())))
    @rule(go=st.integers(0, 1))
    def year_ends(self, go: int) -> None:
        """Midnight on 31 December, Asia/Shanghai, with vouchers issued or an application pending:
        from now on the year's vouchers are refused at use, the expiry run voids them and
        releases their reservations, its applications are no longer approved (R21)."""
        if go:
            return
        m = self.model
        self.tick(ref.year_end(m.year) - m.now)
        self.w.outcomes["time:year_ends"] += 1

    @precondition(lambda self: self.model.year_over() and self.model.year + 1 not in self.model.programmes)
    @rule(budget=st.sampled_from([1, 2_000_000, 12_000_000]))
    def next_year_opens(self, budget: int) -> None:
        """After the year end the bureau opens the next year's programme and the users their
        accounts for it: a separate budget and fresh caps; applications now belong to it."""
        self.tick()
        m = self.model
        year = m.year + 1
        r = self.call("POST", "/v1/programmes/", Role.BUREAU, json={"year": year, "budget_fen": budget})
        assert r.status_code == 201, r.text
        m.open_programme(year, budget)
        for user_id in m.users:
            self._activate(user_id, year)
        self.w.outcomes["time:next_year_opens"] += 1

    # --- the comparison after every step ---------------------------------------

    @invariant()
    def same_state(self) -> None:
        if self.m is None:
            return
        m = self.model
        got = self.w.run(self.w.read_state(m.year))
        want = self._model_state()
        assert got == want, diff(got, want)
        for budget, committed, _ in got["programmes"].values():
            assert committed <= budget  # committed never above the budget

    def _model_state(self) -> dict[str, Any]:
        m = self.model
        return {
            "programmes": {y: (p.budget, p.committed, p.open) for y, p in m.programmes.items()},
            "accounts": {(u.user_id, y): used for u in m.users.values() for y, used in u.accounts.items()},
            "applications": {a.app_id: (a.year, a.status, a.amount) for a in m.apps.values()},
            "vouchers": {v.voucher_id: (v.year, v.status, v.amount, v.app_id, v.user_id, v.order_id) for v in m.vouchers.values()},
        }

    def teardown(self) -> None:
        """Once per example, the same comparison through the HTTP API."""
        if self.m is None:
            return
        m = self.model
        for year, p in m.programmes.items():
            prog = self.call("GET", f"/v1/programmes/{year}", Role.CENTER).json()
            # R21: once its year is over a programme reads closed (year_ended), whatever is stored
            assert (prog["budget_fen"], prog["committed_fen"], prog["open"]) == (p.budget, p.committed, p.open and not m.expires(year)), prog
        for u in m.users.values():
            for year, used in u.accounts.items():
                acct = self.call("GET", f"/v1/accounts/{year}", Role.USER, org=u.user_id).json()
                assert (acct["cap_fen"], acct["committed_fen"]) == (u.cap, used), acct
            apps = self.call("GET", "/v1/applications/?page_size=100", Role.USER, org=u.user_id).json()["items"]
            assert {a["application_id"]: (a["status"], a["amount_fen"], a["voucher_id"]) for a in apps} == {
                a.app_id: (a.status, a.amount, getattr(m.voucher_of_app(a.app_id), "voucher_id", None)) for a in m.apps.values() if a.user_id == u.user_id
            }
            vs = self.call("GET", "/v1/vouchers/?page_size=100", Role.USER, org=u.user_id).json()["items"]
            assert {v["voucher_id"]: v["status"] for v in vs} == {v.voucher_id: v.status for v in m.vouchers.values() if v.user_id == u.user_id}
        policy_time(None)
