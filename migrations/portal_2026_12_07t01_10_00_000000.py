"""Notifications and messages: each account's channels per kind and its reminder lead time,
web-push subscriptions and the push outbox, deadline reminders sent, and the threads
between a family and its structure with their attachments.

The tables are created here from a snapshot of their declaration (the raw step of a
migration runs before its add_table steps, and the unique keys over two or more columns
need the tables first), then their keys; the same SQL on both engines.
"""

from __future__ import annotations

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import Boolean, Date, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

ID = "2026-12-07T01:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notifications, web push, deadline reminders, messages"

KEYS = [
    "CREATE UNIQUE INDEX notification_preference_kind_uniq"
    " ON notification_preference (account, kind)",
    "CREATE UNIQUE INDEX deadline_reminder_once_uniq"
    " ON deadline_reminder (account, person, activity, week_start)",
    "CREATE INDEX outbox_push_due_idx ON outbox_push (status, next_attempt_at)",
    "CREATE INDEX message_thread_idx ON message (family, created_at)",
]


def _tables(engine: Any) -> list[type[Table]]:
    """The tables as this migration creates them (later changes come in later migrations)."""

    class Account(Table, tablename="account", db=engine):
        id = Serial(primary_key=True)

    class Family(Table, tablename="family", db=engine):
        id = Serial(primary_key=True)

    class Person(Table, tablename="person", db=engine):
        id = Serial(primary_key=True)

    class Activity(Table, tablename="activity", db=engine):
        id = Serial(primary_key=True)

    class Structure(Table, tablename="structure", db=engine):
        id = Serial(primary_key=True)

    class StaffMember(Table, tablename="staff_member", db=engine):
        id = Serial(primary_key=True)

    class NotificationPreference(Table, tablename="notification_preference", db=engine):
        id = Serial(primary_key=True)
        account = ForeignKey(references=Account, index=True, on_delete=OnDelete.cascade)
        kind = Varchar(length=30)
        email = Boolean(default=True)
        push = Boolean(default=False)
        updated_at = Timestamptz(default=TimestamptzNow())

    class NotificationSettings(Table, tablename="notification_settings", db=engine):
        id = Serial(primary_key=True)
        account = ForeignKey(references=Account, unique=True, on_delete=OnDelete.cascade)
        deadline_lead_hours = Integer(default=48)
        updated_at = Timestamptz(default=TimestamptzNow())

    class PushSubscription(Table, tablename="push_subscription", db=engine):
        id = Serial(primary_key=True)
        account = ForeignKey(references=Account, index=True, on_delete=OnDelete.cascade)
        endpoint = Text()
        endpoint_hash = Varchar(length=64, unique=True)
        p256dh = Varchar(length=200)
        auth = Varchar(length=100)
        device = Varchar(length=120, default="")
        created_at = Timestamptz(default=TimestamptzNow())
        last_success_at = Timestamptz(null=True, default=None)

    class OutboxPush(Table, tablename="outbox_push", db=engine):
        id = Serial(primary_key=True)
        dedupe_key = Varchar(length=200, unique=True)
        subscription = ForeignKey(
            references=PushSubscription, index=True, on_delete=OnDelete.cascade
        )
        title = Varchar(length=120)
        body = Text()
        url = Varchar(length=300, default="/")
        status = Varchar(length=10, default="pending")
        attempts = Integer(default=0)
        last_error = Text(default="")
        next_attempt_at = Timestamptz(default=TimestamptzNow())
        created_at = Timestamptz(default=TimestamptzNow())
        sent_at = Timestamptz(null=True, default=None)

    class DeadlineReminder(Table, tablename="deadline_reminder", db=engine):
        id = Serial(primary_key=True)
        account = ForeignKey(references=Account, index=True, on_delete=OnDelete.cascade)
        person = ForeignKey(references=Person, index=True, on_delete=OnDelete.cascade)
        activity = ForeignKey(references=Activity, on_delete=OnDelete.cascade)
        week_start = Date()
        deadline_at = Timestamptz()
        sent_at = Timestamptz(default=TimestamptzNow())

    class Message(Table, tablename="message", db=engine):
        id = Serial(primary_key=True)
        structure = ForeignKey(references=Structure, index=True)
        family = ForeignKey(references=Family, index=True)
        from_family = Boolean(default=True)
        account = ForeignKey(references=Account, null=True, on_delete=OnDelete.set_null)
        staff = ForeignKey(references=StaffMember, null=True, on_delete=OnDelete.set_null)
        author_name = Varchar(length=200, default="")
        body = Text()
        broadcast_key = Varchar(length=40, default="")
        created_at = Timestamptz(default=TimestamptzNow())
        read_at = Timestamptz(null=True, default=None)

    class MessageAttachment(Table, tablename="message_attachment", db=engine):
        id = Serial(primary_key=True)
        message = ForeignKey(references=Message, index=True, on_delete=OnDelete.cascade)
        filename = Varchar(length=200)
        content_type = Varchar(length=100)
        size = Integer(default=0)
        storage_name = Varchar(length=100)

    return [
        NotificationPreference,
        NotificationSettings,
        PushSubscription,
        OutboxPush,
        DeadlineReminder,
        Message,
        MessageAttachment,
    ]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def run() -> None:
        from piccolo.conf.apps import Finder

        engine = Finder().get_engine()
        for table in _tables(engine):
            await table.create_table()
        for statement in KEYS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
