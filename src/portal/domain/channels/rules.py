"""Pure rules of the parent's notification choices: the kinds, their French labels, the
defaults (e-mail on, push off), the reminder lead times offered, and reading the form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    BOOKING_REPORT = "booking_report"
    WAITLIST_ACCEPTED = "waitlist_accepted"
    PAYMENT_TICKET = "payment_ticket"
    LOW_BALANCE = "low_balance"
    DEADLINE_REMINDER = "deadline_reminder"
    DOCUMENT_DECISION = "document_decision"
    MESSAGE = "message"


KIND_LABELS: dict[Kind, str] = {
    Kind.BOOKING_REPORT: "Compte rendu de vos réservations",
    Kind.WAITLIST_ACCEPTED: "Place obtenue sur liste d'attente",
    Kind.PAYMENT_TICKET: "Ticket de paiement",
    Kind.LOW_BALANCE: "Solde bas",
    Kind.DEADLINE_REMINDER: "Rappel avant la date limite de réservation",
    Kind.DOCUMENT_DECISION: "Décision sur un document ou une demande du dossier",
    Kind.MESSAGE: "Message de la structure",
}


class Channel(StrEnum):
    EMAIL = "email"
    PUSH = "push"


CHANNEL_LABELS: dict[Channel, str] = {
    Channel.EMAIL: "E-mail",
    Channel.PUSH: "Notification sur cet appareil",
}


@dataclass(frozen=True)
class Choice:
    """An account's channels for one kind."""

    kind: Kind
    email: bool = True
    push: bool = False

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    def wants(self, channel: Channel) -> bool:
        return self.email if channel is Channel.EMAIL else self.push


def default_choice(kind: Kind) -> Choice:
    """Without a saved choice: e-mail, as before this setting existed; push is opt-in
    because it needs the browser's permission."""
    return Choice(kind, email=True, push=False)


def complete(saved: Mapping[Kind, Choice]) -> list[Choice]:
    """One choice per kind, in the order of Kind: the saved one or the default."""
    return [saved.get(kind) or default_choice(kind) for kind in Kind]


def field_name(kind: Kind, channel: Channel | str) -> str:
    """The form field of a kind and channel (templates pass the channel as text)."""
    return f"{Kind(kind).value}__{Channel(channel).value}"


def choices_from_form(form: Mapping[str, str]) -> list[Choice]:
    """The form's checkboxes (`<kind>__email`, `<kind>__push`): a missing box is off."""
    return [
        Choice(
            kind,
            email=bool(form.get(field_name(kind, Channel.EMAIL))),
            push=bool(form.get(field_name(kind, Channel.PUSH))),
        )
        for kind in Kind
    ]


# Lead times a parent may choose for deadline reminders (hours before the deadline).
LEAD_HOURS: tuple[int, ...] = (12, 24, 48, 72, 120, 168)
DEFAULT_LEAD_HOURS = 48


class ChoiceError(ValueError):
    """A value the notifications form cannot take (the message is French)."""


def parse_lead_hours(raw: str | None) -> int:
    """A lead time from the form: one of LEAD_HOURS."""
    text = (raw or "").strip()
    if text.isdigit() and len(text) <= 4 and int(text) in LEAD_HOURS:
        return int(text)
    raise ChoiceError("Choisissez un délai de rappel dans la liste.")


def describe_lead(hours: int) -> str:
    if hours % 24 == 0:
        days = hours // 24
        return "1 jour avant" if days == 1 else f"{days} jours avant"
    return f"{hours} heures avant"
