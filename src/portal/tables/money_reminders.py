"""Tables of the money reminders: each family's low-balance alert (threshold chosen by the
parent, and whether it is below it now, so that it is e-mailed once per fall), the day
each structure was last checked, the debt reminder templates a structure edits, and every
debt reminder sent to a family."""

from __future__ import annotations

from piccolo.columns import Boolean, Date, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.tables.core import Family, Structure


class ReminderSettings(Table):
    """A structure's choices: whether low-balance alerts are e-mailed (off until staff turn
    them on), and after how many days of debt a family is listed for reminders."""

    id = Serial(primary_key=True)
    structure = ForeignKey(references=Structure, unique=True)
    low_balance_alerts = Boolean(default=False)
    debt_days = Integer(default=15)
    updated_at = Timestamptz(default=TimestamptzNow())


class BalanceAlert(Table):
    id = Serial(primary_key=True)
    family = ForeignKey(references=Family, unique=True)
    # Alert when the estimated balance falls below this (cents, 0 by default).
    threshold_cents = Integer(default=0)
    # True from the alert until the estimated balance is back at or above the threshold.
    below = Boolean(default=False)
    alerts_sent = Integer(default=0)
    last_alert_at = Timestamptz(null=True, default=None)
    recovered_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class BalanceCheck(Table):
    """The local day a structure's balances were checked (one row per structure and day)."""

    id = Serial(primary_key=True)
    structure = ForeignKey(references=Structure, index=True)
    day = Date()
    checked_at = Timestamptz(default=TimestamptzNow())


class ReminderTemplate(Table):
    """A structure's wording of the first (1) or second (2) debt reminder."""

    id = Serial(primary_key=True)
    structure = ForeignKey(references=Structure, index=True)
    level = Integer()
    subject = Varchar(length=200)
    body = Text()
    updated_at = Timestamptz(default=TimestamptzNow())


class DebtReminder(Table):
    """A debt reminder sent to a family (e-mail) or printed (letter)."""

    id = Serial(primary_key=True)
    family = ForeignKey(references=Family, index=True)
    level = Integer()
    channel = Varchar(length=10, default="email")  # "email" or "lettre"
    amount_cents = Integer()
    debt_since = Date(null=True, default=None)
    staff_login = Varchar(length=150, default="")
    sent_at = Timestamptz(default=TimestamptzNow())


MONEY_REMINDER_TABLES: list[type[Table]] = [
    ReminderSettings,
    BalanceAlert,
    BalanceCheck,
    ReminderTemplate,
    DebtReminder,
]

__all__ = [
    "MONEY_REMINDER_TABLES",
    "BalanceAlert",
    "BalanceCheck",
    "DebtReminder",
    "ReminderSettings",
    "ReminderTemplate",
]
