"""Outbox use cases: queue an e-mail in the caller's transaction, relay the due ones."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portal import clock, db
from portal.domain.outbox import rules
from portal.mail import Mail, MailError, MailSession
from portal.settings import Settings
from portal.tables import OutboxEmail, TaskLease

log = logging.getLogger(__name__)

# Rows claimed per query while relaying; the relay loops until nothing is due.
BATCH = 400
RELAY_LEASE = "outbox-relay"

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


@dataclass(frozen=True)
class QueuedEmail:
    dedupe_key: str
    to: Sequence[str]
    subject: str
    text: str
    html: str = ""


_INSERT_COLUMNS = (
    "dedupe_key, to_addresses, subject, body_text, body_html, status, attempts, last_error,"
    " next_attempt_at, created_at"
)
_INSERT_ROWS = 500  # ten parameters a row: far below both engines' limits


async def queue_emails(emails: Sequence[QueuedEmail]) -> int:
    """Write many e-mails to the outbox in a few multi-row INSERTs, in the caller's
    transaction; keys already queued are skipped (as queue_email does). Returns how many
    were written."""
    now = clock.utcnow()
    values: list[tuple[Any, ...]] = []
    for email in emails:
        addresses = rules.join_addresses(email.to)
        if not addresses:
            raise ValueError(f"e-mail {email.dedupe_key!r} sans destinataire")
        values.append(
            (
                email.dedupe_key,
                addresses,
                email.subject[:250],
                email.text,
                email.html,
                rules.PENDING,
                0,
                "",
                now,
                now,
            )
        )
    written = 0
    for start in range(0, len(values), _INSERT_ROWS):
        chunk = values[start : start + _INSERT_ROWS]
        rows = ", ".join(f"({db.placeholders(10)})" for _ in chunk)
        inserted = await OutboxEmail.raw(
            f"INSERT INTO outbox_email ({_INSERT_COLUMNS}) VALUES {rows}"  # noqa: S608
            " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
            *(value for row in chunk for value in row),
        )
        written += len(inserted)
    if written:
        await db.after_commit(wake_relay, key=wake_relay)
    return written


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


@dataclass(frozen=True)
class ClaimedEmail:
    """An outbox row taken for sending (pending -> sending), with what the relay sends."""

    id: int
    dedupe_key: str
    to_addresses: str
    subject: str
    body_text: str
    body_html: str
    attempts: int

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> ClaimedEmail:
        return cls(
            id=int(row["id"]),
            dedupe_key=str(row["dedupe_key"]),
            to_addresses=str(row["to_addresses"]),
            subject=str(row["subject"]),
            body_text=str(row["body_text"]),
            body_html=str(row["body_html"] or ""),
            attempts=int(row["attempts"]),
        )


async def claim(email_id: int, now: datetime | None = None) -> ClaimedEmail | None:
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
    return ClaimedEmail.of(rows[0]) if rows else None


_CLAIMED_COLUMNS = "id, dedupe_key, to_addresses, subject, body_text, body_html, attempts"


async def claim_batch(limit: int, now: datetime | None = None) -> list[ClaimedEmail]:
    """Take up to `limit` due pending rows for sending in one UPDATE ... RETURNING.

    As in `claim`, the condition pending -> sending is the lock; on PostgreSQL the
    candidates are picked with SKIP LOCKED so that a concurrent relay takes the next rows
    rather than waiting for these.
    """
    now = now or clock.utcnow()
    skip_locked = "" if db.is_sqlite() else " FOR UPDATE SKIP LOCKED"
    rows = await OutboxEmail.raw(
        "UPDATE outbox_email SET status = {}, attempts = attempts + 1, next_attempt_at = {}"  # noqa: S608
        " WHERE status = {} AND next_attempt_at <= {} AND id IN (SELECT id FROM outbox_email"
        " WHERE status = {} AND next_attempt_at <= {} ORDER BY id LIMIT {}"
        f"{skip_locked}) RETURNING {_CLAIMED_COLUMNS}",
        rules.SENDING,
        now + rules.SENDING_LEASE,
        rules.PENDING,
        now,
        rules.PENDING,
        now,
        limit,
    )
    return sorted((ClaimedEmail.of(r) for r in rows), key=lambda r: r.id)


def _scrubbed(dedupe_key: str) -> dict[Any, Any]:
    if not rules.holds_secret(dedupe_key):
        return {}
    return {OutboxEmail.body_text: rules.SCRUBBED_BODY, OutboxEmail.body_html: ""}


async def _settle_sent(row: ClaimedEmail) -> None:
    await OutboxEmail.update(
        {
            OutboxEmail.status: rules.SENT,
            OutboxEmail.sent_at: clock.utcnow(),
            OutboxEmail.last_error: "",
            **_scrubbed(row.dedupe_key),
        }
    ).where((OutboxEmail.id == row.id) & (OutboxEmail.status == rules.SENDING))


async def _settle_failed(row: ClaimedEmail, error: str) -> str:
    status, next_attempt_at = rules.after_failure(row.attempts, clock.utcnow())
    await OutboxEmail.update(
        {
            OutboxEmail.status: status,
            OutboxEmail.next_attempt_at: next_attempt_at,
            OutboxEmail.last_error: error,
            **(_scrubbed(row.dedupe_key) if status == rules.FAILED else {}),
        }
    ).where((OutboxEmail.id == row.id) & (OutboxEmail.status == rules.SENDING))
    return status


async def _settle_all_sent(rows: list[ClaimedEmail]) -> None:
    """Record many sent rows at once (their secret bodies scrubbed)."""
    if not rows:
        return
    now = clock.utcnow()
    plain = [r.id for r in rows if not rules.holds_secret(r.dedupe_key)]
    secret = [r.id for r in rows if rules.holds_secret(r.dedupe_key)]
    scrubbed: dict[Any, Any] = {
        OutboxEmail.body_text: rules.SCRUBBED_BODY,
        OutboxEmail.body_html: "",
    }
    nothing: dict[Any, Any] = {}
    for ids, scrub in ((plain, nothing), (secret, scrubbed)):
        if ids:
            await OutboxEmail.update(
                {
                    OutboxEmail.status: rules.SENT,
                    OutboxEmail.sent_at: now,
                    OutboxEmail.last_error: "",
                    **scrub,
                }
            ).where(OutboxEmail.id.is_in(ids) & (OutboxEmail.status == rules.SENDING))


def _mail_of(row: ClaimedEmail) -> Mail:
    return Mail(
        to=rules.split_addresses(row.to_addresses),
        subject=row.subject,
        text=row.body_text,
        html=row.body_html,
    )


async def _send_batch(
    sessions: list[MailSession], rows: list[ClaimedEmail]
) -> tuple[list[ClaimedEmail], list[tuple[ClaimedEmail, MailError]]]:
    """Send claimed rows over the open sessions in parallel; (sent, failed)."""
    waiting = deque(rows)
    sent: list[ClaimedEmail] = []
    failed: list[tuple[ClaimedEmail, MailError]] = []

    async def drain(session: MailSession) -> None:
        while waiting:
            row = waiting.popleft()
            try:
                await session.send(_mail_of(row))
            except MailError as exc:
                failed.append((row, exc))
            else:
                sent.append(row)

    await asyncio.gather(*(drain(session) for session in sessions))
    return sent, failed


async def relay_due(
    settings: Settings,
    *,
    now: datetime | None = None,
    between_batches: Callable[[], Awaitable[object]] | None = None,
) -> RelayOutcome:
    """Send every due pending e-mail once; failures are retried later with backoff.

    Rows are claimed by batches, sent over a few persistent SMTP connections in parallel
    (rules.RELAY_CONNECTIONS, each reused for up to rules.MESSAGES_PER_CONNECTION
    messages), and each batch's outcome recorded before the next claim: claim, send,
    record, so that an e-mail is sent once; a relay that dies leaves at most one batch
    in "sending", taken back after the lease.
    """
    now = now or clock.utcnow()
    recovered = await recover_stuck(now)
    counts = {rules.SENT: 0, rules.PENDING: 0, rules.FAILED: 0}
    sessions = [
        MailSession(settings, max_messages=rules.MESSAGES_PER_CONNECTION)
        for _ in range(rules.RELAY_CONNECTIONS)
    ]
    try:
        while rows := await claim_batch(BATCH, now):
            sent, failed = await _send_batch(sessions, rows)
            await _settle_all_sent(sent)
            counts[rules.SENT] += len(sent)
            for row, exc in failed:
                status = await _settle_failed(row, rules.describe_error(exc))
                log.warning(
                    "outbox : e-mail %s non remis (essai %s) : %s",
                    row.dedupe_key,
                    row.attempts,
                    exc,
                )
                counts[status] += 1
            if between_batches is not None:
                await between_batches()
    finally:
        await asyncio.gather(*(session.close() for session in sessions))
    return RelayOutcome(
        sent=counts[rules.SENT],
        retried=counts[rules.PENDING],
        failed=counts[rules.FAILED],
        recovered=recovered,
    )


# --- one relay at a time ---------------------------------------------------------------------


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def take_lease(name: str, holder: str, now: datetime | None = None) -> bool:
    """Take (or renew, for the same holder) the lease `name`; False when someone else
    holds it and it has not expired. One conditional statement: two takers cannot both
    win."""
    now = now or clock.utcnow()
    taken = await TaskLease.raw(
        "INSERT INTO task_lease (name, holder, expires_at) VALUES ({}, {}, {})"
        " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
        " expires_at = excluded.expires_at"
        " WHERE task_lease.holder = excluded.holder OR task_lease.expires_at <= {}"
        " RETURNING holder",
        name,
        holder,
        now + rules.RELAY_LEASE_DURATION,
        now,
    )
    return bool(taken)


async def release_lease(name: str, holder: str) -> None:
    await TaskLease.delete().where((TaskLease.name == name) & (TaskLease.holder == holder))


async def relay_running(now: datetime | None = None) -> bool:
    """Whether a relay holds its lease now (the minute sweep then starts none)."""
    now = now or clock.utcnow()
    return bool(
        await TaskLease.exists().where(
            (TaskLease.name == RELAY_LEASE) & (TaskLease.expires_at > now)
        )
    )


async def relay_exclusively(settings: Settings) -> RelayOutcome | None:
    """`relay_due` under the relay lease, renewed between batches; None (doing nothing)
    when another relay is running: it will send what is due, this one would only
    compete for the same rows."""
    holder = _holder()
    if not await take_lease(RELAY_LEASE, holder):
        log.info("outbox : un relais est déjà en cours, celui-ci s'arrête")
        return None
    total = RelayOutcome()

    async def renew() -> None:
        if not await take_lease(RELAY_LEASE, holder):
            log.warning("outbox : bail du relais perdu, un autre relais peut démarrer")

    try:
        while True:
            outcome = await relay_due(settings, between_batches=renew)
            total = RelayOutcome(
                sent=total.sent + outcome.sent,
                retried=total.retried + outcome.retried,
                failed=total.failed + outcome.failed,
                recovered=total.recovered + outcome.recovered,
            )
            # Rows queued while this relay ran: their wake-up found the lease taken.
            if await due_count() == 0 or not await take_lease(RELAY_LEASE, holder):
                break
    finally:
        await release_lease(RELAY_LEASE, holder)
    return total
