"""A structure's rules for the family file, set by its staff: the fields that must be
filled, the yearly "mise à jour du dossier" (the date before which parents confirm or
update their file, a message, and an e-mail asking them to), and the retention period of
documents and health data."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from portal import clock
from portal.db import write_transaction
from portal.domain.channels.rules import Kind
from portal.domain.family_file import rules
from portal.domain.notifications.service import family_addresses, portal_url, render_email
from portal.domain.numbers import parse_count
from portal.domain.outbox.service import QueuedEmail, queue_emails
from portal.domain.staff import audit
from portal.domain.staff.service import Actor
from portal.tables import Family, FileSettings, Structure

DEFAULT_RETENTION_MONTHS = 24
MAX_RETENTION_MONTHS = 120
MAX_MESSAGE = 1000
# A campaign runs within the school year: a deadline further away is a typing mistake.
MAX_CAMPAIGN_DAYS = 366


@dataclass(frozen=True)
class FileSettingsView:
    required_fields: tuple[str, ...]
    campaign_deadline: date | None
    campaign_message: str
    retention_months: int


async def file_settings(structure_id: int) -> FileSettingsView:
    row = await FileSettings.objects().get(FileSettings.structure == structure_id)
    if row is None:
        return FileSettingsView((), None, "", DEFAULT_RETENTION_MONTHS)
    fields = row.required_fields
    if isinstance(fields, str):
        fields = json.loads(fields or "[]")
    return FileSettingsView(
        tuple(rules.unique_codes(str(f) for f in fields or [])),
        clock.as_date(row.campaign_deadline) if row.campaign_deadline else None,
        str(row.campaign_message or ""),
        int(row.retention_months),
    )


@dataclass(frozen=True)
class SettingsInput:
    required_fields: Sequence[str]
    deadline: str
    message: str
    retention_months: str
    notify: bool


@dataclass(frozen=True)
class SaveOutcome:
    errors: list[str]
    emailed: int = 0  # families asked by e-mail to update their file


def _validate(
    form: SettingsInput, today: date, current: date | None
) -> tuple[FileSettingsView, list[str]]:
    errors: list[str] = []
    unknown = [f for f in form.required_fields if f not in rules.FIELDS]
    if unknown:
        errors.append("Un des champs obligatoires choisis n'existe pas.")
    deadline = rules.parse_date(form.deadline, "Date limite de la mise à jour", errors)
    # A past deadline kept as it was is history (the campaign is over), not a mistake.
    if deadline not in (None, current) and not today <= deadline <= today + timedelta(
        MAX_CAMPAIGN_DAYS
    ):
        errors.append("La date limite de la mise à jour doit être comprise dans l'année à venir.")
    message = " ".join(form.message.split())
    if len(message) > MAX_MESSAGE:
        errors.append(f"Le message aux familles ne doit pas dépasser {MAX_MESSAGE} caractères.")
    retention = parse_count(form.retention_months.strip())
    if retention is None or not 1 <= retention <= MAX_RETENTION_MONTHS:
        errors.append(
            f"La durée de conservation doit être un nombre de mois entre 1 et "
            f"{MAX_RETENTION_MONTHS}."
        )
    if form.notify and deadline is None:
        errors.append("Indiquez la date limite pour prévenir les familles.")
    view = FileSettingsView(
        tuple(rules.unique_codes(form.required_fields)),
        deadline,
        message,
        retention or DEFAULT_RETENTION_MONTHS,
    )
    return view, errors


async def save_file_settings(
    actor: Actor, structure_id: int, form: SettingsInput, *, base_url: str
) -> SaveOutcome:
    """Save the rules (audited); with `notify`, e-mail every family of the structure the
    campaign (once per family and deadline, whatever the replays)."""
    structure = await Structure.objects().get(Structure.id == structure_id)
    if structure is None:
        return SaveOutcome(["Cette structure n'existe pas."])
    current = (await file_settings(structure_id)).campaign_deadline
    view, errors = _validate(form, clock.local_today(structure.timezone), current)
    if errors:
        return SaveOutcome(errors)
    async with write_transaction():
        before = await file_settings(structure_id)
        values: dict[Any, Any] = {
            FileSettings.required_fields: list(view.required_fields),
            FileSettings.campaign_deadline: view.campaign_deadline,
            FileSettings.campaign_message: view.campaign_message,
            FileSettings.retention_months: view.retention_months,
        }
        updated = await FileSettings.update(values).where(
            FileSettings.structure == structure_id
        ).returning(FileSettings.id)  # fmt: skip
        if not updated:
            await FileSettings.insert(
                FileSettings(
                    structure=structure_id, required_fields=list(view.required_fields),
                    campaign_deadline=view.campaign_deadline,
                    campaign_message=view.campaign_message,
                    retention_months=view.retention_months,
                )
            )  # fmt: skip
        await audit.record(
            actor, "file.settings", structure_id=structure_id, table="file_settings",
            before=_audited(before), after=_audited(view),
        )  # fmt: skip
        emailed = 0
        if form.notify and view.campaign_deadline is not None:
            emailed = await _ask_families(structure, view, base_url)
    return SaveOutcome([], emailed)


def _audited(view: FileSettingsView) -> dict[str, Any]:
    return {
        "required_fields": list(view.required_fields),
        "campaign_deadline": view.campaign_deadline,
        "campaign_message": view.campaign_message,
        "retention_months": view.retention_months,
    }


async def _ask_families(structure: Structure, view: FileSettingsView, base_url: str) -> int:
    assert view.campaign_deadline is not None
    families = await Family.select(Family.id, Family.name).where(Family.structure == structure.id)
    addresses = await family_addresses((int(f["id"]) for f in families), Kind.MESSAGE)
    deadline = view.campaign_deadline.strftime("%d/%m/%Y")
    emails = []
    for family in families:
        to = addresses.get(int(family["id"])) or []
        if not to:
            continue
        mail = render_email(
            "file_campaign",
            family_name=str(family["name"]),
            structure_name=str(structure.name),
            deadline=deadline,
            message=view.campaign_message,
            portal_url=portal_url(base_url),
        )
        emails.append(
            QueuedEmail(
                f"file-campaign:{structure.id}:{view.campaign_deadline.isoformat()}:"
                f"{family['id']}",
                to, mail.subject, mail.text, mail.html,
            )
        )  # fmt: skip
    return await queue_emails(emails)
