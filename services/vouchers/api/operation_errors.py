"""The error codes each vouchers operation answers beside the generic ones
(authentication, validation, an unknown address, idempotency, the rate limit:
added by rule in :mod:`services.runtime.http.operation_docs`). Operation id ->
codes; every code is in the catalogue read from the source
(:mod:`services.runtime.http.error_catalogue`). A new route adds its line here
(``()`` when it answers only the generic codes); tests/unit/test_operation_docs.py
names any operation without one.
"""

from services.vouchers.domain.applications import Check, words

#: the application checks (R4, R5, R6, R15, R16, R18, R22, R26): ``voucher.<check>``, 422;
#: R4's words name the deployment's city (the city file), "本市" / "the city" here
CODES: dict[str, tuple[int, str, str]] = {f"voucher.{c}": (422, *words(c, "本市", "the city")) for c in Check}
CHECKS = tuple(CODES)

ERRORS: dict[str, tuple[str, ...]] = {
    # services.vouchers.api.applications
    "appealApplication": ("application.not_found", "voucher.appeal_not_allowed", "voucher.appeal_window_closed"),
    "approveApplication": ("application.not_found", "voucher.application_not_pending", "voucher.order_not_contracted", "voucher.year_ended", *CHECKS),
    "decideAppeal": ("application.not_found", "voucher.application_not_pending", "voucher.no_appeal_pending", "voucher.order_not_contracted", "voucher.year_ended", *CHECKS),
    "listApplications": (),
    "submitApplication": ("application.not_found", "order.not_found", "voucher.account_not_active", "voucher.application_not_pending", "voucher.order_not_contracted", "voucher.year_ended", *CHECKS),
    "getApplication": ("application.not_found",),
    "rejectApplication": ("application.not_found", "voucher.application_not_pending"),
    # services.vouchers.api.eligibility
    "getUserEligibility": (),
    # services.vouchers.api.programmes
    "changeProgrammeBudget": ("programme.concurrent_change", "programme.not_found", "voucher.budget_below_committed"),
    "openProgramme": ("voucher.budget_invalid", "voucher.policy_invalid", "voucher.programme_exists"),
    "getProgramme": ("programme.not_found",),
    "getOwnAccount": ("account.not_found",),
    "activateAccount": ("programme.not_found", "voucher.account_exists", "voucher.user_not_verified"),
    # services.vouchers.api.redemption
    "listRedemptionAssignments": ("redemption_claim.not_found",),
    "assignRedemptionExpert": ("assignment.conflict_of_interest", "assignment.duplicate", "expert.not_found", "redemption.not_claimed", "redemption_claim.not_found"),
    "claimRedemption": ("redemption.document_missing", "redemption.invoice_invalid", "redemption.invoice_reused", "redemption.voucher_claimed", "redemption.voucher_not_claimable", "redemption.voucher_repeated", "redemption.window_closed"),
    "listRedemptionClaims": (),
    "downloadRedemptionDocument": ("redemption_document.not_found",),
    "getRedemptionWindow": ("redemption_window.not_found",),
    "setRedemptionWindow": ("redemption.window_concurrent_change", "redemption.window_invalid"),
    "getRedemptionClaim": ("redemption_claim.not_found",),
    "reviewRedemption": ("redemption.decisions_incomplete", "redemption.not_claimed", "redemption.reason_required", "redemption_claim.not_found"),
    "uploadRedemptionDocument": ("document.empty", "document.no_file", "document.too_large", "document.unsupported_type"),
    # services.vouchers.api.vouchers
    "expireVouchers": ("as_of.in_future", "as_of.naive"),
    "listVouchers": (),
    "getVoucher": ("voucher.not_found",),
    "refuseVoucher": ("voucher.not_found", "voucher.not_issued", "voucher.refusal_reason_required"),
    "useVoucher": ("voucher.already_used", "voucher.expired", "voucher.not_bound", "voucher.not_found", "voucher.revoked"),
}
