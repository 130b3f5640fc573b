"""A property-based model of the voucher rules (issue 7): a Hypothesis
``RuleBasedStateMachine`` (``machine.py``) drives the real vouchers service —
its HTTP API in-process, its worker consuming registry facts from a real
nats-server, its outbox relay, a real database (SQLite and PostgreSQL) — and
after every step compares it with the pure reference model in
``tests/model/reference.py``.

Rules covered: the per-user yearly cap (50,000 CNY; 100,000 for innovation
leaders and gazelles), the programme budget (committed never above it; the
programme closes itself when used up; a raise reopens it), one voucher per
contract (and per order), amount = 30% of the fee rounded down to the fen,
limited by what is left of the cap and of the budget, appeals (15-day window;
an overturn approves under the budget as it stands then), non-transferability
(only the bound unit, for the bound order — so the bound user), revocation
when an order is cancelled, and the year's end (issue 21, the test clock's time
steps): midnight on 31 December passes with vouchers issued and applications
pending; an issued voucher is then refused at settlement (``voucher.expired``)
whether or not the expiry run has voided it; the run voids it and releases its
reservation but leaves a used voucher used; an application of the old year is no
longer approved or overturned (``voucher.year_ended``); the next year's
programme opens with its own budget and accounts, and applications made then
belong to it.

How it runs:

* The platform starts once per test (per backend) on an event loop the test
  owns (``asyncio.Runner``); Hypothesis' synchronous rules run coroutines on
  it, and the worker and relay progress while they do.
* Registry facts (users, units, contracted and cancelled orders) are
  published to JetStream as registry publishes them; a step waits for
  vouchers' read model to reach the event's version (polling, no fixed sleep).
* Time is the model's, on the platform's own policy clock
  (``services.runtime.clock``, the clock the test clock moves): before each
  request the model sets the simulated offset so that the service's "now" is
  the model's (plus the request's few milliseconds); technical times (tokens,
  outbox, inbox) stay on the wall clock. Each step ticks one second; a rule
  lets days pass (stopping two hours before midnight on 31 December); another
  ends the year; the scheduler's expiry run is the expiry endpoint; after the
  year end the next year's programme may open. Every example gets a fresh
  programme year and the one after it (and fresh users, units and orders);
  when the years allowed by the API run out the platform restarts on fresh
  databases.
* After every step both years' programmes (budget, committed, open), every
  account's used cap, every application's year, status and amount and every
  voucher's year, status and binding are read from the service and compared
  with the model; at the end of each example the same is checked once more
  through the HTTP API (where a programme past its year reads closed).

``test_voucher_sequences.py`` plays chosen sequences of the same rules: the
defects the model found, and the year's end step by step.

Profiles (``HYPOTHESIS_PROFILE``): ``ci`` (default; derandomized, 6
examples of up to 20 steps, one to two minutes per backend on a busy 2-core machine) and ``long`` (random, 60 steps)::

    HYPOTHESIS_PROFILE=long XCISS_MODEL_EXAMPLES=500 .venv/bin/pytest tests/model -q -p no:cacheprovider
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.model.machine import VoucherMachine
from tests.model.world import World

settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("XCISS_MODEL_EXAMPLES", "6")),
    stateful_step_count=20,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=list(HealthCheck),
)
settings.register_profile(
    "long",
    max_examples=int(os.environ.get("XCISS_MODEL_EXAMPLES", "300")),
    stateful_step_count=60,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=list(HealthCheck),
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
#: XCISS_MODEL_SHRINK=0 reports the first failing sequence as found (quick while iterating)
PHASES = tuple(Phase) if os.environ.get("XCISS_MODEL_SHRINK", "1") != "0" else tuple(p for p in Phase if p is not Phase.shrink)


def test_voucher_rules_model(world: World) -> None:
    run_state_machine_as_test(VoucherMachine, settings=settings(settings.get_profile(PROFILE), phases=PHASES))
    print(f"model: examples={world.examples} steps={world.steps} restarts={world.restarts}")
    for k, n in sorted(world.outcomes.items()):
        print(f"  {k} {n}")

