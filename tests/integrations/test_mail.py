"""integrations.mail against a real SMTP server on loopback (aiosmtpd), and the .eml files
written without SMTP_HOST."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from codebattle.config import Settings
from codebattle.integrations import mail
from tests.support.site import settings_for


class Inbox:
    def __init__(self) -> None:
        self.received: list[tuple[Envelope, Message]] = []

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's name
        content = envelope.original_content or b""
        self.received.append((envelope, email.message_from_bytes(content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check_login(
    server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"mailer", b"s3cret")
    return AuthResult(success=ok, handled=False)  # aiosmtpd answers a failure with 535


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=check_login,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def smtp_settings(tmp_path: Path, port: int, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": port,
        "SMTP_STARTTLS": False,
        "MAIL_FROM": "Code Battle <noreply@codebattle.test>",
    }
    values.update(overrides)
    return settings_for(tmp_path, **values)


async def test_a_message_goes_over_smtp_with_login(
    tmp_path: Path, smtp_server: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_server
    settings = smtp_settings(tmp_path, port, SMTP_USERNAME="mailer", SMTP_PASSWORD="s3cret")
    message = mail.message(settings, "parent@example.com", "동의 요청 / Consent", "링크: x\nlink")
    assert await mail.send(settings, message) is None
    assert len(inbox.received) == 1
    envelope, received = inbox.received[0]
    assert envelope.rcpt_tos == ["parent@example.com"]
    assert envelope.mail_from == "noreply@codebattle.test"
    assert str(email.header.make_header(email.header.decode_header(received["Subject"]))) == (
        "동의 요청 / Consent"
    )
    body = received.get_payload(decode=True)
    assert isinstance(body, bytes) and "링크: x" in body.decode("utf-8")
    assert not (tmp_path / "var" / "mail").exists()


async def test_a_wrong_password_is_a_mail_error(
    tmp_path: Path, smtp_server: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_server
    settings = smtp_settings(tmp_path, port, SMTP_USERNAME="mailer", SMTP_PASSWORD="wrong")
    with pytest.raises(mail.MailError) as failed:
        await mail.send(settings, mail.message(settings, "a@example.com", "s", "b"))
    assert "SMTPAuthenticationError" in str(failed.value)  # refused, not timed out
    assert "wrong" not in str(failed.value)  # the password is never in the message
    assert inbox.received == []


async def test_no_server_listening_is_a_mail_error(tmp_path: Path) -> None:
    settings = smtp_settings(tmp_path, free_port())
    with pytest.raises(mail.MailError):
        await mail.send(settings, mail.message(settings, "a@example.com", "s", "b"))


async def test_without_smtp_host_the_mail_is_an_eml_file(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    path = await mail.send(settings, mail.message(settings, "p@example.com", "제목", "본문 body"))
    assert path is not None and path.parent == tmp_path / "var" / "mail"
    assert path.suffix == ".eml" and path.stat().st_mode & 0o777 == 0o600
    written = email.message_from_bytes(path.read_bytes())
    assert written["To"] == "p@example.com"
    payload = written.get_payload(decode=True)
    assert isinstance(payload, bytes) and "본문 body" in payload.decode("utf-8")
