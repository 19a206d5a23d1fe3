"""Outbox use cases: queue an e-mail in the caller's transaction, relay the due ones."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portal import clock, db
from portal.domain.outbox import rules
from portal.mail import Mail, MailError, send_mail
from portal.settings import Settings
from portal.tables import OutboxEmail

log = logging.getLogger(__name__)

# Rows claimed per query while relaying; the relay loops until nothing is due.
BATCH = 50

RelayWaker = Callable[[], Awaitable[object]]
_relay_waker: RelayWaker | None = None


def use_relay_waker(waker: RelayWaker | None) -> None:
    """How this process asks a relay to run now (`portal.tasks.outbox` sets it)."""
    global _relay_waker
    _relay_waker = waker


async def wake_relay() -> None:
    """Ask a relay to run now; never raises (the minute sweep finds the rows otherwise)."""
    if _relay_waker is None:
        return
    try:
        await _relay_waker()
    except Exception:  # the e-mails stay queued; the periodic sweep sends them
        log.exception("outbox : réveil impossible")


@dataclass(frozen=True)
class RelayOutcome:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    recovered: int = 0


async def queue_email(
    dedupe_key: str, to: Sequence[str] | str, subject: str, text: str, html: str = ""
) -> bool:
    """Write an e-mail to the outbox, in the caller's transaction if there is one.

    Returns False, writing nothing, when an e-mail with this key was already queued: a
    replayed use case never sends twice. A relay is woken once the transaction commits
    (once per transaction, never after a rollback).
    """
    addresses = rules.join_addresses([to] if isinstance(to, str) else to)
    if not addresses:
        raise ValueError(f"e-mail {dedupe_key!r} sans destinataire")
    now = clock.utcnow()
    inserted = await (
        OutboxEmail.insert(
            OutboxEmail(
                dedupe_key=dedupe_key,
                to_addresses=addresses,
                subject=subject[:250],
                body_text=text,
                body_html=html,
                status=rules.PENDING,
                attempts=0,
                last_error="",
                next_attempt_at=now,
                created_at=now,
            )
        )
        .on_conflict(target=OutboxEmail.dedupe_key, action="DO NOTHING")
        .returning(OutboxEmail.id)
    )
    if inserted:
        await db.after_commit(wake_relay, key=wake_relay)
    return bool(inserted)


async def queue_mail(dedupe_key: str, mail: Mail) -> bool:
    return await queue_email(dedupe_key, mail.to, mail.subject, mail.text, mail.html)


async def due_count(now: datetime | None = None) -> int:
    """E-mails a relay should look at now (due pending ones, and stuck claims)."""
    now = now or clock.utcnow()
    return int(
        await OutboxEmail.count().where(
            OutboxEmail.status.is_in([rules.PENDING, rules.SENDING])
            & (OutboxEmail.next_attempt_at <= now)
        )
    )


async def recover_stuck(now: datetime | None = None) -> int:
    """Give back the rows whose sending lease expired (their relay died mid-way)."""
    now = now or clock.utcnow()
    back = await (
        OutboxEmail.update(
            {OutboxEmail.status: rules.PENDING, OutboxEmail.last_error: "envoi interrompu"}
        )
        .where(
            (OutboxEmail.status == rules.SENDING)
            & (OutboxEmail.next_attempt_at <= now)
            & (OutboxEmail.attempts < rules.MAX_ATTEMPTS)
        )
        .returning(OutboxEmail.id)
    )
    given_up = await (
        OutboxEmail.update(
            {OutboxEmail.status: rules.FAILED, OutboxEmail.last_error: "envoi interrompu"}
        )
        .where((OutboxEmail.status == rules.SENDING) & (OutboxEmail.next_attempt_at <= now))
        .returning(OutboxEmail.id)
    )
    if back or given_up:
        log.warning("outbox : %d envoi(s) interrompu(s) repris", len(back) + len(given_up))
    return len(back) + len(given_up)


async def claim(email_id: int, now: datetime | None = None) -> dict[str, Any] | None:
    """Take one due pending row for sending; None when another relay was faster.

    The conditional UPDATE (pending -> sending) is the lock: two relays cannot both win.
    Until it is settled the row's next_attempt_at is the end of its sending lease.
    """
    now = now or clock.utcnow()
    rows = await (
        OutboxEmail.update(
            {
                OutboxEmail.status: rules.SENDING,
                OutboxEmail.attempts: OutboxEmail.attempts + 1,
                OutboxEmail.next_attempt_at: now + rules.SENDING_LEASE,
            }
        )
        .where(
            (OutboxEmail.id == email_id)
            & (OutboxEmail.status == rules.PENDING)
            & (OutboxEmail.next_attempt_at <= now)
        )
        .returning(
            OutboxEmail.id,
            OutboxEmail.dedupe_key,
            OutboxEmail.to_addresses,
            OutboxEmail.subject,
            OutboxEmail.body_text,
            OutboxEmail.body_html,
            OutboxEmail.attempts,
        )
    )
    return dict(rows[0]) if rows else None


def _scrubbed(dedupe_key: str) -> dict[Any, Any]:
    if not rules.holds_secret(dedupe_key):
        return {}
    return {OutboxEmail.body_text: rules.SCRUBBED_BODY, OutboxEmail.body_html: ""}


async def _settle_sent(row: dict[str, Any]) -> None:
    await OutboxEmail.update(
        {
            OutboxEmail.status: rules.SENT,
            OutboxEmail.sent_at: clock.utcnow(),
            OutboxEmail.last_error: "",
            **_scrubbed(row["dedupe_key"]),
        }
    ).where((OutboxEmail.id == row["id"]) & (OutboxEmail.status == rules.SENDING))


async def _settle_failed(row: dict[str, Any], error: str) -> str:
    status, next_attempt_at = rules.after_failure(int(row["attempts"]), clock.utcnow())
    await OutboxEmail.update(
        {
            OutboxEmail.status: status,
            OutboxEmail.next_attempt_at: next_attempt_at,
            OutboxEmail.last_error: error,
            **(_scrubbed(row["dedupe_key"]) if status == rules.FAILED else {}),
        }
    ).where((OutboxEmail.id == row["id"]) & (OutboxEmail.status == rules.SENDING))
    return status


async def send_claimed(settings: Settings, row: dict[str, Any]) -> str:
    """Hand a claimed row to the mail server and record the outcome; returns its status."""
    mail = Mail(
        to=rules.split_addresses(row["to_addresses"]),
        subject=row["subject"],
        text=row["body_text"],
        html=row["body_html"],
    )
    try:
        await send_mail(settings, mail)
    except MailError as exc:
        status = await _settle_failed(row, rules.describe_error(exc))
        log.warning(
            "outbox : e-mail %s non remis (essai %s) : %s", row["dedupe_key"], row["attempts"], exc
        )
        return status
    await _settle_sent(row)
    return rules.SENT


async def relay_due(settings: Settings, *, now: datetime | None = None) -> RelayOutcome:
    """Send every due pending e-mail once; failures are retried later with backoff."""
    now = now or clock.utcnow()
    recovered = await recover_stuck(now)
    counts = {rules.SENT: 0, rules.PENDING: 0, rules.FAILED: 0}
    while True:
        ids = [
            int(r["id"])
            for r in await OutboxEmail.select(OutboxEmail.id)
            .where((OutboxEmail.status == rules.PENDING) & (OutboxEmail.next_attempt_at <= now))
            .order_by(OutboxEmail.id)
            .limit(BATCH)
        ]
        if not ids:
            break
        for email_id in ids:
            row = await claim(email_id, now)
            if row is not None:
                counts[await send_claimed(settings, row)] += 1
    return RelayOutcome(
        sent=counts[rules.SENT],
        retried=counts[rules.PENDING],
        failed=counts[rules.FAILED],
        recovered=recovered,
    )
