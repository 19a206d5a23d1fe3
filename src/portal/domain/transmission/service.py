"""The nightly transmission of a structure, safe to interrupt and to run again.

1. Movements not yet transmitted are claimed (transmitted_at set with a conditional
   UPDATE) with their reservations, in one transaction.
2. The export of the night is (re)written: who comes, per activity and day.
3. Each family with transmitted, unreported movements gets its report: in one transaction
   per family the movements are claimed (reported_at) and the e-mail queued in the outbox
   under `report:{family_id}:{last movement id}`.
4. Consumption posting for the days that ended, when the money service exists.
5. `Structure.last_transmission_at`, last: an interrupted night is still due.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from portal import clock
from portal.db import collect_after_commit, write_transaction
from portal.domain.exports.tabular import Table, write_csv_file
from portal.domain.notifications.service import family_addresses, report_email
from portal.domain.outbox.service import queue_email
from portal.domain.transmission import rules
from portal.settings import Settings
from portal.tables import Movement, Reservation, Structure

log = logging.getLogger(__name__)

MONEY_SERVICE = "portal.domain.money.service"
_CHUNK = 500


class StructureNotFound(LookupError):
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
    # None when the money service (consumption posting) is not installed.
    consumptions_posted: int | None

    def summary(self) -> str:
        posted = (
            "comptabilisation non disponible"
            if self.consumptions_posted is None
            else f"{self.consumptions_posted} consommation(s) comptabilisée(s)"
        )
        return (
            f"{self.structure_name} : {self.movements_transmitted} mouvement(s) transmis, "
            f"{self.reservations_transmitted} réservation(s), {self.families_reported} "
            f"compte(s) rendu(s) ({self.emails_queued} e-mail(s)), {posted}, "
            f"export {self.export_path}"
        )


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


async def run_transmission(
    structure_id: int, *, settings: Settings | None = None, now: datetime | None = None
) -> TransmissionReport:
    """Transmit, export and report the structure's night; a replay does nothing twice."""
    from portal.tasks.runtime import current_settings

    settings = settings or current_settings()
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
    """Mark the structure's untransmitted movements, and their reservations, transmitted."""
    async with write_transaction():
        waiting = await Movement.select(Movement.id).where(
            (Movement.family.structure == structure_id)
            & Movement.transmitted_at.is_null()
            & (Movement.created_at <= now)
        )
        claimed: list[dict[str, Any]] = []
        for chunk in _chunks([int(r["id"]) for r in waiting]):
            claimed += await (
                Movement.update({Movement.transmitted_at: now})
                .where(Movement.id.is_in(chunk) & Movement.transmitted_at.is_null())
                .returning(Movement.id, Movement.reservation)
            )
        reservation_ids = sorted({int(r["reservation"]) for r in claimed})
        for chunk in _chunks(reservation_ids):
            await Reservation.update({Reservation.transmitted_at: now}).where(
                Reservation.id.is_in(chunk)
            )
    return len(claimed), len(reservation_ids)


# --- export ----------------------------------------------------------------------------------


def export_path(settings: Settings, structure: Structure, night: date) -> Path:
    return settings.exports_dir / structure.slug / f"transmission-{night.isoformat()}.csv"


async def write_export(settings: Settings, structure: Structure, now: datetime) -> Path:
    """Who comes, per activity and day, from the night's local date on (CSV, UTF-8 BOM, ;)."""
    tz = ZoneInfo(structure.timezone or "Europe/Paris")
    night = now.astimezone(tz).date()
    rows = await (
        Reservation.select(
            Reservation.arrival,
            Reservation.departure,
            Reservation.person.first_name,
            Reservation.person.last_name,
            Reservation.family.name,
            Reservation.activity_day.day,
            Reservation.activity_day._.activity.name,
            Reservation.activity_day._.activity.position,
            Reservation.activity_day._.activity.start_time,
            Reservation.activity_day._.activity.end_time,
        )
        .where(
            (Reservation.activity_day._.activity.structure == structure.id)
            & (Reservation.status == rules.ACCEPTED)
            & (Reservation.activity_day.day >= night)
        )
        .output(nested=False)
    )
    attendances = [
        rules.Attendance(
            activity_name=r["activity_day.activity.name"],
            activity_position=int(r["activity_day.activity.position"] or 0),
            day=r["activity_day.day"],
            person_first_name=r["person.first_name"],
            person_last_name=r["person.last_name"],
            family_name=r["family.name"],
            arrival=r["arrival"] or r["activity_day.activity.start_time"],
            departure=r["departure"] or r["activity_day.activity.end_time"],
        )
        for r in rows
    ]
    path = export_path(settings, structure, night)
    table = Table(rules.EXPORT_HEADER, rules.export_rows(attendances))
    await asyncio.to_thread(write_csv_file, path, table)
    return path


