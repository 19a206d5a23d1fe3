"""Pure rules of messages: what a message may hold, and who a staff broadcast reaches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

MAX_BODY = 4000
EXCERPT = 140


class MessageError(ValueError):
    """A message that cannot be sent (French message)."""


def clean_body(raw: str | None) -> str:
    """The text as sent: trimmed, line breaks kept, not empty, not too long."""
    text = (raw or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise MessageError("Écrivez votre message avant de l'envoyer.")
    if len(text) > MAX_BODY:
        raise MessageError(
            f"Votre message dépasse {MAX_BODY} caractères : raccourcissez-le ou joignez un PDF."
        )
    return text


# A family's messages in a day: enough for any exchange with the structure, and a bound on
# what one account can store (each may carry a 5 MB attachment) or put in the clerks' list.
MAX_FAMILY_MESSAGES_PER_DAY = 20


def daily_limit_error(sent_last_day: int) -> str | None:
    if sent_last_day < MAX_FAMILY_MESSAGES_PER_DAY:
        return None
    return (
        f"Vous avez déjà envoyé {MAX_FAMILY_MESSAGES_PER_DAY} messages depuis hier à la même "
        "heure : la structure va vous répondre. Réessayez demain, ou appelez-la si c'est urgent."
    )


def excerpt(body: str, limit: int = EXCERPT) -> str:
    """One line for lists and notifications."""
    line = " ".join(body.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Audience:
    """A staff broadcast's families: those of an activity (children enrolled), of a day
    (children booked that day), or of an activity on a day (booked for it)."""

    activity_id: int | None
    day: date | None

    def __post_init__(self) -> None:
        if self.activity_id is None and self.day is None:
            raise MessageError("Choisissez une activité, un jour, ou les deux.")

    def describe(self, activity_name: str) -> str:
        if self.day is None:
            return f"familles inscrites à « {activity_name} »"
        when = f"{self.day:%d/%m/%Y}"
        if self.activity_id is None:
            return f"familles ayant une réservation le {when}"
        return f"familles ayant réservé « {activity_name} » le {when}"
