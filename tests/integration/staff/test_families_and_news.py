"""CSV import (all or nothing), accounts, file state, news: on both databases."""

from __future__ import annotations

from datetime import timedelta

from portal import clock
from portal.domain.accounts.passwords import verify_password
from portal.domain.news.rules import NewsValues
from portal.domain.news.service import visible_news
from portal.domain.staff import families, news
from portal.tables import Account, AuditLog, Enrollment, Family, Person, Wallet
from tests.conftest import Database
from tests.factories import actor, make_staff, make_world

GOOD = """famille;prenom;nom;naissance;tranche;emails;activites
BERNARD Luc;Zoé;BERNARD;04/05/2019;B;luc.bernard@example.fr;ALSH 6-12 - Mercredi Journée
BERNARD Luc;Hugo;BERNARD;12/01/2017;B;;alsh 6-12 - mercredi journée|Cours de piano
PETIT Anne;Jade;PETIT;;A;anne.petit@example.fr, a.petit@example.org;
"""


async def test_a_file_with_one_bad_line_imports_nothing_and_names_the_line(
    db: Database,
) -> None:
    world = await make_world()
    agent = await make_staff("agent", world.structure)
    families_before = await Family.count()
    bad = GOOD + "ROUX Marc;Léo;ROUX;31/02/2018;A;marc@example.fr;Natation\n"

    outcome = await families.import_families(actor(agent), world.sid, bad)

    assert not outcome.ok and outcome.letters == []
    [error] = outcome.errors
    assert error.line == 5
    assert "31/02/2018" in str(error) and "Natation" in str(error)
    assert str(error).startswith("Ligne 5 : ")
    assert await Family.count() == families_before
    assert await Account.count().where(Account.login.like("bernard%")) == 0
    assert await AuditLog.count() == 0


async def test_a_good_file_creates_families_accounts_wallets_and_enrolments(
    db: Database,
) -> None:
    world = await make_world()
    agent = await make_staff("agent", world.structure)

    outcome = await families.import_families(actor(agent), world.sid, GOOD)

    assert outcome.ok, outcome.errors
    assert outcome.people == 3
    by_family = {letter.family_name: letter for letter in outcome.letters}
    bernard = by_family["BERNARD Luc"]
    assert bernard.login == "bernard.l" and bernard.people == ("Zoé", "Hugo")
    account = await Account.objects().get(Account.login == "bernard.l")
    assert account is not None and account.must_change_password
    assert verify_password(account.password_hash, bernard.password)
    assert bernard.password not in account.password_hash  # only the hash is stored
    assert account.emails == "luc.bernard@example.fr"
    family = await Family.objects().get(Family.name == "BERNARD Luc")
    assert family is not None and family.tariff_band == "B" and family.structure == world.sid
    hugo = await Person.objects().get(Person.first_name == "Hugo")
    assert hugo is not None
    enrolled = {
        r["activity"] for r in await Enrollment.select().where(Enrollment.person == hugo.id)
    }
    assert enrolled == {world.activity.id, world.decision_activity.id}
    assert await Wallet.count().where(Wallet.family == family.id) == 1
    petit = await Account.objects().get(Account.login == "petit.a")
    assert petit is not None and petit.emails == "anne.petit@example.fr;a.petit@example.org"
    assert await AuditLog.count().where(AuditLog.action == "family.import") == 2

    again = await families.import_families(actor(agent), world.sid, GOOD)
    assert [e.line for e in again.errors] == [2, 4]
    assert "existe déjà" in str(again.errors[0])


async def test_reset_account_and_file_state(db: Database) -> None:
    world = await make_world()
    agent = await make_staff("agent", world.structure)
    family_id = int(world.family.family.id)
    account_id = int(world.family.account.id)

    letter = await families.reset_account(actor(agent), world.sid, family_id, account_id)
    await families.set_file_complete(actor(agent), world.sid, family_id, False)

    account = await Account.objects().get(Account.id == account_id)
    assert account is not None and account.must_change_password
    assert verify_password(account.password_hash, letter.password)
    family = await Family.objects().get(Family.id == family_id)
    assert family is not None and not family.file_complete
    actions = [e.action for e in await AuditLog.objects().order_by(AuditLog.id)]
    assert actions == ["account.reset", "family.file_complete"]


async def test_news_publish_schedule_and_withdraw(db: Database) -> None:
    world = await make_world()
    agent = await make_staff("agent", world.structure)
    now = clock.utcnow()
    later = NewsValues("Fête de l'école", "Samedi.", now + timedelta(days=2), None)

    live = await news.publish(actor(agent), world.sid, NewsValues("Menu", "Frites.", None, None))
    scheduled = await news.publish(actor(agent), world.sid, later)

    shown = {n.id for n in await visible_news(world.sid)}
    assert live in shown and scheduled not in shown
    await news.withdraw(actor(agent), world.sid, live)
    assert live not in {n.id for n in await visible_news(world.sid)}
    actions = [e.action for e in await AuditLog.objects().order_by(AuditLog.id)]
    assert actions == ["news.create", "news.create", "news.withdraw"]
