"""Tables of the background work: leases that keep one runner of a job at a time."""

from __future__ import annotations

from piccolo.columns import Timestamptz, Varchar
from piccolo.table import Table


class TaskLease(Table):
    """Who runs a job (`name`, e.g. "outbox-relay") until `expires_at`; an expired lease
    belongs to a runner that died and can be taken over."""

    name = Varchar(length=60, unique=True)
    holder = Varchar(length=80, default="")
    expires_at = Timestamptz()


TASKS_TABLES: list[type[Table]] = [TaskLease]

__all__ = ["TASKS_TABLES", "TaskLease"]
