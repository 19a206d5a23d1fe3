"""The dashboard of a structure, its outbox, and the transmission run on demand."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from portal import clock
from portal.db import is_sqlite, write_transaction
from portal.domain.reservation_status import WAITING_STATUSES, ReservationStatus
from portal.domain.staff import audit
from portal.domain.staff.service import Actor
from portal.domain.transmission import service as transmission
from portal.settings import Settings
from portal.tables import Activity, ActivityDay, OutboxEmail, Reservation

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
    # Counted by the database: one row per (activity, status), whatever the number of
    # requests.
    counts: dict[tuple[int, ReservationStatus], int] = {
        (int(r["activity"]), ReservationStatus(r["status"])): int(r["n"])
        for r in await Reservation.raw(
            "SELECT d.activity, r.status, COUNT(*) AS n FROM reservation r"
            " JOIN activity_day d ON d.id = r.activity_day"
            " JOIN activity a ON a.id = d.activity"
            " WHERE a.structure = {} AND r.status IN ({}, {}) AND d.day >= {}"
            " GROUP BY d.activity, r.status",
            structure_id,
            *WAITING_STATUSES,
            today,
        )
    }
    waiting = [
        WaitingLine(
            int(a["id"]),
            str(a["name"]),
            counts.get((int(a["id"]), ReservationStatus.PENDING), 0),
            counts.get((int(a["id"]), ReservationStatus.WAITLISTED), 0),
        )
        for a in activities
        if any(counts.get((int(a["id"]), status)) for status in WAITING_STATUSES)
    ]
    failed = await count_outbox(structure_id, is_admin, status="failed")
    return Dashboard(today, today_lines, waiting, last_transmission_at, failed)


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


def _structure_filter() -> str:
    """SQL telling a structure's e-mails by their keys (the outbox has no structure column):
    reports ``report:{family}:...``, promotions ``promotion:{movement}``. One placeholder
    pair: the structure id, twice."""
    if is_sqlite():
        report_family = (
            "CAST(substr(o.dedupe_key, 8, instr(substr(o.dedupe_key, 8), ':') - 1) AS INTEGER)"
        )
        promotion_movement = "CAST(substr(o.dedupe_key, 11) AS INTEGER)"
    else:
        part = "split_part(o.dedupe_key, ':', 2)"
        report_family = f"(CASE WHEN {part} ~ '^[0-9]+$' THEN {part}::bigint END)"
        promotion_movement = report_family
    return (
        f"((o.dedupe_key LIKE 'report:%' AND {report_family} IN"  # noqa: S608
        " (SELECT f.id FROM family f WHERE f.structure = {}))"
        f" OR (o.dedupe_key LIKE 'promotion:%' AND {promotion_movement} IN"
        " (SELECT m.id FROM movement m JOIN family f ON f.id = m.family"
        " WHERE f.structure = {})))"
    )


def _outbox_where(structure_id: int, is_admin: bool, status: str | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    if not is_admin:
        clauses.append(_structure_filter())
        args += [structure_id, structure_id]
    if status is not None:
        clauses.append("o.status = {}")
        args.append(status)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


async def count_outbox(structure_id: int, is_admin: bool, *, status: str | None = None) -> int:
    """How many e-mails `outbox` can list (with this status), counted by the database."""
    where, args = _outbox_where(structure_id, is_admin, status)
    rows = await OutboxEmail.raw(f"SELECT COUNT(*) AS n FROM outbox_email o{where}", *args)  # noqa: S608
    return int(rows[0]["n"]) if rows else 0


async def outbox(
    structure_id: int, is_admin: bool, limit: int = 100, offset: int = 0
) -> list[OutboxLine]:
    """A page of the structure's families' e-mails, newest first.

    Administrators see every e-mail, password resets included.
    """
    where, args = _outbox_where(structure_id, is_admin, None)
    rows = await OutboxEmail.raw(
        "SELECT o.id, o.dedupe_key, o.created_at, o.to_addresses, o.subject, o.status,"  # noqa: S608
        f" o.attempts, o.last_error, o.sent_at FROM outbox_email o{where}"
        " ORDER BY o.id DESC LIMIT {} OFFSET {}",
        *args,
        limit,
        offset,
    )
    return [_outbox_line(r) for r in rows]


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
    summary = report.summary(with_path=False)
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
