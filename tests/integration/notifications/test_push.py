"""Web push end to end against a local push service stand-in: the subscription is stored
per account, a push is queued only for the accounts that chose it, the relay sends it
encrypted and signed, and a subscription the service says is gone (410) is dropped."""

from __future__ import annotations

import json
from pathlib import Path

import http_ece
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from portal.db import write_transaction
from portal.domain.channels import service as channels
from portal.domain.channels.rules import Choice, Kind
from portal.domain.push import rules
from portal.domain.push import service as push
from portal.domain.push.keys import vapid_keys
from portal.tables import OutboxPush, PushSubscription
from tests.conftest import Database, make_settings
from tests.factories import make_family
from tests.integration.notifications.conftest import BrowserKeys
from tests.integration.notifications.push_service import PushServiceStandIn


def _verify_vapid(authorization: str, public_key: str) -> None:
    import base64

    def unb64(text: str) -> bytes:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    fields = dict(part.strip().split("=", 1) for part in authorization[6:].split(","))
    assert fields["k"] == public_key
    header, claims, signature = fields["t"].split(".")
    raw = unb64(signature)
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(public_key))
    key.verify(
        encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
        f"{header}.{claims}".encode(),
        ec.ECDSA(hashes.SHA256()),
    )
    assert json.loads(unb64(claims))["sub"].startswith("mailto:")


async def test_push_is_sent_encrypted_then_a_gone_subscription_is_dropped(
    db: Database, tmp_path: Path, push_service: PushServiceStandIn
) -> None:
    settings = make_settings(tmp_path, db.url)
    setup = await make_family()
    account_id, family_id = int(setup.account.id), int(setup.family.id)
    browser = BrowserKeys.new()
    subscription = rules.parse_subscription(browser.subscription(f"{push_service.base}/push/1"))
    await push.subscribe(account_id, subscription, "Chrome sur Android")
    await push.subscribe(account_id, subscription, "Chrome sur Android")  # same browser again
    assert await push.subscription_count(account_id) == 1

    choices = [Choice(Kind.MESSAGE, email=True, push=True)]
    await channels.save_choices(account_id, choices, 48)
    async with write_transaction():
        assert await push.queue_push(Kind.MESSAGE, family_id, "msg:1", "Mairie", "Sortie annulée")
        # Push is off by default for the other kinds.
        assert await push.queue_push(Kind.LOW_BALANCE, family_id, "low:1", "Solde", "bas") == 0
        # A replayed use case queues nothing.
        assert await push.queue_push(Kind.MESSAGE, family_id, "msg:1", "Mairie", "x") == 0
    assert await push.due_count() == 1

    outcome = await push.relay_due(settings)
    assert outcome == push.PushOutcome(sent=1)
    [request] = push_service.received
    assert request.path == "/push/1"
    assert request.headers["content-encoding"] == "aes128gcm"
    assert int(request.headers["ttl"]) == rules.TTL_SECONDS
    assert b"Sortie" not in request.body  # encrypted on the way
    _verify_vapid(request.headers["authorization"], vapid_keys(settings).public_key)
    clear = http_ece.decrypt(
        request.body, private_key=browser.private_key, auth_secret=browser.auth, version="aes128gcm"
    )
    message = json.loads(clear)
    assert message["title"] == "Mairie" and message["body"] == "Sortie annulée"
    [row] = await OutboxPush.select()
    assert row["status"] == "sent"
    assert await push.relay_due(settings) == push.PushOutcome()  # nothing sent twice

    push_service.statuses.append(410)
    async with write_transaction():
        assert await push.queue_push(Kind.MESSAGE, family_id, "msg:2", "Mairie", "Encore")
    assert (await push.relay_due(settings)).dropped == 1
    assert await PushSubscription.count() == 0
    assert await OutboxPush.count() == 0
    async with write_transaction():
        assert await push.queue_push(Kind.MESSAGE, family_id, "msg:3", "Mairie", "Plus") == 0


