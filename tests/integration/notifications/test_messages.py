"""Messages between a family and its structure: attachments under the documents' rules,
unread counts on both sides, staff broadcasts, and every staff message notified through
the family's channels."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from portal.domain.channels import service as channels
from portal.domain.channels.rules import Choice, Kind
from portal.domain.family_file.rules import FileError
from portal.domain.messages import service as messages
from portal.domain.messages.rules import Audience, MessageError
from portal.domain.push import rules as push_rules
from portal.domain.push import service as push
from portal.tables import Message, MessageAttachment, OutboxEmail, OutboxPush, Reservation
from tests.conftest import Database
from tests.factories import (
    enroll,
    make_activity,
    make_days,
    make_family,
    make_staff,
    make_structure,
)
from tests.integration.notifications.conftest import BrowserKeys

BASE = "http://portail.test"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_a_thread_both_ways_with_unread_counts(db: Database, tmp_path: Path) -> None:
    setup = await make_family()
    family_id, structure_id = int(setup.family.id), int(setup.structure.id)
    await messages.send_from_family(
        tmp_path,
        family_id,
        int(setup.account.id),
        "DUPONT Jean-Paul",
        "  Paolo sera absent jeudi.\r\nMerci  ",
        messages.Upload("../../certificat médical.png", PNG),
    )
    assert await messages.unread_for_structure(structure_id) == 1
    assert await messages.unread_for_family(family_id) == 0
    [summary] = await messages.structure_threads(structure_id)
    assert summary.unread == 1 and summary.last_excerpt == "Paolo sera absent jeudi. Merci"

    name, thread = await messages.staff_thread(structure_id, family_id)
    assert name == "DUPONT Jean-Paul"
    [first] = thread
    assert first.body == "Paolo sera absent jeudi.\nMerci"
    [file] = first.attachments
    assert file.filename == "certificat médical.png" and file.content_type == "image/png"
    assert await messages.unread_for_structure(structure_id) == 0
    stored = await messages.structure_attachment(tmp_path, structure_id, file.id)
    assert stored.path.read_bytes() == PNG
    assert (await messages.family_attachment(tmp_path, family_id, file.id)).path == stored.path

    # The structure answers: the family is e-mailed (default) and sees it unread.
    staff_id = int((await make_staff("accueil", setup.structure)).id)
    await messages.send_from_staff(
        tmp_path, structure_id, family_id, staff_id, "Bien reçu, merci.", base_url=BASE
    )
    assert await messages.unread_for_family(family_id) == 1
    [mail] = await OutboxEmail.select()
    assert mail["to_addresses"] == "parent@example.fr"
    assert "Bien reçu" in mail["body_text"] and f"{BASE}/messages" in mail["body_text"]
    thread = await messages.family_thread(family_id)
    assert [m.from_family for m in thread] == [True, False]
    assert await messages.unread_for_family(family_id) == 0


async def test_attachments_follow_the_document_rules(db: Database, tmp_path: Path) -> None:
    setup = await make_family()
    with pytest.raises(FileError, match="ni un PDF"):
        await messages.send_from_family(
            tmp_path,
            int(setup.family.id),
            int(setup.account.id),
            "Parent",
            "Voici le document",
            messages.Upload("virus.png", b"MZ\x90\x00 not an image"),
        )
    with pytest.raises(MessageError, match="Écrivez"):
        await messages.send_from_family(
            tmp_path, int(setup.family.id), int(setup.account.id), "Parent", "   "
        )
    assert await Message.count() == 0
    assert await MessageAttachment.count() == 0
    assert not [name for _, _, names in os.walk(tmp_path) for name in names]


async def test_nobody_reads_another_familys_thread(db: Database, tmp_path: Path) -> None:
    mine = await make_family(login="moi")
    other_structure = await make_structure("Autre mairie")
    theirs = await make_family(login="eux", structure=other_structure)
    await messages.send_from_family(
        tmp_path,
        int(theirs.family.id),
        int(theirs.account.id),
        "Eux",
        "Bonjour",
        messages.Upload("a.png", PNG),
    )
    [attachment] = await MessageAttachment.select()
    with pytest.raises(messages.NotFound):
        await messages.staff_thread(int(mine.structure.id), int(theirs.family.id))
    with pytest.raises(messages.NotFound):
        await messages.family_attachment(tmp_path, int(mine.family.id), attachment["id"])
    with pytest.raises(messages.NotFound):
        await messages.structure_attachment(tmp_path, int(mine.structure.id), attachment["id"])
    with pytest.raises(messages.NotFound):
        await messages.send_from_staff(
            tmp_path, int(mine.structure.id), int(theirs.family.id), 0, "x", base_url=BASE
        )


async def test_broadcast_to_an_activity_or_a_day(db: Database, tmp_path: Path) -> None:
    one = await make_family(login="un")
    two = await make_family(login="deux", structure=one.structure, emails="deux@example.fr")
    three = await make_family(login="trois", structure=one.structure, emails="")
    structure_id = int(one.structure.id)
    alsh = await make_activity(one.structure, "ALSH Mercredi")
    canteen = await make_activity(one.structure, "Cantine")
    await enroll(one.people + two.people, alsh)
    await enroll(three.people, canteen)
    wednesday = date(2026, 12, 16)
    [alsh_day] = await make_days(alsh, wednesday)
    [canteen_day] = await make_days(canteen, wednesday)
    await Reservation(
        family=one.family.id, person=one.people[0].id, activity_day=alsh_day.id, status="accepted"
    ).save()
    await Reservation(
        family=three.family.id,
        person=three.people[0].id,
        activity_day=canteen_day.id,
        status="waitlisted",
    ).save()
    # Family two chose push only for messages, on one device.
    sub = push_rules.parse_subscription(BrowserKeys.new().subscription("https://push.example/2"))
    await push.subscribe(int(two.account.id), sub, "")
    await channels.save_choices(
        int(two.account.id), [Choice(Kind.MESSAGE, email=False, push=True)], 48
    )

    staff_id = int((await make_staff("accueil", one.structure)).id)
    sent = await messages.broadcast(
        structure_id, staff_id, Audience(int(alsh.id), None), "Sortie annulée demain", base_url=BASE
    )
    assert sent.families == 2
    assert {m["family"] for m in await Message.select()} == {one.family.id, two.family.id}
    [mail] = await OutboxEmail.select()
    assert mail["to_addresses"] == "parent@example.fr"  # family two turned e-mail off
    [note] = await OutboxPush.select()
    assert note["title"] == "Message de Mairie de Testville"
    assert note["body"] == "Sortie annulée demain" and note["url"] == "/messages"

    by_day = await messages.audience_families(structure_id, Audience(None, wednesday))
    assert by_day == sorted([int(one.family.id), int(three.family.id)])
    both = await messages.audience_families(structure_id, Audience(int(alsh.id), wednesday))
    assert both == [int(one.family.id)]
    with pytest.raises(MessageError, match="Aucune famille"):
        await messages.broadcast(
            structure_id, 0, Audience(None, date(2027, 1, 6)), "Rien", base_url=BASE
        )
    elsewhere = await make_activity(await make_structure("Ailleurs"), "Ailleurs")
    with pytest.raises(MessageError, match="n'existe pas"):
        await messages.broadcast(
            structure_id, 0, Audience(int(elsewhere.id), None), "x", base_url=BASE
        )
    with pytest.raises(MessageError):
        Audience(None, None)


async def test_a_familys_messages_are_bounded_per_day(db: Database, tmp_path: Path) -> None:
    """Each message may carry a 5 MB attachment: one account could otherwise fill the
    disk and the clerks' list. Twenty a day, then a clear French refusal, nothing stored."""
    from portal import clock
    from portal.domain.messages.rules import MAX_FAMILY_MESSAGES_PER_DAY

    setup = await make_family()
    family, account = int(setup.family.id), int(setup.account.id)
    for n in range(MAX_FAMILY_MESSAGES_PER_DAY):
        await messages.send_from_family(tmp_path, family, account, "Parent", f"Message {n}")
    with pytest.raises(MessageError, match="déjà envoyé 20 messages"):
        await messages.send_from_family(
            tmp_path, family, account, "Parent", "Encore un",
            messages.Upload("plan.pdf", b"%PDF-1.4 plan"),
        )  # fmt: skip
    assert await Message.count() == MAX_FAMILY_MESSAGES_PER_DAY
    assert not [name for _, _, names in os.walk(tmp_path) for name in names]
    clock.shift(24 * 3600 + 1)
    try:
        await messages.send_from_family(tmp_path, family, account, "Parent", "Le lendemain")
    finally:
        clock.reset()
    assert await Message.count() == MAX_FAMILY_MESSAGES_PER_DAY + 1
