"""The nightly transmission of a structure, safe to interrupt and to run again.

1. Movements not yet transmitted are claimed (transmitted_at set with a conditional
   `UPDATE ... RETURNING`) with their reservations, by batches, one transaction each.
2. The export of the night is (re)written: who comes, per activity and day.
3. Each family with transmitted, unreported movements gets its report: by batches of
   families, their movements loaded in one query, the reports rendered, then one
   transaction claims the movements (reported_at) and writes the outbox rows under
   `report:{family_id}:{last movement id}` (the key makes a replay queue nothing twice).
4. Consumption posting for the days that ended, when the money service exists.
5. `Structure.last_transmission_at`, last: an interrupted night is still due.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from portal import clock
from portal.db import collect_after_commit, write_transaction
from portal.domain import errors
from portal.domain.channels.rules import Kind
from portal.domain.exports.tabular import Table, write_csv_file
from portal.domain.exports.xlsx import write_xlsx_file
from portal.domain.money import service as money
from portal.domain.notifications.service import family_addresses, report_email
from portal.domain.outbox.service import QueuedEmail, queue_emails
from portal.domain.paging.rules import count_label
from portal.domain.push.service import PushNote, queue_notes
from portal.domain.reservation_status import ReservationStatus
from portal.domain.transmission import rules
from portal.settings import Settings
from portal.tables import Movement, Reservation, Structure

log = logging.getLogger(__name__)

# Movements claimed per transmission transaction, families per report batch.
TRANSMIT_BATCH = 5_000
REPORT_BATCH = 250


class StructureNotFound(errors.NotFound):
    """No structure has this id."""


@dataclass(frozen=True)
class TransmissionReport:
    structure_id: int
    structure_name: str
    transmitted_at: datetime
    movements_transmitted: int
    reservations_transmitted: int
    families_reported: int
    emails_queued: int
    export_path: Path
    consumptions_posted: int

    def summary(self, with_path: bool = True) -> str:
        """In French, plurals agreed; the export's server path only for operators (CLI,
        logs), never on a page."""
        parts = [
            count_label(self.movements_transmitted, "mouvement transmis", "mouvements transmis"),
            count_label(self.reservations_transmitted, "réservation", "réservations"),
            count_label(self.families_reported, "compte rendu", "comptes rendus")
            + f" ({count_label(self.emails_queued, 'e-mail', 'e-mails')})",
            count_label(
                self.consumptions_posted,
                "consommation comptabilisée",
                "consommations comptabilisées",
            ),
        ]
        text = f"{self.structure_name} : {', '.join(parts)}"
        return f"{text}, export {self.export_path}" if with_path else text


async def run_transmission(
    structure_id: int, *, settings: Settings, now: datetime | None = None
) -> TransmissionReport:
    """Transmit, export and report the structure's night; a replay does nothing twice."""
    now = now or clock.utcnow()
    structure = await Structure.objects().get(Structure.id == structure_id)
    if structure is None:
        raise StructureNotFound(structure_id)
    movements, reservations = await transmit_movements(structure_id, now)
    export_path = await write_export(settings, structure, now)
    # One family per transaction, one relay woken for the whole night.
    async with collect_after_commit():
        families, emails = await report_families(settings, structure, now)
    posted = await post_consumptions(structure, now)
    await Structure.update({Structure.last_transmission_at: now}).where(
        Structure.id == structure_id
    )
    report = TransmissionReport(
        structure_id=structure_id,
        structure_name=structure.name,
        transmitted_at=now,
        movements_transmitted=movements,
        reservations_transmitted=reservations,
        families_reported=families,
        emails_queued=emails,
        export_path=export_path,
        consumptions_posted=posted,
    )
    log.info("transmission %s", report.summary())
    return report


