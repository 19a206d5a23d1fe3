"""Web-push use cases: subscribe a browser, queue push messages in the caller's
transaction (to the accounts that chose push for that kind), and relay the due ones to
the push services with pywebpush; a subscription the service says is gone is dropped."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
from pywebpush import WebPushException, webpush_async

from portal import clock, db
from portal.domain.channels import service as channels
from portal.domain.channels.rules import Kind
from portal.domain.outbox import rules as outbox_rules
from portal.domain.push import rules
from portal.domain.push.keys import vapid_keys
from portal.settings import Settings
from portal.tables import OutboxPush, PushSubscription

log = logging.getLogger(__name__)

BATCH = 100
SEND_TIMEOUT_SECONDS = 10

PushWaker = Callable[[], Awaitable[object]]
_waker: PushWaker | None = None


def use_push_waker(waker: PushWaker | None) -> None:
    """How this process asks a push relay to run now (`portal.tasks.push` sets it)."""
    global _waker
    _waker = waker


async def wake_push_relay() -> None:
    """Never raises: the minute sweep finds the rows if this wake-up is lost."""
    if _waker is None:
        return
    try:
        await _waker()
    except Exception:
        log.exception("push : réveil impossible")


# --- subscriptions ----------------------------------------------------------------------------

MAX_DEVICES = 10


async def subscribe(account_id: int, subscription: rules.Subscription, device: str) -> None:
    """Record (or move to this account) a browser's subscription. A browser that another
    account used before loses that account's pushes still waiting: they were not for
    whoever holds the device now."""
    async with db.write_transaction():
        await OutboxPush.delete().where(
            (OutboxPush.subscription._.endpoint_hash == subscription.endpoint_hash)
            & (OutboxPush.subscription._.account != account_id)
            & (OutboxPush.status == outbox_rules.PENDING)
        )
        await PushSubscription.insert(
            PushSubscription(
                account=account_id,
                endpoint=subscription.endpoint,
                endpoint_hash=subscription.endpoint_hash,
                p256dh=subscription.p256dh,
                auth=subscription.auth,
                device=device[:120],
                created_at=clock.utcnow(),
            )
        ).on_conflict(
            target=PushSubscription.endpoint_hash,
            action="DO UPDATE",
            # created_at too: a browser subscribing again (or moved to this account) is the
            # newest, not the first one to go past MAX_DEVICES.
            values=[
                PushSubscription.account,
                PushSubscription.p256dh,
                PushSubscription.auth,
                PushSubscription.device,
                PushSubscription.created_at,
            ],
        )
        # An account keeps its MAX_DEVICES latest browsers: each push goes to every one, so
        # endpoints registered without end would multiply what one parent can make us send
        # (and where). The oldest goes first: a parent who changed phones loses nothing.
        kept = await (
            PushSubscription.select(PushSubscription.id)
            .where(PushSubscription.account == account_id)
            .order_by(PushSubscription.created_at, ascending=False)
            .order_by(PushSubscription.id, ascending=False)
            .limit(MAX_DEVICES)
        )
        await PushSubscription.delete().where(
            (PushSubscription.account == account_id)
            & PushSubscription.id.not_in([int(r["id"]) for r in kept])
        )


async def unsubscribe(account_id: int, endpoint: str) -> bool:
    """Forget this browser's subscription (only the account's own)."""
    digest = hashlib.sha256(endpoint.encode()).hexdigest()
    async with db.write_transaction():
        gone = await (
            PushSubscription.delete()
            .where(
                (PushSubscription.account == account_id)
                & (PushSubscription.endpoint_hash == digest)
            )
            .returning(PushSubscription.id)
        )
    return bool(gone)


async def subscription_count(account_id: int) -> int:
    return int(await PushSubscription.count().where(PushSubscription.account == account_id))


# --- queueing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PushNote:
    """A push message for the accounts of one family (or for chosen accounts)."""

    key: str
    title: str
    body: str
    url: str = "/"
    family_id: int | None = None
    account_ids: tuple[int, ...] = ()


async def queue_notes(kind: Kind | None, notes: Sequence[PushNote]) -> int:
    """Write one push row per subscription of the accounts concerned, in the caller's
    transaction: for a family's note, its accounts that chose push for `kind`; for an
    account note, those accounts. Dedupe key `<key>:<subscription>`: a replay queues
    nothing. Returns how many rows were written."""
    families = {n.family_id for n in notes if n.family_id is not None}
    wanted: dict[int, list[int]] = {}
    if families and kind is not None:
        found = await channels.recipients(families, kind)
        wanted = {f: [p.account_id for p in people if p.push] for f, people in found.items()}
    targets = [
        (note, list(note.account_ids) + wanted.get(note.family_id or 0, [])) for note in notes
    ]
    account_ids = sorted({a for _, accounts in targets for a in accounts})
    if not account_ids:
        return 0
    by_account: dict[int, list[int]] = {}
    for row in await PushSubscription.select(PushSubscription.id, PushSubscription.account).where(
        PushSubscription.account.is_in(account_ids)
    ):
        by_account.setdefault(int(row["account"]), []).append(int(row["id"]))
    now = clock.utcnow()
    queued = 0
    for note, accounts in targets:
        for subscription_id in sorted({s for a in accounts for s in by_account.get(a, [])}):
            inserted = await (
                OutboxPush.insert(
                    OutboxPush(
                        dedupe_key=f"{note.key}:{subscription_id}"[:200],
                        subscription=subscription_id,
                        title=note.title[: rules.MAX_TITLE],
                        body=note.body[: rules.MAX_BODY],
                        url=note.url[:300],
                        status=outbox_rules.PENDING,
                        attempts=0,
                        last_error="",
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
                .on_conflict(target=OutboxPush.dedupe_key, action="DO NOTHING")
                .returning(OutboxPush.id)
            )
            queued += len(inserted)
    if queued:
        await db.after_commit(wake_push_relay, key=wake_push_relay)
    return queued


async def queue_push(
    kind: Kind, family_id: int, key: str, title: str, body: str, url: str = "/"
) -> int:
    """Push to every account of the family that chose push for `kind`."""
    return await queue_notes(kind, [PushNote(key, title, body, url, family_id=family_id)])


# --- relaying ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PushOutcome:
    sent: int = 0
    dropped: int = 0  # subscriptions gone (404/410), with their pending messages
    retried: int = 0
    failed: int = 0


async def due_count(now: datetime | None = None) -> int:
    now = now or clock.utcnow()
    return int(
        await OutboxPush.count().where(
            OutboxPush.status.is_in([outbox_rules.PENDING, outbox_rules.SENDING])
            & (OutboxPush.next_attempt_at <= now)
        )
    )


async def _claim_batch(now: datetime) -> list[dict[str, Any]]:
    """Take due rows for sending (pending -> sending is the lock; a row stuck in sending
    past its lease is taken again)."""
    skip_locked = "" if db.is_sqlite() else " FOR UPDATE SKIP LOCKED"
    claimed = await OutboxPush.raw(
        "UPDATE outbox_push SET status = {}, attempts = attempts + 1, next_attempt_at = {}"  # noqa: S608
        " WHERE id IN (SELECT id FROM outbox_push WHERE status IN ({}, {})"
        f" AND next_attempt_at <= {{}} ORDER BY id LIMIT {{}}{skip_locked}) RETURNING id",
        outbox_rules.SENDING,
        now + outbox_rules.SENDING_LEASE,
        outbox_rules.PENDING,
        outbox_rules.SENDING,
        now,
        BATCH,
    )
    ids = sorted(int(r["id"]) for r in claimed)
    if not ids:
        return []
    return list(
        await OutboxPush.select(
            OutboxPush.id,
            OutboxPush.title,
            OutboxPush.body,
            OutboxPush.url,
            OutboxPush.dedupe_key,
            OutboxPush.attempts,
            OutboxPush.subscription,
            OutboxPush.subscription.endpoint,
            OutboxPush.subscription.p256dh,
            OutboxPush.subscription.auth,
        )
        .where(OutboxPush.id.is_in(ids))
        .order_by(OutboxPush.id)
        .output(nested=False)
    )


async def _send(row: dict[str, Any], settings: Settings) -> tuple[int | None, str]:
    """One encrypted push (RFC 8291, aes128gcm) signed with VAPID; (status, error)."""
    keys = vapid_keys(settings)
    subscription = rules.Subscription(
        row["subscription.endpoint"], row["subscription.p256dh"], row["subscription.auth"]
    )
    data = rules.payload(row["title"], row["body"], row["url"], tag=row["dedupe_key"][:60])
    try:
        response = await webpush_async(
            subscription_info=subscription.as_info(),
            data=data.decode(),
            vapid_private_key=keys.signer(),
            vapid_claims={"sub": keys.subject},
            content_encoding="aes128gcm",
            ttl=rules.TTL_SECONDS,
            timeout=SEND_TIMEOUT_SECONDS,
        )
    except WebPushException as exc:
        status = getattr(exc.response, "status", None) if exc.response is not None else None
        return status, outbox_rules.describe_error(exc)
    except (aiohttp.ClientError, TimeoutError) as exc:
        return None, outbox_rules.describe_error(exc)
    return int(getattr(response, "status", 201)), ""


async def _settle(row: dict[str, Any], status: int | None, error: str) -> rules.Answer:
    answer = rules.classify(status)
    now = clock.utcnow()
    if answer is rules.Answer.SENT:
        await OutboxPush.update(
            {
                OutboxPush.status: outbox_rules.SENT,
                OutboxPush.sent_at: now,
                OutboxPush.last_error: "",
            }
        ).where(OutboxPush.id == row["id"])
        await PushSubscription.update({PushSubscription.last_success_at: now}).where(
            PushSubscription.id == row["subscription"]
        )
    elif answer is rules.Answer.GONE:
        # The browser unsubscribed or the subscription expired: it will never work again.
        await PushSubscription.delete().where(PushSubscription.id == row["subscription"])
    elif answer is rules.Answer.RETRY:
        state, next_at = outbox_rules.after_failure(int(row["attempts"]), now)
        await OutboxPush.update(
            {
                OutboxPush.status: state,
                OutboxPush.next_attempt_at: next_at,
                OutboxPush.last_error: error,
            }
        ).where(OutboxPush.id == row["id"])
    else:
        await OutboxPush.update(
            {OutboxPush.status: outbox_rules.FAILED, OutboxPush.last_error: error}
        ).where(OutboxPush.id == row["id"])
    return answer


async def relay_due(settings: Settings, now: datetime | None = None) -> PushOutcome:
    """Send every due push message once; claim, send, record, batch after batch."""
    counts = dict.fromkeys(rules.Answer, 0)
    while rows := await _claim_batch(now or clock.utcnow()):
        for row in rows:
            status, error = await _send(row, settings)
            answer = await _settle(row, status, error)
            if answer is not rules.Answer.SENT:
                log.warning("push %s : %s (%s)", row["dedupe_key"], answer.value, error or status)
            counts[answer] += 1
    return PushOutcome(
        sent=counts[rules.Answer.SENT],
        dropped=counts[rules.Answer.GONE],
        retried=counts[rules.Answer.RETRY],
        failed=counts[rules.Answer.REJECTED],
    )