async def test_a_busy_push_service_is_retried_later(
    db: Database, tmp_path: Path, push_service: PushServiceStandIn
) -> None:
    settings = make_settings(tmp_path, db.url)
    setup = await make_family()
    browser = BrowserKeys.new()
    sub = rules.parse_subscription(browser.subscription(f"{push_service.base}/push/2"))
    await push.subscribe(int(setup.account.id), sub, "Firefox")
    async with write_transaction():
        await push.queue_notes(
            None, [push.PushNote("k", "T", "B", account_ids=(int(setup.account.id),))]
        )
    push_service.statuses.append(503)
    assert (await push.relay_due(settings)).retried == 1
    [row] = await OutboxPush.select()
    assert row["status"] == "pending" and row["attempts"] == 1 and "503" in row["last_error"]
    assert await push.due_count() == 0  # its next attempt is a minute away
    assert await PushSubscription.count() == 1


async def test_unsubscribe_touches_only_the_accounts_own(db: Database) -> None:
    one = await make_family(login="un")
    two = await make_family(login="deux", structure=one.structure)
    sub = rules.parse_subscription(BrowserKeys.new().subscription("https://push.example/1"))
    await push.subscribe(int(one.account.id), sub, "")
    assert not await push.unsubscribe(int(two.account.id), sub.endpoint)
    assert await push.unsubscribe(int(one.account.id), sub.endpoint)
    assert await PushSubscription.count() == 0


async def test_a_device_taken_over_by_another_account_gets_none_of_the_first_ones_pushes(
    db: Database,
) -> None:
    first = await make_family(login="premier")
    second = await make_family(login="second", structure=first.structure)
    sub = rules.parse_subscription(BrowserKeys.new().subscription("https://push.example/x"))
    await push.subscribe(int(first.account.id), sub, "")
    async with write_transaction():
        await push.queue_notes(
            None, [push.PushNote("k", "Pour le premier", "B", account_ids=(int(first.account.id),))]
        )
    await push.subscribe(int(first.account.id), sub, "")  # the same account again: kept
    assert await OutboxPush.count() == 1
    await push.subscribe(int(second.account.id), sub, "")
    assert await OutboxPush.count() == 0
    [row] = await PushSubscription.select()
    assert row["account"] == second.account.id


async def test_an_account_keeps_its_latest_browsers_only(db: Database) -> None:
    """Each push goes to every browser of the account: endpoints registered without end
    would multiply what one parent can make the portal send, and where."""
    one = await make_family(login="un")
    other = await make_family(login="deux", structure=one.structure)
    keys = BrowserKeys.new()
    await push.subscribe(
        int(other.account.id),
        rules.parse_subscription(keys.subscription("https://push.example/x")),
        "",
    )
    for n in range(push.MAX_DEVICES + 3):
        sub = rules.parse_subscription(keys.subscription(f"https://push.example/{n}"))
        await push.subscribe(int(one.account.id), sub, f"appareil {n}")
    mine = await PushSubscription.select(PushSubscription.device).where(
        PushSubscription.account == one.account.id
    )
    assert sorted(str(r["device"]) for r in mine) == sorted(
        f"appareil {n}" for n in range(3, push.MAX_DEVICES + 3)
    )
    # Another account's browsers are not touched.
    assert await PushSubscription.count().where(PushSubscription.account == other.account.id) == 1
    # The oldest kept browser subscribes again: it is the newest now, and stays.
    await push.subscribe(
        int(one.account.id),
        rules.parse_subscription(keys.subscription("https://push.example/3")),
        "appareil 3",
    )
    await push.subscribe(
        int(one.account.id),
        rules.parse_subscription(keys.subscription("https://push.example/new")),
        "appareil neuf",
    )
    devices = {
        str(r["device"])
        for r in await PushSubscription.select(PushSubscription.device).where(
            PushSubscription.account == one.account.id
        )
    }
    assert "appareil 3" in devices and "appareil 4" not in devices and "appareil neuf" in devices
