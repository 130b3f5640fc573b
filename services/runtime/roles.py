"""The roles of the platform's people and systems (docs/security.md, "Roles"):
who a token speaks for. Plain data, used by the domain and the HTTP layer."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ANONYMOUS = "anonymous"
    USER = "user"
    UNIT = "unit"
    DEPARTMENT = "department"
    CENTER = "center"
    BUREAU = "bureau"
    FINANCE = "finance"
    EXPERT = "expert"
    PARTNER = "partner"
    SYSADMIN = "sysadmin"
    SECADMIN = "secadmin"
    AUDITOR = "auditor"
    SERVICE = "service"
