"""Allocating a booking period's window: pure, so that anyone can check it.

Each request gets a draw number: the SHA-256 of the period's seed, the person and the
activity day (``draw_number``). It does not depend on when the request arrived, nor on any
id the portal hands out in arrival order, so arriving first gives no advantage. On each
day the requests are sorted by their criteria values (ranked: the first criterion decides,
the next one breaks its ties, and so on), then by draw number; the first ones get the
free places, the next ones the free waitlist places (in that order, which is their rank),
the others are refused.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class Decision(StrEnum):
    ACCEPTED = "accepted"
    WAITLISTED = "waitlisted"
    REFUSED = "refused"


@dataclass(frozen=True)
class Candidate:
    request_id: int
    activity_day_id: int
    # Criteria scores in the period's rank order, higher first (already signed: a
    # criterion where less is better, such as days already obtained, is negated).
    scores: tuple[int, ...]
    draw: str  # hex SHA-256


@dataclass(frozen=True)
class DayRoom:
    """What a day still offers: places (None: unlimited) and waitlist places (None:
    unlimited, 0: no waitlist)."""

    places: int | None
    waitlist: int | None


@dataclass(frozen=True)
class Allocated:
    request_id: int
    activity_day_id: int
    decision: Decision
    position: int  # 1-based order of the request on its day
    waitlist_position: int | None  # 1-based among this allocation's waitlisted of the day


def draw_number(seed: str, person_id: int, activity_day_id: int) -> str:
    """SHA-256 of « seed:person:day » in hexadecimal (anyone can recompute it)."""
    return hashlib.sha256(f"{seed}:{person_id}:{activity_day_id}".encode()).hexdigest()


def seed_commitment(seed: str) -> str:
    """SHA-256 of the seed: published before the window ends, the seed itself after."""
    return hashlib.sha256(seed.encode()).hexdigest()


def order_key(candidate: Candidate) -> tuple[tuple[int, ...], str, int]:
    return tuple(-s for s in candidate.scores), candidate.draw, candidate.request_id


def day_order(candidates: Iterable[Candidate]) -> list[Candidate]:
    """One day's requests in allocation order."""
    return sorted(candidates, key=order_key)


def allocate(candidates: Iterable[Candidate], rooms: Mapping[int, DayRoom]) -> dict[int, Allocated]:
    """Request id -> its decision; a day missing from ``rooms`` offers nothing."""
    by_day: dict[int, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        by_day[candidate.activity_day_id].append(candidate)
    result: dict[int, Allocated] = {}
    for day_id, day_candidates in by_day.items():
        room = rooms.get(day_id, DayRoom(0, 0))
        accepted = waitlisted = 0
        for position, candidate in enumerate(day_order(day_candidates), 1):
            if room.places is None or accepted < room.places:
                accepted += 1
                decision, rank = Decision.ACCEPTED, None
            elif room.waitlist is None or waitlisted < room.waitlist:
                waitlisted += 1
                decision, rank = Decision.WAITLISTED, waitlisted
            else:
                decision, rank = Decision.REFUSED, None
            result[candidate.request_id] = Allocated(
                candidate.request_id, day_id, decision, position, rank
            )
    return result
