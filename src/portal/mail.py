"""Sending e-mail: SMTP through aiosmtplib, or a local sink (files under var/mail) when no
SMTP server is configured, so that the embedded run never loses a message."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import aiosmtplib

from portal.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mail:
    to: list[str]
    subject: str
    text: str
    html: str = ""


class MailError(RuntimeError):
    """The message could not be handed to the mail server."""


def build_message(settings: Settings, mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = ", ".join(mail.to)
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="portail-famille.local")
    message.set_content(mail.text)
    if mail.html:
        message.add_alternative(mail.html, subtype="html")
    return message


async def send_mail(settings: Settings, mail: Mail) -> None:
    if not mail.to:
        raise MailError("aucun destinataire")
    message = build_message(settings, mail)
    if settings.smtp_host is None:
        settings.mail_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = settings.mail_dir / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        path.write_bytes(message.as_bytes())
        log.info("e-mail « %s » pour %s écrit dans %s", mail.subject, message["To"], path)
        return
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            start_tls=settings.smtp_starttls,
            timeout=20,
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise MailError(str(exc)) from exc
