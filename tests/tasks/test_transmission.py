"""The nightly transmission service on both databases: once, whatever happens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from portal import clock
from portal.db import write_transaction
from portal.domain.notifications.service import queue_promotion_emails
from portal.domain.outbox.service import relay_due
from portal.domain.transmission import rules, service
from portal.domain.transmission.service import run_transmission
from portal.settings import Settings
from portal.tables import Family, Movement, OutboxEmail, Person, Reservation, Structure
from tests.conftest import Database, SmtpSwitch, mail_text
from tests.factories import (
    Night,
    add_movement,
    make_activity,
    make_days,
    make_family,
    make_structure,
    reserve_with_movement,
)


async def _reports() -> list[OutboxEmail]:
    return (
        await OutboxEmail.objects()
        .where(OutboxEmail.dedupe_key.like("report:%"))
        .order_by(OutboxEmail.id)
    )


async def _movement_rows(structure_id: int) -> list[dict[str, Any]]:
    return await (
        Movement.select(Movement.id, Movement.transmitted_at, Movement.reported_at)
        .where(Movement.family.structure == structure_id)
        .order_by(Movement.id)
    )


async def test_night_transmits_exports_reports_and_records(
    db: Database, mail_settings: Settings, night: Night, smtp_switch: SmtpSwitch
) -> None:
    report = await run_transmission(night.structure.id, settings=mail_settings)

    assert (report.movements_transmitted, report.reservations_transmitted) == (9, 8)
    assert (report.families_reported, report.emails_queued) == (4, 3)
    rows = await _movement_rows(night.structure.id)
    assert {r["transmitted_at"] for r in rows} == {report.transmitted_at}
    assert {r["reported_at"] for r in rows} == {report.transmitted_at}
    reservations = await Reservation.select(Reservation.transmitted_at).where(
        Reservation.family.structure == night.structure.id
    )
    assert {r["transmitted_at"] for r in reservations} == {report.transmitted_at}
    # The other structure's night is its own.
    others = await Movement.select(Movement.transmitted_at).where(
        Movement.family.structure != night.structure.id
    )
    assert [r["transmitted_at"] for r in others] == [None]
    structure = await Structure.objects().get(Structure.id == night.structure.id)
    assert structure is not None and structure.last_transmission_at == report.transmitted_at

    keys = {r.dedupe_key for r in await _reports()}
    last_ids = {
        name: max(m.id for m in night.movements if m.family == setup.family.id)
        for name, setup in night.families.items()
    }
    assert keys == {f"report:{night.families[n].family.id}:{last_ids[n]}" for n in night.reporting}
    await relay_due(mail_settings)
    messages = await smtp_switch.sink.wait_for(3)
    by_to = {m["To"]: mail_text(m).replace("\r\n", "\n") for m in messages}
    # Every address of every account of the family, once.
    dupont = by_to["jp@example.fr, jp.travail@example.fr, claire@example.fr"]
    assert dupont.startswith("M. DUPONT Jean-Paul\n\nVeuillez trouver ci-dessous")
    assert "sur la structure : Mairie de CarteVille." in dupont
    assert "- 5 mouvements sur vos demandes de réservations ont été reçus, dont :" in dupont
    assert "  * 4 nouvelles demandes de réservation\n  * 1 demande d'annulation" in dupont
    paolo_days = rules.short_dates(night.days[:2])
    assert f"DUPONT Paolo : {paolo_days}" in dupont
    assert "RESERVATIONS EN ATTENTE DE TRAITEMENT" in by_to["sophie@example.fr"]
    assert "1 réservation a été refusée" in by_to["luc@example.fr"]


async def test_export_lists_who_comes_per_activity_and_day(
    db: Database, mail_settings: Settings, night: Night
) -> None:
    report = await run_transmission(night.structure.id, settings=mail_settings)
    raw = report.export_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: accents right in spreadsheets
    assert report.export_path.parent == mail_settings.exports_dir / "carteville"
    lines = raw.decode("utf-8-sig").splitlines()
    day0, day1 = (d.strftime("%d/%m/%Y") for d in night.days[:2])
    assert lines[0] == "Activité;Date;Jour;Enfant;Famille;Arrivée;Départ"
    alsh = [line for line in lines if line.startswith("ALSH")]
    assert alsh == [
        f"ALSH 6-12 - Mercredi Journée;{day0};{rules.short_date(night.days[0])[:4]};"
        "DUPONT Paolo;DUPONT Jean-Paul;08:30;17:30",
        f"ALSH 6-12 - Mercredi Journée;{day1};{rules.short_date(night.days[1])[:4]};"
        "DUPONT Paolo;DUPONT Jean-Paul;08:30;17:30",
    ]  # neither the waitlisted, pending, refused ones nor the other structure's child
    canteen = [line.split(";")[3] for line in lines if line.startswith("Restauration")]
    assert canteen == ["BERNARD Zoé", "DURAND Tom"]


async def test_export_neutralises_names_a_spreadsheet_would_evaluate(
    db: Database, mail_settings: Settings, night: Night
) -> None:
    bernard = night.families["BERNARD"]
    await Family.update({Family.name: "=1+2"}).where(Family.id == bernard.family.id)
    await Person.update({Person.first_name: "+cmd"}).where(Person.id == bernard.people[0].id)
    report = await run_transmission(night.structure.id, settings=mail_settings)
    lines = report.export_path.read_bytes().decode("utf-8-sig").splitlines()
    [line] = [row for row in lines if "=1+2" in row]
    assert line.split(";")[3:5] == ["BERNARD +cmd", "'=1+2"]
    cells = [cell for row in lines for cell in row.split(";")]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)


async def test_a_night_interrupted_then_run_again_reports_each_family_once(
    db: Database,
    mail_settings: Settings,
    night: Night,
    smtp_switch: SmtpSwitch,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = service.report_email
    calls = 0

    def crash_on_the_second_family(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("process killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "report_email", crash_on_the_second_family)
    with pytest.raises(RuntimeError, match="process killed"):
        await run_transmission(night.structure.id, settings=mail_settings)
    first_rows = await _movement_rows(night.structure.id)
    first_at = {r["transmitted_at"] for r in first_rows}
    assert len(first_at) == 1 and None not in first_at
    assert len(await _reports()) == 1
    structure = await Structure.objects().get(Structure.id == night.structure.id)
    assert structure is not None and structure.last_transmission_at is None  # still due

    monkeypatch.setattr(service, "report_email", real)
    clock.shift(60)
    second = await run_transmission(night.structure.id, settings=mail_settings)
    assert second.movements_transmitted == 0
    # Transmitted once: the first run's instant stayed on every movement.
    assert {r["transmitted_at"] for r in await _movement_rows(night.structure.id)} == first_at
    assert len(await _reports()) == 3

    await relay_due(mail_settings)
    messages = await smtp_switch.sink.wait_for(3)
    assert sorted(m["To"].split(",")[0] for m in messages) == [
        "jp@example.fr",
        "luc@example.fr",
        "sophie@example.fr",
    ]


async def test_a_second_night_in_a_row_sends_nothing(
    db: Database, mail_settings: Settings, night: Night, smtp_switch: SmtpSwitch
) -> None:
    await run_transmission(night.structure.id, settings=mail_settings)
    await relay_due(mail_settings)
    await smtp_switch.sink.wait_for(3)
    clock.shift(86400)
    again = await run_transmission(night.structure.id, settings=mail_settings)
    assert (again.movements_transmitted, again.families_reported, again.emails_queued) == (0, 0, 0)
    assert (await relay_due(mail_settings)).sent == 0
    assert len(smtp_switch.sink.messages) == 3


async def test_later_movements_get_a_report_of_their_own(
    db: Database, mail_settings: Settings, night: Night
) -> None:
    await run_transmission(night.structure.id, settings=mail_settings)
    bernard = night.families["BERNARD"]
    [reservation] = await Reservation.objects().where(
        (Reservation.family == bernard.family.id) & (Reservation.status == "accepted")
    )
    clock.shift(3600)
    cancel = await add_movement(reservation, "cancel", "cancelled")
    clock.shift(3600)
    report = await run_transmission(night.structure.id, settings=mail_settings)
    assert (report.movements_transmitted, report.emails_queued) == (1, 1)
    latest = (await _reports())[-1]
    assert latest.dedupe_key == f"report:{bernard.family.id}:{cancel.id}"
    assert "- 1 mouvement sur vos demandes de réservations a été reçu, dont :" in latest.body_text
    assert "- 1 réservation a été annulée" in latest.body_text
    assert "refusée" not in latest.body_text


async def test_promotion_email_is_queued_once_per_movement(
    db: Database, mail_settings: Settings
) -> None:
    structure = await make_structure("Mairie de CarteVille", "carteville")
    alsh = await make_activity(structure, "ALSH 6-12 - Mercredi Journée")
    [day] = await make_days(alsh, datetime(2026, 12, 9).date())
    setup = await make_family(structure=structure, emails="jp@example.fr;autre@example.fr")
    reservation, booked = await reserve_with_movement(setup, setup.people[0], day, "waitlisted")
    promotion = await add_movement(reservation, "promotion", "accepted")

    async with write_transaction():  # as the booking service does
        assert await queue_promotion_emails([promotion.id, booked.id]) == 1
    async with write_transaction():
        assert await queue_promotion_emails([promotion.id]) == 0
    [email] = await OutboxEmail.objects()
    assert email.dedupe_key == f"promotion:{promotion.id}"
    assert email.to_addresses == "jp@example.fr;autre@example.fr"
    assert (
        "Bonne nouvelle : la réservation de Paolo pour « ALSH 6-12 - Mercredi Journée » du "
        "mer. 09/12 a été acceptée (elle était en liste d'attente)."
    ) in email.body_text
    assert "http://testserver.local/" in email.body_text
    assert "Paolo" in email.subject and "<p>" in email.body_html


async def test_due_structures_catch_up_a_missed_night(db: Database, night: Night) -> None:
    now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)  # 13:00 in Paris
    last_due = datetime(2026, 1, 15, 1, 0, tzinfo=UTC)
    # Never transmitted, and today's requests are after last night: not due.
    await Movement.update({Movement.created_at: last_due + timedelta(hours=1)}).where(
        Movement.id > 0
    )
    assert await service.due_structures(now) == []
    # A request waited past a nightly instant: the night was missed.
    await Movement.update({Movement.created_at: last_due - timedelta(hours=1)}).where(
        Movement.id == night.movements[0].id
    )
    assert await service.due_structures(now) == [(night.structure.id, last_due)]

    await Structure.update({Structure.last_transmission_at: last_due - timedelta(days=3)}).where(
        Structure.id == night.structure.id
    )
    assert await service.due_structures(now) == [(night.structure.id, last_due)]
    await Structure.update({Structure.last_transmission_at: last_due + timedelta(seconds=5)}).where(
        Structure.id == night.structure.id
    )
    assert await service.due_structures(now) == []
    # A structure whose night is at 23:00 ran yesterday at 23:00: not due before tonight.
    await Structure.update(
        {
            Structure.nightly_time: "23:00",
            Structure.last_transmission_at: datetime(2026, 1, 14, 22, 0, 1, tzinfo=UTC),
        }
    ).where(Structure.id == night.structure.id)
    assert await service.due_structures(now) == []
    assert await service.due_structures(now + timedelta(hours=10)) != []


async def test_consumptions_are_posted_up_to_yesterday(
    db: Database, mail_settings: Settings, night: Night, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, Any]] = []

    async def post(structure_id: int, until: Any) -> int:
        calls.append((structure_id, until))
        return 7

    monkeypatch.setattr(service.money, "post_consumptions", post)
    now = datetime(2026, 1, 15, 1, 0, 5, tzinfo=UTC)
    report = await run_transmission(night.structure.id, settings=mail_settings, now=now)
    assert calls == [(night.structure.id, datetime(2026, 1, 14).date())]
    assert report.consumptions_posted == 7