async def transmit_movements(structure_id: int, now: datetime) -> tuple[int, int]:
    """Mark the structure's untransmitted movements, and their reservations, transmitted.

    Set-based: each batch is one `UPDATE ... RETURNING` on the movements and one UPDATE of
    their reservations, in a short write transaction of its own (web writers interleave).
    """
    movements = 0
    reservations: set[int] = set()
    while True:
        async with write_transaction():
            claimed = await Movement.raw(
                "UPDATE movement SET transmitted_at = {} WHERE transmitted_at IS NULL"
                " AND id IN (SELECT m.id FROM movement m JOIN family f ON f.id = m.family"
                " WHERE f.structure = {} AND m.transmitted_at IS NULL AND m.created_at <= {}"
                " ORDER BY m.id LIMIT {}) RETURNING id, reservation",
                now,
                structure_id,
                now,
                TRANSMIT_BATCH,
            )
            if not claimed:
                break
            batch = sorted({int(r["reservation"]) for r in claimed})
            await Reservation.raw(
                f"UPDATE reservation SET transmitted_at = {{}} WHERE id IN ({sql_ids(batch)})",  # noqa: S608
                now,
            )
        movements += len(claimed)
        reservations.update(batch)
    return movements, len(reservations)


def sql_ids(ids: Iterable[int]) -> str:
    """An SQL list of integers, inlined: ids come from the database and are forced to int,
    and one statement then serves any number of them on both engines."""
    return ",".join(str(int(i)) for i in ids) or "NULL"


# --- export ----------------------------------------------------------------------------------


def export_path(settings: Settings, structure: Structure, night: date) -> Path:
    return settings.exports_dir / structure.slug / f"transmission-{night.isoformat()}.csv"


async def write_export(settings: Settings, structure: Structure, now: datetime) -> Path:
    """Who comes, per activity and day, from the night's local date on (CSV, UTF-8 BOM, ;)."""
    tz = clock.zone(structure.timezone)
    night = now.astimezone(tz).date()
    rows = await Reservation.raw(
        "SELECT r.arrival, r.departure, p.first_name, p.last_name, f.name AS family_name,"
        " d.day, a.name AS activity_name, a.position, a.start_time, a.end_time"
        " FROM reservation r JOIN person p ON p.id = r.person"
        " JOIN family f ON f.id = r.family"
        " JOIN activity_day d ON d.id = r.activity_day"
        " JOIN activity a ON a.id = d.activity"
        " WHERE a.structure = {} AND r.status = {} AND d.day >= {}",
        structure.id,
        ReservationStatus.ACCEPTED,
        night,
    )
    attendances = [
        rules.Attendance(
            activity_name=r["activity_name"],
            activity_position=int(r["position"] or 0),
            day=r["day"],
            person_first_name=r["first_name"],
            person_last_name=r["last_name"],
            family_name=r["family_name"],
            arrival=r["arrival"] or r["start_time"],
            departure=r["departure"] or r["end_time"],
        )
        for r in rows
    ]
    path = export_path(settings, structure, night)
    table = Table(rules.EXPORT_HEADER, rules.export_rows(attendances))
    await asyncio.to_thread(write_csv_file, path, table)
    # The same export as XLSX beside it: typed dates and times, frozen header.
    typed = Table(rules.EXPORT_HEADER, rules.export_cells(attendances))
    await asyncio.to_thread(write_xlsx_file, path.with_suffix(".xlsx"), typed, "Transmission")
    return path


# --- reports ---------------------------------------------------------------------------------


@dataclass
class _Prepared:
    """A family's report made ready before its movements are claimed."""

    family_id: int
    movements: list[rules.ReportMovement]
    # None: the family has no address, its movements are claimed without an e-mail.
    email: QueuedEmail | None


