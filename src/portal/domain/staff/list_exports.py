"""The staff lists as export tables (CSV and XLSX through portal.domain.exports): what the
page's filters show, every row rather than one page of them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from portal.clock import as_date
from portal.domain.exports.tabular import Amount, Table
from portal.domain.money import rules as money_rules
from portal.domain.money.service import PAYMENT_MODES
from portal.domain.reservation_status import LIVE_STATUSES, STATUS_LABELS, ReservationStatus
from portal.domain.staff import families as family_service
from portal.domain.staff.attendance import AttendanceList
from portal.domain.staff.decisions import DayRequests
from portal.tables import LedgerEntry, Reservation

# Beyond this, an export is a job for the database, not for a browser download.
MAX_ROWS = 50_000


async def families_table(structure_id: int, query: str) -> Table:
    rows = await family_service.families(structure_id, query, limit=MAX_ROWS)
    return Table(
        ("Famille", "Tranche", "Enfants", "Identifiants", "Dossier complet"),
        [(f.name, f.band, f.people, ", ".join(f.logins), f.file_complete) for f in rows],
    )


def attendance_table(activity: str, listing: AttendanceList) -> Table:
    return Table(
        ("Date", "Activité", "Enfant", "Famille", "Arrivée", "Départ", "Présence"),
        [
            (
                listing.day,
                activity,
                line.person,
                line.family,
                line.arrival,
                line.departure,
                line.presence.label,
            )
            for line in listing.lines
        ],
    )


def decisions_table(groups: Sequence[DayRequests]) -> Table:
    return Table(
        ("Date", "Activité", "Enfant", "Famille", "État", "Demandée le", "Arrivée", "Départ"),
        [
            (
                group.day,
                group.activity,
                r.person,
                r.family,
                r.status_label,
                r.confirmed_at.date(),
                r.arrival,
                r.departure,
            )
            for group in groups
            for r in group.requests
        ],
    )


async def payments_table(structure_id: int, first: date, last: date) -> Table:
    """Payments (credits with a mode) received between two dates, oldest first."""
    rows = await (
        LedgerEntry.select(
            LedgerEntry.entry_date,
            LedgerEntry.family._.name,
            LedgerEntry.wallet._.wallet_type._.name,
            LedgerEntry.payment_mode,
            LedgerEntry.piece_number,
            LedgerEntry.payer_name,
            LedgerEntry.bank_name,
            LedgerEntry.amount_cents,
        )
        .where(
            (LedgerEntry.family._.structure == structure_id)
            & (LedgerEntry.kind == money_rules.CREDIT)
            & LedgerEntry.payment_mode.is_not_null()
            & (LedgerEntry.entry_date >= first)
            & (LedgerEntry.entry_date <= last)
        )
        .order_by(LedgerEntry.entry_date)
        .order_by(LedgerEntry.id)
        .limit(MAX_ROWS)
    )
    return Table(
        ("Date", "Famille", "Porte-monnaie", "Mode", "N° de pièce", "Payeur", "Banque",
         "Montant"),
        [
            (as_date(r["entry_date"]), r["family.name"], r["wallet.wallet_type.name"],
             PAYMENT_MODES.get(str(r["payment_mode"]), str(r["payment_mode"])),
             r["piece_number"], r["payer_name"], r["bank_name"], Amount(int(r["amount_cents"])))
            for r in rows
        ],
    )  # fmt: skip


async def bookings_table(
    structure_id: int, first: date, last: date, activity_id: int | None
) -> Table:
    """The live bookings (accepted, waitlisted, awaiting a decision) of the structure's
    activities between two days, by day, activity and child: the list a clerk hands to a
    team or checks against a paper register."""
    statuses = [status.value for status in LIVE_STATUSES]
    where = (
        "a.structure = {} AND d.day >= {} AND d.day <= {}"
        f" AND r.status IN ({', '.join(['{}'] * len(statuses))})"
    )
    args: list[object] = [structure_id, first, last, *statuses]
    if activity_id is not None:
        where += " AND a.id = {}"
        args.append(activity_id)
    rows = await Reservation.raw(
        # Only placeholders are formatted in: every value is a bound parameter.
        "SELECT d.day, a.name AS activity, p.last_name, p.first_name, f.name AS family,"  # noqa: S608
        " r.status, r.waitlist_rank, r.arrival, r.departure, r.created_by"
        " FROM reservation r JOIN activity_day d ON d.id = r.activity_day"
        " JOIN activity a ON a.id = d.activity JOIN person p ON p.id = r.person"
        f" JOIN family f ON f.id = r.family WHERE {where}"
        " ORDER BY d.day, a.name, p.last_name, p.first_name, r.id"
        f" LIMIT {MAX_ROWS}",
        *args,
    )
    return Table(
        ("Date", "Activité", "Enfant", "Famille", "État", "Rang", "Arrivée", "Départ",
         "Réservé par"),
        [
            (as_date(r["day"]), r["activity"], f"{r['last_name']} {r['first_name']}",
             r["family"], STATUS_LABELS[ReservationStatus(r["status"])], r["waitlist_rank"],
             r["arrival"], r["departure"],
             "la structure" if r["created_by"] == "staff" else "la famille")
            for r in rows
        ],
    )  # fmt: skip
