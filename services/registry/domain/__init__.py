"""Pure domain code of the registry service (units, instruments, listing rules).

No I/O, no database, no web framework, no global mutable state: every function
takes what it needs as arguments (a :class:`~.workdays.WorkdayCalendar`, a
:class:`~.listing.ListingPolicy`, ...), so the rules can be tested in isolation.
"""
