"""Statistics of a structure over a period, read from the register in three queries:
attendance per activity and month (by age group and tariff band), occupancy per day, and
revenue per wallet and month. The rules of what counts are in rules.py."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from portal import clock
from portal.domain.booking import hours
from portal.domain.exports.tabular import Amount, Cell, Table
from portal.domain.french_dates import month_label
from portal.domain.money_format import format_euros
from portal.domain.statistics import rules
from portal.tables import Activity

_ATTENDANCE = (
    "SELECT a.id AS activity_id, a.name AS activity_name, a.position, a.time_entry,"
    " a.billing_unit_minutes, d.day, r.person, r.family, p.birth_date, f.tariff_band,"
    " r.absent, r.absence_justified, r.arrival, r.departure, r.quantity,"
    " t.minutes AS seen_minutes"
    " FROM reservation r"
    " JOIN activity_day d ON d.id = r.activity_day"
    " JOIN activity a ON a.id = d.activity"
    " JOIN person p ON p.id = r.person"
    " JOIN family f ON f.id = r.family"
    " LEFT JOIN attendance_time t ON t.reservation = r.id"
    " WHERE a.structure = {} AND d.day >= {} AND d.day <= {} AND r.status = 'accepted'"
)
_OCCUPANCY = (
    "SELECT d.day, a.id AS activity_id, a.name AS activity_name, a.position,"
    " d.accepted_count, d.capacity"
    " FROM activity_day d JOIN activity a ON a.id = d.activity"
    " WHERE a.structure = {} AND d.day >= {} AND d.day <= {} AND d.is_open = {}"
)
_LEDGER = (
    "SELECT wt.id AS wallet_type_id, wt.name, wt.position, l.entry_date, l.kind,"
    " l.amount_cents"
    " FROM ledger_entry l JOIN wallet w ON w.id = l.wallet"
    " JOIN wallet_type wt ON wt.id = w.wallet_type"
    " WHERE wt.structure = {} AND l.entry_date >= {} AND l.entry_date <= {}"
)


def _attendance(row: dict[str, Any]) -> rules.Attendance:
    arrival, departure = clock.as_time(row["arrival"]), clock.as_time(row["departure"])
    booked = hours.TimeRange(arrival, departure).minutes if arrival and departure else None
    return rules.Attendance(
        activity_id=int(row["activity_id"]),
        activity_name=str(row["activity_name"]),
        activity_position=int(row["position"] or 0),
        day=clock.as_date(row["day"]),
        person_id=int(row["person"]),
        family_id=int(row["family"]),
        birth_date=clock.as_date(row["birth_date"]) if row["birth_date"] else None,
        band=str(row["tariff_band"] or ""),
        absent=bool(row["absent"]),
        justified=bool(row["absence_justified"]),
        time_entry=bool(row["time_entry"]),
        booked_minutes=booked,
        seen_minutes=int(row["seen_minutes"]) if row["seen_minutes"] is not None else None,
        quantity=int(row["quantity"] or 1),
        unit_minutes=int(row["billing_unit_minutes"] or 30),
    )


@dataclass(frozen=True)
class DayOccupancy:
    day: date
    activity_id: int
    activity_name: str
    accepted: int
    capacity: int | None

    @property
    def percent(self) -> int | None:
        return round(100 * self.accepted / self.capacity) if self.capacity else None


@dataclass(frozen=True)
class WalletMonth:
    wallet: str
    month: date
    consumed_cents: int  # debits (consumptions), as a positive amount
    paid_cents: int  # credits (payments)


@dataclass(frozen=True)
class Statistics:
    start: date
    end: date
    lines: list[rules.MonthLine]
    occupancy: list[DayOccupancy]
    revenue: list[WalletMonth]


async def attendance_rows(structure_id: int, start: date, end: date) -> list[rules.Attendance]:
    rows = await Activity.raw(_ATTENDANCE, structure_id, start, end)
    return [_attendance(r) for r in rows]


async def statistics(structure_id: int, start: date, end: date) -> Statistics:
    """The structure's figures between two days (included)."""
    lines = rules.month_lines(await attendance_rows(structure_id, start, end))
    occupancy = sorted(
        (
            DayOccupancy(
                clock.as_date(r["day"]),
                int(r["activity_id"]),
                str(r["activity_name"]),
                int(r["accepted_count"]),
                r["capacity"],
            )
            for r in await Activity.raw(_OCCUPANCY, structure_id, start, end, True)
        ),
        key=lambda o: (o.day, o.activity_name),
    )
    money: dict[tuple[int, str, int, date], list[int]] = defaultdict(lambda: [0, 0])
    for r in await Activity.raw(_LEDGER, structure_id, start, end):
        key = (int(r["position"] or 0), str(r["name"]), int(r["wallet_type_id"]),
               clock.as_date(r["entry_date"]).replace(day=1))  # fmt: skip
        if r["kind"] == "debit":
            money[key][0] -= int(r["amount_cents"])
        else:
            money[key][1] += int(r["amount_cents"])
    revenue = [
        WalletMonth(name, month, consumed, paid)
        for (_, name, _, month), (consumed, paid) in sorted(money.items())
    ]
    return Statistics(start, end, lines, occupancy, revenue)


