"""Outgoing mail over SMTP (``XCISS_SMTP_*``).

Without ``XCISS_SMTP_HOST`` (the development default) a mail is written to
the log instead of being sent, so a developer can follow its link; a
deployment that sends real mail sets the host (and, usually, the user,
password and ``XCISS_SMTP_STARTTLS``). Sending is blocking ``smtplib`` run
in a thread; a failure raises ``MailError`` and the caller keeps the mail
to try again."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from email.message import EmailMessage

from services.runtime.settings import Settings

log = logging.getLogger("xciss.mailer")

TIMEOUT_S = 15.0


class MailError(Exception):
    """The SMTP server could not be reached or refused the mail."""


def _message(settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    return msg


def _send(settings: Settings, msg: EmailMessage) -> None:
    assert settings.smtp_host
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"{type(exc).__name__}: {exc}"[:500]) from exc


async def send_mail(settings: Settings, to: str, subject: str, body: str) -> None:
    """Send one plain-text mail, or log it when no SMTP host is configured."""
    msg = _message(settings, to, subject, body)
    if not settings.smtp_host:
        log.warning("no XCISS_SMTP_HOST: mail logged, not sent\nTo: %s\nSubject: %s\n\n%s", to, subject, body)
        return
    await asyncio.to_thread(_send, settings, msg)
