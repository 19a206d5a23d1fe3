"""The audit log: one row per staff action, written in the transaction of the change."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from portal import clock
from portal.domain.staff.service import Actor
from portal.tables import AuditLog


async def record(
    actor: Actor,
    action: str,
    *,
    structure_id: int | None,
    table: str = "",
    target_id: int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Append an entry; call it inside the write transaction that makes the change."""
    await AuditLog.insert(
        AuditLog(
            staff=actor.staff_id,
            staff_login=actor.login,
            structure=structure_id,
            action=action[:60],
            target_table=table[:60],
            target_id=target_id,
            before=jsonable(dict(before or {})),
            after=jsonable(dict(after or {})),
            created_at=clock.utcnow(),
        )
    )


def changed(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ, for a readable entry."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def jsonable(value: object) -> object:
    """Values for the audit log's JSON: dates and times as ISO strings."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
