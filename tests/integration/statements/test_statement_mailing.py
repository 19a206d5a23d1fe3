"""The monthly statements e-mailed on the 1st, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from portal import clock
from portal.domain.money import service as money
from portal.domain.money.rules import Month
from portal.domain.papers import service as papers
from portal.domain.staff.service import Actor
from portal.domain.statements import service as statements
from portal.tables import AuditLog, OutboxEmail, Wallet, WalletType
from tests.conftest import Database
from tests.factories import TZ, MoneySetup, make_family, make_staff, money_setup, today

BASE = "http://portail.test"


def _first_of_next_month() -> datetime:
    """08:00 on the coming 1st, local time: when this month's statements are due."""
    first = Month.of(today()).shift(1).first_day
    return datetime.combine(first, time(8, 0), tzinfo=clock.zone(TZ))


async def _statement_mails() -> list[dict[str, object]]:
    return await (
        OutboxEmail.select()
        .where(OutboxEmail.dedupe_key.like("statement:%"))
        .order_by(OutboxEmail.dedupe_key)
    )


async def _second_wallet(setup: MoneySetup) -> int:
    wallet_type = WalletType(structure=setup.structure.id, name="Séjours")
    await wallet_type.save()
    wallet = Wallet(family=setup.family_id, wallet_type=wallet_type.id)
    await wallet.save()
    return int(wallet.id)


async def test_statements_are_mailed_once_per_family_and_wallet(db: Database) -> None:
    setup = await money_setup(emails="sophie.martin@example.fr")
    sid = int(setup.structure.id)
    month = Month.of(today())
    before = month.first_day - timedelta(days=1)
    await money.record_correction(setup.wallet_id, 1200, "Avance", before)
    await money.record_correction(setup.wallet_id, -500, "Cantine", month.first_day)
    await money.record_correction(setup.wallet_id, 2000, "Chèque", today())
    seasons = await _second_wallet(setup)
    await money.record_correction(seasons, -3000, "Séjour ski", today())
    # A family of the structure without movements this month: no e-mail.
    quiet = await make_family(login="calme", structure=setup.structure, emails="calme@ex.fr")
    quiet_wallet = Wallet(family=quiet.family.id, wallet_type=setup.wallet_type.id)
    await quiet_wallet.save()
    await money.record_correction(int(quiet_wallet.id), 700, "Avance", before)

    actor = Actor.of(await make_staff("regisseur", setup.structure))
    await statements.save_mail_setting(actor, sid, True)
    assert await AuditLog.count().where(AuditLog.action == "statements.mail_setting") == 1
    assert await statements.structures_due() == []  # chosen today: from the next 1st
    due_at = _first_of_next_month()
    assert await statements.structures_due(due_at) == [sid]

    first = await statements.mail_due_statements(sid, base_url=BASE, now=due_at)
    assert first.month == month and first.statements == 2 and first.queued == 2
    again = await statements.mail_due_statements(sid, base_url=BASE, now=due_at)
    assert again.month is None and again.queued == 0
    # Even run by hand for the same month, nothing leaves twice.
    forced = await statements.mail_statements(sid, month, base_url=BASE)
    assert forced.statements == 2 and forced.queued == 0
    assert await statements.structures_due(due_at) == []

    mails = await _statement_mails()
    assert [m["dedupe_key"] for m in mails] == sorted(
        f"statement:{setup.family_id}:{wallet}:{month.key}" for wallet in (setup.wallet_id, seasons)
    )
    assert all(m["to_addresses"] == "sophie.martin@example.fr" for m in mails)
    canteen = next(m for m in mails if m["dedupe_key"].endswith(f":{setup.wallet_id}:{month.key}"))
    text = str(canteen["body_text"])
    # The amounts are the PDF's: 12,00 € at the start, 12 - 5 + 20 = 27,00 € at the end.
    paper = await papers.statement_paper(setup.family_id, setup.wallet_id, month)
    assert (paper.statement.opening_cents, paper.statement.closing_cents) == (1200, 2700)
    assert "Solde au début du mois : 12,00\u00a0€" in text
    assert "Solde à la fin du mois : 27,00\u00a0€" in text
    assert f"{BASE}/historiques/releve/{setup.wallet_id}/{month.key}" in text
    assert str(canteen["subject"]) == (
        f"Relevé de compte de {month.label.lower()} · Services Scolaires et ALSH"
    )
    skiing = next(m for m in mails if m["dedupe_key"].endswith(f":{seasons}:{month.key}"))
    assert "Solde à la fin du mois : -30,00\u00a0€" in str(skiing["body_text"])


async def test_a_structure_that_did_not_choose_it_mails_nothing(db: Database) -> None:
    setup = await money_setup()
    sid = int(setup.structure.id)
    await money.record_correction(setup.wallet_id, -500, "Cantine", today())
    due_at = _first_of_next_month()
    assert await statements.structures_due(due_at) == []
    outcome = await statements.mail_due_statements(sid, base_url=BASE, now=due_at)
    assert outcome.month is None and outcome.queued == 0

    actor = Actor.of(await make_staff("regisseur", setup.structure))
    await statements.save_mail_setting(actor, sid, True)
    assert await statements.structures_due(due_at) == [sid]
    await statements.save_mail_setting(actor, sid, False)  # changed its mind
    assert await statements.structures_due(due_at) == []
    outcome = await statements.mail_due_statements(sid, base_url=BASE, now=due_at)
    assert outcome.month is None
    assert await _statement_mails() == []
