"""When a structure's monthly statements are e-mailed, and under which outbox key."""

from __future__ import annotations

from datetime import date

from portal.domain.money.rules import Month

# The mailing starts on the 1st; if the workers were down for the whole day, the sweep
# still sends on the next days of this window rather than skipping the month.
CATCH_UP_DAYS = 3


def month_to_mail(today: date, last_month: str) -> Month | None:
    """The past month whose statements are due on this local day, or None."""
    if today.day > CATCH_UP_DAYS:
        return None
    previous = Month.of(today).shift(-1)
    return None if last_month >= previous.key else previous


def first_month_after_opt_in(today: date) -> str:
    """The "last mailed" month recorded when a structure opts in: the month just ended, so
    that the first e-mails leave on the next 1st and never the day of the choice."""
    return Month.of(today).shift(-1).key


def dedupe_key(family_id: int, wallet_id: int, month: Month) -> str:
    """One e-mail per family, wallet and month, however many times the mailing runs."""
    return f"statement:{family_id}:{wallet_id}:{month.key}"
