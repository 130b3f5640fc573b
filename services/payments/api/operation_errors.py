"""The error codes each payments operation answers beside the generic ones
(authentication, validation, an unknown address, idempotency, the rate limit:
added by rule in :mod:`services.runtime.http.operation_docs`). Operation id ->
codes; every code is in the catalogue read from the source
(:mod:`services.runtime.http.error_catalogue`). A new route adds its line here
(``()`` when it answers only the generic codes); tests/unit/test_operation_docs.py
names any operation without one.
"""

ERRORS: dict[str, tuple[str, ...]] = {
    # services.payments.api.clawbacks
    "listClawbacks": (),
    "getClawback": ("clawback.not_found",),
    "recordClawbackRepayment": ("clawback.amount_invalid", "clawback.concurrent_change", "clawback.exceeds_outstanding", "clawback.idempotency_key_reused", "clawback.not_found"),
    # services.payments.api.payouts
    "setPayeeAccount": ("payee.account_invalid", "payee.concurrent_change"),
    "getPayeeAccount": ("payee_account.not_found",),
    "listDuePayouts": (),
    "listPayouts": (),
    "confirmPayoutPaid": ("payout.not_found", "payout.not_ordered"),
    "getPayout": ("payout.not_found",),
    "createPaymentOrder": ("payment_order.nothing_due", "payout.not_due", "payout.payee_missing"),
    "listPaymentOrders": (),
    "exportPaymentOrder": ("payment_order.not_found",),
    "getPaymentOrder": ("payment_order.not_found",),
    "exportBudgetExecution": (),
    "budgetExecution": (),
    # services.payments.api.settlements
    "settleOrder": ("command.no_responders", "command.timeout", "command.unavailable", "order.not_found", "settlement.results_not_delivered", "settlement.voucher_pending"),
    "listSettlements": (),
    "paySettlement": ("payment.exceeds_remaining", "payment.idempotency_key_reused", "settlement.not_found"),
    "getSettlement": ("settlement.not_found",),
    "ledgerBalances": (),
    "trialBalance": ("as_of.in_future", "as_of.naive"),
}
