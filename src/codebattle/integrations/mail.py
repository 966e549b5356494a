"""Sending mail: over SMTP when SMTP_HOST is set, else (the embedded default) written as an
.eml file under DATA_DIR/mail, its path logged, for an operator to forward.

stdlib smtplib run in a thread with a timeout: one message now and then (a guardian's
consent request) does not need an async SMTP client."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import structlog

from codebattle.config import Settings

log = structlog.get_logger(__name__)
SMTP_TIMEOUT_SECONDS = 20.0


class MailError(Exception):
    """The mail could not be handed to the SMTP server (the message says why, no secrets)."""


def message(settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text UTF-8 message from MAIL_FROM."""
    mail = EmailMessage()
    mail["From"] = settings.MAIL_FROM
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = make_msgid(domain="codebattle")
    mail.set_content(body, charset="utf-8")
    return mail


async def send(settings: Settings, mail: EmailMessage) -> Path | None:
    """Send `mail`; return the .eml file's path when it was written instead (no SMTP_HOST)."""
    if not settings.SMTP_HOST:
        return await asyncio.to_thread(_write, settings.DATA_DIR / "mail", mail)
    try:
        await asyncio.to_thread(_smtp, settings, mail)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("mail not sent", host=settings.SMTP_HOST, error=type(exc).__name__)
        raise MailError(f"{type(exc).__name__}: {exc}") from exc
    log.info("mail sent", host=settings.SMTP_HOST, message_id=mail["Message-ID"])
    return None


def _smtp(settings: Settings, mail: EmailMessage) -> None:
    assert settings.SMTP_HOST is not None
    with smtplib.SMTP(settings.SMTP_HOST, settings.SMTP_PORT, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        smtp.ehlo()
        if settings.SMTP_STARTTLS:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if settings.SMTP_USERNAME:
            password = settings.SMTP_PASSWORD.get_secret_value() if settings.SMTP_PASSWORD else ""
            smtp.login(settings.SMTP_USERNAME, password)
        smtp.send_message(mail)


def _write(folder: Path, mail: EmailMessage) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
    path.write_bytes(bytes(mail))
    path.chmod(0o600)  # holds an address and a consent link
    log.info("mail written (no SMTP_HOST)", path=str(path), to=mail["To"])
    return path