# --- reports ---------------------------------------------------------------------------------


async def report_families(
    settings: Settings, structure: Structure, now: datetime
) -> tuple[int, int]:
    """One report per family with transmitted, unreported movements; returns (families,
    e-mails queued). Each family is its own transaction: an interruption loses nothing."""
    rows = await (
        Movement.select(Movement.family)
        .where(
            (Movement.family.structure == structure.id)
            & Movement.transmitted_at.is_not_null()
            & Movement.reported_at.is_null()
        )
        .distinct()
    )
    families = emails = 0
    for family_id in sorted({int(r["family"]) for r in rows}):
        queued = await report_family(settings, structure, family_id, now)
        if queued is not None:
            families += 1
            emails += int(queued)
    return families, emails


async def report_family(
    settings: Settings, structure: Structure, family_id: int, now: datetime
) -> bool | None:
    """Claim the family's unreported movements and queue their report, atomically.

    Returns None when another run had claimed them already, else whether an e-mail was
    queued (False: the family has no address, or the report was queued before).
    """
    async with write_transaction():
        claimed = await (
            Movement.update({Movement.reported_at: now})
            .where(
                (Movement.family == family_id)
                & Movement.transmitted_at.is_not_null()
                & Movement.reported_at.is_null()
            )
            .returning(Movement.id)
        )
        if not claimed:
            return None
        movements = await load_report_movements([int(r["id"]) for r in claimed])
        report = rules.build_family_report(movements)
        addresses = (await family_addresses([family_id]))[family_id]
        if not addresses:
            log.info("compte rendu : la famille %s n'a pas d'adresse e-mail", family_id)
            return False
        family_name = await _family_name(family_id)
        email = report_email(
            report,
            family_name=family_name,
            structure_name=structure.name,
            base_url=settings.base_url,
        )
        return await queue_email(
            f"report:{family_id}:{report.last_movement_id}",
            addresses,
            email.subject,
            email.text,
            email.html,
        )


async def _family_name(family_id: int) -> str:
    from portal.tables import Family

    row = await Family.select(Family.name).where(Family.id == family_id).first()
    return str(row["name"]) if row else ""


async def load_report_movements(movement_ids: list[int]) -> list[rules.ReportMovement]:
    found: list[rules.ReportMovement] = []
    for chunk in _chunks(sorted(movement_ids)):
        rows = await (
            Movement.select(
                Movement.id,
                Movement.kind,
                Movement.outcome,
                Movement.reservation,
                Movement.reservation._.person.first_name,
                Movement.reservation._.person.last_name,
                Movement.reservation._.activity_day.day,
                Movement.reservation._.activity_day._.activity.id,
                Movement.reservation._.activity_day._.activity.name,
                Movement.reservation._.activity_day._.activity.position,
            )
            .where(Movement.id.is_in(chunk))
            .output(nested=False)
        )
        found += [
            rules.ReportMovement(
                movement_id=int(r["id"]),
                reservation_id=int(r["reservation"]),
                kind=r["kind"],
                outcome=r["outcome"],
                person_first_name=r["reservation.person.first_name"],
                person_last_name=r["reservation.person.last_name"],
                activity_id=int(r["reservation.activity_day.activity.id"]),
                activity_name=r["reservation.activity_day.activity.name"],
                activity_position=int(r["reservation.activity_day.activity.position"] or 0),
                day=r["reservation.activity_day.day"],
            )
            for r in rows
        ]
    return found


# --- consumption posting ---------------------------------------------------------------------


def _money_poster() -> Callable[[int, date], Awaitable[int]] | None:
    """`post_consumptions` of the money service, when that service is installed."""
    try:
        spec = importlib.util.find_spec(MONEY_SERVICE)
    except ModuleNotFoundError:  # the parent package portal.domain.money is missing
        return None
    if spec is None:
        return None
    module = importlib.import_module(MONEY_SERVICE)
    poster = getattr(module, "post_consumptions", None)
    return cast(Callable[[int, date], Awaitable[int]], poster) if callable(poster) else None


async def post_consumptions(structure: Structure, now: datetime) -> int | None:
    """Post the consumptions of the days that ended (up to yesterday, local time)."""
    poster = _money_poster()
    if poster is None:
        return None
    yesterday = now.astimezone(ZoneInfo(structure.timezone or "Europe/Paris")).date()
    yesterday -= timedelta(days=1)
    return int(await poster(structure.id, yesterday))


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
            now, rules.nightly_time(row["nightly_time"]), row["timezone"] or "Europe/Paris"
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
