"""Transparency: every request of a period with its criteria values, draw number and
outcome, in allocation order per day, as a page and as an export (domain/exports)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from portal.db import write_transaction
from portal.domain.criteria_values import values_of_text
from portal.domain.exports.tabular import Cell, Table
from portal.domain.file_review import health_access
from portal.domain.periods import allocation, rules
from portal.domain.staff import audit
from portal.domain.staff.service import Actor
from portal.tables import PeriodRequest

STATUS_LABELS = {
    "waiting": "En attente",
    "accepted": "Acceptée",
    "waitlisted": "Liste d'attente",
    "refused": "Refusée",
}


@dataclass(frozen=True)
class ReportLine:
    request_id: int
    day: date
    activity: str
    person: str
    family: str
    criteria: dict[str, int]
    draw: str
    position: int | None  # order on its day (None before the draw is frozen)
    status: str
    waitlist_rank: int | None
    remark: str

    @property
    def outcome(self) -> str:
        label = STATUS_LABELS.get(self.status, self.status)
        if self.status == "waitlisted" and self.waitlist_rank:
            label = f"{label} (rang {self.waitlist_rank})"
        return f"{label} : {self.remark}" if self.remark else label


@dataclass(frozen=True)
class ShownCriteria:
    criteria: tuple[rules.Criterion, ...]  # the columns this reader sees
    health_hidden: bool  # health criteria ranked the requests but are not shown


async def shown_criteria(
    actor: Actor, structure_id: int, period_id: int, criteria: Sequence[rules.Criterion]
) -> ShownCriteria:
    """The criteria columns of the report for this reader. A health criterion's values say
    which child has a PAI or a disability: only a member with health access reads them, and
    that read is audited like the file's health data. Nor does such a reader get the
    order and the draw numbers (report_lines `ordered`): a request ranked ahead of a
    better draw with the same visible criteria would tell the hidden one."""
    health = [c for c in criteria if c.is_health]
    if not health:
        return ShownCriteria(tuple(criteria), False)
    if not await health_access.has_health_access(actor, structure_id):
        return ShownCriteria(tuple(c for c in criteria if not c.is_health), True)
    async with write_transaction():
        await audit.record(
            actor, "period.health_view", structure_id=structure_id, table="booking_period",
            target_id=period_id, after={"criteria": [c.value for c in health]},
        )  # fmt: skip
    return ShownCriteria(tuple(criteria), False)


async def report_lines(
    period_id: int,
    criteria: Sequence[rules.Criterion],
    shown: Sequence[rules.Criterion] | None = None,
    *,
    ordered: bool = True,
) -> list[ReportLine]:
    """The period's requests (already scoped by the caller's period lookup), by day and
    allocation order (by every criterion); each line carries the values of the ``shown``
    criteria only (default: all). Not ``ordered`` (health criteria hidden from the
    reader): by day, activity and family, without draw numbers nor positions."""
    kept = {c.value for c in (criteria if shown is None else shown)}
    rows = await (
        PeriodRequest.select(
            PeriodRequest.id,
            PeriodRequest.activity_day,
            PeriodRequest.activity_day._.day,
            PeriodRequest.activity_day._.activity._.name,
            PeriodRequest.person._.first_name,
            PeriodRequest.person._.last_name,
            PeriodRequest.family._.name,
            PeriodRequest.criteria_values,
            PeriodRequest.draw,
            PeriodRequest.status,
            PeriodRequest.waitlist_rank,
            PeriodRequest.remark,
        )
        .where(PeriodRequest.period == period_id)
        .output(nested=False)
    )
    candidates = {
        int(r["id"]): allocation.Candidate(
            int(r["id"]),
            int(r["activity_day"]),
            rules.scores(
                [c for c in criteria if c.value in (v := values_of_text(r["criteria_values"]))],
                [v[c.value] for c in criteria if c.value in v],
            ),
            r["draw"],
        )
        for r in rows
        if r["draw"]
    }
    positions: dict[int, int] = {}
    by_day: dict[int, list[allocation.Candidate]] = {}
    for candidate in candidates.values():
        by_day.setdefault(candidate.activity_day_id, []).append(candidate)
    for day_candidates in by_day.values():
        for position, candidate in enumerate(allocation.day_order(day_candidates), 1):
            positions[candidate.request_id] = position
    lines = [
        ReportLine(
            request_id=int(r["id"]),
            day=r["activity_day.day"],
            activity=str(r["activity_day.activity.name"]),
            person=f"{r['person.first_name']} {r['person.last_name']}",
            family=str(r["family.name"]),
            criteria={k: v for k, v in values_of_text(r["criteria_values"]).items() if k in kept},
            draw=str(r["draw"]),
            position=positions.get(int(r["id"])),
            status=str(r["status"]),
            waitlist_rank=r["waitlist_rank"],
            remark=str(r["remark"] or ""),
        )
        for r in rows
    ]
    if not ordered:
        lines = [replace(line, draw="", position=None) for line in lines]
        return sorted(lines, key=lambda x: (x.day, x.activity, x.family, x.person, x.request_id))
    return sorted(lines, key=lambda x: (x.day, x.activity, x.position or 10**9, x.request_id))


def report_table(
    lines: Sequence[ReportLine], criteria: Sequence[rules.Criterion], *, ordered: bool = True
) -> Table:
    """The export; without the draw and the order when not ``ordered`` (report_lines)."""
    order_header = ("Numéro de tirage", "Ordre du jour") if ordered else ()
    header = (
        "Demande", "Date", "Activité", "Enfant", "Famille", *(c.label for c in criteria),
        *order_header, "Résultat",
    )  # fmt: skip
    rows: list[Sequence[Cell]] = [
        (
            line.request_id,
            line.day,
            line.activity,
            line.person,
            line.family,
            *(line.criteria.get(c.value) for c in criteria),
            *((line.draw, line.position) if ordered else ()),
            line.outcome,
        )
        for line in lines
    ]
    return Table(header, rows)
