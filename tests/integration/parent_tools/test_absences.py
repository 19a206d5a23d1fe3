"""Enfant malade against both databases: a declaration after the cancellation deadline,
its certificate, the calendar state, the staff decision, the credit and the e-mail."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from portal import clock
from portal.domain.absences import service
from portal.domain.absences.rules import AbsenceError, AbsencePolicy, AbsenceStatus
from portal.domain.booking.apply import apply_basket
from portal.domain.booking.basket import Basket, BasketItem
from portal.domain.booking.scope import _versions, load_scope
from portal.domain.booking.states import DayState, DraftAction
from portal.domain.booking.views import day_views
from portal.domain.file_review.health_access import HealthDenied
from portal.domain.money.service import post_consumptions
from portal.domain.staff.service import Actor
from portal.tables import AbsenceDeclaration, LedgerEntry, OutboxEmail, Reservation, StaffStructure
from tests.conftest import Database
from tests.factories import FamilySetup, enroll, make_activity, make_days, make_family, make_staff

PARIS = ZoneInfo("Europe/Paris")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
BASE_URL = "https://famille.example.fr"


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS).astimezone(UTC)


async def booked(day: date) -> tuple[FamilySetup, int, int]:
    """A family whose child has an accepted canteen booking on ``day``."""
    setup = await make_family(children=("Paolo",))
    canteen = await make_activity(
        setup.structure, "Cantine", capacity=None, start=time(11, 30), end=time(13, 30),
        price_cents=380,
    )  # fmt: skip
    [activity_day] = await make_days(canteen, day)
    await enroll(setup.people, canteen)
    basket = Basket()
    basket.put(BasketItem(setup.people[0].id, canteen.id, activity_day.id, day, DraftAction.BOOK))
    [result] = await apply_basket(
        setup.account.id, setup.family.id, basket, now=local(day - timedelta(days=10), 9)
    )
    assert result.outcome == "accepted"
    reservation = await Reservation.objects().first()
    assert reservation is not None
    return setup, int(reservation.id), canteen.id


async def staff_actor(setup: FamilySetup) -> Actor:
    return Actor.of(await make_staff("agent", setup.structure))


async def test_declared_after_the_deadline_shown_decided_and_emailed(
    db: Database, tmp_path: Path
) -> None:
    day = date(2026, 12, 9)
    setup, reservation_id, canteen_id = await booked(day)
    late = local(day - timedelta(days=1), 20)  # far past "days:2@10:00"
    before = await _versions(setup.family.id)
    declared = await service.declare(
        tmp_path, setup.family.id, setup.account.id, reservation_id, " fièvre ",
        service.Certificate("certificat médical.png", PNG), now=late,
    )  # fmt: skip
    assert (declared.day, declared.person, declared.activity) == (day, "Paolo", "Cantine")
    row = await AbsenceDeclaration.objects().get(AbsenceDeclaration.id == declared.id)
    assert row is not None and row.status == "declared" and row.note == "fièvre"
    assert row.certificate_type == "image/png" and row.certificate_name.endswith(".png")
    actor = await staff_actor(setup)
    stored = await service.structure_certificate(actor, tmp_path, setup.structure.id, declared.id)
    assert stored.path.read_bytes() == PNG
    assert stored.path.is_relative_to(tmp_path)  # the documents directory, not static/
    # The absence page lists it, on its day and among the declared ones.
    [shown] = await service.booked_days(setup.family.id, setup.structure.id, now=late, day=day)
    assert shown.status is AbsenceStatus.DECLARED and shown.refusal
    [listed] = await service.declared_days(setup.family.id, setup.structure.id, now=late)
    assert listed.reservation_id == reservation_id
    assert await service.booked_days(setup.family.id, setup.structure.id, now=late) == [shown]
    # The family's data version moved (its cached scope is not served stale).
    assert await _versions(setup.family.id) != before
    # The calendar shows the day as "absence signalée".
    scope = await load_scope(setup.family.id)
    views = await day_views(scope, setup.people[0].id, [canteen_id], day, day, Basket(), late)
    assert views[(canteen_id, day)].view.state is DayState.ABSENCE
    # Declaring twice is refused; so is another family's reservation.
    with pytest.raises(AbsenceError, match="déjà signalée"):
        await service.declare(tmp_path, setup.family.id, None, reservation_id, "", now=late)
    with pytest.raises(service.AbsenceNotFound):
        await service.declare(tmp_path, setup.family.id + 1, None, reservation_id, "", now=late)
    # Staff see it in their list, decide it, and the family is e-mailed through the outbox.
    [waiting] = await service.waiting_absences(setup.structure.id, health=True)
    assert (waiting.id, waiting.has_certificate) == (declared.id, True)
    assert (waiting.note, waiting.certificate_name) == ("fièvre", row.certificate_name)
    # Without health access: neither the note nor the certificate's name, nor its bytes.
    [sealed] = await service.waiting_absences(setup.structure.id, health=False)
    assert (sealed.note, sealed.certificate_name, sealed.has_certificate) == ("", "", True)
    await StaffStructure.update({StaffStructure.health_access: False}).where(
        StaffStructure.staff == actor.staff_id
    )
    with pytest.raises(HealthDenied):
        await service.structure_certificate(actor, tmp_path, setup.structure.id, declared.id)
    await StaffStructure.update({StaffStructure.health_access: True}).where(
        StaffStructure.staff == actor.staff_id
    )
    decided = await service.decide(
        actor, setup.structure.id, declared.id, justified=True, base_url=BASE_URL
    )
    assert decided.status is AbsenceStatus.JUSTIFIED
    reservation = await Reservation.objects().get(Reservation.id == reservation_id)
    assert reservation is not None and reservation.absent and reservation.absence_justified
    [email] = await OutboxEmail.objects()
    assert email.to_addresses == "parent@example.fr"
    assert "Absence justifiée" in email.subject and "Paolo" in email.body_text
    assert await service.waiting_absences(setup.structure.id, health=True) == []
    with pytest.raises(AbsenceError, match="déjà été traitée"):
        await service.decide(
            actor, setup.structure.id, declared.id, justified=False, base_url=BASE_URL
        )
    assert await OutboxEmail.count() == 1


async def test_a_bad_certificate_leaves_nothing_behind(db: Database, tmp_path: Path) -> None:
    day = date(2026, 12, 9)
    setup, reservation_id, _ = await booked(day)
    with pytest.raises(AbsenceError, match="ni un PDF"):
        await service.declare(
            tmp_path, setup.family.id, None, reservation_id, "",
            service.Certificate("certificat.pdf", b"<html>not a pdf</html>"),
            now=local(day - timedelta(days=1), 20),
        )  # fmt: skip
    with pytest.raises(AbsenceError, match="passé"):  # a refused declaration keeps no file
        await service.declare(
            tmp_path, setup.family.id, None, reservation_id, "",
            service.Certificate("photo.png", PNG), now=local(day + timedelta(days=1), 8),
        )  # fmt: skip
    assert await AbsenceDeclaration.count() == 0
    assert files_under(tmp_path) == []


async def test_same_morning_follows_the_structure_setting(db: Database, tmp_path: Path) -> None:
    day = date(2026, 12, 9)
    setup, reservation_id, _ = await booked(day)
    actor = await staff_actor(setup)
    await service.save_policy(actor, setup.structure.id, AbsencePolicy(False, time(9, 0)))
    with pytest.raises(AbsenceError, match="le jour même"):
        await service.declare(
            tmp_path, setup.family.id, None, reservation_id, "", now=local(day, 7)
        )
    await service.save_policy(actor, setup.structure.id, AbsencePolicy(True, time(9, 0)))
    with pytest.raises(AbsenceError, match="avant 09:00"):
        await service.declare(
            tmp_path, setup.family.id, None, reservation_id, "", now=local(day, 9, 5)
        )
    await service.declare(tmp_path, setup.family.id, None, reservation_id, "", now=local(day, 8))
    assert await AbsenceDeclaration.count() == 1


async def test_a_justified_absence_already_posted_is_credited_back(
    db: Database, tmp_path: Path
) -> None:
    day = clock.local_today("Europe/Paris") - timedelta(days=3)
    setup, reservation_id, _ = await booked(day)
    declared = await service.declare(
        tmp_path, setup.family.id, None, reservation_id, "", now=local(day, 7, 30)
    )
    assert await post_consumptions(setup.structure.id, day) == 1  # the night posts the day
    actor = await staff_actor(setup)
    decided = await service.decide(
        actor, setup.structure.id, declared.id, justified=True, base_url=BASE_URL
    )
    assert decided.credited == 1
    entries = await LedgerEntry.objects().where(LedgerEntry.reservation == reservation_id)
    assert sorted(e.amount_cents for e in entries) == [-380, 380]
    assert await post_consumptions(setup.structure.id, day) == 0  # never credited twice


async def test_an_unjustified_absence_stays_billed(db: Database, tmp_path: Path) -> None:
    day = clock.local_today("Europe/Paris") - timedelta(days=3)
    setup, reservation_id, _ = await booked(day)
    declared = await service.declare(
        tmp_path, setup.family.id, None, reservation_id, "", now=local(day, 7, 30)
    )
    actor = await staff_actor(setup)
    decided = await service.decide(
        actor, setup.structure.id, declared.id, justified=False, base_url=BASE_URL
    )
    assert (decided.status, decided.credited) == (AbsenceStatus.UNJUSTIFIED, 0)
    assert await post_consumptions(setup.structure.id, day) == 1
    [entry] = await LedgerEntry.objects().where(LedgerEntry.reservation == reservation_id)
    assert entry.amount_cents == -380
    [email] = await OutboxEmail.objects()
    assert "non justifiée" in email.subject
