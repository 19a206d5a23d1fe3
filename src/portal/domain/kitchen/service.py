"""The kitchen sheet of a day, the structure's kitchen address, and its e-mail at the
booking deadline (through the outbox, once per structure and day)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from portal import clock
from portal.db import write_transaction
from portal.domain.accounts.rules import parse_emails
from portal.domain.booking import deadlines
from portal.domain.family_file.rules import in_force
from portal.domain.file_review import health_access
from portal.domain.kitchen import rules
from portal.domain.outbox.service import queue_email
from portal.domain.staff import audit
from portal.domain.staff.service import Actor
from portal.tables import Activity, ActivityDay, BackOfficeSettings, OutboxEmail, Structure

# How far ahead the sweep looks for a day whose booking has closed (deadlines such as
# "the Thursday of the previous week" close up to ten days before).
LOOKAHEAD_DAYS = 12


class KitchenError(ValueError):
    """A setting that cannot be saved (the message is French)."""


@dataclass(frozen=True)
class KitchenSettings:
    structure_id: int
    kitchen_email: str


_DINERS = (
    "SELECT a.id AS activity_id, a.name AS activity_name, a.position, p.first_name,"
    " p.last_name, c.school, c.diet, c.allergies, c.pai, c.pai_end,"
    " r.absent OR EXISTS (SELECT 1 FROM absence_declaration x WHERE x.reservation = r.id)"
    " AS absent"
    " FROM reservation r"
    " JOIN activity_day d ON d.id = r.activity_day"
    " JOIN activity a ON a.id = d.activity"
    " JOIN person p ON p.id = r.person"
    " LEFT JOIN child_file c ON c.person = p.id"
    " WHERE a.structure = {} AND d.day = {} AND d.is_open = {} AND r.status = 'accepted'"
)


async def kitchen_sheet(structure_id: int, day: date) -> rules.KitchenSheet:
    """Who is expected on ``day`` (accepted reservations), per activity, school and diet."""
    rows = await Activity.raw(_DINERS, structure_id, day, True)
    return rules.build_sheet(day, (_diner(r, day) for r in rows))


async def sheet_for_staff(
    actor: Actor, structure_id: int, day: date
) -> tuple[rules.KitchenSheet, bool]:
    """The day's sheet for a member, and whether it may name the children: the list of
    children with a diet, an allergy or a PAI is health data (RGPD art. 9), read only by a
    member with health access, and that read is audited like the file's health list; the
    counts stay for everyone."""
    sheet = await kitchen_sheet(structure_id, day)
    if not await health_access.has_health_access(actor, structure_id):
        return sheet, False
    named = sum(len(activity.specials) for activity in sheet.activities)
    if named:
        async with write_transaction():
            await audit.record(
                actor, "kitchen.health_view", structure_id=structure_id, table="structure",
                target_id=structure_id, after={"day": day.isoformat(), "children": named},
            )  # fmt: skip
    return sheet, True


def _diner(row: dict[str, Any], day: date) -> rules.Diner:
    pai_end = clock.as_date(row["pai_end"]) if row["pai_end"] else None
    return rules.Diner(
        activity_id=int(row["activity_id"]),
        activity_name=str(row["activity_name"]),
        activity_position=int(row["position"] or 0),
        child=f"{row['last_name']} {row['first_name']}",
        school=str(row["school"] or ""),
        diet=str(row["diet"] or ""),
        allergies=str(row["allergies"] or ""),
        pai=in_force(bool(row["pai"]), pai_end, day),
        absent=bool(row["absent"]),
    )


async def settings_of(structure_id: int) -> KitchenSettings:
    row = await BackOfficeSettings.objects().get(BackOfficeSettings.structure == structure_id)
    return KitchenSettings(structure_id, str(row.kitchen_email) if row else "")


async def save_settings(actor: Actor, structure_id: int, kitchen_email: str) -> KitchenSettings:
    """Set the kitchen address (one, or several separated by « ; »); empty turns it off.
    The sheet e-mailed there names the children with a diet, an allergy or a PAI: only a
    member with health access chooses where it goes (HealthDenied otherwise), or one
    without could send it to their own mailbox."""
    if not await health_access.has_health_access(actor, structure_id):
        raise health_access.HealthDenied(health_access.DENIED)
    addresses, errors = parse_emails(kitchen_email[:1000])
    if errors:
        raise KitchenError(errors[0])
    value = ";".join(addresses)
    if len(value) > 254:
        raise KitchenError("Trop d'adresses : 254 caractères au plus.")
    async with write_transaction():
        before = await settings_of(structure_id)
        if before.kitchen_email == value:
            return before
        updated = (
            await BackOfficeSettings.update(
                {
                    BackOfficeSettings.kitchen_email: value,
                    BackOfficeSettings.updated_at: clock.utcnow(),
                }
            )
            .where(BackOfficeSettings.structure == structure_id)
            .returning(BackOfficeSettings.id)
        )
        if not updated:
            await BackOfficeSettings.insert(
                BackOfficeSettings(structure=structure_id, kitchen_email=value)
            )
        await audit.record(
            actor,
            "kitchen.settings",
            structure_id=structure_id,
            table="back_office_settings",
            before={"adresse de la cuisine": before.kitchen_email},
            after={"adresse de la cuisine": value},
        )
    return KitchenSettings(structure_id, value)


# --- the e-mail at the booking deadline ------------------------------------------------


async def structures_with_kitchen() -> list[int]:
    """Structures that e-mail their kitchen (the minute sweep asks)."""
    rows = await BackOfficeSettings.select(BackOfficeSettings.structure).where(
        BackOfficeSettings.kitchen_email != ""
    )
    return sorted(int(r["structure"]) for r in rows)


async def _closing_instants(structure_id: int, day: date, tz_name: str) -> list[datetime]:
    """When booking closes for each open activity of the structure on ``day``."""
    rows = await (
        ActivityDay.select(ActivityDay.activity._.booking_deadline)
        .where(
            (ActivityDay.day == day)
            & (ActivityDay.is_open == True)  # noqa: E712
            & (ActivityDay.activity._.structure == structure_id)
            & (ActivityDay.activity._.active == True)  # noqa: E712
        )
        .output(nested=False)
    )
    tz = clock.zone(tz_name)
    instants = []
    for row in rows:
        text = str(row["activity.booking_deadline"] or "")
        rule = deadlines.parse_rule(text) if text else None
        instants.append(deadlines.closes_at(rule, day, tz))
    return instants


async def send_due_sheets(structure_id: int, now: datetime | None = None) -> list[date]:
    """Queue the kitchen e-mail of every coming day whose booking has closed; each day once
    (the outbox key), so the sweep may call it every minute. Returns the days queued."""
    now = now or clock.utcnow()
    structure = await Structure.objects().get(Structure.id == structure_id)
    settings = await settings_of(structure_id)
    if structure is None or not settings.kitchen_email:
        return []
    today = now.astimezone(clock.zone(structure.timezone)).date()
    candidates = [today + timedelta(days=n) for n in range(LOOKAHEAD_DAYS + 1)]
    keys = [rules.dedupe_key(structure_id, d) for d in candidates]
    sent = {
        str(r["dedupe_key"])
        for r in await OutboxEmail.select(OutboxEmail.dedupe_key).where(
            OutboxEmail.dedupe_key.is_in(keys)
        )
    }
    queued = []
    for day, key in zip(candidates, keys, strict=True):
        if key in sent:
            continue
        closing = await _closing_instants(structure_id, day, structure.timezone)
        if not rules.sheet_due(now, closing):
            continue
        async with write_transaction():
            sheet = await kitchen_sheet(structure_id, day)
            if await queue_email(
                key,
                settings.kitchen_email.split(";"),
                f"{structure.name} : effectifs du {day.strftime('%d/%m/%Y')}",
                rules.plain_text(sheet, str(structure.name)),
            ):
                queued.append(day)
    return queued
