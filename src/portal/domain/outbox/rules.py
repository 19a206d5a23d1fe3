"""Pure rules of the outbox: addresses, retry schedule, sending lease."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"

# Attempts before an e-mail is given up ("failed"); with the schedule below the last one
# happens about six hours after the first, long enough to ride out an SMTP outage.
MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=2)
# A row claimed for sending and not settled within this delay belongs to a relay that died:
# it goes back to the queue.
SENDING_LEASE = timedelta(minutes=10)


# E-mails carrying a secret (a single-use link) lose their body once settled: the database
# then holds no usable link, as it holds only hashes of the tokens.
_SECRET_KEY_PREFIXES = ("password-reset:",)
SCRUBBED_BODY = "[contenu effacé après envoi : il contenait un lien à usage unique]"


def holds_secret(dedupe_key: str) -> bool:
    return dedupe_key.startswith(_SECRET_KEY_PREFIXES)


def retry_delay(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failed attempt: 1, 2, 4, ... minutes, at most 2 hours."""
    if attempts < 1:
        return timedelta(0)
    return min(FIRST_RETRY * (1 << (attempts - 1)), LONGEST_RETRY)


def after_failure(attempts: int, now: datetime) -> tuple[str, datetime]:
    """Status and next attempt of a row whose `attempts`-th attempt just failed."""
    if attempts >= MAX_ATTEMPTS:
        return FAILED, now
    return PENDING, now + retry_delay(attempts)


def join_addresses(addresses: Iterable[str]) -> str:
    """Addresses as stored: ';'-separated, blanks and case-insensitive repeats dropped."""
    seen: set[str] = set()
    kept = []
    for raw in addresses:
        address = raw.strip()
        if address and address.lower() not in seen:
            seen.add(address.lower())
            kept.append(address)
    return ";".join(kept)


def split_addresses(stored: str) -> list[str]:
    return [a for a in (part.strip() for part in stored.split(";")) if a]


def describe_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip()[:1000]


# The relay: a few SMTP connections in parallel, each reused for several messages (servers
# cap messages per session; 100 is a common default).
RELAY_CONNECTIONS = 8
MESSAGES_PER_CONNECTION = 100
# How long a running relay's lease lasts without renewal: past it, the relay is deemed dead
# and the minute sweep starts another one.
RELAY_LEASE_DURATION = timedelta(minutes=5)
