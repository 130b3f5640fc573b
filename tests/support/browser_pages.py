"""A portal page as the browser tests drive it (Playwright's ``page``): signing in with a
role's demo button, a workspace task's count, waiting until something shows, an order's
status, a step tracker's current and next step, submitting a form, signing a contract."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any


def sign_in_as(page: Any, role: str) -> None:
    page.goto("/signin")
    page.locator(f"button[data-role='{role}']").click()
    page.wait_for_url(re.compile(r".*/workspace$"))  # each role lands on what waits for it
    assert page.locator(".who").count() == 1


def waiting(page: Any, task: str) -> int:
    """The count of one task on the signed-in person's workspace."""
    page.goto("/workspace")
    return int(page.locator(f"li[data-task='{task}'] .count").inner_text())


def until(check: Callable[[], Any], what: str, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout_s:.0f}s")
        time.sleep(0.3)


def status_of(page: Any) -> str:
    return str(page.locator("#order-status").inner_text()).strip()


def next_step(page: Any, tracker: str = "#order-progress") -> str:
    """The step tracker's next-step sentence, and its current step (issue 17)."""
    return str(page.locator(f"{tracker} .next-text").inner_text()).strip()


def current_step(page: Any, tracker: str = "#order-progress") -> str:
    return str(page.locator(f"{tracker} li[aria-current=step]").text_content()).split("：", 1)[-1].strip()


def submit(page: Any, form: str) -> None:
    """Submit the form matching ``form`` with the keyboard-reachable submit button."""
    page.locator(form).locator("button[type=submit]").click()
    page.wait_for_load_state()


def sign(page: Any) -> None:
    """Sign the order's contract: its confirmation box ticked, then the button."""
    page.get_by_label("我已阅读并同意合同条款").check()
    submit(page, "form[action$='/sign']")


def submit_until_shown(page: Any, address: str, form: str, shown: str, what: str) -> None:
    """Opens ``address`` and submits ``form`` until ``shown`` is on the page: what
    the form needs may still be on its way over the bus (the page then does not
    offer it yet, or the service refuses it)."""

    def done() -> bool:
        page.goto(address)
        if page.locator(shown).count():
            return True
        submit(page, form)
        return page.locator(shown).count() > 0

    until(done, what)


def apply_for_voucher(user: Any, order: str) -> None:
    """The user applies for a voucher on the order's page (``order``: its address),
    once vouchers has learned the contract from the bus."""
    submit_until_shown(user, order, "form[action$='/apply']", "#application-status", "the voucher application")


def settle(user: Any, order: str) -> None:
    """The user settles the order on its page, once payments has learned its results."""
    submit_until_shown(user, order, "form[action$='/settle']", "#settlement", "the settlement")
