"""Self-service sign-up and password reset (issue 17): the rules on what a
registrant types, and the reset token.

A sign-up names a username, a contact person and a phone number or an
e-mail address (at least one; a password reset needs the e-mail). Each
refusal names its field (``details.field``) in Chinese and English.

A reset token is 32 random bytes (URL-safe text); only its SHA-256 digest
is stored, so a copy of the database opens no account. It works once, until
``expires_at``."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from services.runtime.errors import DomainError

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
#: mainland mobile numbers (11 digits, 1[3-9]…) or a landline with area code (0xxx-xxxxxxx[x])
PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$")


def _field(code: str, zh: str, en: str, field: str) -> DomainError:
    return DomainError(code, zh, en, status=422, field=field)


def clean_username(raw: str) -> str:
    username = (raw or "").strip().lower()
    if not username:
        raise _field("signup.field_required", "请填写用户名", "the username is required", "username")
    if not USERNAME_RE.match(username):
        raise _field(
            "signup.invalid_username",
            "用户名须为 3–64 个字符，仅含小写字母、数字和 . _ -，以字母或数字开头",
            "the username is 3–64 characters: a–z, 0–9, '.', '_', '-', starting with a letter or digit",
            "username",
        )
    return username


def clean_email(raw: str | None) -> str | None:
    email = (raw or "").strip()
    if not email:
        return None
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise _field("signup.invalid_email", "电子邮箱格式不正确", "the e-mail address is not valid", "email")
    return email.lower()  # one address however its holder types it


def clean_phone(raw: str | None) -> str | None:
    phone = re.sub(r"[\s()]", "", (raw or "").strip()).removeprefix("+86")
    if not phone:
        return None
    if not PHONE_RE.match(phone):
        raise _field("signup.invalid_phone", "联系电话格式不正确（11 位手机号码或带区号的固定电话）", "the phone number is not valid (an 11-digit mobile or a landline with area code)", "phone")
    return phone


def clean_contact(contact_name: str | None, phone: str | None, email: str | None) -> tuple[str, str | None, str | None]:
    """The contact person, phone and e-mail as stored; one of phone and e-mail is required."""
    name = (contact_name or "").strip()
    if len(name) < 2 or len(name) > 100:
        raise _field("signup.field_required", "请填写联系人姓名（2–100 个字符）", "the contact person's name is required (2–100 characters)", "contact_name")
    cleaned_phone, cleaned_email = clean_phone(phone), clean_email(email)
    if cleaned_phone is None and cleaned_email is None:
        raise _field("signup.contact_required", "请至少填写联系电话或电子邮箱之一", "give a phone number or an e-mail address", "email")
    return name, cleaned_phone, cleaned_email


def clean_name(raw: str | None) -> str:
    name = (raw or "").strip()
    if len(name) < 2 or len(name) > 200:
        raise _field("signup.field_required", "请填写企业或团队名称（2–200 个字符）", "the enterprise's or team's name is required (2–200 characters)", "name")
    return name


# --- reset tokens -----------------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_expiry(now: datetime, ttl_minutes: int) -> datetime:
    return now + timedelta(minutes=ttl_minutes)


def token_usable(expires_at: datetime, used_at: datetime | None, now: datetime) -> bool:
    """Unused and not yet expired (a token expiring exactly now no longer works)."""
    return used_at is None and now < expires_at


class InvalidResetToken(DomainError):
    status = 422

    def __init__(self) -> None:
        super().__init__(
            "password_reset.invalid_token",
            "重置链接无效、已使用或已过期，请重新申请重置密码",
            "the reset link is not valid, already used or expired; ask for a new one",
            field="token",
        )


def reset_mail(username: str, link: str, ttl_minutes: int) -> tuple[str, str]:
    """The subject and body of a reset mail (Chinese, then English)."""
    subject = "【许昌市科研设施和仪器开放共享平台】重置密码 / Password reset"
    body = (
        f"您好：\n\n有人为账号 {username} 申请了重置密码。如是您本人操作，请在 {ttl_minutes} 分钟内打开以下链接设置新密码（链接只能使用一次）：\n\n"
        f"{link}\n\n如非本人操作，请忽略本邮件，您的密码不会改变。\n\n"
        f"Somebody asked to reset the password of the account {username}. If it was you, open the link above within "
        f"{ttl_minutes} minutes to set a new password (it works once). If not, ignore this mail: your password stays as it is.\n"
    )
    return subject, body
