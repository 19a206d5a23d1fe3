"""What one family sends in files over 30 days, whatever the way (documents, message
attachments, absence certificates), stays within FAMILY_UPLOAD_BYTES: past it a file is
refused with a French message saying when to try again, and neither a row nor a file on
disk is left; older files do not count, so a family is never locked out for good."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from portal import clock
from portal.domain.absences import service as absences
from portal.domain.absences.rules import AbsenceError
from portal.domain.family_file import service as family_file
from portal.domain.family_file.rules import FAMILY_UPLOAD_BYTES, FileError, upload_quota_error
from portal.domain.messages import service as messages
from portal.tables import AbsenceDeclaration, FamilyDocument, Message, Reservation
from tests.conftest import Database
from tests.factories import FamilySetup, add_file_rules, make_activity, make_days, make_family

PDF = b"%PDF-1.4 " + b"x" * 91  # 100 bytes
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 92  # 100 bytes


def _files(documents_dir: Path) -> list[Path]:
    return [path for path in documents_dir.rglob("*") if path.is_file()]


async def _fill(setup: FamilySetup, type_id: int, room_left: int) -> None:
    """A document sent yesterday, leaving `room_left` bytes of the family's 30 days."""
    await FamilyDocument(
        family=setup.family.id, document_type=type_id, filename="gros.pdf",
        content_type="application/pdf", size_bytes=FAMILY_UPLOAD_BYTES - room_left,
        sha256="0" * 64, storage_key="deja-la", status="valid",
        uploaded_at=clock.utcnow() - timedelta(days=1),
    ).save()  # fmt: skip


def test_the_rule_counts_what_was_sent_and_says_when_to_send_again() -> None:
    paris = ZoneInfo("Europe/Paris")
    mib = 1024 * 1024
    early = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)  # 21/11 in Paris
    later = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    half = FAMILY_UPLOAD_BYTES // 2
    assert upload_quota_error([(early, half), (later, half - 100)], 100, paris) is None
    refusal = upload_quota_error([(later, half), (early, half - 99)], 100, paris)
    assert refusal == (
        "Ce fichier n'a pas été enregistré : avec lui, les fichiers envoyés par la famille "
        "ces 30 derniers jours dépasseraient 200 Mo (déjà 199 Mo). Vous pourrez l'envoyer "
        "à partir du 21/12/2026."
    )
    # The oldest leaving is not enough: the day the next one leaves too.
    big = upload_quota_error([(early, mib), (later, FAMILY_UPLOAD_BYTES - mib)], 2 * mib, paris)
    assert big is not None and "à partir du 31/12/2026" in big


async def test_every_way_in_stops_at_the_family_s_quota(db: Database, tmp_path: Path) -> None:
    setup = await make_family(login="pleine", children=("Paolo",))
    types = await add_file_rules(setup.structure, fields=())
    activity = await make_activity(setup.structure)
    [day] = await make_days(activity, clock.utcnow().date() + timedelta(days=30))
    booked = Reservation(
        family=setup.family.id, person=setup.people[0].id, activity_day=day.id, status="accepted"
    )
    await booked.save()
    await _fill(setup, types["caf"], room_left=150)
    family_id = int(setup.family.id)
    account_id = int(setup.account.id)

    # 100 bytes fit: a message with its attachment.
    await messages.send_from_family(
        tmp_path, family_id, account_id, "Jean", "Le certificat", messages.Upload("a.png", PNG)
    )
    # The next 100 do not, by any way; nothing is kept of them.
    with pytest.raises(FileError, match="dépasseraient 200 Mo"):
        await family_file.upload_document(
            tmp_path, family_id, account_id, types["caf"], None, "caf.pdf", PDF
        )
    with pytest.raises(FileError, match="dépasseraient 200 Mo"):
        await messages.send_from_family(
            tmp_path, family_id, account_id, "Jean", "Encore", messages.Upload("b.png", PNG)
        )
    with pytest.raises(AbsenceError, match="dépasseraient 200 Mo"):
        await absences.declare(
            tmp_path, family_id, account_id, int(booked.id), "Fièvre",
            absences.Certificate("certificat.png", PNG),
        )  # fmt: skip
    assert len(_files(tmp_path)) == 1
    assert await Message.count().where(Message.family == family_id) == 1
    assert await FamilyDocument.count().where(FamilyDocument.family == family_id) == 1
    assert await AbsenceDeclaration.count() == 0
    # Words without a file still go; so does the absence without its certificate.
    await messages.send_from_family(tmp_path, family_id, account_id, "Jean", "Sans pièce jointe")
    await absences.declare(tmp_path, family_id, account_id, int(booked.id), "Fièvre")
    # Files older than the window no longer count: the family sends again.
    await FamilyDocument.update(
        {FamilyDocument.uploaded_at: clock.utcnow() - timedelta(days=31)}
    ).where(FamilyDocument.storage_key == "deja-la")
    await family_file.upload_document(
        tmp_path, family_id, account_id, types["caf"], None, "caf.pdf", PDF
    )
    assert len(_files(tmp_path)) == 2


async def test_two_uploads_at_once_cannot_both_take_the_last_room(
    db: Database, tmp_path: Path
) -> None:
    setup = await make_family(login="course", children=("Paolo",))
    types = await add_file_rules(setup.structure, fields=())
    await _fill(setup, types["caf"], room_left=150)
    family_id = int(setup.family.id)
    documents = [PDF, PDF.replace(b"x", b"y")]  # not copies of each other

    async def upload(content: bytes) -> bool:
        try:
            await family_file.upload_document(
                tmp_path, family_id, None, types["caf"], None, "caf.pdf", content
            )
        except FileError:
            return False
        return True

    outcomes = await asyncio.gather(*(upload(content) for content in documents))
    assert sorted(outcomes) == [False, True]
    assert len(_files(tmp_path)) == 1
