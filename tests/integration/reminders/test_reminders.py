"""Low-balance alerts and debt reminders on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.domain.money import rules as money_rules
from portal.domain.money import service as money
from portal.domain.money.rules import AmountError
from portal.domain.reminders import service as reminders
from portal.domain.reminders.rules import TemplateError
from portal.domain.staff.service import Actor
from portal.tables import DebtReminder, OutboxEmail
from tests.conftest import Database
from tests.factories import add_tariff, make_family, make_staff, money_setup, today

BASE = "http://portail.test"


async def _low_balance_mails() -> list[dict[str, object]]:
    return await OutboxEmail.select().where(OutboxEmail.dedupe_key.like("low-balance:%"))


async def test_low_balance_is_e_mailed_once_per_fall(db: Database) -> None:
    setup = await money_setup(emails="sophie.martin@example.fr")
    structure_id = int(setup.structure.id)
    await add_tariff(setup.activity, "A", 500, today() - timedelta(days=400))
    await money.record_correction(setup.wallet_id, 1200, "Avance", today() - timedelta(days=5))
    # 3 booked days within 14 days (15,00 €) against 12,00 €: estimated -3,00 €.
    for offset in (1, 2, 3):
        await setup.reserve(today() + timedelta(days=offset))
    await setup.reserve(today() + timedelta(days=20))  # beyond the horizon: not counted
    assert await reminders.estimated_balance(setup.family_id, today()) == -300
    # The structure-wide estimate (the daily check's) agrees, and lists every family.
    other = await make_family(login="voisin", structure=setup.structure, children=("Zoé",))
    estimates = await money.estimated_balances(
        structure_id,
        today() + timedelta(days=14),
        money_rules.counted_statuses(confirmed=True, waiting=False),
    )
    assert estimates == {setup.family_id: -300, int(other.family.id): 0}

    first = await reminders.check_low_balances(structure_id, base_url=BASE)
    assert first.alerted == 1
    again = await reminders.check_low_balances(structure_id, base_url=BASE)
    assert again.alerted == 0
    [mail] = await _low_balance_mails()
    assert mail["to_addresses"] == "sophie.martin@example.fr"
    assert "-3,00" in str(mail["body_text"]) and "0,00" in str(mail["body_text"])

    # Recovery, then a new fall: a second e-mail.
    await money.record_correction(setup.wallet_id, 1000, "Chèque", today())
    assert (await reminders.check_low_balances(structure_id, base_url=BASE)).recovered == 1
    assert len(await _low_balance_mails()) == 1
    await reminders.set_threshold(setup.family_id, 2000)  # 20 € > 7 € estimated
    assert (await reminders.check_low_balances(structure_id, base_url=BASE)).alerted == 1
    assert len(await _low_balance_mails()) == 2
    setting = await reminders.alert_setting(setup.family_id)
    assert setting.below and setting.alerts_sent == 2 and setting.threshold_cents == 2000
    with pytest.raises(AmountError):
        await reminders.set_threshold(setup.family_id, 100_001)


async def test_structures_due_for_the_daily_check(db: Database) -> None:
    setup = await money_setup()
    actor = Actor.of(await make_staff("regisseur", setup.structure))
    assert await reminders.structures_due_for_balance_check() == []  # off by default
    await reminders.save_settings(actor, int(setup.structure.id), True, 15)
    assert await reminders.structures_due_for_balance_check() == [int(setup.structure.id)]
    await reminders.check_low_balances(int(setup.structure.id), base_url=BASE)
    assert await reminders.structures_due_for_balance_check() == []


async def test_debt_reminders_listed_sent_once_and_recorded(db: Database) -> None:
    setup = await money_setup(emails="sophie.martin@example.fr")
    structure_id = int(setup.structure.id)
    actor = Actor.of(await make_staff("regisseur", setup.structure))
    await money.record_correction(
        setup.wallet_id, -8240, "Consommations", today() - timedelta(days=20)
    )
    recent = await money_setup(login="recente")  # another structure: out of scope
    await money.record_correction(
        recent.wallet_id, -100, "Consommations", today() - timedelta(days=2)
    )

    [debtor] = await reminders.debtors(structure_id, today(), 15)
    assert debtor.family_id == setup.family_id and debtor.debt_cents == 8240
    assert debtor.since == today() - timedelta(days=20) and debtor.next_level == 1
    assert await reminders.debtors(structure_id, today(), 30) == []

    await reminders.save_template(
        actor, structure_id, 1, "Rappel {famille}", "Vous devez {montant} depuis le {depuis}."
    )
    with pytest.raises(TemplateError):
        await reminders.save_template(actor, structure_id, 1, "Rappel", "{inconnu}")
    assert await reminders.send_reminder(
        actor, structure_id, setup.family_id, 1, today(), key="k" * 16
    )
    assert not await reminders.send_reminder(
        actor, structure_id, setup.family_id, 1, today(), key="k" * 16
    )
    [mail] = await OutboxEmail.select().where(OutboxEmail.dedupe_key.like("debt-reminder:%"))
    assert mail["subject"] == "Rappel DUPONT Jean-Paul"
    assert "82,40" in str(mail["body_text"])
    assert (today() - timedelta(days=20)).strftime("%d/%m/%Y") in str(mail["body_text"])
    letter = await reminders.letter(actor, structure_id, setup.family_id, 2, today())
    assert letter.subject.startswith("Deuxième relance") and "82,40" in letter.body
    sent = await reminders.family_reminders(structure_id, setup.family_id)
    assert [(r.level, r.channel) for r in sent] == [(1, "email"), (2, "lettre")]
    [debtor] = await reminders.debtors(structure_id, today(), 15)
    assert debtor.next_level == 2
    assert await DebtReminder.count() == 2
    with pytest.raises(reminders.NotFound):
        await reminders.send_reminder(
            actor, structure_id, recent.family_id, 1, today(), key="x" * 16
        )
