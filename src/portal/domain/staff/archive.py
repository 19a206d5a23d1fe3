"""Archived school years: after the rollover, the previous year's activities are kept as a
record. Staff consult them (lists, exports, statistics, the journal) but change nothing of
them: neither the activity, its tariffs and enrolments, nor its days, their bookings and
attendance. Nightly work (posting consumptions, transmissions) is not staff's and goes on.

Each staff write calls ``refuse_if_archived`` (or, with the activity already read,
``refuse_archived``) inside its transaction, before it writes; the app answers the French
message with a 409.
"""

from __future__ import annotations

from datetime import tzinfo

from portal import clock
from portal.domain.errors import ReadOnly
from portal.tables import Activity


class Archived(ReadOnly):
    """A staff change to an activity of an archived school year."""


def archived_text(archived_at: object, timezone: str | tzinfo) -> str:
    """The refusal, with the day of the rollover in the structure's time zone (the instant
    read back as a datetime or, from SQLite's raw rows, as text)."""
    moment = clock.as_utc(archived_at)
    assert moment is not None, "only an archived activity is refused"
    zone = clock.zone(timezone) if isinstance(timezone, str) else timezone
    day = moment.astimezone(zone).strftime("%d/%m/%Y")
    return (
        f"Cette activité appartient à une année scolaire archivée (reconduction du {day}) : "
        "elle se consulte, elle ne se modifie plus."
    )


_SELECT = "SELECT a.archived_at, s.timezone FROM activity a JOIN structure s ON s.id = a.structure"
_OWNER = {
    "activity": _SELECT + " WHERE a.id = {}",
    "day": _SELECT + " JOIN activity_day d ON d.activity = a.id WHERE d.id = {}",
    "reservation": _SELECT + " JOIN activity_day d ON d.activity = a.id"
    " JOIN reservation r ON r.activity_day = d.id WHERE r.id = {}",
}


async def refuse_if_archived(
    *, activity_id: int | None = None, day_id: int | None = None, reservation_id: int | None = None
) -> None:
    """Raise Archived when the activity (or the day's, or the booking's) is archived; an
    unknown id passes (the caller's own lookup says NotFound)."""
    for kind, value in (
        ("activity", activity_id),
        ("day", day_id),
        ("reservation", reservation_id),
    ):
        if value is None:
            continue
        rows = await Activity.raw(_OWNER[kind], value)
        if rows and rows[0]["archived_at"] is not None:
            raise Archived(archived_text(rows[0]["archived_at"], rows[0]["timezone"]))


async def refuse_archived(activity: Activity) -> None:
    """The same refusal for an activity its caller has just read: no query unless it is
    archived (then one, for the structure's time zone)."""
    if activity.archived_at is not None:
        await refuse_if_archived(activity_id=int(activity.id))
