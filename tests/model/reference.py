"""The pure reference model of the voucher rules the stateful test compares
the running service with. It is written from DOMAIN.md and the policy, not
from the service's code: plain Python, integer fen, no I/O.

Every operation returns what the service must answer — ``Answer(status,
code)`` plus the values that matter — and updates the model only when the
service must change state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.runtime.clock import POLICY_ZONE

RATE_BP = 3000
CAP = 5_000_000  # 50,000 CNY (R16)
SPECIAL_CAP = 10_000_000  # 100,000 CNY for innovation leaders and gazelles
APPEAL_WINDOW = timedelta(days=15)

#: the order in which the service reports failing checks (domain Check order)
CHECK_ORDER = (
    "unit_not_acceptor",
    "testing_fee_not_listed",
    "contract_already_used",
    "budget_exhausted",
    "cap_exhausted",
    "amount_zero",
)

HOLDING = ("submitted", "approved", "appealed")


def year_end(year: int) -> datetime:
    """A voucher of ``year`` is void from 00:00 on 1 January, Asia/Shanghai."""
    return datetime(year + 1, 1, 1, tzinfo=POLICY_ZONE)


@dataclass
class Answer:
    status: int
    code: str | None = None
    amount: int | None = None
    failures: tuple[str, ...] = ()


@dataclass
class Programme:
    """One programme year: its budget, what is reserved from it, whether it takes applications."""

    budget: int
    committed: int = 0
    open: bool = True


@dataclass
class User:
    user_id: str
    special: bool
    #: what is reserved from the cap, per year with an active account
    accounts: dict[int, int] = field(default_factory=dict)

    @property
    def cap(self) -> int:
        return SPECIAL_CAP if self.special else CAP


@dataclass
class Order:
    order_id: str
    user_id: str
    unit_id: str
    fee: int
    contract: str
    acceptor: bool
    status: str = "contracted"


@dataclass
class Application:
    app_id: str
    order_id: str
    user_id: str
    seq: int  # submission order (submitted_at, then id)
    year: int
    status: str = "submitted"
    amount: int = 0
    rejected_at: datetime | None = None
    appealed: bool = False


@dataclass
class Voucher:
    voucher_id: str
    app_id: str
    order_id: str
    user_id: str
    unit_id: str
    amount: int
    year: int
    status: str = "issued"


@dataclass
class Model:
    """One example: the programme of ``year`` and, once that year is over, the
    next year's (a separate budget, separate accounts, separate caps)."""

    year: int
    budget: int  # the first year's budget as opened (then ``programmes[year].budget``)
    now: datetime
    programmes: dict[int, Programme] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    apps: dict[str, Application] = field(default_factory=dict)
    vouchers: dict[str, Voucher] = field(default_factory=dict)
    _seq: int = 0

    def __post_init__(self) -> None:
        self.programmes[self.year] = Programme(self.budget)

    # --- helpers -----------------------------------------------------------

    @property
    def first(self) -> Programme:
        return self.programmes[self.year]

    @property
    def committed(self) -> int:
        return self.first.committed

    @property
    def open(self) -> bool:
        return self.first.open

    def current_year(self) -> int:
        """The programme year now (the natural year, Asia/Shanghai): the model never passes the next year's end."""
        return self.year + 1 if self.year_over() else self.year

    def expires(self, year: int) -> bool:
        """R21: a voucher (and an application) of ``year`` is past its natural year."""
        return self.now >= year_end(year)

    def app_of_order(self, order_id: str) -> Application | None:
        return next((a for a in self.apps.values() if a.order_id == order_id), None)

    def voucher_of_app(self, app_id: str) -> Voucher | None:
        return next((v for v in self.vouchers.values() if v.app_id == app_id), None)

    def year_over(self) -> bool:
        return self.now >= year_end(self.year)

    def _contract_held(self, order: Order, app: Application | None) -> bool:
        """R22: another application holds this order or contract: one approved,
        or one still pending that was submitted before ``app``."""
        for other in self.apps.values():
            if app is not None and other.app_id == app.app_id:
                continue
            if other.status not in HOLDING:
                continue
            o = self.orders[other.order_id]
            if other.order_id != order.order_id and o.contract != order.contract:
                continue
            if app is None or other.status == "approved" or other.seq < app.seq:
                return True
        return False

    def _contract_applied(self, order: Order) -> bool:
        """R22: an application, whatever its status, on the same contract file between the same parties."""
        for other in self.apps.values():
            o = self.orders[other.order_id]
            if o.contract == order.contract and o.user_id == order.user_id and o.unit_id == order.unit_id:
                return True
        return False

    def _money(self, order: Order, user: User, year: int) -> tuple[int, int, int]:
        p = self.programmes[year]
        cap_left = max(user.cap - user.accounts[year], 0)
        budget_left = max(p.budget - p.committed, 0)
        raw = order.fee * RATE_BP // 10_000
        return cap_left, budget_left, min(raw, cap_left, budget_left)

    def decide(self, order: Order, app: Application | None, year: int) -> tuple[tuple[str, ...], int]:
        """Every check of the application under ``year``'s programme and cap; the amount (0 when a check fails)."""
        user = self.users[order.user_id]
        failures: set[str] = set()
        if not order.acceptor:
            failures.add("unit_not_acceptor")
        if order.fee <= 0:
            failures.add("testing_fee_not_listed")
        if self._contract_held(order, app):
            failures.add("contract_already_used")
        cap_left, budget_left, amount = self._money(order, user, year)
        if budget_left == 0:
            failures.add("budget_exhausted")
        if cap_left == 0:
            failures.add("cap_exhausted")
        if amount == 0 and not failures & {"testing_fee_not_listed", "budget_exhausted", "cap_exhausted"}:
            failures.add("amount_zero")
        ordered = tuple(c for c in CHECK_ORDER if c in failures)
        return ordered, 0 if ordered else amount

    def _issue(self, app: Application, amount: int, voucher_id: str) -> None:
        order = self.orders[app.order_id]
        p = self.programmes[app.year]
        app.status, app.amount = "approved", amount
        p.committed += amount
        self.users[app.user_id].accounts[app.year] += amount
        self.vouchers[voucher_id] = Voucher(voucher_id, app.app_id, app.order_id, app.user_id, order.unit_id, amount, app.year)
        if p.committed >= p.budget:
            p.open = False  # R15: the programme closes itself

    def _release(self, v: Voucher) -> Programme:
        p = self.programmes[v.year]
        p.committed -= v.amount
        self.users[v.user_id].accounts[v.year] -= v.amount
        return p

    # --- the programme years ------------------------------------------------

    def open_programme(self, year: int, budget: int) -> None:
        """The bureau and finance publish ``year``'s budget (R15)."""
        self.programmes[year] = Programme(budget)

    def activate(self, user_id: str, year: int) -> None:
        """The user opens its account for ``year``: its own cap, nothing reserved (R16, R19(1))."""
        self.users[user_id].accounts[year] = 0

    # --- operations --------------------------------------------------------

    def submit(self, order_id: str, by_user: str) -> Answer:
        """An application belongs to the year it is submitted in: after 31 December
        the next year's, which needs its own account (and programme)."""
        order = self.orders[order_id]
        year = self.current_year()
        if year not in self.users[by_user].accounts:
            return Answer(409, "voucher.account_not_active")
        if order.user_id != by_user:
            return Answer(404, "order.not_found")
        if order.status != "contracted":
            return Answer(409, "voucher.order_not_contracted")
        if self.app_of_order(order_id) is not None or self._contract_applied(order):
            return Answer(409, "voucher.contract_already_used")
        p = self.programmes[year]
        if p.committed >= p.budget:  # R15 停止申用: refused at submission
            return Answer(409, "voucher.budget_exhausted")
        failures, amount = self.decide(order, None, year)
        return Answer(201, None, amount, tuple(f"voucher.{c}" for c in failures))

    def record_submission(self, app_id: str, order_id: str, amount: int) -> Application:
        """The application as submitted, with the amount it would get now."""
        self._seq += 1
        app = Application(app_id, order_id, self.orders[order_id].user_id, self._seq, self.current_year(), amount=amount)
        self.apps[app_id] = app
        return app

    def _decidable_order(self, app: Application) -> Answer | None:
        if self.orders[app.order_id].status != "contracted":
            return Answer(409, "voucher.order_not_contracted")
        return None

    def approve(self, app_id: str) -> Answer:
        app = self.apps[app_id]
        if app.status != "submitted":
            return Answer(409, "voucher.application_not_pending")
        if self.expires(app.year):  # R21: decided within its year (DOMAIN: never issued already void)
            return Answer(409, "voucher.year_ended")
        refused = self._decidable_order(app)
        if refused is not None:
            return refused
        failures, amount = self.decide(self.orders[app.order_id], app, app.year)
        if failures:
            return Answer(422, f"voucher.{failures[0]}", failures=tuple(f"voucher.{c}" for c in failures))
        if not self.programmes[app.year].open:  # money released after the year ended: the guard still sees a closed programme
            return Answer(422, "voucher.budget_exhausted")
        return Answer(200, None, amount)

    def approved(self, app_id: str, amount: int, voucher_id: str) -> None:
        self._issue(self.apps[app_id], amount, voucher_id)

    def reject(self, app_id: str) -> Answer:
        app = self.apps[app_id]
        if app.status != "submitted":
            return Answer(409, "voucher.application_not_pending")
        app.status, app.amount, app.rejected_at = "rejected", 0, self.now
        return Answer(200)

    def appeal(self, app_id: str, by_user: str) -> Answer:
        app = self.apps[app_id]
        if app.user_id != by_user:
            return Answer(403, "auth.forbidden")
        if app.status != "rejected" or app.appealed:
            return Answer(409, "voucher.appeal_not_allowed")
        assert app.rejected_at is not None
        if self.now - app.rejected_at > APPEAL_WINDOW:  # the last instant counts
            return Answer(409, "voucher.appeal_window_closed")
        app.status, app.appealed = "appealed", True
        return Answer(200)

    def uphold(self, app_id: str) -> Answer:
        app = self.apps[app_id]
        if app.status != "appealed":
            return Answer(409, "voucher.no_appeal_pending")
        app.status = "rejected"
        return Answer(200)

    def overturn(self, app_id: str) -> Answer:
        """R19(2): an overturn sets aside the reviewer's judgement, never a rule:
        every check runs again (as for an approval), under the budget and cap as
        they stand now; not a cancelled order, nor after the year (R21)."""
        app = self.apps[app_id]
        if app.status != "appealed":
            return Answer(409, "voucher.no_appeal_pending")
        if self.expires(app.year):  # R21: decided within its year
            return Answer(409, "voucher.year_ended")
        refused = self._decidable_order(app)
        if refused is not None:
            return refused
        failures, amount = self.decide(self.orders[app.order_id], app, app.year)
        if failures:
            return Answer(422, f"voucher.{failures[0]}")
        if not self.programmes[app.year].open:
            return Answer(422, "voucher.budget_exhausted")
        return Answer(200, None, amount)

    def use(self, voucher_id: str, unit_id: str, order_id: str) -> Answer:
        """R21: only at the bound unit, for the bound order (so the bound user). Another
        unit learns nothing of the voucher, not even that it exists (404, issue 5)."""
        v = self.vouchers[voucher_id]
        if v.unit_id != unit_id:
            return Answer(404, "voucher.not_found")
        if v.order_id != order_id:
            return Answer(409, "voucher.not_bound")
        if v.status == "used":
            return Answer(409, "voucher.already_used")
        if v.status == "revoked":
            return Answer(409, "voucher.revoked")
        if v.status == "expired" or self.expires(v.year):  # R21: refused once past, swept or not
            return Answer(409, "voucher.expired")
        v.status = "used"
        return Answer(200, None, v.amount)

    def cancel_order(self, order_id: str) -> None:
        """The order is cancelled: its unused voucher is revoked and released,
        and a programme closed for its budget reopens."""
        self.orders[order_id].status = "cancelled"
        for v in self.vouchers.values():
            if v.order_id == order_id and v.status == "issued":
                v.status = "revoked"
                p = self._release(v)
                if not p.open and p.committed < p.budget:
                    p.open = True

    def change_budget(self, budget: int) -> Answer:
        """Finance changes the first year's budget."""
        p = self.first
        if budget < p.committed:
            return Answer(409, "voucher.budget_below_committed")
        p.budget = budget
        p.open = p.committed < p.budget
        return Answer(200)

    def expire(self) -> int:
        """Vouchers still issued when their year is over are void; their
        reservations are released (the programme does not reopen: its year is
        over). Used vouchers stay used; the next year's vouchers are untouched."""
        n = 0
        for v in self.vouchers.values():
            if v.status == "issued" and self.expires(v.year):
                v.status = "expired"
                self._release(v)
                n += 1
        return n
