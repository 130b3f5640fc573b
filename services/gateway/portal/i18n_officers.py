"""The words of the three officers' pages (三员分立, 等保 2.0) that are not page
strings: the account refusals the registry words for developers (its own words name
API fields and role codes), by the registry's code, in the catalogues' msgctxt
"account_refusal" (``locale/``), like the pages' strings and the officers' role names."""

from __future__ import annotations

from services.gateway.portal.i18n import words

#: the account refusals in the portal's words, by the registry's code
REFUSALS = words("account_refusal")
