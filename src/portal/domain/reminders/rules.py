"""Reminder rules on plain values: the low-balance alert's state machine, how long a family
has been in debt, and the debt reminder templates. Amounts are integer cents.

Low balance: the estimated balance is the balance of all wallets minus the cost of the
accepted reservations of the next ``HORIZON_DAYS`` days not yet debited. Below the
family's threshold the family is e-mailed once; it is e-mailed again only after the
estimate has come back to the threshold or above (recovery) and fallen again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

HORIZON_DAYS = 14
MAX_THRESHOLD_CENTS = 100_000  # 1 000 €
DEFAULT_DEBT_DAYS = 15


@dataclass(frozen=True)
class AlertDecision:
    below: bool  # the state to store
    send: bool  # e-mail the family now
    recovered: bool  # the estimate came back above the threshold


def next_alert_state(was_below: bool, estimated_cents: int, threshold_cents: int) -> AlertDecision:
    is_below = estimated_cents < threshold_cents
    return AlertDecision(
        below=is_below,
        send=is_below and not was_below,
        recovered=was_below and not is_below,
    )


def debt_since(entries: Iterable[tuple[date, int]]) -> date | None:
    """The day since which the running balance has stayed negative (None: not in debt).

    ``entries`` are (day, amount) of every ledger entry of the family, all wallets.
    """
    balance = 0
    since: date | None = None
    by_day: dict[date, int] = {}
    for day, amount in entries:
        by_day[day] = by_day.get(day, 0) + amount
    for day in sorted(by_day):
        balance += by_day[day]
        if balance < 0 and since is None:
            since = day
        elif balance >= 0:
            since = None
    return since


def in_debt_beyond(since: date | None, today: date, days: int) -> bool:
    return since is not None and (today - since).days >= days


DEFAULT_TEMPLATES = {
    1: (
        "Relance : solde débiteur de {montant}",
        "Bonjour,\n\n"
        "Sauf erreur de notre part, le compte de la famille {famille} auprès de {structure} "
        "présente un solde débiteur de {montant} depuis le {depuis}.\n\n"
        "Nous vous remercions de bien vouloir régulariser cette somme dès que possible, par "
        "carte bancaire sur le portail ou auprès de nos services.\n\n"
        "Si vous avez réglé entre-temps, merci de ne pas tenir compte de ce message.\n\n"
        "{structure}",
    ),
    2: (
        "Deuxième relance : solde débiteur de {montant}",
        "Bonjour,\n\n"
        "Malgré notre premier rappel, le compte de la famille {famille} auprès de "
        "{structure} présente toujours un solde débiteur de {montant} depuis le {depuis}.\n\n"
        "Sans règlement de votre part, les réservations pourront être bloquées et la somme "
        "transmise au Trésor public pour recouvrement.\n\n"
        "{structure}",
    ),
}

PLACEHOLDERS = ("famille", "montant", "depuis", "structure")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class TemplateError(ValueError):
    """A template that cannot be used (French message)."""


def check_template(subject: str, body: str) -> tuple[str, str]:
    subject = " ".join((subject or "").split())
    body = (body or "").replace("\r\n", "\n").strip()
    if not subject or not body:
        raise TemplateError("L'objet et le texte de la relance sont obligatoires.")
    if len(subject) > 200 or len(body) > 5000:
        raise TemplateError("L'objet ou le texte de la relance est trop long.")
    for name in _PLACEHOLDER.findall(subject + body):
        if name not in PLACEHOLDERS:
            raise TemplateError(
                f"« {{{name}}} » n'est pas un champ connu : utilisez "
                + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
                + "."
            )
    return subject, body


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace the known placeholders; anything else is left as typed."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def next_level(levels_sent: Iterable[int]) -> int:
    """1 for the first reminder, then 2 (a second reminder can be sent again)."""
    return 2 if any(level >= 1 for level in levels_sent) else 1