async def report_families(
    settings: Settings, structure: Structure, now: datetime
) -> tuple[int, int]:
    """One report per family with transmitted, unreported movements; returns (families,
    e-mails queued).

    Families go by batches of REPORT_BATCH: their movements loaded in one query, reports
    rendered, then one write transaction claims the movements (reported_at) and writes the
    outbox rows together. An interruption loses nothing and repeats nothing: a family's
    claim and its e-mail commit together.
    """
    rows = await Movement.raw(
        "SELECT DISTINCT m.family FROM movement m JOIN family f ON f.id = m.family"
        " WHERE f.structure = {} AND m.transmitted_at IS NOT NULL AND m.reported_at IS NULL",
        structure.id,
    )
    family_ids = sorted(int(r["family"]) for r in rows)
    families = emails = 0
    for start in range(0, len(family_ids), REPORT_BATCH):
        batch = family_ids[start : start + REPORT_BATCH]
        reported, queued = await _report_batch(settings, structure, batch, now)
        families += reported
        emails += queued
    return families, emails


async def _report_batch(
    settings: Settings, structure: Structure, family_ids: list[int], now: datetime
) -> tuple[int, int]:
    movements = await load_unreported_movements(family_ids)
    addresses = await family_addresses(family_ids, Kind.BOOKING_REPORT)
    names = await _family_names(family_ids)
    prepared: list[_Prepared] = []
    try:
        for family_id in family_ids:
            found = movements.get(family_id)
            if not found:
                continue
            email = None
            if addresses[family_id]:
                name = names.get(family_id, "")
                email = _render(settings, structure, family_id, name, found, addresses)
            prepared.append(_Prepared(family_id, found, email))
    except Exception:
        # What was rendered before the failure is recorded, then the night stops (and
        # stays due): a broken report never costs the families before it their e-mail.
        await _record_reports(settings, structure, prepared, names, addresses, now)
        raise
    return await _record_reports(settings, structure, prepared, names, addresses, now)


def _render(
    settings: Settings,
    structure: Structure,
    family_id: int,
    family_name: str,
    movements: list[rules.ReportMovement],
    addresses: dict[int, list[str]],
) -> QueuedEmail:
    report = rules.build_family_report(movements)
    email = report_email(
        report,
        family_name=family_name,
        structure_name=structure.name,
        base_url=settings.base_url,
    )
    return QueuedEmail(
        dedupe_key=f"report:{family_id}:{report.last_movement_id}",
        to=addresses[family_id],
        subject=email.subject,
        text=email.text,
        html=email.html,
    )


async def _record_reports(
    settings: Settings,
    structure: Structure,
    prepared: list[_Prepared],
    names: dict[int, str],
    addresses: dict[int, list[str]],
    now: datetime,
) -> tuple[int, int]:
    """Claim the prepared families' movements and queue their reports, in one transaction.

    A family whose movements another run claimed meanwhile is skipped (that run reports
    them); one that got only part of them is reported on that part.
    """
    if not prepared:
        return 0, 0
    wanted = [m.movement_id for p in prepared for m in p.movements]
    async with write_transaction():
        claimed = await Movement.raw(
            "UPDATE movement SET reported_at = {} WHERE reported_at IS NULL"  # noqa: S608
            f" AND id IN ({sql_ids(wanted)}) RETURNING id",
            now,
        )
        got = {int(r["id"]) for r in claimed}
        families = 0
        to_queue: list[QueuedEmail] = []
        pushes: list[PushNote] = []
        for p in prepared:
            mine = [m for m in p.movements if m.movement_id in got]
            if not mine:
                continue
            families += 1
            pushes.append(_push_note(p.family_id, mine))
            if p.email is None:
                log.info("compte rendu : la famille %s n'a pas d'adresse e-mail", p.family_id)
                continue
            if len(mine) == len(p.movements):
                to_queue.append(p.email)
            else:
                name = names.get(p.family_id, "")
                to_queue.append(_render(settings, structure, p.family_id, name, mine, addresses))
        emails = await queue_emails(to_queue)
        await queue_notes(Kind.BOOKING_REPORT, pushes)
    return families, emails