# --- charts and the export -----------------------------------------------------------------


def charts(stats: Statistics) -> list[rules.BarChart]:
    """Days attended per activity, average occupancy per activity, consumptions per wallet."""
    attended: dict[str, int] = defaultdict(int)
    for line in stats.lines:
        attended[line.activity_name] += line.total.attended
    occupied: dict[str, list[int]] = defaultdict(list)
    for o in stats.occupancy:
        if o.percent is not None:
            occupied[o.activity_name].append(o.percent)
    consumed: dict[str, int] = defaultdict(int)
    for w in stats.revenue:
        consumed[w.wallet] += w.consumed_cents
    return [
        rules.BarChart.of(
            "Jours de présence par activité",
            (rules.Bar(name, n, str(n)) for name, n in attended.items()),
        ),
        rules.BarChart.of(
            "Taux d'occupation moyen (activités à capacité limitée)",
            (
                rules.Bar(name, avg, f"{avg} %")
                for name, values in occupied.items()
                for avg in [round(sum(values) / len(values))]
            ),
        ),
        rules.BarChart.of(
            "Consommations par porte-monnaie",
            (rules.Bar(name, cents, format_euros(cents)) for name, cents in consumed.items()),
        ),
    ]


EXPORT_HEADER = (
    "Activité", "Mois", "Groupe", "Enfants", "Familles", "Jours réservés", "Jours présents",
    "Jours facturés", "Heures réalisées", "Heures facturées",
)  # fmt: skip


def _figures_row(line: rules.MonthLine, group: str, f: rules.Figures) -> list[Cell]:
    return [
        line.activity_name, month_label(line.month.year, line.month.month), group,
        f.child_count, f.family_count, f.booked, f.attended, f.billed,
        rules.hours_text(f.minutes_done) if line.time_entry else "",
        rules.hours_text(f.minutes_billed) if line.time_entry else "",
    ]  # fmt: skip


def export_table(stats: Statistics) -> Table:
    """One row per activity and month (« Tous »), then one per age group and tariff band."""
    rows: list[list[Cell]] = []
    for line in stats.lines:
        rows.append(_figures_row(line, "Tous", line.total))
        rows.extend(_figures_row(line, str(group), f) for group, f in line.by_age)
        rows.extend(_figures_row(line, f"Tranche {band}", f) for band, f in line.by_band)
    return Table(EXPORT_HEADER, rows)


def revenue_table(stats: Statistics) -> Table:
    return Table(
        ("Porte-monnaie", "Mois", "Consommations", "Règlements"),
        [
            (
                w.wallet,
                month_label(w.month.year, w.month.month),
                Amount(w.consumed_cents),
                Amount(w.paid_cents),
            )
            for w in stats.revenue
        ],
    )
