"""The error codes each registry operation answers beside the generic ones
(authentication, validation, an unknown address, idempotency, the rate limit:
added by rule in :mod:`services.runtime.http.operation_docs`). Operation id ->
codes; every code is in the catalogue read from the source
(:mod:`services.runtime.http.error_catalogue`). A new route adds its line here
(``()`` when it answers only the generic codes); tests/unit/test_operation_docs.py
names any operation without one.
"""

from services.registry.domain.parties import _ACCEPTANCE_FAILURES

#: each R18 condition that fails is its own code (the first when only one fails)
ACCEPTANCE_FAILURES = tuple(_ACCEPTANCE_FAILURES)

#: a service-information field error: its message names the field and the problem
CODES: dict[str, tuple[int, str, str]] = {
    "registry.service_info_invalid": (422, "服务信息字段不符合要求（details.field 指明字段）", "a service-information field is not valid (details.field names it)"),
}

ERRORS: dict[str, tuple[str, ...]] = {
    # services.registry.api.accounts
    "login": ("auth.account_disabled", "auth.account_locked", "auth.invalid_credentials", "session.signing_unavailable"),
    "logout": ("session.not_a_session", "session.not_found", "session.revocation_unavailable"),
    "changeOwnPassword": ("account.not_found", "account.not_local", "account.wrong_password", "password.reused", "password.weak", "session.not_found", "session.revocation_unavailable"),
    "listAccounts": (),
    "createAccount": ("account.org_required", "account.role_not_allowed", "account.username_taken", "password.weak"),
    "disableAccount": ("account.already_disabled", "account.not_found", "account.reason_required", "session.revocation_unavailable"),
    "enableAccount": ("account.not_disabled", "account.not_found"),
    "unlockAccount": ("account.disabled", "account.not_found"),
    # services.registry.api.imports
    "getLedgerImport": ("import.not_found",),
    "listLedgerImports": (),
    "importLedger": ("import.aborted", "import.asset_conflict", "import.concurrent_change", "import.duplicate_asset_number", "import.empty", "import.invalid_choice", "import.invalid_date", "import.invalid_money", "import.invalid_text", "import.missing_columns", "import.money_precision", "import.no_file", "import.not_found", "import.required", "import.rows_invalid", "import.too_large", "import.too_long", "import.too_many_errors", "import.too_many_rows", "import.unpacked_too_large", "import.unreadable", "import.unsupported_format", "instrument.duplicate_asset_number", "instrument.unit_not_approved", "instrument.unknown_category", "unit.not_found"),
    "getImportTemplateCsv": (),
    "getImportTemplateXlsx": (),
    # services.registry.api.instruments
    "getInstrument": ("instrument.not_found",),
    "getInstrumentRatings": ("instrument.not_found",),
    "changeInstrument": ("instrument.blank_field", "instrument.concurrent_change", "instrument.immutable_field", "instrument.invalid_status", "instrument.not_found", "instrument.retired", "instrument.unknown_category", "instrument.unknown_field", "instrument.version_mismatch"),
    "registerInstrument": ("instrument.duplicate_asset_number", "instrument.unit_not_approved", "instrument.unknown_category", "unit.not_found"),
    "listInstruments": (),
    "listInstrument": ("instrument.already_listed", "instrument.classified", "instrument.concurrent_change", "instrument.not_found", "instrument.retired"),
    "retireInstrument": ("decision.reason_required", "instrument.concurrent_change", "instrument.not_found", "instrument.retired", "instrument.version_mismatch"),
    "getCityCompliance": ("unit.not_found",),
    "getUnitCompliance": ("unit.not_found",),
    # services.registry.api.photos
    "uploadInstrumentPhoto": ("document.empty", "document.no_file", "instrument.not_found", "instrument.retired", "photo.duplicate", "photo.too_large", "photo.too_many", "photo.type_not_allowed"),
    "listInstrumentPhotos": ("instrument.not_found",),
    "getInstrumentPhoto": ("instrument.not_found", "photo.not_found"),
    "deleteInstrumentPhoto": ("instrument.not_found", "photo.not_found"),
    # services.registry.api.jwks
    "tokenKeys": (),
    # services.registry.api.orders
    "cancelOrder": ("decision.reason_required", "decision.reason_too_long", "order.concurrent_change", "order.illegal_transition", "order.not_found"),
    "setOrderContract": ("order.concurrent_change", "order.contract_incomplete", "order.contract_signed", "order.illegal_transition", "order.not_found", "order.testing_fee_invalid", "order.unknown_document", "order.wrong_document_kind"),
    "downloadOrderDocument": ("document.not_found", "order.not_found"),
    "getOrder": ("order.not_found",),
    "requestOrder": ("order.duplicate_item", "order.item_unavailable", "order.mixed_units", "order.unit_unavailable", "order.user_not_registered", "order.user_not_verified"),
    "listOrders": (),
    "quoteOrder": ("order.concurrent_change", "order.illegal_transition", "order.not_found", "order.quote_reason_required", "order.quote_reason_too_long"),
    "rateOrder": ("order.already_rated", "order.concurrent_change", "order.illegal_transition", "order.invalid_rating", "order.not_found"),
    "deliverOrderResults": ("order.concurrent_change", "order.illegal_transition", "order.invalid_service_hours", "order.not_found", "order.service_hours_mismatch", "order.service_hours_required", "order.unknown_document", "order.usage_open", "order.wrong_document_kind"),
    "signOrderContract": ("order.already_signed", "order.concurrent_change", "order.contract_incomplete", "order.illegal_transition", "order.not_found", "order.testing_fee_invalid"),
    "startOrderService": ("order.concurrent_change", "order.illegal_transition", "order.not_found"),
    "uploadOrderDocument": ("document.empty", "document.no_file", "document.too_large", "document.unsupported_type", "order.contract_signed", "order.illegal_transition", "order.not_found", "order.results_by_unit"),
    # services.registry.api.parties
    "listUnits": (),
    "applyUnit": ("registry.credit_code_invalid", "registry.phone_invalid", "registry.service_info_invalid", "unit.college_needs_parent", "unit.duplicate_credit_code", "unit.not_found", "unit.parent_not_university", "unit.unknown_county"),
    "approveUnit": ("decision.reason_required", "decision.reason_too_long", "unit.already_decided", "unit.concurrent_change", "unit.not_found"),
    "disqualifyUnit": ("decision.reason_required", "decision.reason_too_long", "unit.concurrent_change", "unit.illegal_transition", "unit.not_found"),
    "getUnit": ("unit.not_found",),
    "grantVoucherAcceptance": ("acceptance.already_granted", "acceptance.refused", "decision.reason_required", "decision.reason_too_long", "unit.concurrent_change", "unit.not_found", *ACCEPTANCE_FAILURES),
    "revokeVoucherAcceptance": ("acceptance.not_granted", "decision.reason_required", "decision.reason_too_long", "unit.concurrent_change", "unit.not_found"),
    "publishUnitServiceInfo": ("registry.phone_invalid", "registry.service_info_invalid", "unit.concurrent_change", "unit.not_found"),
    "reinstateUnit": ("decision.reason_required", "decision.reason_too_long", "unit.concurrent_change", "unit.illegal_transition", "unit.not_found"),
    "rejectUnit": ("decision.reason_required", "decision.reason_too_long", "unit.already_decided", "unit.concurrent_change", "unit.not_found"),
    "suspendUnit": ("decision.reason_required", "decision.reason_too_long", "unit.concurrent_change", "unit.illegal_transition", "unit.not_found"),
    "changeUserClasses": ("decision.reason_required", "decision.reason_too_long", "user.concurrent_change", "user.duplicate_class", "user.enterprise_class", "user.not_found", "user.team_class", "user.unchanged"),
    "getUser": ("user.not_found",),
    "listUsers": (),
    "registerUser": ("registry.credit_code_invalid", "registry.identity_number_invalid", "user.credit_code_required", "user.duplicate", "user.duplicate_class", "user.enterprise_class", "user.team_class", "user.team_fields_required"),
    "rejectUser": ("decision.reason_required", "decision.reason_too_long", "user.already_rejected", "user.concurrent_change", "user.not_found"),
    "verifyUser": ("decision.reason_required", "decision.reason_too_long", "user.already_verified", "user.concurrent_change", "user.credit_code_verified", "user.not_found", "user.rejected"),
    # services.registry.api.prices
    "addPriceItem": ("instrument.not_found", "price.duplicate_name", "price.fiscal_must_be_cost_compensation", "price.instrument_retired", "price.invalid_amount"),
    "listInstrumentPrices": ("instrument.not_found",),
    "changePriceItem": ("price.concurrent_change", "price.duplicate_name", "price.fiscal_must_be_cost_compensation", "price.instrument_retired", "price.invalid_amount", "price.reason_required", "price_item.not_found"),
    "priceHistory": ("price_item.not_found",),
    "unitPriceList": ("unit.not_found",),
    # services.registry.api.search
    "searchCatalogue": (
        "search.bad_page", "search.bad_page_size", "search.bad_price_range", "search.bad_sort", "search.query_too_long",
        "search.query_without_words", "search.unknown_category", "search.unknown_county",
    ),
    # services.registry.api.supervision
    "recordAffiliation": ("affiliation.duplicate", "unit.not_found", "user.not_found"),
    "listAffiliations": (),
    "removeAffiliation": ("affiliation.already_removed", "affiliation.not_found", "decision.reason_required", "decision.reason_too_long"),
    "listBlacklist": (),
    "addToBlacklist": ("blacklist.duplicate", "decision.reason_required", "decision.reason_too_long", "unit.concurrent_change"),
    "removeFromBlacklist": ("blacklist.already_removed", "blacklist_entry.not_found", "decision.reason_required", "decision.reason_too_long"),
    "listFraudFindings": (),
    "recordFraudFinding": ("decision.reason_required", "decision.reason_too_long", "fraud.concurrent", "fraud.disqualify_user", "fraud.duplicate", "fraud.sanction_unknown", "unit.concurrent_change", "unit.illegal_transition", "unit.not_found"),
    "listPublicCriticisms": (),
    # the test clock (dev and staging; services/runtime/http/clock_api.py): registry owns the bucket
    "setClock": ("clock.naive_time", "clock.out_of_range"),
    "advanceClock": ("clock.bad_span", "clock.out_of_range"),
    "resetClock": (),
    # M11(6) complaints
    "fileComplaint": ("complaint.field_required", "complaint.field_too_long", "complaint.subject_required", "complaint.unit_mismatch", "complaint.unknown_unit", "order.not_found"),
    "getComplaint": ("complaint.not_found",),
    "listComplaints": (),
    "decideComplaint": ("complaint.already_decided", "complaint.concurrent_change", "complaint.field_required", "complaint.field_too_long", "complaint.not_found"),
    "getComplaintPolicy": ("complaint_policy.not_found",),
    "setComplaintPolicy": ("complaint.invalid_deadline", "complaint.policy_concurrent_change", "complaint_policy.not_found"),
    # M11(4) quotes above the published list
    "listQuoteDeviations": (),
    # the catalogue's synonym dictionary (issue 17)
    "listSynonyms": (),
    "createSynonym": ("synonyms.bad_synonym_count", "synonyms.duplicate_canonical", "synonyms.duplicate_form", "synonyms.empty_form", "synonyms.form_too_long", "synonyms.form_without_words"),
    "deleteSynonym": ("synonym_entry.not_found",),
    # self-service sign-up and password recovery (issue 17)
    "signUp": ("account.username_taken", "password.weak", "registry.credit_code_invalid", "registry.identity_number_invalid", "signup.contact_required", "signup.field_required", "signup.invalid_email", "signup.invalid_phone", "signup.invalid_username", "user.credit_code_required", "user.duplicate", "user.duplicate_class", "user.enterprise_class", "user.team_class", "user.team_fields_required"),
    "requestPasswordReset": ("password_reset.invalid_email", "signup.invalid_email"),
    "checkPasswordReset": ("password_reset.invalid_token",),
    "confirmPasswordReset": ("auth.account_disabled", "password.weak", "password_reset.invalid_token", "session.revocation_unavailable"),
    # the usage log (issue 16): services.registry.api.usage, services.registry.api.usage_recorders
    "checkInUsage": ("instrument.not_found", "usage.in_future", "usage.order_not_in_service", "usage.order_not_internal", "usage.order_required", "usage.overlap", "usage.researcher_required", "usage.researcher_too_long", "usage.unknown_order"),
    "checkOutUsage": ("usage.end_before_start", "usage.in_future", "usage.not_open", "usage.too_long", "usage_session.not_found"),
    "correctUsage": ("instrument.not_found", "usage.concurrent_change", "usage.end_before_start", "usage.in_future", "usage.not_closed", "usage.order_not_in_service", "usage.overlap", "usage.reason_required", "usage.reason_too_long", "usage.too_long", "usage.unknown_order", "usage_session.not_found"),
    "createUsageRecorder": ("instrument.not_found", "usage.recorder_name_invalid"),
    "getUsageSession": ("usage_session.not_found",),
    "listUsageRecorders": (),
    "listUsageSessions": (),
    "recordUsage": ("instrument.not_found", "usage.end_before_start", "usage.in_future", "usage.order_not_in_service", "usage.order_not_internal", "usage.order_required", "usage.overlap", "usage.researcher_required", "usage.researcher_too_long", "usage.too_long", "usage.unknown_order"),
    "recorderPostUsage": ("usage.end_before_start", "usage.in_future", "usage.order_not_in_service", "usage.order_not_internal", "usage.order_required", "usage.overlap", "usage.recorder_unauthenticated", "usage.researcher_required", "usage.researcher_too_long", "usage.too_long", "usage.unknown_order"),
    "recorderStartUsage": ("usage.in_future", "usage.order_not_in_service", "usage.order_not_internal", "usage.order_required", "usage.overlap", "usage.recorder_unauthenticated", "usage.researcher_required", "usage.researcher_too_long", "usage.unknown_order"),
    "recorderStopUsage": ("usage.end_before_start", "usage.in_future", "usage.not_open", "usage.nothing_open", "usage.recorder_unauthenticated", "usage.too_long"),
    "revokeUsageRecorder": ("usage.recorder_revoked", "usage_recorder.not_found"),
    # issue 16: instrument time (schedules, downtime, qualifications, bookings)
    "getInstrumentSchedule": ("booking.no_schedule", "instrument.not_found"),
    "setInstrumentSchedule": ("instrument.not_found", "schedule.concurrent_change", "schedule.empty_interval", "schedule.hours_off_grid", "schedule.invalid_time", "schedule.length_off_grid", "schedule.min_above_max", "schedule.out_of_range", "schedule.overlapping_intervals", "schedule.slot_not_dividing_day", "schedule.too_many_intervals", "schedule.unknown_weekday"),
    "addInstrumentDowntime": ("booking.naive_time", "booking.time_out_of_range", "decision.reason_required", "decision.reason_too_long", "downtime.empty_range", "instrument.not_found"),
    "listInstrumentDowntimes": ("booking.naive_time", "booking.time_out_of_range", "instrument.not_found"),
    "grantQualification": ("instrument.not_found", "qualification.expired", "qualification.not_a_user_person"),
    "listQualifications": ("instrument.not_found",),
    "revokeQualification": ("decision.reason_required", "decision.reason_too_long", "instrument.not_found", "qualification.already_revoked", "qualification.not_found"),
    "getInstrumentAvailability": ("availability.empty_range", "availability.range_too_long", "booking.naive_time", "booking.time_out_of_range", "booking.no_schedule", "instrument.not_found"),
    "createBooking": (
        "booking.empty_range", "booking.in_past", "booking.naive_time", "booking.time_out_of_range", "booking.no_schedule", "booking.not_qualified", "booking.off_grid", "booking.order_closed",
        "booking.order_wrong_instrument", "booking.outside_hours", "booking.over_downtime", "booking.overlap", "booking.too_far_ahead", "booking.too_late",
        "booking.too_long", "booking.too_short", "calendar.unknown_year", "instrument.not_found", "order.not_found",
    ),
    "listBookings": (),
    "getBooking": ("booking.not_found",),
    "confirmBooking": ("booking.already_started", "booking.concurrent_change", "booking.illegal_transition", "booking.not_found"),
    "declineBooking": ("booking.concurrent_change", "booking.illegal_transition", "booking.not_found", "decision.reason_required", "decision.reason_too_long"),
    "cancelBooking": ("booking.cancel_too_late", "booking.concurrent_change", "booking.illegal_transition", "booking.not_found", "decision.reason_required", "decision.reason_too_long"),
    "recordBookingNoShow": ("booking.concurrent_change", "booking.illegal_transition", "booking.not_found", "booking.not_started"),
    # issue 16: iCalendar feeds and notifications
    "createCalendarFeed": ("calendar_feed.too_many", "instrument.not_found"),
    "listCalendarFeeds": ("instrument.not_found",),
    "rotateCalendarFeed": ("calendar_feed.not_found", "calendar_feed.revoked", "instrument.not_found"),
    "revokeCalendarFeed": ("calendar_feed.not_found", "calendar_feed.revoked", "instrument.not_found"),
    "getCalendarFeed": ("calendar_feed.not_found",),
    "listNotifications": (),
    "readNotification": ("notification.not_found",),
}
