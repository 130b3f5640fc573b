"""Local accounts: the password policy and who may administer whom.

Three-officer separation (三员分立, 等保 2.0):

- the **system administrator** (``sysadmin``, 系统管理员) creates the
  accounts of the business roles (user, unit, department, center, bureau,
  finance, expert, partner) and lists accounts; it cannot unlock, disable or
  enable any account;
- the **security administrator** (``secadmin``, 安全管理员) unlocks,
  disables and enables accounts (any role, never its own) and lists them; it
  creates no account;
- the **audit administrator** (``auditor``, 审计管理员) reads the audit
  trails (``GET /v1/audit``) and administers nothing;
- the three officers' own accounts (and nobody's ``service`` role) are not
  created over the API at all: an operator creates them with
  ``xciss accounts create`` on a host with database access, audited as
  ``cli:<os user>``.
"""

from __future__ import annotations

from enum import StrEnum

from services.runtime.roles import Role
from services.runtime.errors import DomainError, Forbidden


class AccountStatus(StrEnum):
    ACTIVE = "active"
    LOCKED = "locked"
    DISABLED = "disabled"


#: roles the system administrator creates over the API
BUSINESS_ROLES: frozenset[Role] = frozenset({Role.USER, Role.UNIT, Role.DEPARTMENT, Role.CENTER, Role.BUREAU, Role.FINANCE, Role.EXPERT, Role.PARTNER})
#: the three officers: created by the operator's command only
OFFICER_ROLES: frozenset[Role] = frozenset({Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR})
#: roles that act for one organisation and so need ``org``
ORG_ROLES: frozenset[Role] = frozenset({Role.USER, Role.UNIT, Role.DEPARTMENT, Role.EXPERT, Role.PARTNER})

#: 3–64 characters: a–z, 0–9, '.', '_', '-' (after :func:`normalise_username`)
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{2,63}$"


def normalise_username(raw: str) -> str:
    """A username as it is stored and compared: trimmed, lower case."""
    return raw.strip().lower()

MIN_LENGTH = 10
MAX_LENGTH = 128


class WeakPassword(DomainError):
    """The password policy: ``details.field`` names the field, ``details.rules`` the failed rules."""

    status = 422

    def __init__(self, field: str, rules: list[str]):
        zh = {
            "too_short": f"至少 {MIN_LENGTH} 个字符",
            "too_long": f"不超过 {MAX_LENGTH} 个字符",
            "too_few_classes": "须包含大写字母、小写字母、数字、其他符号中的至少三类",
            "contains_username": "不得包含用户名",
        }
        en = {
            "too_short": f"at least {MIN_LENGTH} characters",
            "too_long": f"at most {MAX_LENGTH} characters",
            "too_few_classes": "at least three of: upper-case letters, lower-case letters, digits, other symbols",
            "contains_username": "must not contain the username",
        }
        super().__init__(
            "password.weak",
            f"{field}：密码不符合密码策略，须" + "；".join(zh[r] for r in rules),
            f"{field}: the password does not meet the policy: " + "; ".join(en[r] for r in rules),
            field=field,
            rules=rules,
        )


def password_problems(password: str, username: str) -> list[str]:
    rules: list[str] = []
    if len(password) < MIN_LENGTH:
        rules.append("too_short")
    if len(password) > MAX_LENGTH:
        rules.append("too_long")
    classes = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if classes < 3:
        rules.append("too_few_classes")
    if username and username.lower() in password.lower():
        rules.append("contains_username")
    return rules


def check_password(password: str, username: str, *, field: str = "password") -> None:
    rules = password_problems(password, username)
    if rules:
        raise WeakPassword(field, rules)


def check_new_account(creator_role: str, role: Role, org: str | None) -> None:
    """What the creator may create: the sysadmin business accounts, the
    operator's command (``creator_role == "operator"``) anything but ``service``."""
    if role is Role.SERVICE or role is Role.ANONYMOUS:
        raise DomainError("account.role_not_allowed", "不能为该角色创建登录账号", f"no login account can be created for role {role}")
    if creator_role == "operator":
        pass
    elif creator_role == Role.SYSADMIN:
        if role not in BUSINESS_ROLES:
            raise Forbidden(
                "系统管理员只能创建业务角色账号；三员账号由运维人员用 xciss accounts create 创建（三员分立）",
                f"the system administrator creates business accounts only; {role} accounts are created by the operator (separation of duties)",
            )
    else:
        raise Forbidden("只有系统管理员可以创建账号", "only the system administrator creates accounts")
    if role in ORG_ROLES and not org:
        raise DomainError("account.org_required", f"{role} 角色的账号必须指明所属机构（org）", f"an account of role {role} must name its organisation (org)", field="org")


def check_administrable(actor_subject: str, target_username: str) -> None:
    """The security administrator acts on every account but its own."""
    if actor_subject == target_username:
        raise Forbidden("不能对自己的账号执行该操作", "you may not do this to your own account")
