"""The structure's family-file rules set by staff, on both engines: required fields, the
yearly update campaign with its e-mail (once per family and deadline), the retention."""

from __future__ import annotations

from datetime import timedelta

from portal import clock
from portal.domain.family_file import service as family_file
from portal.domain.file_review import file_settings as settings
from portal.domain.staff.service import Actor
from portal.tables import AuditLog, OutboxEmail
from tests.conftest import Database
from tests.factories import make_family, make_staff

BASE = "http://portail.test"


def _form(**changes: object) -> settings.SettingsInput:
    values: dict[str, object] = {
        "required_fields": ["address", "emergency"],
        "deadline": "",
        "message": "",
        "retention_months": "24",
        "notify": False,
    }
    values.update(changes)
    return settings.SettingsInput(**values)  # type: ignore[arg-type]


async def _campaign_mails() -> list[dict[str, object]]:
    return await OutboxEmail.select().where(OutboxEmail.dedupe_key.like("file-campaign:%"))


async def test_staff_set_the_campaign_and_families_are_asked_once(db: Database) -> None:
    setup = await make_family(emails="claire.durand@example.fr")
    structure = setup.structure
    await make_family(login="sans-adresse", structure=structure, emails="")
    actor = Actor.of(await make_staff("agent", structure))
    today = clock.local_today(structure.timezone)
    deadline = today + timedelta(days=21)
    assert await settings.file_settings(structure.id) == settings.FileSettingsView((), None, "", 24)

    form = _form(deadline=deadline.isoformat(), message="  Nouvelle  assurance ", notify=True)
    outcome = await settings.save_file_settings(actor, structure.id, form, base_url=BASE)
    assert outcome == settings.SaveOutcome([], 1)  # the family without an address is skipped
    saved = await settings.file_settings(structure.id)
    assert saved == settings.FileSettingsView(
        ("address", "emergency"), deadline, "Nouvelle assurance", 24
    )
    again = await settings.save_file_settings(actor, structure.id, form, base_url=BASE)
    assert again.emailed == 0
    [mail] = await _campaign_mails()
    assert mail["to_addresses"] == "claire.durand@example.fr"
    assert mail["subject"] == f"Mise à jour annuelle de votre dossier avant le {deadline:%d/%m/%Y}"
    assert "Nouvelle assurance" in str(mail["body_text"])
    assert f"{BASE}/dossier" in str(mail["body_text"])
    assert await AuditLog.count().where(AuditLog.action == "file.settings") == 2

    # The parent's file asks for the update, and the rules now make it incomplete.
    view = await family_file.file_view(int(setup.family.id))
    assert view.campaign_due and view.campaign_deadline == deadline
    assert view.campaign_message == "Nouvelle assurance"
    state = await family_file.file_state(int(setup.family.id), today)
    assert "l'adresse de la famille" in " ".join(m.text for m in state.missing)


async def test_bad_settings_are_refused_with_nothing_written(db: Database) -> None:
    setup = await make_family()
    structure = setup.structure
    actor = Actor.of(await make_staff("agent", structure))
    today = clock.local_today(structure.timezone)
    cases = {
        "Un des champs obligatoires": _form(required_fields=["address", "pointure"]),
        "dans l'année à venir": _form(deadline=(today - timedelta(days=1)).isoformat()),
        "dans l'année à venir ": _form(deadline=(today + timedelta(days=400)).isoformat()),
        "entre 1 et 120": _form(retention_months="0"),
        "entre 1 et 120 ": _form(retention_months="douze"),
        "ne doit pas dépasser 1000": _form(message="x" * 1001),
        "pour prévenir les familles": _form(notify=True),
        "date invalide": _form(deadline="31/02/2027"),
    }
    for expected, form in cases.items():
        outcome = await settings.save_file_settings(actor, structure.id, form, base_url=BASE)
        assert any(expected.strip() in e for e in outcome.errors), (expected, outcome.errors)
    assert await settings.file_settings(structure.id) == settings.FileSettingsView((), None, "", 24)
    assert await AuditLog.count().where(AuditLog.action == "file.settings") == 0
    assert await _campaign_mails() == []