def _push_note(family_id: int, movements: list[rules.ReportMovement]) -> PushNote:
    report = rules.build_family_report(movements)
    summary = " ; ".join(report.outcome_lines) or (report.requests_line or "")
    return PushNote(
        key=f"report:{family_id}:{report.last_movement_id}",
        title="Compte rendu de vos réservations",
        body=summary,
        url="/suivi",
        family_id=family_id,
    )


async def _family_names(family_ids: list[int]) -> dict[int, str]:
    rows = await Movement.raw(
        f"SELECT id, name FROM family WHERE id IN ({sql_ids(family_ids)})"  # noqa: S608
    )
    return {int(r["id"]): str(r["name"]) for r in rows}


_REPORT_MOVEMENTS = (
    "SELECT m.id, m.family, m.kind, m.outcome, m.reservation, p.first_name, p.last_name,"
    " d.day, a.id AS activity_id, a.name AS activity_name, a.position, m.actor"
    " FROM movement m JOIN reservation r ON r.id = m.reservation"
    " JOIN person p ON p.id = r.person"
    " JOIN activity_day d ON d.id = r.activity_day"
    " JOIN activity a ON a.id = d.activity"
)


def _report_movement(r: dict[str, Any]) -> rules.ReportMovement:
    return rules.ReportMovement(
        movement_id=int(r["id"]),
        reservation_id=int(r["reservation"]),
        kind=r["kind"],
        outcome=r["outcome"],
        person_first_name=r["first_name"],
        person_last_name=r["last_name"],
        activity_id=int(r["activity_id"]),
        activity_name=r["activity_name"],
        activity_position=int(r["position"] or 0),
        day=r["day"],
        actor=str(r.get("actor") or "parent"),
    )


async def load_unreported_movements(
    family_ids: list[int],
) -> dict[int, list[rules.ReportMovement]]:
    """The transmitted, unreported movements of these families, in one query."""
    rows = await Movement.raw(
        f"{_REPORT_MOVEMENTS} WHERE m.family IN ({sql_ids(family_ids)})"
        " AND m.transmitted_at IS NOT NULL AND m.reported_at IS NULL ORDER BY m.id"
    )
    found: dict[int, list[rules.ReportMovement]] = {}
    for r in rows:
        found.setdefault(int(r["family"]), []).append(_report_movement(r))
    return found


# --- consumption posting ---------------------------------------------------------------------


async def post_consumptions(structure: Structure, now: datetime) -> int:
    """Post the consumptions of the days that ended (up to yesterday, local time)."""
    yesterday = now.astimezone(clock.zone(structure.timezone)).date()
    yesterday -= timedelta(days=1)
    return await money.post_consumptions(structure.id, yesterday)


# --- when ------------------------------------------------------------------------------------


async def due_structures(now: datetime | None = None) -> list[tuple[int, datetime]]:
    """Structures whose night is due, with the instant it was due (UTC).

    A night is due when `last_transmission_at` is older than the last nightly instant
    (a night missed while the machine was off included). A structure never transmitted is
    due when one of its movements has waited past a nightly instant.
    """
    now = now or clock.utcnow()
    due = []
    for row in await Structure.select(
        Structure.id,
        Structure.timezone,
        Structure.nightly_time,
        Structure.last_transmission_at,
    ).order_by(Structure.id):
        last_due = rules.last_due_instant(
            now, rules.nightly_time(row["nightly_time"]), row["timezone"] or clock.DEFAULT_TIMEZONE
        )
        if row["last_transmission_at"] is None:
            waiting = await Movement.exists().where(
                (Movement.family.structure == row["id"])
                & Movement.transmitted_at.is_null()
                & (Movement.created_at <= last_due)
            )
            if waiting:
                due.append((int(row["id"]), last_due))
        elif rules.is_due(row["last_transmission_at"], last_due):
            due.append((int(row["id"]), last_due))
    return due
