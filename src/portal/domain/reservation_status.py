"""The reservation register's vocabulary: a reservation's status, a movement's kind.

Booking, money, staff decisions and the nightly transmission all read and write these
values; they live below those areas so that each can import them without a cycle. The
values are what the database stores.
"""

from __future__ import annotations

from enum import StrEnum


class ReservationStatus(StrEnum):
    ACCEPTED = "accepted"
    WAITLISTED = "waitlisted"
    PENDING = "pending"
    REFUSED = "refused"
    CANCELLED = "cancelled"


# A status in the parents' and the staff's words (Suivi, exports).
STATUS_LABELS = {
    ReservationStatus.ACCEPTED: "Acceptée",
    ReservationStatus.WAITLISTED: "Liste d'attente",
    ReservationStatus.PENDING: "En attente de réponse",
    ReservationStatus.REFUSED: "Refusée",
    ReservationStatus.CANCELLED: "Annulée",
}

# Reservations that hold or claim a place, and those a parent still sees (tracking, cancel).
LIVE_STATUSES = (
    ReservationStatus.ACCEPTED,
    ReservationStatus.WAITLISTED,
    ReservationStatus.PENDING,
)
SHOWN_STATUSES = (*LIVE_STATUSES, ReservationStatus.REFUSED)
# Requests that await a staff decision or a free place.
WAITING_STATUSES = (ReservationStatus.PENDING, ReservationStatus.WAITLISTED)


class MovementKind(StrEnum):
    """What a register movement records (the nightly report reads it)."""

    BOOK = "book"
    CANCEL = "cancel"
    DECISION = "decision"
    PROMOTION = "promotion"
