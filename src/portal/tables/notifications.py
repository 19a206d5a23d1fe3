"""Tables of what reaches a parent outside the portal: the channels each account chose per
kind of notification, its web-push subscriptions and the push outbox, the deadline
reminders already sent, and the message threads between a family and its structure."""

from __future__ import annotations

from piccolo.columns import Boolean, Date, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.tables.core import Account, Activity, Family, Person, StaffMember, Structure


class NotificationPreference(Table):
    """An account's channels for one kind (no row: the defaults, e-mail only)."""

    id = Serial(primary_key=True)
    account = ForeignKey(references=Account, index=True, on_delete=OnDelete.cascade)
    kind = Varchar(length=30)
    email = Boolean(default=True)
    push = Boolean(default=False)
    updated_at = Timestamptz(default=TimestamptzNow())


class NotificationSettings(Table):
    """An account's other choices: how long before a booking deadline it is reminded."""

    id = Serial(primary_key=True)
    account = ForeignKey(references=Account, unique=True, on_delete=OnDelete.cascade)
    deadline_lead_hours = Integer(default=48)
    updated_at = Timestamptz(default=TimestamptzNow())


class PushSubscription(Table):
    """A browser (or installed PWA) of an account subscribed to web push."""

    id = Serial(primary_key=True)
    account = ForeignKey(references=Account, index=True, on_delete=OnDelete.cascade)
    endpoint = Text()
    # SHA-256 of the endpoint: the unique key (endpoints are long URLs).
    endpoint_hash = Varchar(length=64, unique=True)
    p256dh = Varchar(length=200)
    auth = Varchar(length=100)
    device = Varchar(length=120, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    last_success_at = Timestamptz(null=True, default=None)


class OutboxPush(Table):
    """One push message to one subscription, written in the transaction of its cause."""

    id = Serial(primary_key=True)
    dedupe_key = Varchar(length=200, unique=True)
    subscription = ForeignKey(references=PushSubscription, index=True, on_delete=OnDelete.cascade)
    title = Varchar(length=120)
    body = Text()
    url = Varchar(length=300, default="/")
    status = Varchar(length=10, default="pending")
    attempts = Integer(default=0)
    last_error = Text(default="")
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)


class DeadlineReminder(Table):
    """A deadline reminder sent to an account for a child, an activity and a week (unique
    on the four: a reminder is sent once)."""

    id = Serial(primary_key=True)
    account = ForeignKey(references=Account, index=True, on_delete=OnDelete.cascade)
    person = ForeignKey(references=Person, index=True, on_delete=OnDelete.cascade)
    activity = ForeignKey(references=Activity, on_delete=OnDelete.cascade)
    week_start = Date()
    deadline_at = Timestamptz()
    sent_at = Timestamptz(default=TimestamptzNow())


class Message(Table):
    """One message of the thread between a family and its structure."""

    id = Serial(primary_key=True)
    structure = ForeignKey(references=Structure, index=True)
    family = ForeignKey(references=Family, index=True)
    from_family = Boolean(default=True)
    account = ForeignKey(references=Account, null=True, on_delete=OnDelete.set_null)
    staff = ForeignKey(references=StaffMember, null=True, on_delete=OnDelete.set_null)
    author_name = Varchar(length=200, default="")
    body = Text()
    # Messages of one staff broadcast share this key ("" for a one-to-one message).
    broadcast_key = Varchar(length=40, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    # When the other side first read it (NULL: unread).
    read_at = Timestamptz(null=True, default=None)


class MessageAttachment(Table):
    """A file attached to a message, stored like the family's documents."""

    id = Serial(primary_key=True)
    message = ForeignKey(references=Message, index=True, on_delete=OnDelete.cascade)
    filename = Varchar(length=200)
    content_type = Varchar(length=100)
    size = Integer(default=0)
    storage_name = Varchar(length=100)


NOTIFICATION_TABLES: list[type[Table]] = [
    NotificationPreference,
    NotificationSettings,
    PushSubscription,
    OutboxPush,
    DeadlineReminder,
    Message,
    MessageAttachment,
]

__all__ = [
    "NOTIFICATION_TABLES",
    "DeadlineReminder",
    "Message",
    "MessageAttachment",
    "NotificationPreference",
    "NotificationSettings",
    "OutboxPush",
    "PushSubscription",
]
