"""Deadline reminders: for each child, activity the family uses and week with bookable
days and nothing booked, remind each account (its channels and lead time) once."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from portal import clock
from portal.db import write_transaction
from portal.domain.booking import deadlines
from portal.domain.booking.scope import LIVE_STATUSES
from portal.domain.channels import service as channels
from portal.domain.channels.rules import Kind
from portal.domain.deadline_reminders import rules
from portal.domain.notifications.service import portal_url, render_email
from portal.domain.outbox.service import queue_email
from portal.domain.push import service as push
from portal.tables import (
    Activity,
    ActivityDay,
    DeadlineReminder,
    Enrollment,
    Reservation,
    Structure,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Used:
    family_id: int
    person_id: int
    first_name: str
    activity_id: int
    activity_name: str


async def _used(structure_id: int, since: object) -> list[_Used]:
    """Children and activities of the structure the family uses (enrolled, and booked
    within rules.USED_WITHIN_DAYS)."""
    enrolled = await (
        Enrollment.select(
            Enrollment.person,
            Enrollment.person.family,
            Enrollment.person.first_name,
            Enrollment.activity,
            Enrollment.activity.name,
        )
        .where(
            (Enrollment.activity.structure == structure_id) & (Enrollment.activity.active == True)  # noqa: E712
        )
        .output(nested=False)
    )
    if not enrolled:
        return []
    booked = await (
        Reservation.select(Reservation.person, Reservation.activity_day.activity)
        .where(
            (Reservation.activity_day._.activity._.structure == structure_id)
            & (Reservation.activity_day.day >= since)
        )
        .distinct()
        .output(nested=False)
    )
    used = {(int(r["person"]), int(r["activity_day.activity"])) for r in booked}
    return [
        _Used(
            int(r["person.family"]),
            int(r["person"]),
            str(r["person.first_name"]),
            int(r["activity"]),
            str(r["activity.name"]),
        )
        for r in enrolled
        if (int(r["person"]), int(r["activity"])) in used
    ]


async def send_due_reminders(
    structure_id: int, *, base_url: str, now: datetime | None = None
) -> int:
    """Queue the reminders due now in the structure; returns how many were recorded.
    Run it as often as wanted: each (account, child, activity, week) is reminded once."""
    now = now or clock.utcnow()
    structure = (
        await Structure.select(Structure.name, Structure.timezone)
        .where(Structure.id == structure_id)
        .first()
    )
    if structure is None:
        return 0
    tz = ZoneInfo(str(structure["timezone"]))
    today = now.astimezone(tz).date()
    used = await _used(structure_id, today - timedelta(days=rules.USED_WITHIN_DAYS))
    if not used:
        return 0
    weeks = rules.weeks_to_check(today)
    first, last = weeks[0], weeks[-1] + timedelta(days=6)
    activity_ids = sorted({u.activity_id for u in used})
    activities = {
        int(a["id"]): a
        for a in await Activity.select(
            Activity.id, Activity.booking_deadline, Activity.booking_opens_at
        ).where(Activity.id.is_in(activity_ids))
    }
    days: dict[int, list[rules.DayFacts]] = defaultdict(list)
    for d in await ActivityDay.select().where(
        ActivityDay.activity.is_in(activity_ids)
        & (ActivityDay.day >= first)
        & (ActivityDay.day <= last)
    ):
        activity = activities[int(d["activity"])]
        rule = deadlines.parse_rule(str(activity["booking_deadline"]))
        days[int(d["activity"])].append(
            rules.DayFacts(
                day=clock.as_date(d["day"]),
                is_open=bool(d["is_open"]),
                deadline_at=deadlines.closes_at(rule, clock.as_date(d["day"]), tz),
                opens_at=activity["booking_opens_at"],
                capacity=d["capacity"],
                waitlist_capacity=d["waitlist_capacity"],
                accepted=int(d["accepted_count"]),
                waitlisted=int(d["waitlisted_count"]),
            )
        )
    person_ids = sorted({u.person_id for u in used})
    booked_weeks = {
        (
            int(r["person"]),
            int(r["activity_day.activity"]),
            rules.week_start(clock.as_date(r["activity_day.day"])),
        )
        for r in await Reservation.select(
            Reservation.person, Reservation.activity_day.activity, Reservation.activity_day.day
        )
        .where(
            Reservation.person.is_in(person_ids)
            & Reservation.status.is_in(list(LIVE_STATUSES))
            & (Reservation.activity_day.day >= first)
            & (Reservation.activity_day.day <= last)
        )
        .output(nested=False)
    }
    people = await channels.recipients({u.family_id for u in used}, Kind.DEADLINE_REMINDER)
    leads = await channels.lead_hours(
        p.account_id for found in people.values() for p in found if p.email or p.push
    )
    sent = 0
    for u in used:
        for week in weeks:
            for person in people.get(u.family_id, []):
                if not (person.email or person.push):
                    continue
                due = rules.reminder_due(
                    now,
                    timedelta(hours=leads[person.account_id]),
                    week,
                    days.get(u.activity_id, []),
                    (u.person_id, u.activity_id, week) in booked_weeks,
                )
                if due is not None and await _remind(
                    u, person, due, str(structure["name"]), tz, now, base_url
                ):
                    sent += 1
    return sent


async def _remind(
    used: _Used,
    person: channels.Recipient,
    due: rules.Due,
    structure_name: str,
    tz: ZoneInfo,
    now: datetime,
    base_url: str,
) -> bool:
    key = f"deadline:{person.account_id}:{used.person_id}:{used.activity_id}:{due.week_start}"
    text = rules.sentence(due.week_start, due.deadline_at, now, tz)
    async with write_transaction():
        recorded = await (
            DeadlineReminder.insert(
                DeadlineReminder(
                    account=person.account_id,
                    person=used.person_id,
                    activity=used.activity_id,
                    week_start=due.week_start,
                    deadline_at=due.deadline_at,
                    sent_at=now,
                )
            )
            .on_conflict(
                target=(
                    DeadlineReminder.account,
                    DeadlineReminder.person,
                    DeadlineReminder.activity,
                    DeadlineReminder.week_start,
                ),
                action="DO NOTHING",
            )
            .returning(DeadlineReminder.id)
        )
        if not recorded:
            return False
        title = f"{used.first_name} – {used.activity_name}"
        if person.push:
            await push.queue_notes(
                None,
                [
                    push.PushNote(
                        key, title, text, "/reservations", account_ids=(person.account_id,)
                    )
                ],
            )
        if person.addresses:
            mail = render_email(
                "deadline_reminder",
                sentence=text,
                first_name=used.first_name,
                activity=used.activity_name,
                structure_name=structure_name,
                portal_url=portal_url(base_url),
                booking_url=portal_url(base_url) + "reservations",
            )
            await queue_email(key, list(person.addresses), mail.subject, mail.text, mail.html)
    return True


async def send_all_due(*, base_url: str, now: datetime | None = None) -> int:
    """Every structure's due reminders (the minute sweep's job)."""
    total = 0
    for row in await Structure.select(Structure.id).order_by(Structure.id):
        total += await send_due_reminders(int(row["id"]), base_url=base_url, now=now)
    return total
