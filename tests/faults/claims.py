"""A claim journey of the fault harness (R20; the journeys themselves are
``tests.faults.redemption.Redemptions``): the claim's record as its journey
fills it in (its order journeys and vouchers, the center's decisions, what it
must end as, its payout), what a claim may be (its size, the center's plans
and their weights, the steps, the evidence uploaded), and the share of order
journeys whose voucher ends used, so claimable."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.faults.journeys import Journey

RECEIPT = b"%PDF-1.7\n% bank receipt of the user's payment\n" + b"b" * 500
RESULTS = b"%PDF-1.7\n% service results\n" + b"s" * 800
#: the most vouchers on one claim
BATCH_MAX = 8
#: (plan, weight): how the center decides a claim
PLANS = (("redemption", 7), ("redemption_partial", 2), ("redemption_rejected", 1))
STEPS = ["evidence", "claim", "review", "notice", "order", "paid", "settled"]


@dataclass
class Claim:
    id: int
    plan: str
    unit: str
    #: the order journeys whose vouchers it claims, in item order
    journeys: list[Journey]
    done_steps: list[str] = field(default_factory=list)
    documents: tuple[str, str] | None = None
    claim_id: str | None = None
    amount_fen: int = 0
    #: what the center decided, per voucher
    decisions: dict[str, bool] = field(default_factory=dict)
    #: what the claim must end as: rejected / settled
    final: str | None = None
    approved_fen: int = 0
    payout_id: str | None = None
    paid_fen: int = 0
    finished: bool = False
    error: str | None = None

    @property
    def voucher_ids(self) -> list[str]:
        return [j.voucher_id for j in self.journeys if j.voucher_id]

    def invoice(self, k: int) -> str:
        """A fully digital invoice number (20 digits), one per item, unique in the run."""
        return f"2641{self.id:012d}{k:04d}"


def used_share(plans: dict[str, tuple[int, list[str]]]) -> float:
    """The share of order journeys whose voucher ends used (a plan that applies and rates, without expiry)."""
    total = sum(w for w, _ in plans.values())
    used = sum(w for w, steps in plans.values() if "apply" in steps and "rate" in steps and "expire" not in steps and "uphold" not in steps)
    return used / total if total else 0.0
