"""The dashboard of a structure, its outbox, and the transmission run on demand."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from portal import clock
from portal.db import write_transaction
from portal.domain.staff import audit
from portal.domain.staff.service import Actor
from portal.domain.transmission import service as transmission
from portal.settings import Settings
from portal.tables import Activity, ActivityDay, Family, Movement, OutboxEmail, Reservation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TodayLine:
    activity_id: int
    activity: str
    is_open: bool | None  # None: no day today
    accepted: int
    capacity: int | None
    waitlisted: int


@dataclass(frozen=True)
class WaitingLine:
    activity_id: int
    activity: str
    pending: int
    waitlisted: int


@dataclass(frozen=True)
class Dashboard:
    today: date
    today_lines: list[TodayLine]
    waiting: list[WaitingLine]
    last_transmission_at: datetime | None
    failed_emails: int

    @property
    def pending_total(self) -> int:
        return sum(line.pending for line in self.waiting)

    @property
    def waitlisted_total(self) -> int:
        return sum(line.waitlisted for line in self.waiting)


async def dashboard(
    structure_id: int, today: date, last_transmission_at: datetime | None, is_admin: bool
) -> Dashboard:
    activities = await (
        Activity.select(Activity.id, Activity.name)
        .where((Activity.structure == structure_id) & Activity.active.eq(True))
        .order_by(Activity.position)
        .order_by(Activity.name)
    )
    days = {
        int(r["activity"]): r
        for r in await ActivityDay.select(
            ActivityDay.activity,
            ActivityDay.is_open,
            ActivityDay.accepted_count,
            ActivityDay.capacity,
            ActivityDay.waitlisted_count,
        ).where((ActivityDay.day == today) & (ActivityDay.activity._.structure == structure_id))
    }
    today_lines = []
    for a in activities:
        day = days.get(int(a["id"]))
        today_lines.append(
            TodayLine(
                int(a["id"]),
                str(a["name"]),
                None if day is None else bool(day["is_open"]),
                0 if day is None else int(day["accepted_count"]),
                None if day is None else day["capacity"],
                0 if day is None else int(day["waitlisted_count"]),
            )
        )
    counts: dict[tuple[int, str], int] = {}
    for r in await (
        Reservation.select(Reservation.status, Reservation.activity_day._.activity._.id)
        .where(
            (Reservation.activity_day._.activity._.structure == structure_id)
            & Reservation.status.is_in(["pending", "waitlisted"])
            & (Reservation.activity_day._.day >= today)
        )
        .output(nested=False)
    ):
        key = (int(r["activity_day.activity.id"]), str(r["status"]))
        counts[key] = counts.get(key, 0) + 1
    waiting = [
        WaitingLine(
            int(a["id"]),
            str(a["name"]),
            counts.get((int(a["id"]), "pending"), 0),
            counts.get((int(a["id"]), "waitlisted"), 0),
        )
        for a in activities
        if counts.get((int(a["id"]), "pending")) or counts.get((int(a["id"]), "waitlisted"))
    ]
    failed = [e for e in await outbox(structure_id, is_admin) if e.status == "failed"]
    return Dashboard(today, today_lines, waiting, last_transmission_at, len(failed))


# --- outbox -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxLine:
    id: int
    created_at: datetime
    to: str
    subject: str
    status: str
    attempts: int
    last_error: str
    sent_at: datetime | None

    @property
    def status_label(self) -> str:
        return {
            "pending": "En attente d'envoi",
            "sending": "Envoi en cours",
            "sent": "Envoyé",
            "failed": "Échec",
        }.get(self.status, self.status)


_COLUMNS = (
    OutboxEmail.id,
    OutboxEmail.dedupe_key,
    OutboxEmail.created_at,
    OutboxEmail.to_addresses,
    OutboxEmail.subject,
    OutboxEmail.status,
    OutboxEmail.attempts,
    OutboxEmail.last_error,
    OutboxEmail.sent_at,
)


def _outbox_line(r: dict[str, Any]) -> OutboxLine:
    return OutboxLine(
        int(r["id"]),
        r["created_at"],
        str(r["to_addresses"]),
        str(r["subject"]),
        str(r["status"]),
        int(r["attempts"]),
        str(r["last_error"] or ""),
        r["sent_at"],
    )


def _key_number(key: str, index: int) -> int | None:
    parts = key.split(":")
    return int(parts[index]) if len(parts) > index and parts[index].isdigit() else None


async def outbox(structure_id: int, is_admin: bool, limit: int = 100) -> list[OutboxLine]:
    """The last e-mails of the structure's families, newest first.

    The outbox has no structure column: a family's e-mails are told by their keys (reports
    ``report:{family}:...``, promotions ``promotion:{movement}``). Administrators see every
    e-mail, password resets included.
    """
    if is_admin:
        rows = await (
            OutboxEmail.select(*_COLUMNS).order_by(OutboxEmail.id, ascending=False).limit(limit)
        )
        return [_outbox_line(r) for r in rows]
    rows = await (
        OutboxEmail.select(*_COLUMNS)
        .where(OutboxEmail.dedupe_key.like("report:%") | OutboxEmail.dedupe_key.like("promotion:%"))
        .order_by(OutboxEmail.id, ascending=False)
        .limit(20 * limit)
    )
    families = {
        int(r["id"]) for r in await Family.select(Family.id).where(Family.structure == structure_id)
    }
    movement_ids = [
        n
        for r in rows
        if str(r["dedupe_key"]).startswith("promotion:")
        and (n := _key_number(str(r["dedupe_key"]), 1)) is not None
    ]
    movement_family: dict[int, int] = {}
    if movement_ids:
        movement_family = {
            int(m["id"]): int(m["family"])
            for m in await Movement.select(Movement.id, Movement.family).where(
                Movement.id.is_in(movement_ids)
            )
        }
    found = []
    for r in rows:
        key = str(r["dedupe_key"])
        if key.startswith("report:"):
            family = _key_number(key, 1)
        else:
            movement = _key_number(key, 1)
            family = movement_family.get(movement) if movement is not None else None
        if family in families:
            found.append(_outbox_line(r))
        if len(found) >= limit:
            break
    return found


# --- transmission on demand ---------------------------------------------------------------


@dataclass(frozen=True)
class TransmissionRun:
    summary: str
    ok: bool = True


async def run_transmission_now(
    actor: Actor, structure_id: int, settings: Settings
) -> TransmissionRun:
    """Run the nightly transmission of the structure now."""
    try:
        report = await transmission.run_transmission(structure_id, settings=settings)
    except Exception as exc:  # reported to the agent; the next run picks everything up again
        log.exception("transmission à la demande de la structure %s", structure_id)
        return TransmissionRun(f"La transmission a échoué ({type(exc).__name__}).", False)
    summary = report.summary()
    # The run commits in several steps of its own; the audit entry records that it ran.
    async with write_transaction():
        await audit.record(
            actor,
            "transmission.run",
            structure_id=structure_id,
            table="structure",
            target_id=structure_id,
            after={"summary": summary, "at": clock.utcnow()},
        )
    return TransmissionRun(summary)
