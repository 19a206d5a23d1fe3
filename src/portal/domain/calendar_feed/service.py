"""Calendar feed use cases: create (or regenerate) and revoke a family's private ICS
address, and render the feed for a token. The feed is built at each request from the
register, so it follows every booking change; a regenerated or revoked token is a 404."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from portal import clock
from portal.db import write_transaction
from portal.domain.calendar_feed import rules
from portal.domain.calendar_feed.rules import BookingEvent
from portal.domain.errors import NotFound
from portal.tables import AbsenceDeclaration, CalendarFeed, Family, Reservation, Structure

PAST_DAYS = 62  # the feed keeps two months of history, then the year ahead
FUTURE_DAYS = 400


class FeedNotFound(NotFound):
    """No feed behind this token (never created, regenerated or revoked)."""


@dataclass(frozen=True)
class FeedState:
    active: bool
    created_at: datetime | None


async def feed_state(family_id: int) -> FeedState:
    row = await CalendarFeed.objects().get(CalendarFeed.family == family_id)
    return FeedState(row is not None, row.created_at if row else None)


async def regenerate(family_id: int) -> str:
    """A new token for the family (the previous one stops working); shown once."""
    token = rules.new_token()
    async with write_transaction():
        await CalendarFeed.delete().where(CalendarFeed.family == family_id)
        await CalendarFeed.insert(
            CalendarFeed(
                family=family_id, token_hash=rules.token_hash(token), created_at=clock.utcnow()
            )
        )
    return token


async def revoke(family_id: int) -> bool:
    async with write_transaction():
        deleted = await (
            CalendarFeed.delete().where(CalendarFeed.family == family_id).returning(CalendarFeed.id)
        )
    return bool(deleted)


def feed_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/agenda/{token}.ics"


async def render_feed(token: str, base_url: str, now: datetime | None = None) -> bytes:
    """The ICS of the family behind this token; FeedNotFound otherwise."""
    now = now or clock.utcnow()
    if not rules.looks_like_token(token):
        raise FeedNotFound("agenda")
    feed = await CalendarFeed.objects().get(CalendarFeed.token_hash == rules.token_hash(token))
    if feed is None:
        raise FeedNotFound("agenda")
    family_id = int(feed.family)
    family = await Family.objects().get(Family.id == family_id)
    if family is None:
        raise FeedNotFound("agenda")
    structure = await Structure.objects().get(Structure.id == family.structure)
    assert structure is not None
    tz = clock.zone(structure.timezone)
    today = now.astimezone(tz).date()
    rows = await (
        Reservation.select(
            Reservation.id,
            Reservation.arrival,
            Reservation.departure,
            Reservation.updated_at,
            Reservation.activity_day._.day,
            Reservation.activity_day._.activity._.name,
            Reservation.activity_day._.activity._.start_time,
            Reservation.activity_day._.activity._.end_time,
            Reservation.person._.first_name,
        )
        .where(
            (Reservation.family == family_id)
            & (Reservation.status == "accepted")
            & (Reservation.activity_day._.day >= today - timedelta(days=PAST_DAYS))
            & (Reservation.activity_day._.day <= today + timedelta(days=FUTURE_DAYS))
        )
        .order_by(Reservation.activity_day._.day)
        .output(nested=False)
    )
    absent = (
        {
            int(r["reservation"])
            for r in await AbsenceDeclaration.select(AbsenceDeclaration.reservation).where(
                AbsenceDeclaration.reservation.is_in([int(r["id"]) for r in rows])
            )
        }
        if rows
        else set()
    )
    events = [
        BookingEvent(
            reservation_id=int(r["id"]),
            day=clock.as_date(r["activity_day.day"]),
            # Time-entry bookings: the times chosen; otherwise the activity's hours.
            start=r["arrival"] or r["activity_day.activity.start_time"],
            end=r["departure"] or r["activity_day.activity.end_time"],
            person=str(r["person.first_name"]),
            activity=str(r["activity_day.activity.name"]),
            absence=int(r["id"]) in absent,
            updated_at=r["updated_at"],
        )
        for r in rows
    ]
    host = urlsplit(base_url).hostname or "portail-famille.local"
    return rules.build_calendar(
        events, tz=tz, name=f"{structure.name} : réservations", host=host, now=now
    )
