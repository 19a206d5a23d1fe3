"""`portal transmit` as the operator runs it."""

from __future__ import annotations

from portal.settings import Settings
from portal.tables import Movement, Structure
from tests.conftest import Database, SmtpSwitch
from tests.factories import Night
from tests.tasks.processes import portal_env, run_portal


async def test_transmit_one_structure_and_relay_its_reports(
    db: Database, night: Night, mail_settings: Settings, smtp_switch: SmtpSwitch
) -> None:
    env = portal_env(mail_settings)
    result = run_portal("transmit", "--structure", "carteville", env=env)
    assert result.returncode == 0, result.stderr
    assert "Mairie de CarteVille : 9 mouvements transmis" in result.stdout
    assert "E-mails : 3 envoyé(s)" in result.stdout
    await smtp_switch.sink.wait_for(3)
    # Only that structure.
    assert await Movement.count().where(Movement.transmitted_at.is_null()) == 1
    other = await Structure.objects().get(Structure.slug == "musique")
    assert other is not None and other.last_transmission_at is None

    again = run_portal("transmit", "--structure", "carteville", env=env)
    assert "0 mouvement transmis" in again.stdout
    assert len(smtp_switch.sink.messages) == 3

    unknown = run_portal("transmit", "--structure", "nulle-part", env=env)
    assert unknown.returncode == 1
    assert "structure inconnue : nulle-part" in unknown.stderr
