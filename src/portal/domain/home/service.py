"""The parent's home page ("Accueil") as a dashboard: money, what is coming, what waits.

Everything a parent would otherwise look for in four menus: the balance of each wallet
(with a way to pay when in debt), the next bookings of each child, anything that waits for
the parent or for the structure (rules to sign, an incomplete file, a debt that closes
booking, a waitlist place obtained or still waited for, a card payment being processed),
then the structure's news. Read-only: nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from portal.domain.booking.eligibility import BlockCode, family_block_reasons
from portal.domain.booking.scope import BookingScope, load_scope
from portal.domain.french_dates import long_date
from portal.domain.money import service as money
from portal.domain.money_format import format_euros
from portal.domain.news import service as news
from portal.domain.reservation_status import MovementKind, ReservationStatus
from portal.tables import ActivityDay, Movement, OnlinePayment, Reservation

UPCOMING_PER_CHILD = 3
RECENT_PROMOTIONS = timedelta(days=7)
PAYMENT_PENDING_FOR = timedelta(hours=2)
PAY_URL = "/paiement"
RULES_URL = "/premiere-connexion/reglement"
STATUS_LABELS = {
    ReservationStatus.ACCEPTED: "Réservé",
    ReservationStatus.WAITLISTED: "Liste d'attente",
    ReservationStatus.PENDING: "En attente de réponse",
}


@dataclass(frozen=True)
class WalletSummary:
    name: str
    balance_cents: int

    @property
    def in_debt(self) -> bool:
        return self.balance_cents < 0


@dataclass(frozen=True)
class Upcoming:
    day: date
    activity: str
    status: ReservationStatus
    rank: int | None

    @property
    def label(self) -> str:
        text = STATUS_LABELS.get(self.status, self.status)
        waitlisted = self.status is ReservationStatus.WAITLISTED
        return f"{text} (rang {self.rank})" if waitlisted and self.rank else text

    @property
    def confirmed(self) -> bool:
        return self.status is ReservationStatus.ACCEPTED

    @property
    def badge(self) -> str:
        """The badge variant beside a booking that is not confirmed yet."""
        return "warning" if self.status is ReservationStatus.WAITLISTED else "info"

    @property
    def day_label(self) -> str:
        return long_date(self.day)


@dataclass(frozen=True)
class ChildUpcoming:
    person_id: int
    first_name: str
    bookings: list[Upcoming]


@dataclass(frozen=True)
class Waiting:
    kind: str  # rules, file, debt, promotion, waitlist, payment
    message: str
    link: str | None = None
    link_label: str | None = None


@dataclass(frozen=True)
class Dashboard:
    wallets: list[WalletSummary]
    children: list[ChildUpcoming]
    waiting: list[Waiting]
    news: list[Any]

    @property
    def in_debt(self) -> bool:
        return any(w.in_debt for w in self.wallets)


async def _upcoming(scope: BookingScope, today: date) -> list[ChildUpcoming]:
    rows = await (
        Reservation.select(
            Reservation.person,
            Reservation.status,
            Reservation.waitlist_rank,
            Reservation.activity_day.day,
            Reservation.activity_day.activity,
        )
        .where(
            (Reservation.family == scope.family_id)
            & Reservation.status.is_in(list(STATUS_LABELS))
            & (Reservation.activity_day.day >= today)
        )
        .order_by(Reservation.activity_day.day)
        .output(nested=False)
    )
    by_person: dict[int, list[tuple[Any, Upcoming]]] = defaultdict(list)
    for row in rows:
        activity = scope.activities.get(int(row["activity_day.activity"]))
        if activity is None:
            continue
        day = row["activity_day.day"]
        day = day if isinstance(day, date) else date.fromisoformat(str(day))
        booking = Upcoming(
            day, activity.name, ReservationStatus(row["status"]), row["waitlist_rank"]
        )
        by_person[int(row["person"])].append(((day, activity.start_time), booking))
    children = []
    for person in scope.people:
        ordered = [b for _, b in sorted(by_person.get(person.id, []), key=lambda x: x[0])]
        children.append(ChildUpcoming(person.id, person.first_name, ordered[:UPCOMING_PER_CHILD]))
    return children


async def _promotions(scope: BookingScope, now: datetime) -> list[Waiting]:
    rows = await (
        Movement.select(
            Movement.reservation.person,
            Movement.reservation._.activity_day.day,
            Movement.reservation._.activity_day.activity,
        )
        .where(
            (Movement.family == scope.family_id)
            & (Movement.kind == MovementKind.PROMOTION)
            & (Movement.created_at >= now - RECENT_PROMOTIONS)
        )
        .order_by(Movement.created_at, ascending=False)
        .output(nested=False)
    )
    names = {p.id: p.first_name for p in scope.people}
    waiting = []
    for row in rows:
        activity = scope.activities.get(int(row["reservation.activity_day.activity"]))
        day = row["reservation.activity_day.day"]
        day = day if isinstance(day, date) else date.fromisoformat(str(day))
        waiting.append(
            Waiting(
                "promotion",
                f"Place obtenue sur liste d'attente : {names.get(row['reservation.person'], '')}, "
                f"{activity.name if activity else ''}, {long_date(day)}.",
                "/suivi",
                "Voir le suivi",
            )
        )
    return waiting


async def _waitlisted_count(family_id: int, today: date) -> int:
    return int(
        await Reservation.count().where(
            (Reservation.family == family_id)
            & (Reservation.status == ReservationStatus.WAITLISTED)
            & Reservation.activity_day.is_in(
                ActivityDay.select(ActivityDay.id).where(ActivityDay.day >= today)
            )
        )
    )


async def _payments_in_progress(family_id: int, now: datetime) -> list[Waiting]:
    rows = await (
        OnlinePayment.select(OnlinePayment.id, OnlinePayment.total_cents)
        .where(
            (OnlinePayment.family == family_id)
            & (OnlinePayment.status == "created")
            & (OnlinePayment.created_at >= now - PAYMENT_PENDING_FOR)
        )
        .order_by(OnlinePayment.created_at, ascending=False)
    )
    return [
        Waiting(
            "payment",
            f"Un paiement de {format_euros(int(r['total_cents']))} est en cours de traitement "
            "par la plateforme de paiement.",
            f"/paiement/retour/{int(r['id'])}",
            "Voir où il en est",
        )
        for r in rows
    ]


def _standing_waiting(scope: BookingScope) -> list[Waiting]:
    waiting = []
    unsigned = [p.first_name for p in scope.people if p.id not in scope.signed]
    if unsigned:
        waiting.append(
            Waiting(
                "rules",
                "Le règlement intérieur n'est pas encore signé pour "
                f"{', '.join(unsigned)} : les réservations restent fermées pour "
                f"{'cet enfant' if len(unsigned) == 1 else 'ces enfants'}.",
                RULES_URL,
                "Lire et signer le règlement",
            )
        )
    for reason in family_block_reasons(scope.standing):
        if reason.code is BlockCode.FILE_INCOMPLETE:
            waiting.append(Waiting("file", reason.message, reason.link, "Compléter mon dossier"))
    for reason in money.debt_block_reasons(scope.standing):
        waiting.append(Waiting("debt", reason.message, PAY_URL, "Payer en ligne"))
    return waiting


async def dashboard(family_id: int, structure_id: int, today: date, now: datetime) -> Dashboard:
    """What the home page shows, in its order: money, next bookings, what waits, news."""
    scope = await load_scope(family_id)
    wallets = [WalletSummary(w.name, w.balance_cents) for w in scope.standing.wallets]
    waiting = _standing_waiting(scope)
    waiting += await _payments_in_progress(family_id, now)
    waiting += await _promotions(scope, now)
    waitlisted = await _waitlisted_count(family_id, today)
    if waitlisted:
        waiting.append(
            Waiting(
                "waitlist",
                f"{waitlisted} demande{'s' if waitlisted > 1 else ''} en liste d'attente : "
                "vous serez averti par e-mail si une place se libère.",
                "/suivi?type=liste-attente",
                "Voir les demandes",
            )
        )
    return Dashboard(
        wallets=wallets,
        children=await _upcoming(scope, today),
        waiting=waiting,
        news=await news.visible_news(structure_id),
    )
