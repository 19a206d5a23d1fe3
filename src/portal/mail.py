"""Sending e-mail: SMTP through aiosmtplib, or a local sink (files under var/mail) when no
SMTP server is configured, so that the embedded run never loses a message."""

from __future__ import annotations

import base64
import functools
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, formataddr, make_msgid, parseaddr

import aiosmtplib

from portal.settings import Settings

log = logging.getLogger(__name__)

SMTP_TIMEOUT = 20


@dataclass(frozen=True)
class Mail:
    to: list[str]
    subject: str
    text: str
    html: str = ""


class MailError(RuntimeError):
    """The message could not be handed to the mail server."""


def _header(value: str) -> str:
    """A header value on one line, RFC 2047-encoded when it is not ASCII."""
    value = " ".join(value.split())  # no CR/LF: a header never injects another
    if value.isascii():
        return value
    # RFC 2047 "B" words of at most 45 bytes (60 in base64, 72 with the markers), never
    # splitting a character; email.header does the same several times slower.
    words: list[str] = []
    chunk = b""
    for char in value:
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > 45:
            words.append(chunk.decode("utf-8"))
            chunk = b""
        chunk += encoded
    words.append(chunk.decode("utf-8"))
    return "\r\n ".join(
        f"=?utf-8?b?{base64.b64encode(word.encode('utf-8')).decode('ascii')}?=" for word in words
    )


@functools.lru_cache(maxsize=8)
def _address_header(value: str) -> str:
    name, address = parseaddr(value)
    return formataddr((name, address), charset="utf-8") if name else address


def _base64_part(content_type: str, body: str) -> bytes:
    return (
        f'Content-Type: {content_type}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode() + base64.encodebytes(body.encode("utf-8")).replace(b"\n", b"\r\n")


def render_message(settings: Settings, mail: Mail) -> bytes:
    """The message as sent (RFC 5322, MIME, UTF-8 parts in base64).

    Written out directly rather than through `email.message`: its header machinery cost
    several milliseconds per message, most of a night's relay time for thousands of
    reports.
    """
    headers = [
        f"From: {_address_header(settings.mail_from)}",
        f"To: {_header(', '.join(mail.to))}",
        f"Subject: {_header(mail.subject)}",
        f"Date: {format_datetime(datetime.now(UTC))}",
        f"Message-ID: {make_msgid(domain='portail-famille.local')}",
        "MIME-Version: 1.0",
    ]
    head = ("\r\n".join(headers) + "\r\n").encode("ascii")
    if not mail.html:
        return head + _base64_part("text/plain", mail.text)
    boundary = f"=_portail_{uuid.uuid4().hex}"
    return b"".join(
        [
            head,
            f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode(),
            f"--{boundary}\r\n".encode(),
            _base64_part("text/plain", mail.text),
            f"--{boundary}\r\n".encode(),
            _base64_part("text/html", mail.html),
            f"--{boundary}--\r\n".encode(),
        ]
    )


@functools.lru_cache(maxsize=8)
def _envelope_address(mail_from: str) -> str:
    return parseaddr(mail_from)[1]


def envelope_sender(settings: Settings) -> str:
    return _envelope_address(settings.mail_from)


def _write_to_sink(settings: Settings, mail: Mail, message: bytes) -> None:
    settings.mail_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = settings.mail_dir / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
    path.write_bytes(message)
    log.info("e-mail « %s » pour %s écrit dans %s", mail.subject, ", ".join(mail.to), path)


def _smtp_client(settings: Settings) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password,
        start_tls=settings.smtp_starttls,
        timeout=SMTP_TIMEOUT,
    )


async def send_mail(settings: Settings, mail: Mail) -> None:
    """Send one message on a connection of its own (see MailSession for many)."""
    async with MailSession(settings, max_messages=1) as session:
        await session.send(mail)


class MailSession:
    """One SMTP connection kept open for several messages, reopened when it breaks or after
    `max_messages` (servers limit messages per session); the file sink without SMTP."""

    def __init__(self, settings: Settings, *, max_messages: int = 100) -> None:
        self._settings = settings
        self._max_messages = max(1, max_messages)
        self._client: aiosmtplib.SMTP | None = None
        self._sent_on_client = 0

    async def __aenter__(self) -> MailSession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def send(self, mail: Mail) -> None:
        """Hand one message to the server; MailError when it was not accepted."""
        if not mail.to:
            raise MailError("aucun destinataire")
        message = render_message(self._settings, mail)
        if self._settings.smtp_host is None:
            _write_to_sink(self._settings, mail, message)
            return
        if self._client is not None and self._sent_on_client >= self._max_messages:
            await self.close()
        try:
            if self._client is None:
                client = _smtp_client(self._settings)
                await client.connect()
                self._client, self._sent_on_client = client, 0
            await self._client.sendmail(envelope_sender(self._settings), mail.to, message)
        except aiosmtplib.SMTPResponseException as exc:
            # A refusal of this message: aiosmtplib has reset the envelope, the session
            # stays usable unless the server hung up.
            if self._client is not None and not self._client.is_connected:
                self._drop()
            raise MailError(str(exc)) from exc
        except (aiosmtplib.SMTPException, OSError, ValueError) as exc:
            self._drop()
            raise MailError(str(exc)) from exc
        self._sent_on_client += 1

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None

    async def close(self) -> None:
        """QUIT politely; a server already gone is simply forgotten."""
        client, self._client = self._client, None
        if client is None or not client.is_connected:
            return
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()
